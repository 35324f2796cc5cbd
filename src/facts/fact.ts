import { normaliseLanguage } from '../customers/index.ts';
import { LIFE_EVENTS } from '../interactions/index.ts';
import {
  type CategoryDef,
  type FieldSource,
  type IntimacyLevel,
  MAX_INTIMACY,
  maskFreeText,
  resolveCategory,
  type Taxonomy,
} from '../policy/index.ts';
import type { FieldProblem } from '../shared/errors.ts';

/**
 * Facts (SPEC §6): the catalog of fact keys, the typed values they hold, and the rules of memory — what
 * may be stored at all (storage policy, source kind, the customer's intimacy level) and which stored
 * facts a read may still see (status, expiry, an intimacy level lowered since). Pure: no I/O, no clock.
 */

/** Where a fact came from: the customer said it, staff saw it, behaviour shows it, a model guesses it. */
export type SourceKind = FieldSource;
export const SOURCE_KINDS: readonly SourceKind[] = ['declared', 'observed', 'derived', 'inferred'];

/** The life of a fact; `to_confirm` is an inference offered to the customer as a question. */
export type FactStatus = 'active' | 'to_confirm' | 'confirmed' | 'rejected' | 'forgotten' | 'expired';

/** The statuses a read may show; rejected and forgotten facts never reach a read. */
export const READABLE_STATUSES: readonly FactStatus[] = ['active', 'to_confirm', 'confirmed', 'expired'];

/** The shape of a fact's value. */
export type ValueType =
  | { kind: 'text'; maxLength: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'language' }
  /** A date the customer gave, perhaps without a year: `{month, day, year?, label?}`. */
  | { kind: 'partial_date' }
  /** A household member: `{name, relation}`. */
  | { kind: 'person' }
  /** A life event: `{event, date?}` with a partial date. */
  | { kind: 'life_event' };

/** One key of the catalog. */
export interface FactKeyDef {
  key: string;
  /** The data category (SPEC §5.1) that governs the fact; sub-categories resolve to their parent. */
  category: string;
  type: ValueType;
  /** Several facts of this key may hold at once (interests, household members); else a new one replaces. */
  multiple: boolean;
  /**
   * The purposes the fact may serve at all (null: every purpose the decision allows). A birthday is not
   * what billing needs, whatever the decision would allow.
   */
  purposes: readonly string[] | null;
  /** Derived from behaviour by the rules of derive.ts. */
  derivable?: boolean;
  description: string;
}

/** The life events a customer may declare: the `life_event_declared` interaction's list. */
const LIFE_EVENT_KINDS: readonly string[] = LIFE_EVENTS;

const CHANNELS = ['email', 'phone', 'sms', 'post', 'app', 'web', 'store', 'chat'] as const;
const PAYMENT_METHODS = ['card', 'cash', 'mobile', 'wallet', 'bank_transfer', 'invoice'] as const;
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const NOT_FOR_PAYMENT = ['service', 'personalization', 'marketing', 'analytics', 'legal'] as const;
const text = (maxLength = 200): ValueType => ({ kind: 'text', maxLength });

