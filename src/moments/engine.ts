import {
  type ActionDef,
  type ActionPurpose,
  type Condition,
  citedFacts,
  type Op,
  type Playbook,
  type RuleDef,
  SPECIAL_LIFE_EVENTS,
} from './playbook.ts';

/**
 * The decision pipeline after detection (SPEC §9): candidates from the rules subscribed to the moment's
 * type, eligibility, the consent and intimacy filter, the contact policy, arbitration and explanation.
 * Pure and synchronous: everything it needs is in a prepared customer snapshot, so the live path, the
 * backtest and the benchmark run the same code. A playbook is compiled once into plain closures indexed
 * by moment type.
 */

const DAY = 86_400_000;

/** A fact as the snapshot holds it: value and provenance (already filtered by the governance decision). */
export interface SnapshotFact {
  key: string;
  value: unknown;
  sourceKind: string;
  source: string;
  category: string;
}

/** What the governance decision said for one data purpose. */
export interface PurposeView {
  /** Whether the customer may be processed for the purpose at all, and if not why. */
  open: boolean;
  reason: string | null;
  /** The facts usable for the purpose, by key. */
  facts: ReadonlyMap<string, readonly SnapshotFact[]>;
  /** Facts held back for the purpose, by key, with the reason. */
  withheld: ReadonlyMap<string, string>;
}

/** A prepared customer: everything a decision reads. */
export interface CustomerSnapshot {
  customerId: string;
  intimacy: number;
  /** Per governance purpose (service, personalization, marketing…). */
  purposes: ReadonlyMap<string, PurposeView>;
  /**
   * The archetype: its don'ts always apply (they only restrain); it steers targeting (rule conditions,
   * relationship fit) only when `archetypeUsable` (the customer's intimacy level allows behavioural data).
   */
  archetype: string | null;
  archetypeUsable: boolean;
  dimensions: Readonly<Record<string, number>>;
  value: Readonly<Record<string, number | string | null>>;
  segments: ReadonlySet<string>;
  /** Recent moments (ms since epoch), for distress windows and sequencing. */
  recentMoments: readonly { type: string; at: number; event?: string }[];
  /** Actions delivered or queued, for caps, budgets and cooldowns (not cancelled). */
  actions: readonly { action: string; purpose: string; channel: string; at: number }[];
  /** Feedback received, for suppression. */
  feedback: readonly { action: string; outcome: string; at: number }[];
}

/** A moment to decide on. */
export interface MomentInput {
  type: string;
  at: number;
  context: Readonly<Record<string, unknown>>;
}

export interface Scores {
  propensity: number;
  contextWeight: number;
  value: number;
  lever: number;
  fit: number;
  priority: number;
}

/** One candidate in a trace: chosen, or suppressed with the stage and rule that removed it. */
export interface CandidateTrace {
  action: string;
  rule: string;
  purpose: ActionPurpose;
  outcome: 'chosen' | 'suppressed' | 'outranked';
  stage: 'eligibility' | 'filter' | 'policy' | 'arbitration' | null;
  /** The rule or policy that removed it (`rule:ID`, `governance:marketing`, `policy:caps[0]`…). */
  removedBy: string | null;
  reason: string | null;
  channel: string | null;
  scores: Scores | null;
}

export interface ChosenAction {
  def: ActionDef;
  rule: string;
  channel: string;
  scores: Scores;
  explanation: string;
  /** The facts the action rests on, with who told us. */
  known: { key: string; value: unknown; sourceKind: string; source: string }[];
  dueAt: number;
}

export interface Decision {
  outcome: 'act' | 'nothing';
  chosen: ChosenAction[];
  candidates: CandidateTrace[];
  suppressed: { action: string; reason: string; removedBy: string }[];
}

type Test = (
  s: CustomerSnapshot,
  m: MomentInput,
  facts: ReadonlyMap<string, readonly SnapshotFact[]>,
) => boolean;

export interface CompiledRule {
  rule: RuleDef;
  action: ActionDef;
  test: Test;
  /** `rule:ID`, as traces name it. */
  ref: string;
  /** The fact keys its conditions read. */
  factKeys: readonly string[];
}

