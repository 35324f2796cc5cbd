/**
 * Options of the synthetic world, their defaults (a mid-sized retailer in the US and the UK) and their
 * validation. Rates are probabilities unless the name says otherwise; time in the purchase model is in
 * weeks, money in the market's currency.
 */
import { invalid } from '../shared/errors.ts';
import { seedToUint32 } from './random.ts';
import type { MarketCode } from './tables/places.ts';
import { MARKETS } from './tables/places.ts';

/** BG/NBD parameters: λ ~ Gamma(r, α) purchases per week, dropout p ~ Beta(a, b) after each repeat purchase. */
export interface PurchaseModel {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Gamma-Gamma spend: ν ~ Gamma(q, γ) per person, each spend ~ Gamma(p, ν) (shape, rate). */
export interface SpendModel {
  p: number;
  q: number;
  gamma: number;
}

/** What a caller may set; everything has a default. */
export interface WorldOptions {
  /** Same seed, same world, byte for byte. Default 1. */
  seed?: number | string;
  /** Number of people. Default 1,000. */
  customers?: number;
  /** First instant of the window (ISO 8601 date or date-time, UTC). Default `2024-01-01`. */
  start?: string | Date;
  /** Length of the window in calendar months. Default 24. */
  months?: number;
  /**
   * Moves the window of `start` and `months`, whole, so that it ends at this instant (exclusive; ISO 8601
   * date or date-time, UTC): the same seed gives the same world with every date shifted by the same
   * amount (by whole days when both ends are midnights, so times of day stay). Default: not moved.
   */
  end?: string | Date;
  /** Relative share of people per market. Default US 0.6, GB 0.4. */
  markets?: Partial<Record<MarketCode, number>>;
  /** Share of people with two or more source records (across systems or near-duplicates). Default 0.55. */
  duplicateRate?: number;
  /** Among those, the share with a second record in the same system. Default 0.08. */
  withinSourceDuplicateRate?: number;
  /** Purchase process (BG/NBD). Default r 0.9, α 6, a 0.6, b 3. */
  purchases?: Partial<PurchaseModel>;
  /** Spend per purchase (Gamma-Gamma). Default p 6, q 4, γ 22 (mean spend ≈ 44). */
  spend?: Partial<SpendModel>;
  /** Probability that a purchase is followed by a complaint about it. Default 0.03. */
  complaintRate?: number;
  /** Probability that a purchase is followed by a compliment. Default 0.012. */
  complimentRate?: number;
  /** Probability that a home delivery fails (multiplied when the address on file is stale). Default 0.04. */
  deliveryFailureRate?: number;
  /** Probability that a membership charge fails. Default 0.025. */
  paymentFailureRate?: number;
  /** Probability that a clerk or agent misspells a name field. Default 0.12. */
  misspellingRate?: number;
  /** Share of interactions carrying data that must not be stored (card numbers, national ids). Default 0.002. */
  policyProbeRate?: number;
  /** Attach line items to purchases. Default true. */
  lineItems?: boolean;
  /**
   * Share of people given a relationship persona (adversary, captive, drifting regular, best friend,
   * business partner, buddy, newcomer): their persona's interactions are added to their own. Default 0.04;
   * 0 plants none. Other people are unchanged whatever the share.
   */
  personaShare?: number;
}

/** The fully resolved options of a world. */
export interface WorldConfig {
  seed: number;
  customers: number;
  startMs: number;
  endMs: number;
  months: number;
  markets: Record<MarketCode, number>;
  duplicateRate: number;
  withinSourceDuplicateRate: number;
  purchases: PurchaseModel;
  spend: SpendModel;
  complaintRate: number;
  complimentRate: number;
  deliveryFailureRate: number;
  paymentFailureRate: number;
  misspellingRate: number;
  policyProbeRate: number;
  lineItems: boolean;
  personaShare: number;
}

/** Defaults for a mid-sized retailer. */
export const DEFAULT_WORLD_OPTIONS = {
  seed: 1,
  customers: 1000,
  start: '2024-01-01',
  months: 24,
  markets: { US: 0.6, GB: 0.4 },
  duplicateRate: 0.55,
  withinSourceDuplicateRate: 0.08,
  purchases: { r: 0.9, alpha: 6, a: 0.6, b: 3 },
  spend: { p: 6, q: 4, gamma: 22 },
  complaintRate: 0.03,
  complimentRate: 0.012,
  deliveryFailureRate: 0.04,
  paymentFailureRate: 0.025,
  misspellingRate: 0.12,
  policyProbeRate: 0.002,
  lineItems: true,
  personaShare: 0.04,
} as const satisfies WorldOptions;

const DAY_MS = 86_400_000;

function parseStart(start: string | Date, problems: string[], name = 'start'): number {
  const ms =
    start instanceof Date
      ? start.getTime()
      : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(start) ? `${start}T00:00:00Z` : start);
  if (!Number.isFinite(ms)) problems.push(`${name} must be an ISO 8601 date or a valid Date`);
  return Math.floor(ms / 1000) * 1000;
}