/** The built-in fact keys (a workspace adds its own under categories it added). */
export const FACT_KEYS: readonly FactKeyDef[] = [
  {
    key: 'language',
    category: 'preference.language',
    type: { kind: 'language' },
    multiple: false,
    purposes: null,
    description: 'the language to be served in (at the counter, at the ATM, in letters)',
  },
  {
    key: 'channel',
    category: 'preference.channel',
    type: { kind: 'enum', values: CHANNELS },
    multiple: false,
    purposes: null,
    derivable: true,
    description: 'the preferred way to be contacted',
  },
  {
    key: 'receipt',
    category: 'preference.receipt',
    type: { kind: 'enum', values: ['paper', 'email', 'none'] },
    multiple: false,
    purposes: null,
    derivable: true,
    description: 'paper, emailed or no receipt',
  },
  {
    key: 'delivery_window',
    category: 'preference.delivery_window',
    type: text(100),
    multiple: false,
    purposes: null,
    derivable: true,
    description: 'when deliveries suit (weekday_evening, saturday_morning…)',
  },
  {
    key: 'size',
    category: 'preference.size',
    type: text(100),
    multiple: true,
    purposes: null,
    description: 'a clothing or shoe size ("shoes EU 42")',
  },
  {
    key: 'payment_method',
    category: 'preference.payment_method',
    type: { kind: 'enum', values: PAYMENT_METHODS },
    multiple: false,
    purposes: null,
    derivable: true,
    description: 'how the customer pays',
  },
  {
    key: 'preferred_store',
    category: 'preference.store',
    type: text(200),
    multiple: false,
    purposes: null,
    derivable: true,
    description: 'the store the customer goes to',
  },
  {
    key: 'order_day',
    category: 'behavioral.order_day',
    type: { kind: 'enum', values: WEEKDAYS },
    multiple: false,
    purposes: null,
    derivable: true,
    description: 'the day of the week the customer usually orders',
  },
  {
    key: 'birthday',
    category: 'personal.important_date',
    type: { kind: 'partial_date' },
    multiple: false,
    purposes: NOT_FOR_PAYMENT,
    description: "the customer's birthday as they gave it, perhaps without the year",
  },
  {
    key: 'important_date',
    category: 'personal.important_date',
    type: { kind: 'partial_date' },
    multiple: true,
    purposes: NOT_FOR_PAYMENT,
    description: 'a date the customer asked us to remember (an anniversary), perhaps without the year',
  },
  {
    key: 'household_member',
    category: 'personal.household',
    type: { kind: 'person' },
    multiple: true,
    purposes: NOT_FOR_PAYMENT,
    description: 'someone the customer lives with, by name and relation',
  },
  {
    key: 'interest',
    category: 'personal.interest',
    type: text(200),
    multiple: true,
    purposes: NOT_FOR_PAYMENT,
    description: 'a hobby or interest',
  },
  {
    key: 'dislike',
    category: 'personal.dislike',
    type: text(200),
    multiple: true,
    purposes: NOT_FOR_PAYMENT,
    description: 'something the customer does not want (no calls at dinner, no cilantro)',
  },
  {
    key: 'life_event',
    category: 'life_event',
    type: { kind: 'life_event' },
    multiple: true,
    purposes: NOT_FOR_PAYMENT,
    description: 'moved house, married, new baby, bereavement, retired…',
  },
  {
    key: 'accessibility_need',
    category: 'special.health',
    type: text(200),
    multiple: true,
    purposes: null,
    description: 'step-free access, large print, a hearing loop (health data: declared with consent only)',
  },
  {
    key: 'no_interest_bearing_products',
    category: 'special.religion',
    type: { kind: 'boolean' },
    multiple: false,
    purposes: ['service', 'billing', 'legal'],
    description: 'wants no interest-bearing products (religious belief: declared with consent only)',
  },
];

const BY_KEY: ReadonlyMap<string, FactKeyDef> = new Map(FACT_KEYS.map((d) => [d.key, d]));

/** Other names systems use for a catalog key (the synthetic world says `contact_channel`). */
const ALIASES: Readonly<Record<string, string>> = {
  contact_channel: 'channel',
  preferred_channel: 'channel',
  preferred_language: 'language',
  receipt_preference: 'receipt',
  preferred_delivery_window: 'delivery_window',
  store: 'preferred_store',
  date_of_birth: 'birthday',
};

/**
 * The definition of a key: a catalog key (or an alias of one), or a category the workspace added to its
 * taxonomy (`personal.pets`), which holds free text. Undefined for anything else.
 */
