import { type RawBuilder, sql } from 'kysely';
import { FACT_KEYS, type FactKeyDef, SOURCE_KINDS } from '../facts/index.ts';
import { categoryOfType, TYPE_CATEGORIES } from '../interactions/index.ts';
import type { FieldRef, FieldRule } from '../policy/index.ts';
import { ARCHETYPES, DIMENSIONS } from '../relationships/index.ts';
import { type FieldProblem, forbidden, invalid } from '../shared/errors.ts';
import { isCurrencyCode } from '../shared/money.ts';
import { RFM_SEGMENTS } from '../value/index.ts';

/**
 * The segment filter language, its validation, its compilation to SQL and the explanation of a
 * member.
 *
 * A definition is a JSON tree: `{"all": [...]}`, `{"any": [...]}`, `{"not": node}`, or a condition.
 * A field condition reads a customer or value-profile field: `{"field": "rfm.segment", "op": "in",
 * "value": ["champions", "loyal"]}`. An aggregate condition reads the customer's interactions:
 * `{"aggregate": "count", "type": "purchase", "channel": "web", "within": "P90D", "op": "gte",
 * "value": 2}` (count, sum of amounts, or last time; type, channel, currency and window optional, but a
 * sum names its currency, as amounts in two currencies never add up; the window is
 * `PnD`, `PnW` or a number of days, ending now). Operators: eq, ne, lt, lte, gt, gte, in, between
 * (`[low, high]`, inclusive) and exists (`true`: the value is known). A timestamp is compared with an
 * ISO timestamp or with a duration meaning "that long ago" (`{"aggregate": "last", "type": "purchase",
 * "op": "lt", "value": "P180D"}`: the last purchase was more than 180 days ago).
 *
 * Access: every condition names the data categories it reads. A category the purpose may never read
 * makes the definition 403 FILTER_NOT_ALLOWED (a filter would reveal it). A category readable only from
 * an intimacy level on makes the condition unknown for customers below that level, as if the value were
 * missing: SQL's three-valued logic then keeps them out whatever `not` or `any` surrounds it (`not`
 * is pushed down to the conditions, so "unknown" never turns into "true").
 */

/** A comparison. */
export const OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'between', 'exists'] as const;
/** A comparison operator. */
export type Operator = (typeof OPERATORS)[number];

/** A condition over a customer or value-profile field. */
export interface FieldCondition {
  field: string;
  op: Operator;
  value?: unknown;
}

/** The aggregates of interactions a condition can read. */
export const AGGREGATES = ['count', 'sum', 'last'] as const;

/** A condition over an aggregate of the customer's interactions. */
export interface AggregateCondition {
  aggregate: (typeof AGGREGATES)[number];
  type?: string;
  channel?: string;
  /** Only interactions in this ISO 4217 currency; required with `sum`, as amounts in two currencies never add up. */
  currency?: string;
  /** `PnD`, `PnW` or whole days; the window ends now. */
  within?: string | number;
  op: Operator;
  value?: unknown;
}

/**
 * A condition over the customer's facts (SPEC §6): `{"fact": "receipt", "op": "eq", "value": "paper"}` holds
 * when a current, active or confirmed fact of the key has the value — one the purpose may use: the
 * decision per source kind, the customer's current intimacy level (a fact above a lowered level is
 * never seen), not stale for outreach, and a key serving the purpose. `exists` asks for any such fact.
 */
export interface FactCondition {
  fact: string;
  op: Operator;
  value?: unknown;
}

/** A condition. */
export type Condition = FieldCondition | AggregateCondition | FactCondition;

/** The catalog keys a fact condition may read: those whose values are single words or texts. */
const FACT_FILTER_KEYS: ReadonlyMap<string, FactKeyDef> = new Map(
  FACT_KEYS.filter(
    (d) =>
      d.type.kind === 'enum' ||
      d.type.kind === 'text' ||
      d.type.kind === 'language' ||
      d.type.kind === 'boolean',
  ).map((d) => [d.key, d]),
);
const FACT_OPERATORS: readonly Operator[] = ['eq', 'ne', 'in', 'exists'];

/** A node of a definition. */
export type SegmentNode = { all: SegmentNode[] } | { any: SegmentNode[] } | { not: SegmentNode } | Condition;

type Kind = 'string' | 'enum' | 'integer' | 'number' | 'date' | 'timestamp';

interface FieldDef {
  kind: Kind;
  /** Data category (null: not personal data). */
  category: string | null;
  /** Where it lives: the customer row `c`, the value profile `vp`, or the relationship profile. */
  source: 'customer' | 'value' | 'relationship';
  expr: RawBuilder<unknown>;
  values?: readonly string[];
  min?: number;
  max?: number;
  description: string;
}

