import { type FieldProblem, invalid } from '../shared/errors.ts';
import { DIMENSIONS, type Dimension, type Dimensions, type HighDemandRule } from './dimensions.ts';

/**
 * Archetypes (SPEC §7) and the rule table that assigns them: an ordered list of rules, each a
 * conjunction of thresholds on dimensions, first match wins, the last rule a default without
 * conditions. The table is data: a workspace may replace it (validated whole, versioned); the reasons
 * of an assignment are the conditions of the rule that matched, with the dimension values that met them.
 */

/** The archetypes, from consumer–brand relationship research. */
export const ARCHETYPES = [
  'adversary',
  'captive',
  'drifting_ex_friend',
  'newcomer',
  'fling',
  'basic_exchange',
  'business_partner',
  'buddy',
  'best_friend',
] as const;

/** An archetype. */
export type Archetype = (typeof ARCHETYPES)[number];

/** What staff should and should not do with an archetype (SPEC §7). */
export const ARCHETYPE_GUIDANCE: Readonly<Record<Archetype, { do: string; dont: string }>> = {
  adversary: { do: 'recover: a human owner, an apology, a fix', dont: 'any commercial action' },
  captive: { do: 'fairness, transparency, an easy exit', dont: 'loyalty theatre' },
  drifting_ex_friend: { do: 'one sincere check-in, then respect silence', dont: 'discount blasts' },
  newcomer: { do: 'exceed expectations early, ask preferences', dont: 'over-familiarity' },
  fling: { do: 'novelty', dont: 'pushing subscriptions' },
  basic_exchange: { do: 'speed, accuracy, a fair price', dont: 'small talk, birthday cards' },
  business_partner: {
    do: 'close the loop on every suggestion',
    dont: 'answering feedback with promotions',
  },
  buddy: { do: 'recognise them, remember declared preferences', dont: 'intimate outreach' },
  best_friend: {
    do: 'two-way conversation, the small things',
    dont: 'a self-interested move right after a care gesture',
  },
};

/** A threshold on one dimension: `gte` (at least) or `lte` (at most) a value in 0..1. */
export interface RuleCondition {
  dimension: Dimension;
  op: 'gte' | 'lte';
  value: number;
}

/** One rule: an archetype and the conditions that must all hold (none: the default). */
export interface Rule {
  archetype: Archetype;
  when: RuleCondition[];
}

/** A workspace's rule table: the ordered rules, hysteresis and the high-demand modifier. */
export interface RuleTable {
  rules: Rule[];
  /** A new label must be proposed by this many consecutive recomputations and for this many days. */
  hysteresis: { recomputations: number; days: number };
  highDemand: HighDemandRule;
}

/** The rule table every workspace starts with. */
export const DEFAULT_RULE_TABLE: RuleTable = {
  rules: [
    {
      archetype: 'adversary',
      when: [
        { dimension: 'friction', op: 'gte', value: 0.6 },
        { dimension: 'warmth', op: 'lte', value: 0.4 },
      ],
    },
    {
      archetype: 'captive',
      when: [
        { dimension: 'voluntariness', op: 'lte', value: 0.45 },
        { dimension: 'warmth', op: 'lte', value: 0.6 },
      ],
    },
    {
      archetype: 'drifting_ex_friend',
      when: [
        { dimension: 'drift', op: 'gte', value: 0.7 },
        { dimension: 'tenure', op: 'gte', value: 0.3 },
      ],
    },
    { archetype: 'newcomer', when: [{ dimension: 'tenure', op: 'lte', value: 0.15 }] },
    {
      archetype: 'fling',
      when: [
        { dimension: 'intensity', op: 'gte', value: 0.75 },
        { dimension: 'regularity', op: 'lte', value: 0.3 },
        { dimension: 'commitment', op: 'lte', value: 0.3 },
      ],
    },
    {
      archetype: 'best_friend',
      when: [
        { dimension: 'warmth', op: 'gte', value: 0.5 },
        { dimension: 'reciprocity', op: 'gte', value: 0.35 },
        { dimension: 'disclosure', op: 'gte', value: 0.5 },
        { dimension: 'commitment', op: 'gte', value: 0.4 },
        { dimension: 'tenure', op: 'gte', value: 0.5 },
      ],
    },
    { archetype: 'business_partner', when: [{ dimension: 'reciprocity', op: 'gte', value: 0.6 }] },
    {
      archetype: 'buddy',
      when: [
        { dimension: 'tenure', op: 'gte', value: 0.5 },
        { dimension: 'regularity', op: 'gte', value: 0.6 },
        { dimension: 'warmth', op: 'gte', value: 0.4 },
        { dimension: 'disclosure', op: 'lte', value: 0.35 },
      ],
    },
    { archetype: 'basic_exchange', when: [] },
  ],
  hysteresis: { recomputations: 2, days: 14 },
  highDemand: { contacts: 6, days: 90 },
};