/** Resolves options against the defaults; throws `SYNTHETIC_OPTIONS_INVALID` listing every problem. */
export function resolveWorldConfig(options: WorldOptions = {}): WorldConfig {
  const problems: string[] = [];
  const d = DEFAULT_WORLD_OPTIONS;
  const probability = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!(v >= 0 && v <= 1)) problems.push(`${name} must be between 0 and 1`);
    return v;
  };
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!(v > 0 && Number.isFinite(v))) problems.push(`${name} must be a positive number`);
    return v;
  };

  const customers = options.customers ?? d.customers;
  if (!Number.isInteger(customers) || customers < 0 || customers > 200_000_000) {
    problems.push('customers must be an integer between 0 and 200,000,000');
  }
  const months = options.months ?? d.months;
  if (!Number.isInteger(months) || months < 1 || months > 240)
    problems.push('months must be an integer from 1 to 240');
  const canonicalStartMs = parseStart(options.start ?? d.start, problems);
  const startDate = new Date(canonicalStartMs);
  const canonicalEndMs = Date.UTC(
    startDate.getUTCFullYear(),
    startDate.getUTCMonth() + months,
    startDate.getUTCDate(),
    startDate.getUTCHours(),
    startDate.getUTCMinutes(),
    startDate.getUTCSeconds(),
  );
  const shift = options.end === undefined ? 0 : parseStart(options.end, problems, 'end') - canonicalEndMs;
  const startMs = canonicalStartMs + shift;
  const endMs = canonicalEndMs + shift;

  const markets = { US: 0, GB: 0 } as Record<MarketCode, number>;
  const requested = options.markets ?? d.markets;
  let marketTotal = 0;
  for (const [code, weight] of Object.entries(requested)) {
    if (!(MARKETS as readonly string[]).includes(code)) {
      problems.push(`markets.${code} is not a known market (${MARKETS.join(', ')})`);
      continue;
    }
    if (weight === undefined) continue;
    if (!(weight >= 0 && Number.isFinite(weight)))
      problems.push(`markets.${code} must be a non-negative number`);
    markets[code as MarketCode] = weight;
    marketTotal += weight;
  }
  if (!(marketTotal > 0)) problems.push('markets must give at least one market a positive weight');

  let seed = 0;
  try {
    seed = seedToUint32(options.seed ?? d.seed);
  } catch {
    problems.push('seed must be a finite number or a string');
  }

  const config: WorldConfig = {
    seed,
    customers,
    startMs,
    endMs,
    months,
    markets,
    duplicateRate: probability('duplicateRate', options.duplicateRate, d.duplicateRate),
    withinSourceDuplicateRate: probability(
      'withinSourceDuplicateRate',
      options.withinSourceDuplicateRate,
      d.withinSourceDuplicateRate,
    ),
    purchases: {
      r: positive('purchases.r', options.purchases?.r, d.purchases.r),
      alpha: positive('purchases.alpha', options.purchases?.alpha, d.purchases.alpha),
      a: positive('purchases.a', options.purchases?.a, d.purchases.a),
      b: positive('purchases.b', options.purchases?.b, d.purchases.b),
    },
    spend: {
      p: positive('spend.p', options.spend?.p, d.spend.p),
      q: positive('spend.q', options.spend?.q, d.spend.q),
      gamma: positive('spend.gamma', options.spend?.gamma, d.spend.gamma),
    },
    complaintRate: probability('complaintRate', options.complaintRate, d.complaintRate),
    complimentRate: probability('complimentRate', options.complimentRate, d.complimentRate),
    deliveryFailureRate: probability(
      'deliveryFailureRate',
      options.deliveryFailureRate,
      d.deliveryFailureRate,
    ),
    paymentFailureRate: probability('paymentFailureRate', options.paymentFailureRate, d.paymentFailureRate),
    misspellingRate: probability('misspellingRate', options.misspellingRate, d.misspellingRate),
    policyProbeRate: probability('policyProbeRate', options.policyProbeRate, d.policyProbeRate),
    lineItems: options.lineItems ?? d.lineItems,
    personaShare: probability('personaShare', options.personaShare, d.personaShare),
  };
  if (endMs - startMs < 7 * DAY_MS) problems.push('the window must be at least a week long');
  if (problems.length > 0) {
    throw invalid('SYNTHETIC_OPTIONS_INVALID', `Invalid synthetic world options: ${problems.join('; ')}.`, {
      errors: problems.map((message) => ({ path: '', message })),
    });
  }
  return config;
}
