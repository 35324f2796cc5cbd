/**
 * The relationship dimensions of SPEC §7, computed purely from one customer's interactions (as
 * `Signal`s) and declared statements (`Disclosure`s) at an instant. Each dimension is 0..1 with a
 * confidence (0..1, from how much evidence there is) and the evidence: the ids of the interactions
 * that moved it most. Evidence is decayed by age with a per-dimension half-life (`HALF_LIFE_DAYS`), so
 * an old complaint weighs half as much after one half-life; sums saturate (`1 - e^(-x/k)`), so no
 * single kind of event can push a dimension past 1.
 */

/** The dimensions a rule table may read. `drift` is how far intensity has fallen from where it was. */
export const DIMENSIONS = [
  'warmth',
  'friction',
  'intensity',
  'tenure',
  'regularity',
  'reciprocity',
  'disclosure',
  'commitment',
  'voluntariness',
  'drift',
] as const;

/** A relationship dimension. */
export type Dimension = (typeof DIMENSIONS)[number];

/** One interaction as the dimensions read it. */
export interface Signal {
  id: string;
  type: string;
  channel: string;
  initiatedBy: string;
  /** Epoch milliseconds. */
  at: number;
  sentiment: number | null;
  /** Survey score 0–10 (`properties.score`). */
  score: number | null;
  /** Feedback rating 1–5 (`properties.rating`). */
  rating: number | null;
  /** Complaint severity (`properties.severity`). */
  severity: string | null;
  /** What a cancellation is about (`properties.subject`: order, membership…). */
  subject: string | null;
  /** How a request ended (`properties.outcome`: refused, blocked, retained…). */
  outcome: string | null;
  /** Direction of a call or e-mail (`properties.direction`). */
  direction: string | null;
  /** A billing event's kind (`properties.event`). */
  event: string | null;
}

/** A thing the customer declared about themselves (a preference or a life event), with where it came from. */
export interface Disclosure {
  interactionId: string;
  kind: 'preference' | 'life_event';
  /** The preference key or the life event's kind. */
  key: string;
  /** The declared value (preferences); null for life events. */
  value: unknown;
  at: number;
}

/** One dimension's value, how sure it is, and the interactions that moved it. */
export interface DimensionValue {
  value: number;
  confidence: number;
  evidence: string[];
}

/** Every dimension of one customer. */
export type Dimensions = Record<Dimension, DimensionValue>;

/** The customer's modifiers beside the archetype (SPEC §7). */
export interface Modifiers {
  /** Many service contacts lately: `highDemand.contacts` or more in `highDemand.days`. */
  highDemand: boolean;
  /** The customer asked for discretion (no visible mail, neutral packaging). */
  discretion: boolean;
}

/** Half-life of each dimension's evidence, in days (documented in README and ARCHITECTURE). */
export const HALF_LIFE_DAYS: Readonly<Record<Dimension, number>> = {
  warmth: 180,
  friction: 120,
  intensity: 90,
  tenure: Number.POSITIVE_INFINITY,
  regularity: Number.POSITIVE_INFINITY,
  reciprocity: 365,
  disclosure: 730,
  commitment: 365,
  voluntariness: 365,
  drift: Number.POSITIVE_INFINITY,
};

/** How rich a channel is for intensity: a visit in person counts more than a page view. */
export const CHANNEL_RICHNESS: Readonly<Record<string, number>> = {
  store: 1,
  phone: 0.9,
  chat: 0.7,
  app: 0.5,
  web: 0.4,
  email: 0.4,
  post: 0.3,
  delivery: 0.1,
};

/** The intensity norm used before a workspace's first full recomputation. */
export const DEFAULT_INTENSITY_NORM = 3;

/** Preference keys that ask for discretion (no visible mail, neutral packaging). */
export const DISCRETION_KEYS: ReadonlySet<string> = new Set([
  'discretion',
  'neutral_packaging',
  'no_visible_mail',
]);

/** Preference keys that are operational (SPEC §6, level 1): they reveal little of the person. */
const OPERATIONAL_KEYS: ReadonlySet<string> = new Set([
  'receipt',
  'language',
  'delivery_window',
  'contact_channel',
  'channel',
  'size',
]);

/** Thresholds of the high-demand modifier. */
export interface HighDemandRule {
  contacts: number;
  days: number;
}

const DAY_MS = 86_400_000;
const MONTH_MS = 30 * DAY_MS;
const SERVICE_TYPES: ReadonlySet<string> = new Set(['service_request', 'complaint', 'call', 'chat', 'email']);
const LOCKIN_OUTCOMES: ReadonlySet<string> = new Set(['refused', 'blocked', 'retained_by_contract']);
const EVIDENCE_SHOWN = 5;

