import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.ts';
import { computeDimensions, type Disclosure, type Signal } from './dimensions.ts';
import {
  applyHysteresis,
  assertRuleTable,
  computeArchetype,
  DEFAULT_RULE_TABLE,
  type LabelState,
} from './rules.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
let seq = 0;

/** A hand-built interaction `daysAgo` days before NOW. */
function signal(type: string, daysAgo: number, extra: Partial<Signal> = {}): Signal {
  seq++;
  return {
    id: `i${seq}`,
    type,
    channel: 'store',
    initiatedBy: type === 'billing_event' ? 'company' : 'customer',
    at: NOW.getTime() - daysAgo * DAY,
    sentiment: null,
    score: null,
    rating: null,
    severity: null,
    subject: null,
    outcome: null,
    direction: null,
    event: null,
    ...extra,
  };
}

const dims = (signals: Signal[], disclosures: Disclosure[] = []) =>
  computeDimensions(signals, disclosures, { now: NOW, intensityNorm: 3 }, DEFAULT_RULE_TABLE.highDemand);

/** Monthly store purchases over `months`, plus whatever else. */
const regular = (months: number): Signal[] =>
  Array.from({ length: months }, (_, m) => signal('purchase', m * 30 + 3));

describe('relationship dimensions on hand-built histories', () => {
  it('shows ambivalence: warmth and friction both high at once, each with its own evidence', () => {
    const compliments = [signal('compliment', 5), signal('compliment', 20), signal('compliment', 40)];
    const complaints = [
      signal('complaint', 3, { severity: 'high' }),
      signal('complaint', 15),
      signal('complaint', 30),
    ];
    const { dimensions } = dims([...regular(14), ...compliments, ...complaints]);
    expect(dimensions.warmth.value).toBeGreaterThan(0.7);
    expect(dimensions.friction.value).toBeGreaterThan(0.7);
    expect(new Set(dimensions.warmth.evidence)).toEqual(new Set(compliments.map((s) => s.id)));
    expect(new Set(dimensions.friction.evidence)).toEqual(new Set(complaints.map((s) => s.id)));
    // Neither cancels the other: an ambivalent customer is not an adversary (warmth is too high).
    expect(computeArchetype(DEFAULT_RULE_TABLE, dimensions).archetype).not.toBe('adversary');
  });

  it('decays evidence by its half-life: an old complaint weighs less than a fresh one', () => {
    const fresh = dims([...regular(14), signal('complaint', 1)]).dimensions.friction.value;
    const old = dims([...regular(14), signal('complaint', 240)]).dimensions.friction.value;
    expect(old).toBeLessThan(fresh / 3);
  });

  it('measures disclosure on declared statements only, breadth counted once per key', () => {
    const at = NOW.getTime() - 10 * DAY;
    const declared = (key: string, kind: Disclosure['kind'] = 'preference'): Disclosure => ({
      interactionId: `d-${key}-${seq++}`,
      kind,
      key,
      value: 'x',
      at,
    });
    const none = dims(regular(14)).dimensions.disclosure.value;
    const operational = dims(regular(14), [declared('receipt'), declared('receipt')]).dimensions.disclosure;
    const personal = dims(regular(14), [declared('married', 'life_event'), declared('favourite_category')])
      .dimensions.disclosure;
    expect(none).toBe(0);
    expect(operational.value).toBeLessThan(0.15);
    expect(operational.evidence).toHaveLength(1);
    expect(personal.value).toBeGreaterThan(0.6);
  });

  it('sees a blocked cancellation as lost voluntariness: the charges went on after it', () => {
    const charges = Array.from({ length: 10 }, (_, m) =>
      signal('billing_event', m * 30, { event: 'membership_charge' }),
    );
    const cancel = signal('cancellation_request', 200, { subject: 'membership' });
    const refused = signal('cancellation_request', 60, { subject: 'membership', outcome: 'refused' });
    const free = dims([...regular(12), ...charges]).dimensions.voluntariness.value;
    const locked = dims([...regular(12), ...charges, cancel, refused]).dimensions.voluntariness;
    expect(free).toBe(1);
    expect(locked.value).toBeLessThan(0.45);
    expect(new Set(locked.evidence)).toEqual(new Set([cancel.id, refused.id]));
    // A cancelled order is not a lock-in.
    const order = signal('cancellation_request', 100, { subject: 'order' });
    expect(dims([...regular(12), ...charges, order]).dimensions.voluntariness.value).toBe(1);
  });

  it('sees drift when a regular stops coming, and the high-demand modifier on many contacts', () => {
    const pastVisits = Array.from({ length: 60 }, (_, k) => signal('visit', 120 + k * 5));
    const { dimensions } = dims(pastVisits);
    expect(dimensions.drift.value).toBeGreaterThan(0.9);
    const contacts = Array.from({ length: 7 }, (_, k) =>
      signal('service_request', k * 10, { channel: 'phone' }),
    );
    expect(dims([...regular(14), ...contacts]).modifiers.highDemand).toBe(true);
    expect(dims(regular(14)).modifiers.highDemand).toBe(false);
  });

  it('keeps every dimension within 0..1 with a confidence within 0..1, whatever the history', () => {
    const types = [
      'purchase',
      'complaint',
      'compliment',
      'suggestion',
      'visit',
      'cancellation_request',
      'billing_event',
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.constantFrom(...types),
            days: fc.integer({ min: -5, max: 2000 }),
            sentiment: fc.option(fc.double({ min: -1, max: 1, noNaN: true }), { nil: null }),
          }),
          { maxLength: 80 },
        ),
        (drafts) => {
          const { dimensions } = dims(drafts.map((d) => signal(d.type, d.days, { sentiment: d.sentiment })));
          for (const d of Object.values(dimensions)) {
            expect(d.value).toBeGreaterThanOrEqual(0);
            expect(d.value).toBeLessThanOrEqual(1);
            expect(d.confidence).toBeGreaterThanOrEqual(0);
            expect(d.confidence).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('hysteresis', () => {
  const rule = DEFAULT_RULE_TABLE.hysteresis;
  const at = (day: number) => new Date(NOW.getTime() + day * DAY);
  const bestFriend: LabelState = {
    archetype: 'best_friend',
    since: at(-400),
    candidate: null,
    candidateCount: 0,
    candidateSince: null,
  };

  it('one bad week (many recomputations proposing adversary) does not flip a best friend', () => {
    let state = bestFriend;
    for (let day = 0; day < 7; day++) {
      for (let k = 0; k < 3; k++) {
        const step = applyHysteresis(state, 'adversary', at(day + k / 10), rule);
        expect(step.changed).toBe(false);
        state = step.state;
      }
    }
    expect(state).toMatchObject({ archetype: 'best_friend', candidate: 'adversary', candidateCount: 21 });
    // The week passes; the rules propose best friend again, and the candidate is forgotten.
    const back = applyHysteresis(state, 'best_friend', at(8), rule);
    expect(back.changed).toBe(false);
    expect(back.state).toMatchObject({ archetype: 'best_friend', candidate: null, candidateCount: 0 });
  });

  it('a lasting change holds two recomputations and 14 days, then the label moves', () => {
    let step = applyHysteresis(bestFriend, 'drifting_ex_friend', at(0), rule);
    step = applyHysteresis(step.state, 'drifting_ex_friend', at(13), rule);
    expect(step.changed).toBe(false);
    step = applyHysteresis(step.state, 'drifting_ex_friend', at(14), rule);
    expect(step).toMatchObject({ changed: true, previous: 'best_friend' });
    expect(step.state).toMatchObject({ archetype: 'drifting_ex_friend', since: at(14), candidate: null });
  });

  it('a single recomputation 14 days later is not enough, and a different proposal starts over', () => {
    let step = applyHysteresis(bestFriend, 'buddy', at(0), rule);
    step = applyHysteresis(step.state, 'basic_exchange', at(20), rule);
    expect(step.changed).toBe(false);
    expect(step.state).toMatchObject({ candidate: 'basic_exchange', candidateCount: 1 });
  });

  it('takes the first label at once', () => {
    const empty: LabelState = {
      archetype: null,
      since: null,
      candidate: null,
      candidateCount: 0,
      candidateSince: null,
    };
    expect(applyHysteresis(empty, 'newcomer', at(0), rule)).toMatchObject({ changed: true, previous: null });
  });
});

describe('the rule table', () => {
  function refusal(table: unknown): { path: string; message: string }[] {
    try {
      assertRuleTable(table);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('RELATIONSHIP_RULES_INVALID');
      return ((error as AppError).details as { errors: { path: string; message: string }[] }).errors;
    }
    throw new Error('the table was accepted');
  }

  it('accepts the default table and returns it unchanged', () => {
    expect(assertRuleTable(JSON.parse(JSON.stringify(DEFAULT_RULE_TABLE)))).toEqual(DEFAULT_RULE_TABLE);
  });

  it('refuses an unknown dimension, a threshold outside 0..1 and an unreachable rule, each at its JSON path', () => {
    const errors = refusal({
      rules: [
        { archetype: 'adversary', when: [{ dimension: 'grumpiness', op: 'gte', value: 0.5 }] },
        { archetype: 'captive', when: [{ dimension: 'voluntariness', op: 'lte', value: 1.5 }] },
        { archetype: 'buddy', when: [{ dimension: 'warmth', op: 'gte', value: 0.3 }] },
        { archetype: 'best_friend', when: [{ dimension: 'warmth', op: 'gte', value: 0.8 }] },
        {
          archetype: 'fling',
          when: [
            { dimension: 'intensity', op: 'gte', value: 0.8 },
            { dimension: 'intensity', op: 'lte', value: 0.2 },
          ],
        },
        { archetype: 'basic_exchange', when: [] },
      ],
    });
    const paths = errors.map((e) => e.path);
    expect(paths).toContain('table.rules[0].when[0].dimension');
    expect(paths).toContain('table.rules[1].when[0].value');
    // Best friend (warmth ≥ 0.8) can never be reached: buddy (warmth ≥ 0.3) comes first.
    expect(errors.find((e) => e.path === 'table.rules[3]')?.message).toMatch(/unreachable: rules\[2\]/);
    expect(errors.find((e) => e.path === 'table.rules[4]')?.message).toMatch(/contradict/);
  });

  it('refuses a table without a default last rule, and rules after the default', () => {
    expect(
      refusal({
        rules: [{ archetype: 'buddy', when: [{ dimension: 'warmth', op: 'gte', value: 0.3 }] }],
      }).map((e) => e.path),
    ).toEqual(['table.rules[0]']);
    const after = refusal({
      rules: [
        { archetype: 'basic_exchange', when: [] },
        { archetype: 'buddy', when: [] },
      ],
    });
    expect(after.map((e) => e.path)).toEqual(['table.rules[1]']);
  });

  it('names a fling: an intense burst of visits from a customer of some months, neither regular nor committed', () => {
    // One purchase seven months ago, then twenty store visits in the last three weeks.
    const burst = Array.from({ length: 20 }, (_, k) => signal('visit', 1 + k));
    const { dimensions } = dims([signal('purchase', 200), ...burst]);
    expect(dimensions.tenure.value).toBeGreaterThan(0.15);
    expect(dimensions.intensity.value).toBeGreaterThanOrEqual(0.75);
    expect(dimensions.regularity.value).toBeLessThanOrEqual(0.3);
    expect(dimensions.commitment.value).toBeLessThanOrEqual(0.3);
    const proposal = computeArchetype(DEFAULT_RULE_TABLE, dimensions);
    expect(proposal.archetype).toBe('fling');
    expect(proposal.reasons.map((r) => r.dimension).sort()).toEqual([
      'commitment',
      'intensity',
      'regularity',
    ]);
    const intensity = proposal.reasons.find((r) => r.dimension === 'intensity');
    expect(intensity?.evidence.every((id) => burst.some((b) => b.id === id))).toBe(true);
    // The same burst from someone who has been regular and buying for a year is no fling.
    const steady = dims([...regular(12), ...burst]).dimensions;
    expect(computeArchetype(DEFAULT_RULE_TABLE, steady).archetype).not.toBe('fling');
  });

  it('explains an assignment by the matching rule, most decisive condition first, with evidence', () => {
    const complaints = [
      signal('complaint', 2, { severity: 'high' }),
      signal('complaint', 9),
      signal('complaint', 20),
    ];
    const { dimensions } = dims([...regular(6), ...complaints]);
    const proposal = computeArchetype(DEFAULT_RULE_TABLE, dimensions);
    expect(proposal.archetype).toBe('adversary');
    expect(proposal.rule).toBe(0);
    expect(proposal.reasons.map((r) => r.dimension).sort()).toEqual(['friction', 'warmth']);
    const friction = proposal.reasons.find((r) => r.dimension === 'friction');
    expect(friction).toMatchObject({ op: 'gte', threshold: 0.6 });
    expect(friction?.evidence.length).toBe(3);
  });
});