const MONTHS = { min: 1, max: 12 };

/** A relationship profile's value, as a scalar subquery on `c` (null before its first computation). */
function relationshipExpr(select: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(SELECT ${select} FROM relationship_profiles rp
    WHERE rp.workspace_id = c.workspace_id AND rp.customer_id = c.id)`;
}

/** Relationship fields: the archetype, the modifiers and every dimension (0..1), all behavioural data. */
const RELATIONSHIP_FIELDS: Readonly<Record<string, FieldDef>> = {
  'relationship.archetype': {
    kind: 'enum',
    category: 'behavioral',
    source: 'relationship',
    expr: relationshipExpr(sql`rp.archetype`),
    values: ARCHETYPES,
    description: 'the relationship archetype (adversary, captive, … best_friend)',
  },
  'relationship.highDemand': {
    kind: 'enum',
    category: 'behavioral',
    source: 'relationship',
    expr: relationshipExpr(sql`rp.high_demand::text`),
    values: ['true', 'false'],
    description: 'the high-demand modifier, "true" or "false"',
  },
  'relationship.discretion': {
    kind: 'enum',
    category: 'behavioral',
    source: 'relationship',
    expr: relationshipExpr(sql`rp.discretion::text`),
    values: ['true', 'false'],
    description: 'the customer asked for discretion, "true" or "false"',
  },
  ...Object.fromEntries(
    DIMENSIONS.map((d): [string, FieldDef] => [
      `relationship.${d}`,
      {
        kind: 'number',
        category: 'behavioral',
        source: 'relationship',
        expr: relationshipExpr(sql`(rp.dimensions->${d}->>'value')::float8`),
        min: 0,
        max: 1,
        description: `the relationship dimension ${d}, 0–1`,
      },
    ]),
  ),
};

/** The fields a condition may read, with their category and SQL over `c` (customers) and `vp`. */
export const SEGMENT_FIELDS: Readonly<Record<string, FieldDef>> = {
  language: {
    kind: 'string',
    category: 'preference.language',
    source: 'customer',
    expr: sql`c.language`,
    description: 'language to be served in (BCP 47)',
  },
  birthDate: {
    kind: 'date',
    category: 'demographic.birth_date',
    source: 'customer',
    expr: sql`c.birth_date`,
    description: 'date of birth',
  },
  'birthDate.month': {
    kind: 'integer',
    category: 'demographic.birth_date',
    source: 'customer',
    expr: sql`extract(month FROM c.birth_date)::int`,
    ...MONTHS,
    description: 'month of birth, 1–12',
  },
  givenName: {
    kind: 'string',
    category: 'identity.name',
    source: 'customer',
    expr: sql`c.given_name`,
    description: 'given name',
  },
  familyName: {
    kind: 'string',
    category: 'identity.name',
    source: 'customer',
    expr: sql`c.family_name`,
    description: 'family name',
  },
  intimacyLevel: {
    kind: 'integer',
    category: null,
    source: 'customer',
    expr: sql`c.intimacy_level`,
    min: 0,
    max: 4,
    description: 'the intimacy level the customer chose, 0–4',
  },
  createdAt: {
    kind: 'timestamp',
    category: null,
    source: 'customer',
    expr: sql`c.created_at`,
    description: 'when the customer was first recorded',
  },
  'rfm.segment': {
    kind: 'enum',
    category: 'behavioral',
    source: 'value',
    expr: sql`vp.rfm_segment`,
    values: RFM_SEGMENTS,
    description: 'named RFM segment',
  },
  'rfm.r': rfmScore('vp.rfm_r', 'recency score, 1–5'),
  'rfm.f': rfmScore('vp.rfm_f', 'frequency score, 1–5'),
  'rfm.m': rfmScore('vp.rfm_m', 'monetary score, 1–5'),
  clv: valueNumber('vp.clv', 'behavioral', 'discounted customer lifetime value over the model horizon'),
  pAlive: valueNumber('vp.p_alive', 'behavioral', 'probability the customer is still active, 0–1'),
  expectedPurchases: valueNumber(
    'vp.expected_purchases',
    'behavioral',
    'purchases expected over the model horizon',
  ),
  expectedSpend: valueNumber('vp.expected_spend', 'behavioral', 'expected spend per purchase'),
  purchases: {
    kind: 'integer',
    category: 'transaction',
    source: 'value',
    expr: sql`vp.purchases`,
    min: 0,
    description: 'days with a purchase',
  },
  totalSpend: valueNumber('vp.total_spend', 'transaction', 'purchases less returns'),
  firstPurchaseAt: {
    kind: 'timestamp',
    category: 'transaction',
    source: 'value',
    expr: sql`vp.first_purchase_at`,
    description: 'time of the first purchase',
  },
  lastPurchaseAt: {
    kind: 'timestamp',
    category: 'transaction',
    source: 'value',
    expr: sql`vp.last_purchase_at`,
    description: 'time of the last purchase',
  },
  ...RELATIONSHIP_FIELDS,
};

function rfmScore(column: string, description: string): FieldDef {
  return {
    kind: 'integer',
    category: 'behavioral',
    source: 'value',
    expr: sql.raw(column),
    min: 1,
    max: 5,
    description,
  };
}

function valueNumber(column: string, category: string, description: string): FieldDef {
  return { kind: 'number', category, source: 'value', expr: sql.raw(column), description };
}

const OPERATORS_OF: Record<Kind, readonly Operator[]> = {
  string: ['eq', 'ne', 'in', 'exists'],
  enum: ['eq', 'ne', 'in', 'exists'],
  integer: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'between', 'exists'],
  number: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'exists'],
  date: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'exists'],
  timestamp: ['lt', 'lte', 'gt', 'gte', 'between', 'exists'],
};

const AGGREGATE_KIND: Record<AggregateCondition['aggregate'], Kind> = {
  count: 'integer',
  sum: 'number',
  last: 'timestamp',
};

/** Largest nesting depth and number of conditions of one definition. */
export const MAX_DEPTH = 8;
export const MAX_CONDITIONS = 64;
const MAX_WINDOW_DAYS = 3660;
const NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
const DURATION = /^P(\d{1,4})([DW])$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Whole days of a window or duration (`P90D`, `P12W`, 90), or undefined when it is not one. */
export function computeWindowDays(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 1 && value <= MAX_WINDOW_DAYS ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const days = Number(match[1]) * (match[2] === 'W' ? 7 : 1);
  return days >= 1 && days <= MAX_WINDOW_DAYS ? days : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkScalar(kind: Kind, def: FieldDef | undefined, value: unknown): string | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length <= 200 ? undefined : 'must be a string';
    case 'enum':
      return typeof value === 'string' && def?.values?.includes(value)
        ? undefined
        : `must be one of ${(def?.values ?? []).join(', ')}`;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (kind === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
      if (def?.min !== undefined && value < def.min) return `must be ≥ ${def.min}`;
      if (def?.max !== undefined && value > def.max) return `must be ≤ ${def.max}`;
      return undefined;
    }
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : 'must be a date written YYYY-MM-DD';
    case 'timestamp':
      return (typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value))) ||
        computeWindowDays(value) !== undefined
        ? undefined
        : 'must be an ISO timestamp with a zone, or a duration (P30D, P4W) meaning that long ago';
  }
}

function checkValue(
  kind: Kind,
  def: FieldDef | undefined,
  op: Operator,
  value: unknown,
  path: string,
  problems: FieldProblem[],
): void {
  const at = `${path}.value`;
  if (op === 'exists') {
    if (typeof value !== 'boolean') problems.push({ path: at, message: 'must be true or false with exists' });
    return;
  }
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > 100) {
      problems.push({ path: at, message: 'must be a list of 1 to 100 values with in' });
      return;
    }
    value.forEach((v, i) => {
      const problem = checkScalar(kind, def, v);
      if (problem) problems.push({ path: `${at}[${i}]`, message: problem });
    });
    return;
  }
  if (op === 'between') {
    if (!Array.isArray(value) || value.length !== 2) {
      problems.push({ path: at, message: 'must be [low, high] with between' });
      return;
    }
    value.forEach((v, i) => {
      const problem = checkScalar(kind, def, v);
      if (problem) problems.push({ path: `${at}[${i}]`, message: problem });
    });
    return;
  }
  const problem = checkScalar(kind, def, value);
  if (problem) problems.push({ path: at, message: problem });
}

function checkOperator(kind: Kind, op: unknown, path: string, problems: FieldProblem[]): op is Operator {
  const allowed = OPERATORS_OF[kind];
  if (typeof op !== 'string' || !(allowed as readonly string[]).includes(op)) {
    problems.push({ path: `${path}.op`, message: `must be one of ${allowed.join(', ')}` });
    return false;
  }
  return true;
}

const FIELD_KEYS = new Set(['field', 'op', 'value']);
const FACT_CONDITION_KEYS = new Set(['fact', 'op', 'value']);
const AGGREGATE_KEYS = new Set(['aggregate', 'type', 'channel', 'currency', 'within', 'op', 'value']);

function checkKeys(node: Record<string, unknown>, keys: Set<string>, path: string, problems: FieldProblem[]) {
  for (const key of Object.keys(node)) {
    if (!keys.has(key)) problems.push({ path: `${path}.${key}`, message: 'is not a known key here' });
  }
}

function checkNode(
  node: unknown,
  path: string,
  depth: number,
  state: { conditions: number; problems: FieldProblem[] },
) {
  const { problems } = state;
  if (!isObject(node)) {
    problems.push({ path, message: 'must be an object: {all}, {any}, {not} or a condition' });
    return;
  }
  if (depth > MAX_DEPTH) {
    problems.push({ path, message: `nests deeper than ${MAX_DEPTH} levels` });
    return;
  }
  for (const key of ['all', 'any'] as const) {
    if (key in node) {
      checkKeys(node, new Set([key]), path, problems);
      const children = node[key];
      if (!Array.isArray(children) || children.length === 0) {
        problems.push({ path: `${path}.${key}`, message: 'must be a non-empty list of nodes' });
        return;
      }
      children.forEach((child, i) => {
        checkNode(child, `${path}.${key}[${i}]`, depth + 1, state);
      });
      return;
    }
  }
  if ('not' in node) {
    checkKeys(node, new Set(['not']), path, problems);
    checkNode(node.not, `${path}.not`, depth + 1, state);
    return;
  }
  state.conditions++;
  if (state.conditions === MAX_CONDITIONS + 1) {
    problems.push({ path, message: `a definition holds at most ${MAX_CONDITIONS} conditions` });
  }
  if ('field' in node) {
    checkKeys(node, FIELD_KEYS, path, problems);
    const def = typeof node.field === 'string' ? SEGMENT_FIELDS[node.field] : undefined;
    if (!def) {
      problems.push({
        path: `${path}.field`,
        message: `must be one of ${Object.keys(SEGMENT_FIELDS).join(', ')}`,
      });
      return;
    }
    if (checkOperator(def.kind, node.op, path, problems))
      checkValue(def.kind, def, node.op, node.value, path, problems);
    return;
  }
  if ('fact' in node) {
    checkKeys(node, FACT_CONDITION_KEYS, path, problems);
    const def = typeof node.fact === 'string' ? FACT_FILTER_KEYS.get(node.fact) : undefined;
    if (!def) {
      problems.push({
        path: `${path}.fact`,
        message: `must be one of ${[...FACT_FILTER_KEYS.keys()].join(', ')}`,
      });
      return;
    }
    if (typeof node.op !== 'string' || !FACT_OPERATORS.includes(node.op as Operator)) {
      problems.push({ path: `${path}.op`, message: `must be one of ${FACT_OPERATORS.join(', ')}` });
      return;
    }
    const value =
      def.type.kind === 'boolean' && typeof node.value === 'boolean' ? String(node.value) : node.value;
    checkValue('string', undefined, node.op as Operator, value, path, problems);
    return;
  }
  if ('aggregate' in node) {
    checkKeys(node, AGGREGATE_KEYS, path, problems);
    const aggregate = node.aggregate;
    if (typeof aggregate !== 'string' || !(AGGREGATES as readonly string[]).includes(aggregate)) {
      problems.push({ path: `${path}.aggregate`, message: `must be one of ${AGGREGATES.join(', ')}` });
      return;
    }
    for (const key of ['type', 'channel'] as const) {
      const v = node[key];
      if (v !== undefined && (typeof v !== 'string' || !NAME.test(v))) {
        problems.push({ path: `${path}.${key}`, message: 'must be a lower-case name (purchase, web…)' });
      }
    }
    if (
      node.currency !== undefined &&
      (typeof node.currency !== 'string' || !isCurrencyCode(node.currency))
    ) {
      problems.push({
        path: `${path}.currency`,
        message: 'must be a current ISO 4217 currency code (EUR, USD…)',
      });
    } else if (node.currency === undefined && aggregate === 'sum') {
      problems.push({
        path: `${path}.currency`,
        message: 'is required with sum: amounts in different currencies are never added up',
      });
    }
    if (node.within !== undefined && computeWindowDays(node.within) === undefined) {
      problems.push({
        path: `${path}.within`,
        message: `must be PnD, PnW or a whole number of days, 1 to ${MAX_WINDOW_DAYS}`,
      });
    }
    const kind = AGGREGATE_KIND[aggregate as AggregateCondition['aggregate']];
    const bounds: FieldDef | undefined =
      aggregate === 'count'
        ? { kind, category: null, source: 'customer', expr: sql``, min: 0, description: '' }
        : undefined;
    if (checkOperator(kind, node.op, path, problems)) {
      if (aggregate !== 'last' && node.op === 'exists') {
        problems.push({
          path: `${path}.op`,
          message: 'exists applies only to last (a count or sum is always known)',
        });
      } else checkValue(kind, bounds, node.op, node.value, path, problems);
    }
    return;
  }
  problems.push({ path, message: 'must hold all, any, not, field, aggregate or fact' });
}

/**
 * Checks a definition and returns it typed; throws 400 SEGMENT_DEFINITION_INVALID with every problem
 * at its JSON path (`definition.all[1].op`) otherwise.
 */
export function assertSegmentDefinition(definition: unknown, prefix = 'definition'): SegmentNode {
  const state = { conditions: 0, problems: [] as FieldProblem[] };
  checkNode(definition, prefix, 1, state);
  if (state.problems.length > 0) {
    throw invalid(
      'SEGMENT_DEFINITION_INVALID',
      `The segment definition is not valid: ${state.problems[0]?.path} ${state.problems[0]?.message}.`,
      { errors: state.problems },
    );
  }
  return definition as SegmentNode;
}

/** A condition with its JSON path. */
export interface PathedCondition {
  path: string;
  condition: Condition;
}

/** Every condition of a definition with its path, in document order. */
export function listConditions(node: SegmentNode, path = 'definition'): PathedCondition[] {
  if ('all' in node) return node.all.flatMap((child, i) => listConditions(child, `${path}.all[${i}]`));
  if ('any' in node) return node.any.flatMap((child, i) => listConditions(child, `${path}.any[${i}]`));
  if ('not' in node) return listConditions(node.not, `${path}.not`);
  return [{ path, condition: node }];
}

/** The category custom interaction types fall in. */
const CUSTOM_TYPE_CATEGORY = categoryOfType('(custom)');

/**
 * The interaction types an aggregate without a type counts: those whose category the purpose may read
 * whatever the customer's intimacy level, so such an aggregate never needs a gate. `exclude` lists the
 * built-in types left out when custom types count; otherwise `only` lists the built-in types that do.
 */
function typelessScope(fieldRule: FieldRuleOf): { exclude: string[] } | { only: string[] } {
  const open = (category: string) => fieldRule({ category }).kind === 'allow';
  const types = Object.entries(TYPE_CATEGORIES);
  if (open(CUSTOM_TYPE_CATEGORY)) return { exclude: types.filter(([, c]) => !open(c)).map(([t]) => t) };
  return { only: types.filter(([, c]) => open(c)).map(([t]) => t) };
}

/**
 * The data categories a condition reads. An aggregate reads the time and channel of interactions
 * (transaction data) and, with a type, what that type reveals; without a type it counts only the types
 * the purpose may always read (see `typelessScope`).
 */
export function categoriesOf(condition: Condition): string[] {
  if ('fact' in condition) {
    const category = FACT_FILTER_KEYS.get(condition.fact)?.category;
    return category ? [category] : [];
  }
  if ('field' in condition) {
    const category = SEGMENT_FIELDS[condition.field]?.category;
    return category ? [category] : [];
  }
  const categories = new Set<string>(['transaction']);
  if (condition.type !== undefined) categories.add(categoryOfType(condition.type));
  return [...categories];
}

/** Whether a definition reads interaction aggregates, value or relationship fields (so events can change it). */
export function isDynamic(node: SegmentNode): boolean {
  return listConditions(node).some(
    ({ condition }) =>
      'aggregate' in condition ||
      'fact' in condition ||
      SEGMENT_FIELDS[condition.field]?.source !== 'customer',
  );
}

/** Whether a definition reads the value profile. */
export function readsValue(node: SegmentNode): boolean {
  return listConditions(node).some(
    ({ condition }) => 'field' in condition && SEGMENT_FIELDS[condition.field]?.source === 'value',
  );
}

/** The access a compilation applies: the field rule of the purpose (from `compileAccess`). */
export type FieldRuleOf = (field: FieldRef) => FieldRule;

/**
 * Refuses a definition that reads a category the purpose may never read: 403 FILTER_NOT_ALLOWED, the
 * same as a customer search on such a field.
 */
export function assertConditionsAllowed(node: SegmentNode, purpose: string, fieldRule: FieldRuleOf): void {
  for (const { path, condition } of listConditions(node)) {
    for (const category of categoriesOf(condition)) {
      const rule = fieldRule({ category });
      if (rule.kind === 'deny') {
        throw forbidden(
          'FILTER_NOT_ALLOWED',
          `The purpose "${purpose}" may not read ${category}, so a segment read for it may not filter by it (${path}).`,
          { path, category, reason: rule.reason },
        );
      }
    }
  }
}

/** The intimacy level a condition needs under the purpose (0: none), or null when it may never be read. */
export function computeGateLevel(condition: Condition, fieldRule: FieldRuleOf): number | null {
  let level = 0;
  for (const category of categoriesOf(condition)) {
    const rule = fieldRule({ category });
    if (rule.kind === 'deny') return null;
    if (rule.kind === 'min_intimacy') level = Math.max(level, rule.level);
  }
  return level;
}

/** What compiling needs besides the definition. */
export interface CompileContext {
  now: Date;
  fieldRule: FieldRuleOf;
  /** The purpose compiled for: a fact key serves only its purposes; outreach never uses a stale fact. */
  purpose?: { name: string; outreach: boolean } | undefined;
}

const CAST: Record<Kind, RawBuilder<unknown>> = {
  string: sql.raw('text'),
  enum: sql.raw('text'),
  integer: sql.raw('int'),
  number: sql.raw('float8'),
  date: sql.raw('date'),
  timestamp: sql.raw('timestamptz'),
};

const DAY_MS = 86_400_000;

function literal(kind: Kind, value: unknown, now: Date): RawBuilder<unknown> {
  if (kind === 'timestamp') {
    const days = computeWindowDays(value);
    const at = days === undefined ? new Date(String(value)) : new Date(now.getTime() - days * DAY_MS);
    return sql`${at.toISOString()}::timestamptz`;
  }
  return sql`${value}::${CAST[kind]}`;
}

function comparison(kind: Kind, expr: RawBuilder<unknown>, op: Operator, value: unknown, now: Date) {
  switch (op) {
    case 'exists':
      return value === true ? sql<boolean>`(${expr} IS NOT NULL)` : sql<boolean>`(${expr} IS NULL)`;
    case 'in':
      return sql<boolean>`(${expr} = ANY(${value}::${CAST[kind]}[]))`;
    case 'between': {
      const [low, high] = value as [unknown, unknown];
      return sql<boolean>`(${expr} BETWEEN ${literal(kind, low, now)} AND ${literal(kind, high, now)})`;
    }
    default: {
      const symbol = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' }[op];
      return sql<boolean>`(${expr} ${sql.raw(symbol)} ${literal(kind, value, now)})`;
    }
  }
}

/** The interactions an aggregate reads, as the WHERE of a correlated subquery on `c`. */
function interactionsOf(condition: AggregateCondition, ctx: CompileContext): RawBuilder<unknown> {
  const { now } = ctx;
  const parts: RawBuilder<unknown>[] = [
    sql`i.workspace_id = c.workspace_id AND i.customer_id = c.id`,
    sql`i.occurred_at <= ${now.toISOString()}::timestamptz`,
  ];
  if (condition.type !== undefined) parts.push(sql`i.type = ${condition.type}`);
  else {
    const scope = typelessScope(ctx.fieldRule);
    if ('only' in scope) parts.push(sql`i.type = ANY(${scope.only}::text[])`);
    else if (scope.exclude.length > 0) parts.push(sql`NOT (i.type = ANY(${scope.exclude}::text[]))`);
  }
  if (condition.channel !== undefined) parts.push(sql`i.channel = ${condition.channel}`);
  if (condition.currency !== undefined) parts.push(sql`i.currency = ${condition.currency}`);
  const days = condition.within === undefined ? undefined : computeWindowDays(condition.within);
  if (days !== undefined) {
    parts.push(sql`i.occurred_at > ${new Date(now.getTime() - days * DAY_MS).toISOString()}::timestamptz`);
  }
  if (condition.aggregate === 'sum') parts.push(sql`i.amount IS NOT NULL`);
  return sql.join(parts, sql` AND `);
}

/** The value an aggregate reads, as a scalar subquery. */
function aggregateExpr(condition: AggregateCondition, ctx: CompileContext): RawBuilder<unknown> {
  const where = interactionsOf(condition, ctx);
  switch (condition.aggregate) {
    case 'count':
      return sql`(SELECT count(*) FROM interactions i WHERE ${where})`;
    case 'sum':
      // A definition saved before a sum named its currency is refused on read (SEGMENT_DEFINITION_INVALID
      // with its path); its materialised membership counts it unknown rather than add currencies up.
      if (condition.currency === undefined) return sql`NULL::float8`;
      return sql`coalesce((SELECT sum(i.amount) FROM interactions i WHERE ${where}), 0)::float8`;
    case 'last':
      return sql`(SELECT max(i.occurred_at) FROM interactions i WHERE ${where})`;
  }
}

/** The rule of one source kind as SQL over `c`: allowed, denied, or from an intimacy level. */
function ruleSql(rule: FieldRule): RawBuilder<boolean> {
  if (rule.kind === 'allow') return sql<boolean>`true`;
  if (rule.kind === 'deny') return sql<boolean>`false`;
  return sql<boolean>`c.intimacy_level >= ${rule.level}`;
}

/** The facts of `c` a fact condition may read, as the WHERE of a correlated subquery on `f`. */
function factsOf(condition: FactCondition, ctx: CompileContext): RawBuilder<unknown> | undefined {
  const def = FACT_FILTER_KEYS.get(condition.fact);
  if (!def) return undefined;
  if (def.purposes && (!ctx.purpose || !def.purposes.includes(ctx.purpose.name))) return undefined;
  const kinds = SOURCE_KINDS.map(
    (kind) =>
      sql`(f.source_kind = ${kind} AND ${ruleSql(ctx.fieldRule({ category: def.category, source: kind }))})`,
  );
  const parts: RawBuilder<unknown>[] = [
    sql`f.workspace_id = c.workspace_id AND f.customer_id = c.id AND f.key = ${def.key}`,
    sql`f.superseded_at IS NULL AND f.status IN ('active', 'confirmed') AND f.min_intimacy <= c.intimacy_level`,
    sql`(${sql.join(kinds, sql` OR `)})`,
  ];
  if (ctx.purpose?.outreach !== false) {
    parts.push(sql`(f.expires_at IS NULL OR f.expires_at > ${ctx.now.toISOString()}::timestamptz)`);
  }
  return sql.join(parts, sql` AND `);
}

function factSql(condition: FactCondition, ctx: CompileContext): RawBuilder<boolean> {
  const where = factsOf(condition, ctx);
  if (where === undefined) return sql<boolean>`(NULL::boolean)`;
  const text = (v: unknown) => (typeof v === 'boolean' ? String(v) : v);
  switch (condition.op) {
    case 'exists': {
      const exists = sql<boolean>`EXISTS (SELECT 1 FROM facts f WHERE ${where})`;
      return condition.value === true ? exists : sql<boolean>`(NOT ${exists})`;
    }
    case 'in': {
      const values = (condition.value as unknown[]).map(text);
      return sql<boolean>`EXISTS (SELECT 1 FROM facts f WHERE ${where} AND f.value #>> '{}' = ANY(${values}::text[]))`;
    }
    default: {
      const symbol = condition.op === 'ne' ? '<>' : '=';
      return sql<boolean>`EXISTS (SELECT 1 FROM facts f WHERE ${where} AND f.value #>> '{}' ${sql.raw(symbol)} ${text(condition.value)}::text)`;
    }
  }
}

