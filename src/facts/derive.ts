/**
 * Facts derived from behaviour (SPEC §6): "asks for a paper receipt 9 times out of 10", "always pays by
 * card", "orders on Fridays", "usual delivery window", "prefers store X", "preferred channel". Pure: the
 * input is how often each customer showed each value of each behaviour (counted in SQL by the caller),
 * the output the facts those counts support, each with its evidence and confidence.
 */

/** The behaviours counted, each the catalog key of the fact it supports. */
export const BEHAVIOURS = [
  'receipt',
  'payment_method',
  'preferred_store',
  'order_day',
  'delivery_window',
  'channel',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** How often one customer showed one value of one behaviour, with the newest interactions showing it. */
export interface BehaviourCount {
  customerId: string;
  behaviour: Behaviour;
  value: string;
  count: number;
  /** The newest interactions that showed the value (at most EVIDENCE_IDS). */
  interactionIds: readonly string[];
}

/** A fact the behaviour supports. */
export interface DerivedFact {
  customerId: string;
  key: Behaviour;
  value: string;
  /** Share of the observations that showed the value. */
  confidence: number;
  evidence: { count: number; of: number; interactionIds: string[]; statement: string };
}

/** At least this many observations of a behaviour before anything is said about it. */
export const MIN_OBSERVATIONS = 5;
/** The value must show in at least this share of the observations ("9 times out of 10" passes). */
export const MIN_SHARE = 0.7;
/** How many interaction ids a derived fact keeps as evidence. */
export const EVIDENCE_IDS = 10;

const RECEIPT_WORDS: Readonly<Record<string, string>> = {
  paper: 'asks for a paper receipt',
  email: 'takes an emailed receipt',
  none: 'takes no receipt',
};

function statementOf(behaviour: Behaviour, value: string, count: number, of: number): string {
  const times = `${count} times out of ${of}`;
  switch (behaviour) {
    case 'receipt':
      return `${RECEIPT_WORDS[value] ?? `receipt: ${value}`} ${times}`;
    case 'payment_method':
      return `pays by ${value} ${times}`;
    case 'preferred_store':
      return `shops at store ${value} ${times}`;
    case 'order_day':
      return `orders on ${value[0]?.toUpperCase() ?? ''}${value.slice(1)}s ${times}`;
    case 'delivery_window':
      return `deliveries reach them ${value.replaceAll('_', ' ')} ${times}`;
    case 'channel':
      return `gets in touch by ${value} ${times}`;
  }
}

/**
 * The facts the counts support: per customer and behaviour, the most frequent value when there were at
 * least MIN_OBSERVATIONS and it showed in at least MIN_SHARE of them. Ties never qualify (a share over
 * one half is needed). Output is sorted by customer and key, so the same counts give the same facts.
 */
export function deriveFacts(counts: Iterable<BehaviourCount>): DerivedFact[] {
  const groups = new Map<string, { total: number; best: BehaviourCount | undefined }>();
  for (const c of counts) {
    const id = `${c.customerId}\u0000${c.behaviour}`;
    let group = groups.get(id);
    if (!group) {
      group = { total: 0, best: undefined };
      groups.set(id, group);
    }
    group.total += c.count;
    if (
      !group.best ||
      c.count > group.best.count ||
      (c.count === group.best.count && c.value < group.best.value)
    )
      group.best = c;
  }
  const out: DerivedFact[] = [];
  for (const { total, best } of groups.values()) {
    if (!best || total < MIN_OBSERVATIONS) continue;
    const share = best.count / total;
    if (share < MIN_SHARE) continue;
    out.push({
      customerId: best.customerId,
      key: best.behaviour,
      value: best.value,
      confidence: Math.round(share * 1000) / 1000,
      evidence: {
        count: best.count,
        of: total,
        interactionIds: best.interactionIds.slice(0, EVIDENCE_IDS),
        statement: statementOf(best.behaviour, best.value, best.count, total),
      },
    });
  }
  out.sort((a, b) =>
    a.customerId === b.customerId ? a.key.localeCompare(b.key) : a.customerId < b.customerId ? -1 : 1,
  );
  return out;
}