/** The fact keys a condition reads. */
export function conditionFacts(c: Condition): string[] {
  if ('all' in c) return c.all.flatMap(conditionFacts);
  if ('any' in c) return c.any.flatMap(conditionFacts);
  if ('not' in c) return conditionFacts(c.not);
  if ('fact' in c) return [c.fact];
  return [];
}

/** A playbook compiled once: rules as closures, indexed by moment type. */
export interface CompiledPlaybook {
  playbook: Playbook;
  version: number;
  byMoment: ReadonlyMap<string, readonly CompiledRule[]>;
  distressMoments: ReadonlySet<string>;
  distressLifeEvents: ReadonlySet<string>;
  /** Each action's explanation template, split once into text and placeholders. */
  templates: ReadonlyMap<string, Template>;
}

/** An explanation template split into literal text, `{moment}` and `{fact.KEY}` parts. */
export interface Template {
  cited: readonly string[];
  parts: readonly (string | { fact: string } | { moment: true })[];
}

/** Splits a template once. */
export function compileTemplate(template: string): Template {
  const parts: Template['parts'][number][] = [];
  let last = 0;
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(template.slice(last, at));
    const name = m[1] ?? '';
    parts.push(
      name === 'moment' ? { moment: true } : name.startsWith('fact.') ? { fact: name.slice(5) } : m[0],
    );
    last = at + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return { cited: citedFacts(template), parts };
}

/** Renders a compiled template, or null when it would cite a fact that is not citable. */
export function renderTemplate(
  template: Template,
  momentType: string,
  facts: ReadonlyMap<string, readonly SnapshotFact[]>,
): string | null {
  for (const key of template.cited) {
    const cited = facts.get(key)?.[0];
    if (cited === undefined || !citable(cited)) return null;
  }
  let out = '';
  for (const part of template.parts) {
    if (typeof part === 'string') out += part;
    else if ('moment' in part) out += MOMENT_WORDS[momentType] ?? momentType.replaceAll('_', ' ');
    else out += renderValue(facts.get(part.fact)?.[0]?.value);
  }
  return out;
}

function compare(op: Op, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'in':
      return Array.isArray(expected) && expected.includes(actual);
    case 'gt':
      return typeof actual === 'number' && actual > (expected as number);
    case 'gte':
      return typeof actual === 'number' && actual >= (expected as number);
    case 'lt':
      return typeof actual === 'number' && actual < (expected as number);
    case 'lte':
      return typeof actual === 'number' && actual <= (expected as number);
  }
}