/** A condition as SQL, ungated; `negated` compiles its negation. */
function conditionSql(condition: Condition, ctx: CompileContext, negated: boolean): RawBuilder<boolean> {
  const { now } = ctx;
  if ('fact' in condition) {
    const base = factSql(condition, ctx);
    return negated ? sql<boolean>`(NOT ${base})` : base;
  }
  if ('aggregate' in condition && condition.aggregate === 'count') {
    // "At least one" and "none" are an EXISTS on the timeline index instead of a count.
    const { op, value } = condition;
    const atLeastOne =
      (op === 'gt' && value === 0) || (op === 'gte' && value === 1) || (op === 'ne' && value === 0);
    const none =
      (op === 'eq' && value === 0) || (op === 'lt' && value === 1) || (op === 'lte' && value === 0);
    if (atLeastOne || none) {
      const exists = sql<boolean>`EXISTS (SELECT 1 FROM interactions i WHERE ${interactionsOf(condition, ctx)})`;
      return atLeastOne !== negated ? exists : sql<boolean>`(NOT ${exists})`;
    }
  }
  const { kind, expr } =
    'field' in condition
      ? {
          kind: SEGMENT_FIELDS[condition.field]?.kind ?? 'string',
          expr: SEGMENT_FIELDS[condition.field]?.expr ?? sql`NULL`,
        }
      : { kind: AGGREGATE_KIND[condition.aggregate], expr: aggregateExpr(condition, ctx) };
  const base = comparison(kind, expr, condition.op, condition.value, now);
  return negated ? sql<boolean>`(NOT ${base})` : base;
}