const decay = (ageMs: number, halfLifeDays: number): number =>
  Number.isFinite(halfLifeDays) ? 2 ** (-Math.max(0, ageMs) / (halfLifeDays * DAY_MS)) : 1;

const saturate = (x: number, k: number): number => 1 - Math.exp(-Math.max(0, x) / k);

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Collects weighted evidence for one dimension. */
class Tally {
  total = 0;
  count = 0;
  readonly #top: { id: string; weight: number }[] = [];

  add(id: string, weight: number): void {
    if (weight <= 0) return;
    this.total += weight;
    this.count++;
    this.#top.push({ id, weight });
    if (this.#top.length > EVIDENCE_SHOWN * 4) this.#trim();
  }

  #trim(): void {
    this.#top.sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1));
    this.#top.length = Math.min(this.#top.length, EVIDENCE_SHOWN);
  }

  evidence(): string[] {
    this.#trim();
    return this.#top.map((e) => e.id);
  }
}

const confidenceOf = (n: number): number => round(saturate(n, 3));

function value(v: number, confidence: number, evidence: string[]): DimensionValue {
  return { value: round(clamp01(v)), confidence: round(clamp01(confidence)), evidence };
}

/** What the dimensions need besides the customer's own history. */
export interface DimensionContext {
  now: Date;
  /** The workspace's typical decayed, richness-weighted intensity (the median customer). */
  intensityNorm: number;
}

/** The warmth weight of a signal (compliments, good scores, positive sentiment). */
function warmthOf(s: Signal): number {
  let w = 0;
  if (s.type === 'compliment') w += 1;
  if (s.type === 'survey_response' && s.score !== null && s.score >= 9) w += 0.4;
  if (s.type === 'feedback' && s.rating !== null && s.rating >= 4) w += 0.4;
  if (s.sentiment !== null && s.sentiment > 0.2) w += s.sentiment * 0.5;
  return w;
}

/** The friction weight of a signal (complaints, escalations, refunds, bad scores, negative sentiment). */
function frictionOf(s: Signal): number {
  let w = 0;
  if (s.type === 'complaint') w += s.severity === 'high' ? 1.5 : 1;
  if (s.type === 'return') w += 0.15;
  if (s.type === 'cancellation_request') w += 0.25;
  if (s.type === 'survey_response' && s.score !== null && s.score <= 4) w += 0.4;
  if (s.type === 'feedback' && s.rating !== null && s.rating <= 2) w += 0.4;
  if (s.sentiment !== null && s.sentiment < -0.2) w += -s.sentiment * 0.5;
  return w;
}

/** The reciprocity weight of a signal: what the customer gives back (suggestions, feedback, surveys). */
function voiceOf(s: Signal): number {
  if (s.initiatedBy !== 'customer') return 0;
  if (s.type === 'suggestion') return 1;
  if (s.type === 'feedback') return 0.5;
  if (s.type === 'survey_response') return 0.3;
  return 0;
}

/** Weight of a declared statement for disclosure: life events and personal facts weigh more. */
function disclosureWeight(d: Disclosure): number {
  if (d.kind === 'life_event') return 1;
  return OPERATIONAL_KEYS.has(d.key) ? 0.15 : 0.6;
}

/**
 * A customer's dimensions and modifiers at `ctx.now`. Signals and disclosures after `now` are ignored,
 * so a recomputation "as of" a date reads only what was known then.
 */