function field(value: unknown, name: string | undefined): unknown {
  if (name === undefined) return value;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** Compiles a condition into a closure (no interpretation of the tree at run time). */
export function compileCondition(c: Condition): Test {
  if ('all' in c) {
    const parts = c.all.map(compileCondition);
    if (parts.length === 1) return parts[0] as Test;
    return (s, m, f) => {
      for (const p of parts) if (!p(s, m, f)) return false;
      return true;
    };
  }
  if ('any' in c) {
    const parts = c.any.map(compileCondition);
    return (s, m, f) => {
      for (const p of parts) if (p(s, m, f)) return true;
      return false;
    };
  }
  if ('not' in c) {
    const inner = compileCondition(c.not);
    return (s, m, f) => !inner(s, m, f);
  }
  if ('fact' in c) {
    const { fact: key, field: name, op, value } = c;
    return (_s, _m, f) => {
      const facts = f.get(key);
      if (facts === undefined) return op === 'ne';
      if (op === 'exists') return facts.length > 0;
      for (const fact of facts) if (compare(op, field(fact.value, name), value)) return op !== 'ne';
      return op === 'ne';
    };
  }
  if ('dimension' in c) {
    const { dimension, op, value } = c;
    return (s) => compare(op, s.dimensions[dimension], value);
  }
  if ('archetype' in c) {
    const set = new Set(c.archetype);
    return (s) => s.archetypeUsable && s.archetype !== null && set.has(s.archetype);
  }
  if ('segment' in c) {
    const name = c.segment;
    return (s) => s.segments.has(name);
  }
  if ('context' in c) {
    const { context: key, op, value } = c;
    return (_s, m) => compare(op, m.context[key], value);
  }
  const { profile, op, value } = c;
  return (s) => compare(op, s.value[profile], value);
}

/** Compiles a playbook: each rule once, indexed by the moment type it subscribes to. */
export function compilePlaybook(playbook: Playbook, version: number): CompiledPlaybook {
  const actions = new Map(playbook.actions.map((a) => [a.id, a]));
  const byMoment = new Map<string, CompiledRule[]>();
  for (const rule of playbook.rules) {
    const action = actions.get(rule.action);
    if (action === undefined) continue;
    const test: Test = rule.when === null ? () => true : compileCondition(rule.when);
    const list = byMoment.get(rule.moment) ?? [];
    list.push({
      rule,
      action,
      test,
      ref: `rule:${rule.id}`,
      factKeys: rule.when === null ? [] : [...new Set(conditionFacts(rule.when))],
    });
    byMoment.set(rule.moment, list);
  }
  return {
    playbook,
    version,
    byMoment,
    distressMoments: new Set(playbook.distress.moments),
    distressLifeEvents: new Set(playbook.distress.lifeEvents),
    templates: new Map(playbook.actions.map((a) => [a.id, compileTemplate(a.explanation)])),
  };
}

/** Marks a candidate removed at a stage by a rule or policy, with the reason; answers it. */
function removed(
  trace: CandidateTrace,
  stage: CandidateTrace['stage'],
  removedBy: string,
  reason: string,
): CandidateTrace {
  trace.stage = stage;
  trace.removedBy = removedBy;
  trace.reason = reason;
  return trace;
}

/** Lane order for arbitration: care and service before relationship, commerce last. */
const LANE: Readonly<Record<ActionPurpose, number>> = { service: 0, care: 0, relationship: 1, commercial: 2 };

/** Archetype don'ts that hold whatever a playbook says (SPEC §7). */
export function archetypeDont(archetype: string | null, action: ActionDef): string | null {
  if (archetype === null) return null;
  if (archetype === 'adversary' && action.purpose === 'commercial')
    return 'No commercial action for an adversary: recover first (human owner, apology, fix).';
  if (archetype === 'drifting_ex_friend' && action.tags.includes('discount'))
    return 'No discount blast to a drifting ex-friend: one sincere check-in, then respect silence.';
  if (archetype === 'business_partner' && action.purpose === 'commercial' && action.tags.includes('promo'))
    return 'A business partner’s feedback is not answered with promotions.';
  if (archetype === 'basic_exchange' && action.tags.includes('small_talk'))
    return 'No small talk or birthday cards in a basic exchange.';
  if (archetype === 'buddy' && action.tags.includes('intimate')) return 'No intimate outreach to a buddy.';
  if (archetype === 'captive' && action.tags.includes('loyalty'))
    return 'No loyalty theatre for a captive customer.';
  return null;
}

/** Whether a fact may be cited to the customer: declared or first-party, never inferred or special. */
export function citable(fact: SnapshotFact): boolean {
  if (fact.sourceKind !== 'declared' && fact.sourceKind !== 'observed') return false;
  if (fact.category === 'special' || fact.category.startsWith('special.')) return false;
  const event = field(fact.value, 'event');
  return !(typeof event === 'string' && SPECIAL_LIFE_EVENTS.includes(event));
}

const MOMENT_WORDS: Readonly<Record<string, string>> = {
  cancellation_requested: 'your cancellation request',
  complaint_opened: 'your complaint',
  complaint_resolved: 'your resolved complaint',
  repeated_complaint: 'your recent complaints',
  payment_failed: 'your payment that did not go through',
  delivery_failed: 'your delivery that did not arrive',
  life_event_declared: 'what you told us',
  important_date_upcoming: 'a date you asked us to remember',
  lapse_detected: 'not having seen you for a while',
  milestone_reached: 'your milestone with us',
  first_purchase: 'your first purchase',
  suggestion_submitted: 'your suggestion',
  name_corrected: 'the correction of your name',
};

function renderValue(value: unknown): string {
  if (typeof value === 'string') return value.replaceAll('_', ' ');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (typeof v.event === 'string') return v.event.replaceAll('_', ' ');
    if (typeof v.label === 'string') return v.label;
    if (typeof v.month === 'number' && typeof v.day === 'number') return `${v.day}/${v.month}`;
    if (typeof v.name === 'string') return v.name;
  }
  return 'what you told us';
}

