import type { CustomerInput } from '../customers/index.ts';
import { normalisePhone } from '../customers/index.ts';
import type { PersonaRecovery } from '../relationships/index.ts';
import { invalid } from '../shared/errors.ts';
import type { SourceRecord } from '../synthetic/index.ts';

/** The demo: its options, its summary, and the pure rules that turn a source record into a customer. */

/** People in the demo world unless asked otherwise. */
export const DEFAULT_DEMO_CUSTOMERS = 2000;

/** The demo world's seed unless asked otherwise: same seed, same world, so a rerun finds everything. */
export const DEFAULT_DEMO_SEED = 'cornerstore-demo';

/** The workspace the demo fills. */
export const DEMO_WORKSPACE = 'demo';

/** The file in the data directory that keeps the demo workspace's admin key. */
export const DEMO_KEY_FILE = 'demo-key';

/** Largest demo world the command accepts: beyond it, generate files and use `import interactions`. */
export const MAX_DEMO_CUSTOMERS = 1_000_000;

/** Why a customer is worth looking at. */
export type HighlightKind =
  | 'same_person'
  | 'complaint'
  | 'cancellation_request'
  | 'slipping_away'
  | 'prefill'
  | 'relationship'
  | 'recommendation'
  | 'recommendation_withheld'
  | 'moment';

/** A customer worth looking at, with the API addresses to look at it. */
export interface Highlight {
  kind: HighlightKind;
  customerId: string;
  name: string;
  why: string;
  /** `GET` it with the demo key. */
  customerUrl: string;
  timelineUrl: string;
  /** For `same_person`: each system's record of that person and the customer it became. */
  records?: { source: string; externalId: string; customerId: string }[];
  /** For `prefill`: a form filled from what the customer already told us, each value with its provenance. */
  prefill?: Record<string, unknown>;
  /** For `relationship`: the persona the world planted and the archetype the customer was given. */
  relationship?: { persona: string; archetype: string; relationshipUrl: string };
  /** For the recommendation highlights: `GET` it with `purpose=personalization`. */
  recommendationsUrl?: string;
  /** For `moment`: the action decided, its explanation and script, and where to see it and its trace. */
  moment?: {
    action: string;
    explanation: string;
    script: string | null;
    nextBestActionsUrl: string;
    decisionUrl: string;
  };
}

/** Counts of customers and interactions. */
export interface DemoCounts {
  customers: number;
  interactions: number;
}

/** What a demo run did. */
export interface DemoSummary {
  workspace: { id: string; name: string; created: boolean };
  apiKey: string;
  /** Where the admin key is kept (mode 0600). */
  keyFile: string;
  /** Where `npm start` serves the API. */
  url: string;
  /** The world: its seed, size, and the day it ends on (exclusive: its last events are the day before). */
  world: { seed: string; customers: number; end: string; sourceRecords: number; interactions: number };
  created: DemoCounts;
  existing: DemoCounts;
  /** Interactions ingest refused (none is expected: the generator writes valid ones). */
  rejected: { interactions: number; firstError: { code: string; message: string } | null };
  /**
   * What the data policy did to the world's planted probes (card numbers, national ids): fields dropped
   * (the demo workspace strips rather than rejects) and texts masked, counted by interaction.
   */
  policy: { dropped: number; masked: number };
  /** What identity resolution did: customers merged into another, pairs left for a person to decide. */
  identity: { merged: number; queued: number };
  /**
   * What the value refit did: `fitted`, or why no model was stored; the value clock the profiles are
   * scored as of (the world's end when `--as-of` was given, otherwise now).
   */
  value: { status: string; customers: number; asOf: string; reason: string | null };
  /**
   * What the relationship recomputation did (as of the world's end), and how well the archetypes
   * recovered the relationship personas the world planted: the confusion matrix and macro F1.
   */
  relationships: {
    customers: number;
    archetypes: Record<string, number>;
    recovery: PersonaRecovery;
  };
  /** What the default playbook made of the world's last 30 days. */
  moments: { moments: number; decisions: number; actions: number };
  highlights: Highlight[];
  seconds: number;
}

/** One phase of a run finished; what the command prints on stderr. */
export type DemoProgress =
  | { phase: 'workspace'; id: string; name: string; created: boolean; keyFile: string; keyCreated: boolean }
  | { phase: 'customers'; sourceRecords: number; created: number; existing: number; seconds: number }
  | {
      phase: 'interactions';
      interactions: number;
      created: number;
      existing: number;
      rejected: number;
      seconds: number;
    }
  | { phase: 'identity'; merged: number; queued: number; seconds: number }
  | {
      phase: 'value';
      status: string;
      customers: number;
      asOf: string;
      reason: string | null;
      seconds: number;
    }
  | { phase: 'facts'; created: number; replaced: number; seconds: number }
  | {
      phase: 'relationships';
      customers: number;
      planted: number;
      macroF1: number;
      seconds: number;
    }
  | { phase: 'moments'; moments: number; decisions: number; actions: number; seconds: number }
  | { phase: 'recommendations'; customers: number; items: number; seconds: number }
  | { phase: 'highlights'; count: number; seconds: number };

/** The phases of a run that take time, in order. */
export const DEMO_PHASES = [
  'customers',
  'interactions',
  'identity',
  'value',
  'facts',
  'relationships',
  'moments',
  'recommendations',
  'highlights',
] as const;

/** A phase of a run that takes time. */
export type DemoPhase = (typeof DEMO_PHASES)[number];

/** How far a phase has got: people loaded, or steps (0 of 1 while a single step runs). */
export interface DemoStep {
  phase: DemoPhase;
  done: number;
  total: number;
}