/** Largest number of rules and conditions per rule a table may hold. */
export const MAX_RULES = 50;
const MAX_CONDITIONS = DIMENSIONS.length * 2;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKeys(
  node: Record<string, unknown>,
  keys: readonly string[],
  path: string,
  out: FieldProblem[],
) {
  for (const key of Object.keys(node)) {
    if (!keys.includes(key)) out.push({ path: `${path}.${key}`, message: 'is not a known key here' });
  }
}

function checkWholeNumber(v: unknown, min: number, max: number, path: string, out: FieldProblem[]) {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    out.push({ path, message: `must be a whole number from ${min} to ${max}` });
  }
}

/** The box of values a rule's conditions allow, per dimension: [low, high]. */
type Box = Record<Dimension, [number, number]>;

function boxOf(rule: Rule): Box {
  const box = Object.fromEntries(DIMENSIONS.map((d) => [d, [0, 1]])) as Box;
  for (const c of rule.when) {
    const range = box[c.dimension];
    if (c.op === 'gte') range[0] = Math.max(range[0], c.value);
    else range[1] = Math.min(range[1], c.value);
  }
  return box;
}

const isEmpty = (box: Box): boolean => DIMENSIONS.some((d) => box[d][0] > box[d][1]);

/** Whether every value `inner` allows is also allowed by `outer`. */
const covers = (outer: Box, inner: Box): boolean =>
  DIMENSIONS.every((d) => outer[d][0] <= inner[d][0] && inner[d][1] <= outer[d][1]);

function checkRule(raw: unknown, path: string, out: FieldProblem[]): Rule | undefined {
  if (!isObject(raw)) {
    out.push({ path, message: 'must be an object {archetype, when}' });
    return undefined;
  }
  checkKeys(raw, ['archetype', 'when'], path, out);
  const before = out.length;
  if (typeof raw.archetype !== 'string' || !(ARCHETYPES as readonly string[]).includes(raw.archetype)) {
    out.push({ path: `${path}.archetype`, message: `must be one of ${ARCHETYPES.join(', ')}` });
  }
  if (!Array.isArray(raw.when) || raw.when.length > MAX_CONDITIONS) {
    out.push({ path: `${path}.when`, message: `must be a list of at most ${MAX_CONDITIONS} conditions` });
    return undefined;
  }
  raw.when.forEach((c: unknown, i: number) => {
    const at = `${path}.when[${i}]`;
    if (!isObject(c)) {
      out.push({ path: at, message: 'must be an object {dimension, op, value}' });
      return;
    }
    checkKeys(c, ['dimension', 'op', 'value'], at, out);
    if (typeof c.dimension !== 'string' || !(DIMENSIONS as readonly string[]).includes(c.dimension)) {
      out.push({ path: `${at}.dimension`, message: `must be one of ${DIMENSIONS.join(', ')}` });
    }
    if (c.op !== 'gte' && c.op !== 'lte') out.push({ path: `${at}.op`, message: 'must be gte or lte' });
    if (typeof c.value !== 'number' || !Number.isFinite(c.value) || c.value < 0 || c.value > 1) {
      out.push({ path: `${at}.value`, message: 'must be a number from 0 to 1' });
    }
  });
  return out.length === before ? (raw as unknown as Rule) : undefined;
}

