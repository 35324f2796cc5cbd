import { parse as parseYaml } from 'yaml';
import { ARCHETYPES, DIMENSIONS } from '../relationships/index.ts';
import { type FieldProblem, invalid } from '../shared/errors.ts';

/**
 * Playbooks (SPEC §9): a workspace's action catalog, eligibility rules and contact policy, declarative
 * (JSON or YAML), validated whole at save time with the JSON path of every problem, versioned. Pure:
 * no I/O.
 */

/** The moment types detection raises. */
export const MOMENT_TYPES = [
  'cancellation_requested',
  'complaint_opened',
  'complaint_resolved',
  'repeated_complaint',
  'payment_failed',
  'delivery_failed',
  'life_event_declared',
  'important_date_upcoming',
  'lapse_detected',
  'milestone_reached',
  'first_purchase',
  'suggestion_submitted',
  'name_corrected',
] as const;
export type MomentType = (typeof MOMENT_TYPES)[number];

/** The lanes of actions, in arbitration order: care and service before commerce. */
export const ACTION_PURPOSES = ['service', 'care', 'relationship', 'commercial'] as const;
export type ActionPurpose = (typeof ACTION_PURPOSES)[number];

/** The data-governance purpose each lane reads facts under, unless an action names its own. */
export const DEFAULT_DATA_PURPOSE: Readonly<Record<ActionPurpose, string>> = {
  service: 'service',
  care: 'service',
  relationship: 'personalization',
  commercial: 'marketing',
};

export const DELIVERIES = ['task', 'webhook', 'note'] as const;
export type Delivery = (typeof DELIVERIES)[number];

export const OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'] as const;
export type Op = (typeof OPS)[number];

/** The value-profile fields a rule may read. */
export const VALUE_FIELDS = ['clv', 'pAlive', 'spend', 'purchases', 'rfmSegment'] as const;
export type ValueField = (typeof VALUE_FIELDS)[number];

/** An eligibility condition. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { fact: string; field?: string; op: Op; value?: unknown }
  | { dimension: string; op: Op; value: number }
  | { archetype: string[] }
  | { profile: ValueField; op: Op; value?: unknown }
  | { segment: string }
  | { context: string; op: Op; value?: unknown };

export interface ActionDef {
  id: string;
  purpose: ActionPurpose;
  /** The governance purpose its facts must be usable for (default by lane). */
  dataPurpose: string;
  channels: string[];
  requiredFacts: string[];
  minIntimacy: number;
  suitableArchetypes: string[];
  forbiddenArchetypes: string[];
  tags: string[];
  value: number;
  lever: number;
  cooldownDays: number;
  cap: { count: number; days: number } | null;
  human: boolean;
  delivery: Delivery;
  dueHours: number;
  script: string;
  /** One customer-facing sentence; `{fact.KEY}` may cite only a required fact, `{moment}` the moment. */
  explanation: string;
}

export interface RuleDef {
  id: string;
  moment: MomentType;
  action: string;
  weight: number;
  when: Condition | null;
}

export interface Cap {
  channel: string;
  count: number;
  days: number;
}

export interface Playbook {
  name: string;
  maxActions: number;
  prior: { successes: number; failures: number };
  moments: Partial<Record<MomentType, { windowDays: number; weight: number }>>;
  distress: { moments: MomentType[]; lifeEvents: string[]; days: number };
  contactPolicy: {
    caps: Cap[];
    quietHours: { start: number; end: number; timeZone: string } | null;
    budgets: { purpose: ActionPurpose; count: number; days: number }[];
    suppression: { rejections: number; days: number; tooPersonalDays: number };
    sequencing: {
      id: string;
      purposes: ActionPurpose[];
      tags: string[];
      after: MomentType[];
      days: number;
    }[];
  };
  actions: ActionDef[];
  rules: RuleDef[];
}

/** Life events behind most cancellations that are special-category data (health). */
export const SPECIAL_LIFE_EVENTS: readonly string[] = ['illness'];

/** The context of each moment a rule may read (`{context: NAME}`). */
export const CONTEXT_KEYS: readonly string[] = [
  'interactionType',
  'channel',
  'event',
  'subject',
  'severity',
  'count',
  'purchases',
  'gapDays',
  'cadenceDays',
  'pAlive',
  'daysUntil',
  'reason',
];

const ID = /^[a-z][a-z0-9_.-]{0,63}$/;
const CITE = /\{([^{}]*)\}/g;