/** The value a condition reads, as SQL (for explanations). */
export function conditionValueSql(condition: Condition, ctx: CompileContext): RawBuilder<unknown> {
  if ('fact' in condition) {
    const where = factsOf(condition, ctx);
    return where === undefined
      ? sql`NULL`
      : sql`(SELECT f.value #>> '{}' FROM facts f WHERE ${where} ORDER BY f.created_at DESC LIMIT 1)`;
  }
  if ('field' in condition) return SEGMENT_FIELDS[condition.field]?.expr ?? sql`NULL`;
  return aggregateExpr(condition, ctx);
}

function gated(level: number | null, body: RawBuilder<boolean>): RawBuilder<boolean> {
  if (level === null) return sql<boolean>`(NULL::boolean)`;
  if (level === 0) return body;
  return sql<boolean>`(c.intimacy_level >= ${level} AND ${body})`;
}

function compileNode(node: SegmentNode, ctx: CompileContext, negated: boolean): RawBuilder<boolean> {
  if ('all' in node || 'any' in node) {
    const children = 'all' in node ? node.all : node.any;
    const conjunction = 'all' in node !== negated;
    const parts = children.map((child) => compileNode(child, ctx, negated));
    return sql<boolean>`(${sql.join(parts, conjunction ? sql` AND ` : sql` OR `)})`;
  }
  if ('not' in node) return compileNode(node.not, ctx, !negated);
  return gated(computeGateLevel(node, ctx.fieldRule), conditionSql(node, ctx, negated));
}