/**
 * Checks a rule table and returns it typed; otherwise throws 400 RELATIONSHIP_RULES_INVALID listing
 * every problem at its JSON path (`rules[2].when[0].dimension`): an unknown archetype or dimension, a
 * threshold outside 0..1, a rule that can never match (its conditions contradict each other, or an
 * earlier rule matches everything it would), or a table whose last rule is not a default.
 */
export function assertRuleTable(input: unknown, prefix = 'table'): RuleTable {
  const out: FieldProblem[] = [];
  if (!isObject(input)) {
    out.push({ path: prefix, message: 'must be an object {rules, hysteresis?, highDemand?}' });
  } else {
    checkKeys(input, ['rules', 'hysteresis', 'highDemand'], prefix, out);
    const rules: (Rule | undefined)[] = [];
    if (!Array.isArray(input.rules) || input.rules.length === 0 || input.rules.length > MAX_RULES) {
      out.push({ path: `${prefix}.rules`, message: `must be a list of 1 to ${MAX_RULES} rules` });
    } else {
      input.rules.forEach((r: unknown, i: number) => {
        rules.push(checkRule(r, `${prefix}.rules[${i}]`, out));
      });
    }
    // Reachability, only over rules that are themselves well formed.
    const boxes: { index: number; box: Box }[] = [];
    rules.forEach((rule, i) => {
      if (rule === undefined) return;
      const at = `${prefix}.rules[${i}]`;
      const box = boxOf(rule);
      if (isEmpty(box)) {
        out.push({ path: at, message: 'is unreachable: its conditions contradict each other' });
        return;
      }
      const shadow = boxes.find((earlier) => covers(earlier.box, box));
      if (shadow !== undefined) {
        out.push({
          path: at,
          message: `is unreachable: rules[${shadow.index}] comes first and matches every customer it would`,
        });
      }
      boxes.push({ index: i, box });
    });
    const last = rules[rules.length - 1];
    if (Array.isArray(input.rules) && input.rules.length > 0 && last !== undefined && last.when.length > 0) {
      out.push({
        path: `${prefix}.rules[${input.rules.length - 1}]`,
        message: 'the last rule must have no conditions (the default archetype), so every customer gets one',
      });
    }
    if (input.hysteresis !== undefined) {
      const h = input.hysteresis;
      if (!isObject(h)) out.push({ path: `${prefix}.hysteresis`, message: 'must be {recomputations, days}' });
      else {
        checkKeys(h, ['recomputations', 'days'], `${prefix}.hysteresis`, out);
        checkWholeNumber(h.recomputations, 1, 30, `${prefix}.hysteresis.recomputations`, out);
        checkWholeNumber(h.days, 0, 365, `${prefix}.hysteresis.days`, out);
      }
    }
    if (input.highDemand !== undefined) {
      const h = input.highDemand;
      if (!isObject(h)) out.push({ path: `${prefix}.highDemand`, message: 'must be {contacts, days}' });
      else {
        checkKeys(h, ['contacts', 'days'], `${prefix}.highDemand`, out);
        checkWholeNumber(h.contacts, 1, 1000, `${prefix}.highDemand.contacts`, out);
        checkWholeNumber(h.days, 1, 3660, `${prefix}.highDemand.days`, out);
      }
    }
  }
  if (out.length > 0) {
    throw invalid(
      'RELATIONSHIP_RULES_INVALID',
      `The relationship rule table is not valid: ${out[0]?.path} ${out[0]?.message}. Nothing was changed; the previous table stays active.`,
      { errors: out },
    );
  }
  const table = input as Record<string, unknown>;
  return {
    rules: (table.rules as Rule[]).map((r) => ({
      archetype: r.archetype,
      when: r.when.map((c) => ({ dimension: c.dimension, op: c.op, value: c.value })),
    })),
    hysteresis: (table.hysteresis as RuleTable['hysteresis'] | undefined) ?? DEFAULT_RULE_TABLE.hysteresis,
    highDemand: (table.highDemand as HighDemandRule | undefined) ?? DEFAULT_RULE_TABLE.highDemand,
  };
}

/** One reason of an assignment: a condition of the matching rule, the value that met it and its evidence. */
export interface Reason {
  dimension: Dimension;
  op: 'gte' | 'lte';
  threshold: number;
  value: number;
  confidence: number;
  evidence: string[];
}