/**
 * The one customer-facing sentence, or null when it would cite a fact that is not citable (inferred,
 * derived by a model, or special-category): then the action is blocked (SPEC §6).
 */
export function renderExplanation(
  template: string,
  momentType: string,
  facts: ReadonlyMap<string, readonly SnapshotFact[]>,
): string | null {
  return renderTemplate(compileTemplate(template), momentType, facts);
}

const EMPTY_VIEW: PurposeView = {
  open: false,
  reason: 'unknown purpose',
  facts: new Map(),
  withheld: new Map(),
};

const hourFormats = new Map<string, Intl.DateTimeFormat>();

/** The hour (0–23) of an instant in a time zone; formatters are made once per zone. */
function hourIn(timeZone: string, at: number): number {
  let format = hourFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' });
    hourFormats.set(timeZone, format);
  }
  return Number(format.format(at));
}

/** The first instant at or after `at` outside quiet hours (checked hour by hour, at most a day). */
export function afterQuietHours(q: NonNullable<Playbook['contactPolicy']['quietHours']>, at: number): number {
  const quiet = (h: number) => (q.start <= q.end ? h >= q.start && h < q.end : h >= q.start || h < q.end);
  let t = at;
  for (let i = 0; i < 25 && quiet(hourIn(q.timeZone, t)); i += 1)
    t = (Math.floor(t / 3_600_000) + 1) * 3_600_000;
  return t;
}

/** A propensity source: successes and failures learned for an action. */
export type Propensities = (action: string) => { successes: number; failures: number } | undefined;

/**
 * Decides on one moment for one customer. Every candidate ends chosen or suppressed with the stage and
 * rule that removed it; "do nothing" (no candidate left) is a decision like any other.
 */