/**
 * The definition as a boolean SQL expression over `c` (customers) and `vp` (the value profile, left
 * joined when `readsValue`). A condition the purpose may never read compiles to unknown (callers
 * refuse such definitions first with `assertConditionsAllowed`; a stored segment whose purpose lost a
 * category matches no one by it).
 */
export function compileSegment(node: SegmentNode, ctx: CompileContext): RawBuilder<boolean> {
  return compileNode(node, ctx, false);
}

/** A condition compiled for an explanation: whether it holds (null: unknown or withheld) and its value. */
export function explainConditionSql(
  condition: Condition,
  ctx: CompileContext,
): { holds: RawBuilder<unknown>; value: RawBuilder<unknown>; level: number | null } {
  const level = computeGateLevel(condition, ctx.fieldRule);
  const open = level === null ? sql`false` : level === 0 ? sql`true` : sql`c.intimacy_level >= ${level}`;
  return {
    holds: sql`CASE WHEN ${open} THEN ${conditionSql(condition, ctx, false)} END`,
    value: sql`CASE WHEN ${open} THEN to_jsonb(${conditionValueSql(condition, ctx)}) END`,
    level,
  };
}

/** Three-valued truth: true, false or unknown (null). */
export type Truth = boolean | null;

/** Evaluates a definition from the truth of each condition (by path), with SQL's three-valued logic. */
export function evaluateTruth(
  node: SegmentNode,
  truths: ReadonlyMap<string, Truth>,
  path = 'definition',
): Truth {
  if ('all' in node || 'any' in node) {
    const isAll = 'all' in node;
    const children = isAll ? node.all : node.any;
    let unknown = false;
    for (let i = 0; i < children.length; i++) {
      const child = children[i] as SegmentNode;
      const t = evaluateTruth(child, truths, `${path}.${isAll ? 'all' : 'any'}[${i}]`);
      if (t === null) unknown = true;
      else if (t !== isAll) return t;
    }
    return unknown ? null : isAll;
  }
  if ('not' in node) {
    const t = evaluateTruth(node.not, truths, `${path}.not`);
    return t === null ? null : !t;
  }
  return truths.get(path) ?? null;
}

/** A short human reading of a condition, for explanations. */
export function describeCondition(condition: Condition): string {
  const value = JSON.stringify(condition.value);
  if ('fact' in condition) return `fact ${condition.fact} ${condition.op} ${value}`;
  if ('field' in condition) return `${condition.field} ${condition.op} ${value}`;
  const of = [
    condition.type ?? 'interactions',
    condition.channel === undefined ? '' : ` on ${condition.channel}`,
    condition.within === undefined ? '' : ` within ${condition.within}`,
  ].join('');
  return `${condition.aggregate}(${of}) ${condition.op} ${value}`;
}