/** The archetype the rules propose for dimensions, the rule that matched (0-based) and why. */
export interface Proposal {
  archetype: Archetype;
  rule: number;
  reasons: Reason[];
}

/**
 * The reasons of a rule for dimensions: its conditions, most decisive first (the widest margin over
 * the threshold); a default rule's reasons are the customer's strongest dimensions.
 */
export function computeRuleReasons(rule: Rule, dimensions: Dimensions): Reason[] {
  const conditions =
    rule.when.length > 0
      ? rule.when
      : DIMENSIONS.filter((d) => d !== 'tenure' && d !== 'voluntariness')
          .map((d): RuleCondition => ({ dimension: d, op: 'gte', value: 0 }))
          .sort((a, b) => dimensions[b.dimension].value - dimensions[a.dimension].value)
          .slice(0, 3);
  return conditions
    .map((c): Reason & { margin: number } => {
      const d = dimensions[c.dimension];
      return {
        dimension: c.dimension,
        op: c.op,
        threshold: c.value,
        value: d.value,
        confidence: d.confidence,
        evidence: d.evidence,
        margin: Math.abs(d.value - c.value),
      };
    })
    .sort((a, b) => b.margin - a.margin)
    .map(({ margin: _margin, ...reason }) => reason);
}

/** First match wins; the reasons are the matching rule's (`computeRuleReasons`). */
export function computeArchetype(table: RuleTable, dimensions: Dimensions): Proposal {
  for (let i = 0; i < table.rules.length; i++) {
    const rule = table.rules[i] as Rule;
    const holds = rule.when.every((c) => {
      const v = dimensions[c.dimension].value;
      return c.op === 'gte' ? v >= c.value : v <= c.value;
    });
    if (holds) return { archetype: rule.archetype, rule: i, reasons: computeRuleReasons(rule, dimensions) };
  }
  // Unreachable for a validated table (its last rule has no conditions).
  return { archetype: 'basic_exchange', rule: table.rules.length, reasons: [] };
}

/** The hysteresis state kept per customer between recomputations. */
export interface LabelState {
  archetype: Archetype | null;
  since: Date | null;
  candidate: Archetype | null;
  candidateCount: number;
  candidateSince: Date | null;
}

/** A state after one recomputation, and whether the label changed (with the label before). */
export interface LabelStep {
  state: LabelState;
  changed: boolean;
  previous: Archetype | null;
}

const DAY_MS = 86_400_000;

/**
 * Hysteresis (SPEC §7): a customer's first label is taken at once; afterwards a different proposal
 * becomes the label only when the same proposal has been made by `recomputations` consecutive
 * recomputations **and** for `days` days since it was first made. Both, because recomputation is
 * incremental (every event recomputes its customer): with the count alone, one bad week of three
 * complaints would flip a best friend. A proposal equal to the label clears the candidate. A
 * recomputation as of a time before the label was taken starts afresh.
 */
export function applyHysteresis(
  state: LabelState,
  proposed: Archetype,
  now: Date,
  rule: RuleTable['hysteresis'],
): LabelStep {
  const previous = state.archetype;
  // A recomputation as of a time before the label was taken (a replay of history, a world loaded as
  // of a past date) is not bound by that label: it starts afresh.
  if (previous === null || (state.since !== null && now.getTime() < state.since.getTime())) {
    return {
      state: { archetype: proposed, since: now, candidate: null, candidateCount: 0, candidateSince: null },
      changed: true,
      previous,
    };
  }
  if (proposed === previous) {
    return {
      state: { ...state, candidate: null, candidateCount: 0, candidateSince: null },
      changed: false,
      previous,
    };
  }
  const same = state.candidate === proposed && state.candidateSince !== null;
  const count = same ? state.candidateCount + 1 : 1;
  const since = same ? (state.candidateSince as Date) : now;
  if (count >= rule.recomputations && now.getTime() - since.getTime() >= rule.days * DAY_MS) {
    return {
      state: { archetype: proposed, since: now, candidate: null, candidateCount: 0, candidateSince: null },
      changed: true,
      previous,
    };
  }
  return {
    state: { ...state, candidate: proposed, candidateCount: count, candidateSince: since },
    changed: false,
    previous,
  };
}