const AS_OF = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Today's date (UTC) of an instant, `YYYY-MM-DD`. */
export function computeToday(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * Reads an `--as-of` value: a calendar date `YYYY-MM-DD` from 2000-01-01 to today (UTC; `now`), the day the
 * demo world ends on. Throws DEMO_OPTIONS_INVALID.
 */
export function parseDemoAsOf(value: string, now: Date): string {
  const trimmed = value.trim();
  const match = AS_OF.exec(trimmed);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Date.UTC rolls 2025-02-30 over into March: a real date reads back as written.
  const real = Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === trimmed;
  if (!real) {
    throw invalid('DEMO_OPTIONS_INVALID', `--as-of must be a date YYYY-MM-DD, not "${value}".`, {
      errors: [{ path: 'asOf', message: 'must be a calendar date YYYY-MM-DD' }],
    });
  }
  if (trimmed < '2000-01-01' || trimmed > computeToday(now)) {
    throw invalid(
      'DEMO_OPTIONS_INVALID',
      `--as-of must be a date from 2000-01-01 to today (${computeToday(now)}), not ${trimmed}: the world ends on it.`,
      { errors: [{ path: 'asOf', message: 'must be from 2000-01-01 to today' }] },
    );
  }
  return trimmed;
}

/** Validates the world's size and seed; throws DEMO_OPTIONS_INVALID. */
export function assertDemoOptions(customers: number, seed: string): void {
  if (!Number.isSafeInteger(customers) || customers < 1 || customers > MAX_DEMO_CUSTOMERS) {
    throw invalid(
      'DEMO_OPTIONS_INVALID',
      `--customers must be an integer from 1 to ${MAX_DEMO_CUSTOMERS.toLocaleString('en')}, not ${customers}.`,
      { errors: [{ path: 'customers', message: `must be an integer from 1 to ${MAX_DEMO_CUSTOMERS}` }] },
    );
  }
  if (seed.trim() === '') {
    throw invalid('DEMO_OPTIONS_INVALID', '--seed must not be empty.', {
      errors: [{ path: 'seed', message: 'must not be empty' }],
    });
  }
}

/** Reads a `--customers` value: digits only (no `1e3`, no `12abc`); throws DEMO_OPTIONS_INVALID. */
export function parseCustomerCount(value: string): number {
  const trimmed = value.trim();
  const count = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (Number.isNaN(count)) {
    throw invalid('DEMO_OPTIONS_INVALID', `--customers must be a whole number, not "${value}".`, {
      errors: [{ path: 'customers', message: 'must be a whole number' }],
    });
  }
  return count;
}

const HONORIFIC = /^(mr|mrs|ms|miss|mx|dr)\.?$/i;
const INITIAL = /^\p{L}\.$/u;

/**
 * Splits the single name field some systems keep (billing's formal name, shipping's consignee) into
 * given and family name, the way a simple loader would: `FAMILY, GIVEN MIDDLE` at the comma; otherwise
 * a leading honorific is dropped, the first word and any initials are the given name and the rest the
 * family name. Wrong guesses are left for identity resolution, as they would be in real data.
 */
export function splitFullName(fullName: string): { givenName?: string; familyName?: string } {
  const comma = fullName.indexOf(',');
  if (comma >= 0) {
    const family = fullName.slice(0, comma).trim();
    const given = fullName.slice(comma + 1).trim();
    return {
      ...(given === '' ? {} : { givenName: given }),
      ...(family === '' ? {} : { familyName: family }),
    };
  }
  const words = fullName
    .trim()
    .split(/\s+/u)
    .filter((w) => w !== '');
  if (words.length > 1 && HONORIFIC.test(words[0] ?? '')) words.shift();
  if (words.length === 0) return {};
  if (words.length === 1) return { familyName: words[0] as string };
  const given = [words[0] as string];
  let rest = words.slice(1);
  while (rest.length > 1 && INITIAL.test(rest[0] ?? '')) {
    given.push(rest[0] as string);
    rest = rest.slice(1);
  }
  return { givenName: given.join(' '), familyName: rest.join(' ') };
}

/**
 * A source record as the customer its system would create: its names, email, phone, postal address,
 * identity and source. Local phone numbers are read in the market the record was captured in (a store in the UK
 * writes `07700 900027`), so they reach the customers domain in E.164 whatever the workspace's region.
 */
export function toCustomerInput(record: SourceRecord, market: string): CustomerInput {
  const names =
    record.givenName !== undefined || record.familyName !== undefined
      ? {
          ...(record.givenName === undefined ? {} : { givenName: record.givenName }),
          ...(record.familyName === undefined ? {} : { familyName: record.familyName }),
        }
      : record.fullName === undefined
        ? {}
        : splitFullName(record.fullName);
  const phone = record.phone === undefined ? undefined : normalisePhone(record.phone, market, 'phones[0]');
  return {
    ...names,
    ...(record.language === undefined ? {} : { language: record.language }),
    ...(record.birthDate === undefined ? {} : { birthDate: record.birthDate }),
    emails: record.email === undefined ? [] : [record.email],
    // An unreadable number is passed as typed, so the customers domain reports it with its path.
    phones: phone === undefined ? [] : [phone.ok ? phone.value : (record.phone as string)],
    ...(record.address === undefined ? {} : { addresses: [record.address] }),
    identities: [{ source: record.source, externalId: record.externalId }],
    source: record.source,
    capturedAt: record.updatedAt,
  };
}

/** The display name of a customer record: preferred or given name and family name. */
export function displayName(customer: {
  givenName: string | null;
  familyName: string | null;
  preferredName: string | null;
}): string {
  const name = [customer.preferredName ?? customer.givenName, customer.familyName]
    .filter((part) => part !== null && part !== '')
    .join(' ');
  return name === '' ? '(no name on file)' : name;
}