/** The placeholders a template may use: `{moment}` and `{fact.KEY}` of a required fact. */
export function citedFacts(template: string): string[] {
  return [...template.matchAll(CITE)].flatMap((m) => {
    const name = m[1] ?? '';
    return name.startsWith('fact.') ? [name.slice(5)] : [];
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: FieldProblem[] = [];
  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  str(o: Obj, key: string, path: string, opts: { pattern?: RegExp; max?: number; optional?: boolean } = {}) {
    const v = o[key];
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.problem(`${path}.${key}`, 'must be a non-empty string');
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v))
      this.problem(`${path}.${key}`, 'must be lower case letters, digits, _ . - (at most 64)');
    if (opts.max !== undefined && v.length > opts.max)
      this.problem(`${path}.${key}`, `must be at most ${opts.max} characters`);
    return v;
  }
  num(o: Obj, key: string, path: string, min: number, max: number, fallback: number): number {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.problem(`${path}.${key}`, `must be a number from ${min} to ${max}`);
      return fallback;
    }
    return v;
  }
  oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], fallback?: T): T {
    const v = o[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.problem(`${path}.${key}`, `must be one of ${values.join(', ')}`);
      return (fallback ?? values[0]) as T;
    }
    return v as T;
  }
  list<T extends string>(o: Obj, key: string, path: string, values?: readonly string[]): T[] {
    const v = o[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.problem(`${path}.${key}`, 'must be an array');
      return [];
    }
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item.length === 0)
        this.problem(`${path}.${key}[${i}]`, 'must be a non-empty string');
      else if (values && !values.includes(item))
        this.problem(`${path}.${key}[${i}]`, `must be one of ${values.join(', ')}`);
    });
    return v.filter((x): x is T => typeof x === 'string');
  }
  unknownKeys(o: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(o))
      if (!known.includes(key)) this.problem(`${path}.${key}`, `is not a known field (${known.join(', ')})`);
  }
}

/** What a playbook check is given: the workspace's purposes and fact keys it may name. */
export interface PlaybookContext {
  purposes: readonly string[];
  factKeys: readonly string[];
  segments?: readonly string[];
}

function checkCondition(
  c: Checker,
  input: unknown,
  path: string,
  ctx: PlaybookContext,
  depth: number,
): Condition {
  if (!isObj(input)) {
    c.problem(
      path,
      'must be an object: all, any, not, fact, dimension, archetype, profile, segment or context',
    );
    return { all: [] };
  }
  if (depth > 8) {
    c.problem(path, 'nests too deep (at most 8 levels)');
    return { all: [] };
  }
  const kinds = [
    'all',
    'any',
    'not',
    'fact',
    'dimension',
    'archetype',
    'profile',
    'segment',
    'context',
  ].filter((k) => k in input);
  if (kinds.length !== 1) {
    c.problem(
      path,
      'must have exactly one of all, any, not, fact, dimension, archetype, profile, segment, context',
    );
    return { all: [] };
  }
  const kind = kinds[0] as string;
  if (kind === 'all' || kind === 'any') {
    const list = input[kind];
    if (!Array.isArray(list) || list.length === 0) {
      c.problem(`${path}.${kind}`, 'must be a non-empty array of conditions');
      return { all: [] };
    }
    const inner = list.map((x, i) => checkCondition(c, x, `${path}.${kind}[${i}]`, ctx, depth + 1));
    return kind === 'all' ? { all: inner } : { any: inner };
  }
  if (kind === 'not') return { not: checkCondition(c, input.not, `${path}.not`, ctx, depth + 1) };
  if (kind === 'archetype') {
    const list = c.list<string>(input, 'archetype', path, ARCHETYPES);
    if (list.length === 0 && !Array.isArray(input.archetype))
      c.problem(`${path}.archetype`, 'must be an array of archetypes');
    return { archetype: list };
  }
  if (kind === 'segment') {
    const name = c.str(input, 'segment', path) ?? '';
    if (ctx.segments && name && !ctx.segments.includes(name))
      c.problem(`${path}.segment`, 'is not a segment of this workspace');
    return { segment: name };
  }
  const op = c.oneOf(input, 'op', path, OPS);
  if (op !== 'exists' && !('value' in input)) c.problem(`${path}.value`, `is required with op ${op}`);
  if (op === 'in' && !Array.isArray(input.value)) c.problem(`${path}.value`, 'must be an array with op in');
  if (['gt', 'gte', 'lt', 'lte'].includes(op) && typeof input.value !== 'number')
    c.problem(`${path}.value`, `must be a number with op ${op}`);
  if (kind === 'fact') {
    const key = c.str(input, 'fact', path) ?? '';
    if (key && !ctx.factKeys.includes(key)) c.problem(`${path}.fact`, 'is not a fact key of this workspace');
    const field = c.str(input, 'field', path, { optional: true });
    return { fact: key, op, value: input.value, ...(field ? { field } : {}) };
  }
  if (kind === 'dimension') {
    const dim = c.oneOf(input, 'dimension', path, DIMENSIONS);
    if (typeof input.value === 'number' && (input.value < 0 || input.value > 1))
      c.problem(`${path}.value`, 'must be from 0 to 1');
    return { dimension: dim, op, value: input.value as number };
  }
  if (kind === 'profile')
    return { profile: c.oneOf(input, 'profile', path, VALUE_FIELDS), op, value: input.value };
  const key = c.oneOf(input, 'context', path, CONTEXT_KEYS as readonly string[]);
  return { context: key, op, value: input.value };
}