export function factKeyOf(
  key: string,
  taxonomy: Taxonomy,
  workspaceCategories: readonly string[],
): FactKeyDef | undefined {
  const builtIn = BY_KEY.get(ALIASES[key] ?? key);
  if (builtIn) return builtIn;
  if (workspaceCategories.includes(key) && taxonomy.categories.has(key)) {
    return {
      key,
      category: key,
      type: text(500),
      multiple: true,
      purposes: null,
      description: taxonomy.categories.get(key)?.description ?? key,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Values

/** A partial date: month and day, with or without a year, and an optional label. */
export interface PartialDate {
  month: number;
  day: number;
  year?: number;
  label?: string;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
): FieldProblem[] {
  return Object.keys(value)
    .filter((k) => !allowed.includes(k))
    .map((k) => ({
      path: `${path}.${k}`,
      message: `is not a field of this value; use ${allowed.join(', ')}`,
    }));
}

/**
 * Reads a partial date from `{month, day, year?, label?}` or a string `YYYY-MM-DD` / `--MM-DD`: the day
 * must exist in the month (31 February never does; 29 February only without a year or in a leap year).
 */
export function parsePartialDate(
  value: unknown,
  path: string,
): { ok: true; value: PartialDate } | { ok: false; problems: FieldProblem[] } {
  let parts: Record<string, unknown>;
  if (typeof value === 'string') {
    const m = /^(?:(\d{4})|-)-(\d{2})-(\d{2})$/.exec(value);
    if (!m) {
      return {
        ok: false,
        problems: [
          { path, message: `is not a date (got "${value}"); write YYYY-MM-DD, or --MM-DD without the year` },
        ],
      };
    }
    parts = { month: Number(m[2]), day: Number(m[3]), ...(m[1] ? { year: Number(m[1]) } : {}) };
  } else if (isPlainObject(value)) {
    parts = value;
  } else {
    return {
      ok: false,
      problems: [{ path, message: 'must be a date: {"month", "day", "year"?} or "--MM-DD"' }],
    };
  }
  const problems = unknownKeys(parts, ['month', 'day', 'year', 'label'], path);
  const { month, day, year, label } = parts;
  if (!Number.isInteger(month) || (month as number) < 1 || (month as number) > 12) {
    problems.push({ path: `${path}.month`, message: 'must be a whole number from 1 to 12' });
  }
  if (year !== undefined && (!Number.isInteger(year) || (year as number) < 1900 || (year as number) > 2200)) {
    problems.push({ path: `${path}.year`, message: 'must be a whole number from 1900 to 2200' });
  }
  if (label !== undefined && (typeof label !== 'string' || label.length === 0 || label.length > 100)) {
    problems.push({ path: `${path}.label`, message: 'must be a text of 1–100 characters' });
  }
  if (!Number.isInteger(day) || (day as number) < 1) {
    problems.push({ path: `${path}.day`, message: 'must be a whole number from 1' });
  } else if (Number.isInteger(month) && (month as number) >= 1 && (month as number) <= 12) {
    const m = month as number;
    const max = m === 2 && typeof year === 'number' && !isLeap(year) ? 28 : (DAYS_IN_MONTH[m - 1] ?? 31);
    if ((day as number) > max) {
      problems.push({
        path: `${path}.day`,
        message: `${String(day)} does not exist in month ${m}${m === 2 && typeof year === 'number' ? ` of ${year}` : ''} (at most ${max})`,
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      month: month as number,
      day: day as number,
      ...(typeof year === 'number' ? { year } : {}),
      ...(typeof label === 'string' ? { label } : {}),
    },
  };
}

/** Checks and normalises a value against its key's type; problems carry JSON paths under `path`. */
export function normaliseFactValue(
  def: FactKeyDef,
  value: unknown,
  path: string,
): { ok: true; value: unknown } | { ok: false; problems: FieldProblem[] } {
  const type = def.type;
  const fail = (message: string) => ({ ok: false as const, problems: [{ path, message }] });
  switch (type.kind) {
    case 'text': {
      if (typeof value !== 'string') return fail(`must be a text for "${def.key}"`);
      const trimmed = value.normalize('NFC').replace(/\s+/gu, ' ').trim();
      if (trimmed === '' || trimmed.length > type.maxLength)
        return fail(`must be 1–${type.maxLength} characters`);
      // A card number or national id typed into a free-text fact is masked, as in any free text.
      return { ok: true, value: maskFreeText(trimmed).text };
    }
    case 'enum':
      if (typeof value !== 'string' || !type.values.includes(value.trim().toLowerCase()))
        return fail(`must be one of ${type.values.join(', ')}`);
      return { ok: true, value: value.trim().toLowerCase() };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : fail('must be true or false');
    case 'language': {
      if (typeof value !== 'string') return fail('must be a language tag such as "es" or "pt-BR"');
      const normal = normaliseLanguage(value, path);
      return normal.ok ? { ok: true, value: normal.value } : { ok: false, problems: [normal.problem] };
    }
    case 'partial_date':
      return parsePartialDate(value, path);
    case 'person': {
      if (!isPlainObject(value)) return fail('must be {"name", "relation"}');
      const problems = unknownKeys(value, ['name', 'relation'], path);
      const name = typeof value.name === 'string' ? value.name.trim() : '';
      if (name === '' || name.length > 200)
        problems.push({ path: `${path}.name`, message: 'must be 1–200 characters' });
      if (typeof value.relation !== 'string' || value.relation.trim() === '' || value.relation.length > 50)
        problems.push({ path: `${path}.relation`, message: 'must be 1–50 characters (daughter, partner…)' });
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, value: { name, relation: (value.relation as string).trim().toLowerCase() } };
    }
    case 'life_event': {
      if (!isPlainObject(value)) return fail('must be {"event", "date"?}');
      const problems = unknownKeys(value, ['event', 'date'], path);
      if (typeof value.event !== 'string' || !LIFE_EVENT_KINDS.includes(value.event))
        problems.push({ path: `${path}.event`, message: `must be one of ${LIFE_EVENT_KINDS.join(', ')}` });
      let date: PartialDate | undefined;
      if (value.date !== undefined) {
        const parsed = parsePartialDate(value.date, `${path}.date`);
        if (parsed.ok) date = parsed.value;
        else problems.push(...parsed.problems);
      }
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, value: { event: value.event, ...(date ? { date } : {}) } };
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Memory: what may be stored

/** The lowest level at which a source kind is remembered at all: inferences only for "treat me like a regular". */
const SOURCE_FLOOR: Readonly<Record<SourceKind, IntimacyLevel>> = {
  declared: 0,
  observed: 0,
  derived: 1,
  inferred: MAX_INTIMACY,
};

/**
 * The intimacy level the customer must keep for a fact to be remembered (SPEC §6 table): the category's
 * minimum (operational preferences 1, personal facts 2, life events 3), and for a source kind its
 * floor (derived from behaviour 1, inferred 4).
 */
export function memoryLevel(category: CategoryDef, sourceKind: SourceKind): IntimacyLevel {
  const ofCategory = category.minIntimacyFor === 'all' ? category.minIntimacy : 0;
  return Math.max(ofCategory, SOURCE_FLOOR[sourceKind]) as IntimacyLevel;
}

/** Why a fact is not stored: each a stable code. */
export type StorageRefusal =
  | { code: 'POLICY_DO_NOT_STORE'; message: string }
  | { code: 'FACT_SPECIAL_CATEGORY'; message: string }
  | { code: 'FACT_NOT_DECLARED'; message: string }
  | { code: 'FACT_ABOVE_INTIMACY'; message: string; minIntimacy: IntimacyLevel };

/**
 * Whether a fact may be stored for a customer at `intimacyLevel`, and at which memory level. Do-not-store
 * and hash-only categories are refused; special categories only when declared with explicit consent for
 * stated purposes (never inferred, never observed); declared-only categories (personal facts, life
 * events) not from staff observation or behaviour (an inference may only be asked as a question); and a
 * fact above the customer's chosen level is not stored.
 */
export function decideStorage(
  category: CategoryDef,
  sourceKind: SourceKind,
  consentPurposes: readonly string[],
  intimacyLevel: IntimacyLevel,
): { ok: true; minIntimacy: IntimacyLevel } | { ok: false; refusal: StorageRefusal } {
  const refuse = (refusal: StorageRefusal) => ({ ok: false as const, refusal });
  if (category.policy === 'do_not_store' || category.policy === 'hash_only') {
    return refuse({
      code: 'POLICY_DO_NOT_STORE',
      message: `"${category.name}" must not be stored as a fact.`,
    });
  }
  if (category.policy === 'special') {
    if (sourceKind !== 'declared') {
      return refuse({
        code: 'FACT_SPECIAL_CATEGORY',
        message: `"${category.name}" is special-category data: stored only when the customer declares it, never ${sourceKind}.`,
      });
    }
    if (consentPurposes.length === 0) {
      return refuse({
        code: 'FACT_SPECIAL_CATEGORY',
        message: `"${category.name}" is special-category data: stored only with the customer's explicit consent for stated purposes (consentPurposes).`,
      });
    }
  }
  if (category.policy === 'declared_only' && (sourceKind === 'observed' || sourceKind === 'derived')) {
    return refuse({
      code: 'FACT_NOT_DECLARED',
      message: `"${category.name}" is stored only when the customer declared it, not ${sourceKind}.`,
    });
  }
  const minIntimacy = memoryLevel(category, sourceKind);
  if (intimacyLevel < minIntimacy) {
    return refuse({
      code: 'FACT_ABOVE_INTIMACY',
      message: `The customer's intimacy level is ${intimacyLevel}; a ${sourceKind} "${category.name}" fact is remembered from level ${minIntimacy}.`,
      minIntimacy,
    });
  }
  return { ok: true, minIntimacy };
}

/** The category definition governing a key, or undefined when the taxonomy does not know it. */
export function categoryOfKey(taxonomy: Taxonomy, def: FactKeyDef): CategoryDef | undefined {
  return resolveCategory(taxonomy, def.category);
}

// ---------------------------------------------------------------------------------------------------
// Reads

/** A stored fact (current version), as the domain reads it. */
export interface StoredFact {
  id: string;
  factId: string;
  customerId: string;
  key: string;
  category: string;
  value: unknown;
  sourceKind: SourceKind;
  status: FactStatus;
  provenance: {
    source: string;
    interactionId: string | null;
    capturedBy: string;
    capturedAt: string;
    confidence: number;
    evidence: unknown;
  };
  consentPurposes: string[];
  minIntimacy: IntimacyLevel;
  validFrom: string | null;
  expiresAt: string | null;
  remember: boolean;
  supersedes: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Why a stored fact is not shown, before the access decision is asked. */
export type MemoryHold = 'FACT_STATUS' | 'INTIMACY_LOWERED' | 'FACT_STALE' | 'FACT_NOT_FOR_PURPOSE';

/** Whether a fact's expiry has passed at `now` (a "moving next month" fact goes stale on time). */
export function isStale(fact: Pick<StoredFact, 'expiresAt' | 'status'>, now: Date): boolean {
  if (fact.status === 'expired') return true;
  return fact.expiresAt !== null && Date.parse(fact.expiresAt) <= now.getTime();
}

/**
 * What the memory rules say about showing a stored fact for a purpose, before the access decision: only
 * readable statuses; a fact above the customer's current intimacy level (lowered since it was stored) is
 * hidden at once; a stale fact is not used for outreach; a key serves only its purposes.
 */
export function memoryHold(
  fact: Pick<StoredFact, 'status' | 'minIntimacy' | 'expiresAt'>,
  def: Pick<FactKeyDef, 'purposes'> | undefined,
  intimacyLevel: number,
  purpose: { name: string; outreach: boolean },
  now: Date,
): MemoryHold | null {
  if (!READABLE_STATUSES.includes(fact.status)) return 'FACT_STATUS';
  if (fact.minIntimacy > intimacyLevel) return 'INTIMACY_LOWERED';
  if (purpose.outreach && isStale(fact, now)) return 'FACT_STALE';
  if (def?.purposes && !def.purposes.includes(purpose.name)) return 'FACT_NOT_FOR_PURPOSE';
  return null;
}

/** How old a value is, for prefill's freshness: days since it was captured (0 for today). */
export function ageInDays(capturedAt: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(capturedAt)) / 86_400_000));
}

/** Sort rank of a source kind when several facts answer one key: the customer's own word first. */
export const SOURCE_RANK: Readonly<Record<SourceKind, number>> = {
  declared: 0,
  observed: 1,
  derived: 2,
  inferred: 3,
};

/** How long a fact hidden by a lowered intimacy level is kept before it is purged (SPEC §6, issue 13). */
export const PURGE_GRACE_DAYS = 30;