export function computeDimensions(
  signals: readonly Signal[],
  disclosures: readonly Disclosure[],
  ctx: DimensionContext,
  highDemand: HighDemandRule,
): { dimensions: Dimensions; modifiers: Modifiers } {
  const now = ctx.now.getTime();
  const warmth = new Tally();
  const friction = new Tally();
  const intensity = new Tally();
  const reciprocity = new Tally();
  const commitment = new Tally();
  const lockin = new Tally();
  const past = new Tally();
  const recent = new Tally();
  let first = Number.POSITIVE_INFINITY;
  let customerInitiated = 0;
  let all = 0;
  let subscribedAt = Number.NEGATIVE_INFINITY;
  let serviceContacts = 0;
  const activeMonths = new Set<number>();
  const billings: number[] = [];
  const cancellations: Signal[] = [];
  const recentFrom = now - 90 * DAY_MS;
  const pastFrom = now - 455 * DAY_MS;

  for (const s of signals) {
    if (s.at > now) continue;
    const age = now - s.at;
    all++;
    if (s.at < first) first = s.at;
    warmth.add(s.id, warmthOf(s) * decay(age, HALF_LIFE_DAYS.warmth));
    friction.add(s.id, frictionOf(s) * decay(age, HALF_LIFE_DAYS.friction));
    reciprocity.add(s.id, voiceOf(s) * decay(age, HALF_LIFE_DAYS.reciprocity));
    if (s.type === 'purchase') commitment.add(s.id, decay(age, HALF_LIFE_DAYS.commitment));
    if (s.type === 'billing_event' && s.initiatedBy === 'company') {
      billings.push(s.at);
      if (s.at > subscribedAt) subscribedAt = s.at;
    }
    if (s.type === 'cancellation_request') cancellations.push(s);
    if (s.outcome !== null && LOCKIN_OUTCOMES.has(s.outcome)) {
      lockin.add(s.id, decay(age, HALF_LIFE_DAYS.voluntariness));
    }
    if (SERVICE_TYPES.has(s.type) && s.initiatedBy === 'customer' && age <= highDemand.days * DAY_MS) {
      serviceContacts++;
    }
    if (s.initiatedBy !== 'customer') continue;
    customerInitiated++;
    const richness = CHANNEL_RICHNESS[s.channel] ?? 0.3;
    intensity.add(s.id, richness * decay(age, HALF_LIFE_DAYS.intensity));
    activeMonths.add(Math.floor(age / MONTH_MS));
    if (s.at >= recentFrom) recent.add(s.id, richness);
    else if (s.at >= pastFrom) past.add(s.id, richness);
  }

  // A cancellation that did not end the membership: charges still came more than a week after it.
  for (const c of cancellations) {
    if (c.subject === 'order' || (c.outcome !== null && LOCKIN_OUTCOMES.has(c.outcome))) continue;
    if (billings.some((t) => t > c.at + 7 * DAY_MS)) {
      lockin.add(c.id, decay(now - c.at, HALF_LIFE_DAYS.voluntariness));
    }
  }

  const tenureDays = Number.isFinite(first) ? (now - first) / DAY_MS : 0;
  const months = Math.max(1, Math.min(12, Math.ceil(tenureDays / 30)));
  let active = 0;
  for (let m = 0; m < months; m++) if (activeMonths.has(m)) active++;

  const declared = new Tally();
  const keys = new Set<string>();
  let discretion = false;
  for (const d of disclosures) {
    if (d.at > now) continue;
    if (d.kind === 'preference' && DISCRETION_KEYS.has(d.key) && d.value !== false && d.value !== 'no') {
      discretion = true;
    }
    // Breadth: each key counts once (saying it twice is not disclosing more).
    const key = `${d.kind}:${d.key}`;
    if (keys.has(key)) continue;
    keys.add(key);
    declared.add(d.interactionId, disclosureWeight(d) * decay(now - d.at, HALF_LIFE_DAYS.disclosure));
  }

  // Drift: the customer-initiated rate of the last 90 days against the year before it, for customers
  // whose rate was once that of a regular (one rich contact a month or more).
  const pastRate = past.total / 12.17;
  const recentRate = recent.total / 3;
  const drift = pastRate >= 1 ? clamp01(1 - recentRate / pastRate) : 0;

  const subscribed = now - subscribedAt <= 45 * DAY_MS ? 1 : 0;
  const intensityNorm = ctx.intensityNorm > 0 ? ctx.intensityNorm : DEFAULT_INTENSITY_NORM;
  const share = all === 0 ? 0 : customerInitiated / all;

  const dimensions: Dimensions = {
    warmth: value(saturate(warmth.total, 1.5), confidenceOf(warmth.count), warmth.evidence()),
    friction: value(saturate(friction.total, 1.5), confidenceOf(friction.count), friction.evidence()),
    intensity: value(
      intensity.total / (intensity.total + intensityNorm),
      confidenceOf(intensity.count),
      intensity.evidence(),
    ),
    tenure: value(tenureDays / 730, confidenceOf(all), []),
    regularity: value(active / months, confidenceOf(months), []),
    reciprocity: value(
      0.8 * saturate(reciprocity.total, 1.5) + 0.2 * share,
      confidenceOf(reciprocity.count + all / 10),
      reciprocity.evidence(),
    ),
    disclosure: value(saturate(declared.total, 1.5), confidenceOf(declared.count), declared.evidence()),
    commitment: value(
      0.65 * saturate(commitment.total, 5) + 0.35 * subscribed,
      confidenceOf(commitment.count + billings.length),
      commitment.evidence(),
    ),
    voluntariness: value(Math.exp(-lockin.total), confidenceOf(lockin.count + all / 10), lockin.evidence()),
    drift: value(drift, confidenceOf(past.count), pastRate >= 1 ? past.evidence() : []),
  };
  return {
    dimensions,
    modifiers: { highDemand: serviceContacts >= highDemand.contacts, discretion },
  };
}