const TOP_KEYS = [
  'name',
  'maxActions',
  'prior',
  'moments',
  'distress',
  'contactPolicy',
  'actions',
  'rules',
] as const;
const ACTION_KEYS = [
  'id',
  'purpose',
  'dataPurpose',
  'channels',
  'requiredFacts',
  'minIntimacy',
  'suitableArchetypes',
  'forbiddenArchetypes',
  'tags',
  'value',
  'lever',
  'cooldownDays',
  'cap',
  'human',
  'delivery',
  'dueHours',
  'script',
  'explanation',
] as const;

function checkAction(c: Checker, a: unknown, path: string, ctx: PlaybookContext): ActionDef | undefined {
  if (!isObj(a)) {
    c.problem(path, 'must be an object');
    return undefined;
  }
  c.unknownKeys(a, path, ACTION_KEYS);
  const purpose = c.oneOf(a, 'purpose', path, ACTION_PURPOSES);
  const dataPurpose = (c.str(a, 'dataPurpose', path, { optional: true }) ??
    DEFAULT_DATA_PURPOSE[purpose]) as string;
  if (!ctx.purposes.includes(dataPurpose))
    c.problem(`${path}.dataPurpose`, 'is not a purpose of this workspace');
  const channels = c.list<string>(a, 'channels', path);
  if (channels.length === 0) c.problem(`${path}.channels`, 'must name at least one channel');
  const requiredFacts = c.list<string>(a, 'requiredFacts', path);
  requiredFacts.forEach((k, i) => {
    if (!ctx.factKeys.includes(k))
      c.problem(`${path}.requiredFacts[${i}]`, 'is not a fact key of this workspace');
  });
  const explanation = c.str(a, 'explanation', path, { max: 300 }) ?? '';
  if (/[.!?]\s+\S/.test(explanation.trim())) c.problem(`${path}.explanation`, 'must be one sentence');
  for (const m of explanation.matchAll(CITE)) {
    const name = m[1] ?? '';
    if (name === 'moment') continue;
    if (!name.startsWith('fact.'))
      c.problem(`${path}.explanation`, `cites {${name}}: only {moment} and {fact.KEY}`);
    else if (!requiredFacts.includes(name.slice(5)))
      c.problem(`${path}.explanation`, `cites {${name}}, which is not among requiredFacts`);
  }
  let cap: ActionDef['cap'] = null;
  if (a.cap !== undefined && a.cap !== null) {
    if (!isObj(a.cap)) c.problem(`${path}.cap`, 'must be {count, days}');
    else
      cap = {
        count: c.num(a.cap, 'count', `${path}.cap`, 0, 1000, 1),
        days: c.num(a.cap, 'days', `${path}.cap`, 1, 3650, 7),
      };
  }
  if (a.human !== undefined && typeof a.human !== 'boolean')
    c.problem(`${path}.human`, 'must be true or false');
  const human = a.human === true;
  const delivery = c.oneOf(a, 'delivery', path, DELIVERIES, human ? 'task' : 'webhook');
  if (human && delivery === 'webhook')
    c.problem(`${path}.delivery`, 'must be task or note when a person delivers it');
  return {
    id: c.str(a, 'id', path, { pattern: ID }) ?? '',
    purpose,
    dataPurpose,
    channels,
    requiredFacts,
    minIntimacy: c.num(a, 'minIntimacy', path, 0, 4, 0),
    suitableArchetypes: c.list(a, 'suitableArchetypes', path, ARCHETYPES),
    forbiddenArchetypes: c.list(a, 'forbiddenArchetypes', path, ARCHETYPES),
    tags: c.list(a, 'tags', path),
    value: c.num(a, 'value', path, 0, 1_000_000, 1),
    lever: c.num(a, 'lever', path, 0, 100, 1),
    cooldownDays: c.num(a, 'cooldownDays', path, 0, 3650, 0),
    cap,
    human,
    delivery,
    dueHours: c.num(a, 'dueHours', path, 0, 24 * 90, 24),
    script:
      a.script === '' ? '' : ((c.str(a, 'script', path, { optional: true, max: 4000 }) ?? '') as string),
    explanation,
  };
}