export function decide(
  compiled: CompiledPlaybook,
  snap: CustomerSnapshot,
  moment: MomentInput,
  now: number,
  propensities: Propensities,
): Decision {
  const { playbook } = compiled;
  const rules = compiled.byMoment.get(moment.type) ?? [];
  const candidates: CandidateTrace[] = [];
  const passing: { c: CompiledRule; trace: CandidateTrace; view: PurposeView }[] = [];
  const policy = playbook.contactPolicy;
  const momentWeight = playbook.moments[moment.type as keyof Playbook['moments']]?.weight ?? 1;
  const seen = new Set<string>();
  for (const c of rules) {
    const { action, rule } = c;
    if (seen.has(action.id)) continue;
    const trace: CandidateTrace = {
      action: action.id,
      rule: rule.id,
      purpose: action.purpose,
      outcome: 'suppressed',
      stage: null,
      removedBy: null,
      reason: null,
      channel: null,
      scores: null,
    };
    const view = snap.purposes.get(action.dataPurpose) ?? EMPTY_VIEW;
    // Eligibility: the rule's conditions, over the facts usable for the action's purpose.
    if (!c.test(snap, moment, view.facts)) {
      // A condition on a fact the purpose may not use fails for that reason: say so.
      const held = c.factKeys.find((k) => view.withheld.has(k));
      if (held !== undefined && view.open) {
        candidates.push(
          removed(
            trace,
            'filter',
            `governance:${action.dataPurpose}`,
            `Its rule reads fact ${held}, which may not be used for ${action.dataPurpose}: ${view.withheld.get(held)}.`,
          ),
        );
        continue;
      }
      candidates.push(
        removed(
          trace,
          'eligibility',
          c.ref,
          'The rule’s conditions do not hold for this customer and moment.',
        ),
      );
      continue;
    }
    seen.add(action.id);
    // Consent and intimacy: the governance decision for the action's purpose, then its facts.
    if (!view.open) {
      candidates.push(
        removed(
          trace,
          'filter',
          `governance:${action.dataPurpose}`,
          view.reason ?? 'The customer may not be processed for this purpose.',
        ),
      );
      continue;
    }
    if (snap.intimacy < action.minIntimacy) {
      candidates.push(
        removed(
          trace,
          'filter',
          'intimacy',
          `The action needs intimacy level ${action.minIntimacy}; the customer chose ${snap.intimacy}.`,
        ),
      );
      continue;
    }
    const missing = action.requiredFacts.find((k) => !view.facts.has(k));
    if (missing !== undefined) {
      const why = view.withheld.get(missing);
      candidates.push(
        removed(
          trace,
          'filter',
          `governance:${action.dataPurpose}`,
          why
            ? `Fact ${missing} may not be used for ${action.dataPurpose}: ${why}.`
            : `Fact ${missing} is not known (or not usable for ${action.dataPurpose}).`,
        ),
      );
      continue;
    }
    if (action.purpose === 'commercial') {
      const distress = snap.recentMoments.find(
        (m) =>
          now - m.at < playbook.distress.days * DAY &&
          (compiled.distressMoments.has(m.type) ||
            (m.event !== undefined && compiled.distressLifeEvents.has(m.event))),
      );
      const current =
        compiled.distressMoments.has(moment.type) ||
        compiled.distressLifeEvents.has(String(moment.context.event ?? ''));
      if (distress !== undefined || current) {
        candidates.push(
          removed(
            trace,
            'filter',
            'distress-window',
            `No commercial action within ${playbook.distress.days} days of a distress moment (${distress?.type ?? moment.type}).`,
          ),
        );
        continue;
      }
    }
    const dont = archetypeDont(snap.archetype, action);
    if (dont !== null) {
      candidates.push(removed(trace, 'filter', `archetype:${snap.archetype}`, dont));
      continue;
    }
    if (snap.archetype !== null && action.forbiddenArchetypes.includes(snap.archetype)) {
      candidates.push(
        removed(trace, 'filter', `action:${action.id}.forbiddenArchetypes`, `Not for a ${snap.archetype}.`),
      );
      continue;
    }
    // Contact policy.
    const tooPersonal = snap.feedback.find(
      (f) =>
        f.action === action.id &&
        f.outcome === 'too_personal' &&
        now - f.at < policy.suppression.tooPersonalDays * DAY,
    );
    if (tooPersonal) {
      candidates.push(
        removed(trace, 'policy', 'suppression:too_personal', 'The customer found this action too personal.'),
      );
      continue;
    }
    const rejections = snap.feedback.filter(
      (f) => f.action === action.id && f.outcome === 'rejected' && now - f.at < policy.suppression.days * DAY,
    ).length;
    if (rejections >= policy.suppression.rejections) {
      candidates.push(
        removed(
          trace,
          'policy',
          'suppression:rejections',
          `The customer rejected this action ${rejections} times.`,
        ),
      );
      continue;
    }
    const seqIndex = policy.sequencing.findIndex(
      (s) =>
        (s.purposes.includes(action.purpose) || s.tags.some((t) => action.tags.includes(t))) &&
        snap.recentMoments.some((m) => s.after.includes(m.type as never) && now - m.at < s.days * DAY),
    );
    if (seqIndex >= 0) {
      const s = policy.sequencing[seqIndex];
      candidates.push(
        removed(
          trace,
          'policy',
          `sequencing:${s?.id}`,
          `Held back: ${s?.id} (within ${s?.days} days of ${s?.after.join(' or ')}).`,
        ),
      );
      continue;
    }
    if (
      action.cooldownDays > 0 &&
      snap.actions.some((a) => a.action === action.id && now - a.at < action.cooldownDays * DAY)
    ) {
      candidates.push(
        removed(
          trace,
          'policy',
          `cooldown:${action.id}`,
          `Already done within its ${action.cooldownDays}-day cooldown.`,
        ),
      );
      continue;
    }
    if (action.cap !== null) {
      const cap = action.cap;
      const n = snap.actions.filter((a) => a.action === action.id && now - a.at < cap.days * DAY).length;
      if (n >= cap.count) {
        candidates.push(
          removed(trace, 'policy', `cap:${action.id}`, `At its cap of ${cap.count} in ${cap.days} days.`),
        );
        continue;
      }
    }
    const budget = policy.budgets.findIndex(
      (b) =>
        b.purpose === action.purpose &&
        snap.actions.filter((a) => a.purpose === action.purpose && now - a.at < b.days * DAY).length >=
          b.count,
    );
    if (budget >= 0) {
      const b = policy.budgets[budget];
      candidates.push(
        removed(
          trace,
          'policy',
          `budgets[${budget}]`,
          `The ${action.purpose} budget of ${b?.count} in ${b?.days} days is spent.`,
        ),
      );
      continue;
    }
    // Channel: the customer's preferred one first, then the action's order; the first under every cap.
    const preferred = view.facts.get('channel')?.[0]?.value;
    const order =
      typeof preferred === 'string' && action.channels.includes(preferred)
        ? [preferred, ...action.channels.filter((ch) => ch !== preferred)]
        : action.channels;
    let capped: string | null = null;
    const channel = order.find((ch) => {
      const i = policy.caps.findIndex(
        (cap) =>
          (cap.channel === '*' || cap.channel === ch) &&
          snap.actions.filter((a) => (cap.channel === '*' || a.channel === ch) && now - a.at < cap.days * DAY)
            .length >= cap.count,
      );
      if (i >= 0) capped ??= `caps[${i}]`;
      return i < 0;
    });
    if (channel === undefined) {
      candidates.push(
        removed(
          trace,
          'policy',
          `policy:${capped}`,
          `Every channel of the action is at its contact cap (${capped}).`,
        ),
      );
      continue;
    }
    trace.channel = channel;
    passing.push({ c, trace, view });
  }

  // Arbitration and explanation.
  const scored = passing.map(({ c, trace, view }) => {
    const { action, rule } = c;
    const learned = propensities(action.id);
    const s = playbook.prior.successes + (learned?.successes ?? 0);
    const f = playbook.prior.failures + (learned?.failures ?? 0);
    const fit =
      snap.archetype === null || !snap.archetypeUsable || action.suitableArchetypes.length === 0
        ? 1
        : action.suitableArchetypes.includes(snap.archetype)
          ? 1.25
          : 0.8;
    const scores: Scores = {
      propensity: s / (s + f),
      contextWeight: momentWeight * rule.weight,
      value: action.value,
      lever: action.lever,
      fit,
      priority: 0,
    };
    scores.priority = scores.propensity * scores.contextWeight * scores.value * scores.lever * scores.fit;
    trace.scores = scores;
    return { c, trace, view, scores };
  });
  scored.sort(
    (x, y) => LANE[x.c.action.purpose] - LANE[y.c.action.purpose] || y.scores.priority - x.scores.priority,
  );
  const chosen: ChosenAction[] = [];
  for (const item of scored) {
    const { action } = item.c;
    if (chosen.length >= playbook.maxActions) {
      item.trace.outcome = 'outranked';
      item.trace.stage = 'arbitration';
      item.trace.removedBy = 'maxActions';
      item.trace.reason = `At most ${playbook.maxActions} actions per moment; this one ranked lower.`;
      candidates.push(item.trace);
      continue;
    }
    const template = compiled.templates.get(action.id) ?? compileTemplate(action.explanation);
    const explanation = renderTemplate(template, moment.type, item.view.facts);
    if (explanation === null) {
      item.trace.stage = 'filter';
      item.trace.removedBy = 'explanation';
      item.trace.reason = 'Its explanation would cite an inferred or special-category fact.';
      candidates.push(item.trace);
      continue;
    }
    item.trace.outcome = 'chosen';
    candidates.push(item.trace);
    const dueBase = now + action.dueHours * 3_600_000 * (action.delivery === 'task' ? 1 : 0);
    const quiet = policy.quietHours;
    chosen.push({
      def: action,
      rule: item.c.rule.id,
      channel: item.trace.channel ?? action.channels[0] ?? 'none',
      scores: item.scores,
      explanation,
      known: action.requiredFacts.flatMap((k) =>
        (item.view.facts.get(k) ?? []).slice(0, 1).map((f) => ({
          key: f.key,
          value: f.value,
          sourceKind: f.sourceKind,
          source: f.source,
        })),
      ),
      dueAt: action.delivery === 'webhook' && quiet !== null ? afterQuietHours(quiet, dueBase) : dueBase,
    });
  }
  const suppressed = candidates
    .filter((c) => c.outcome !== 'chosen')
    .map((c) => ({ action: c.action, reason: c.reason ?? '', removedBy: c.removedBy ?? '' }));
  return { outcome: chosen.length > 0 ? 'act' : 'nothing', chosen, candidates, suppressed };
}