/**
 * Checks a playbook (already parsed) and answers it with defaults filled in; otherwise throws 400
 * PLAYBOOK_INVALID listing every problem at its JSON path (`playbook.rules[3].when.all[0].fact`).
 */
export function assertPlaybook(input: unknown, ctx: PlaybookContext, prefix = 'playbook'): Playbook {
  const c = new Checker();
  const p = checkPlaybook(c, input, ctx, prefix);
  if (c.problems.length > 0 || p === undefined) {
    const first = c.problems[0];
    throw invalid(
      'PLAYBOOK_INVALID',
      `The playbook is not valid: ${first?.path} ${first?.message}. Fix every problem listed in details.errors; nothing was changed and the previous version stays active.`,
      { errors: c.problems },
    );
  }
  return p;
}

function checkPlaybook(c: Checker, input: unknown, ctx: PlaybookContext, path: string): Playbook | undefined {
  if (!isObj(input)) {
    c.problem(path, 'must be an object with actions and rules');
    return undefined;
  }
  c.unknownKeys(input, path, TOP_KEYS);
  const name = c.str(input, 'name', path, { max: 200 }) ?? '';
  const prior = isObj(input.prior) ? input.prior : {};
  const moments: Playbook['moments'] = {};
  if (input.moments !== undefined) {
    if (!isObj(input.moments)) c.problem(`${path}.moments`, 'must be an object by moment type');
    else
      for (const [type, def] of Object.entries(input.moments)) {
        const p = `${path}.moments.${type}`;
        if (!(MOMENT_TYPES as readonly string[]).includes(type)) c.problem(p, 'is not a moment type');
        else if (!isObj(def)) c.problem(p, 'must be {windowDays, weight}');
        else
          moments[type as MomentType] = {
            windowDays: c.num(def, 'windowDays', p, 0, 3650, 1),
            weight: c.num(def, 'weight', p, 0, 100, 1),
          };
      }
  }
  const d = isObj(input.distress) ? input.distress : {};
  const distress = {
    moments: c.list<MomentType>(d, 'moments', `${path}.distress`, MOMENT_TYPES),
    lifeEvents: c.list<string>(d, 'lifeEvents', `${path}.distress`),
    days: c.num(d, 'days', `${path}.distress`, 0, 3650, 14),
  };
  const cp = isObj(input.contactPolicy) ? input.contactPolicy : {};
  const cpPath = `${path}.contactPolicy`;
  const objects = (key: string): Obj[] => {
    const v = cp[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      c.problem(`${cpPath}.${key}`, 'must be an array');
      return [];
    }
    return v.map((x, i) => {
      if (!isObj(x)) c.problem(`${cpPath}.${key}[${i}]`, 'must be an object');
      return isObj(x) ? x : {};
    });
  };
  const caps = objects('caps').map((x, i) => ({
    channel: c.str(x, 'channel', `${cpPath}.caps[${i}]`) ?? '*',
    count: c.num(x, 'count', `${cpPath}.caps[${i}]`, 0, 1000, 1),
    days: c.num(x, 'days', `${cpPath}.caps[${i}]`, 1, 3650, 7),
  }));
  let quietHours: Playbook['contactPolicy']['quietHours'] = null;
  if (cp.quietHours !== undefined && cp.quietHours !== null) {
    const q = isObj(cp.quietHours) ? cp.quietHours : {};
    const qp = `${cpPath}.quietHours`;
    const timeZone = c.str(q, 'timeZone', qp, { optional: true }) ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      c.problem(`${qp}.timeZone`, 'is not a time zone (such as Europe/Madrid)');
    }
    quietHours = { start: c.num(q, 'start', qp, 0, 23, 21), end: c.num(q, 'end', qp, 0, 23, 8), timeZone };
  }
  const budgets = objects('budgets').map((x, i) => ({
    purpose: c.oneOf(x, 'purpose', `${cpPath}.budgets[${i}]`, ACTION_PURPOSES),
    count: c.num(x, 'count', `${cpPath}.budgets[${i}]`, 0, 1000, 1),
    days: c.num(x, 'days', `${cpPath}.budgets[${i}]`, 1, 3650, 30),
  }));
  const s = isObj(cp.suppression) ? cp.suppression : {};
  const suppression = {
    rejections: c.num(s, 'rejections', `${cpPath}.suppression`, 1, 100, 2),
    days: c.num(s, 'days', `${cpPath}.suppression`, 1, 3650, 90),
    tooPersonalDays: c.num(s, 'tooPersonalDays', `${cpPath}.suppression`, 1, 36500, 365),
  };
  const sequencing = objects('sequencing').map((x, i) => {
    const sp = `${cpPath}.sequencing[${i}]`;
    const rule = {
      id: c.str(x, 'id', sp, { pattern: ID }) ?? '',
      purposes: c.list<ActionPurpose>(x, 'purposes', sp, ACTION_PURPOSES),
      tags: c.list<string>(x, 'tags', sp),
      after: c.list<MomentType>(x, 'after', sp, MOMENT_TYPES),
      days: c.num(x, 'days', sp, 1, 3650, 14),
    };
    if (rule.purposes.length === 0 && rule.tags.length === 0)
      c.problem(sp, 'must name purposes or tags it holds back');
    if (rule.after.length === 0) c.problem(`${sp}.after`, 'must name at least one moment type');
    return rule;
  });
  const actionsIn = Array.isArray(input.actions) ? input.actions : [];
  if (!Array.isArray(input.actions)) c.problem(`${path}.actions`, 'must be an array of actions');
  const actions = actionsIn.flatMap((a, i) => checkAction(c, a, `${path}.actions[${i}]`, ctx) ?? []);
  const ids = new Set<string>();
  actions.forEach((a, i) => {
    if (ids.has(a.id)) c.problem(`${path}.actions[${i}].id`, 'is used by an earlier action');
    ids.add(a.id);
  });
  const rulesIn = Array.isArray(input.rules) ? input.rules : [];
  if (!Array.isArray(input.rules)) c.problem(`${path}.rules`, 'must be an array of rules');
  const ruleIds = new Set<string>();
  const rules = rulesIn.flatMap((r, i): RuleDef[] => {
    const rp = `${path}.rules[${i}]`;
    if (!isObj(r)) {
      c.problem(rp, 'must be an object');
      return [];
    }
    c.unknownKeys(r, rp, ['id', 'moment', 'action', 'weight', 'when']);
    const id = c.str(r, 'id', rp, { pattern: ID }) ?? '';
    if (ruleIds.has(id)) c.problem(`${rp}.id`, 'is used by an earlier rule');
    ruleIds.add(id);
    const action = c.str(r, 'action', rp) ?? '';
    if (action && !ids.has(action)) c.problem(`${rp}.action`, 'names no action of this playbook');
    return [
      {
        id,
        moment: c.oneOf(r, 'moment', rp, MOMENT_TYPES),
        action,
        weight: c.num(r, 'weight', rp, 0, 100, 1),
        when:
          r.when === undefined || r.when === null ? null : checkCondition(c, r.when, `${rp}.when`, ctx, 0),
      },
    ];
  });
  return {
    name,
    maxActions: c.num(input, 'maxActions', path, 0, 10, 2),
    prior: {
      successes: c.num(prior, 'successes', `${path}.prior`, 0.01, 1000, 1),
      failures: c.num(prior, 'failures', `${path}.prior`, 0.01, 1000, 1),
    },
    moments,
    distress,
    contactPolicy: { caps, quietHours, budgets, suppression, sequencing },
    actions,
    rules,
  };
}

/**
 * Parses a playbook's text: JSON when it starts with `{`, YAML otherwise. A syntax error is 400
 * PLAYBOOK_SYNTAX with the line and column.
 */
export function parsePlaybookText(text: string): { value: unknown; format: 'json' | 'yaml' } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return { value: JSON.parse(text), format: 'json' };
    } catch (error) {
      throw invalid('PLAYBOOK_SYNTAX', `The playbook is not valid JSON: ${(error as Error).message}.`, {});
    }
  }
  try {
    return { value: parseYaml(text), format: 'yaml' };
  } catch (error) {
    throw invalid('PLAYBOOK_SYNTAX', `The playbook is not valid YAML: ${(error as Error).message}`, {});
  }
}
