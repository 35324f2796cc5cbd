import { Rng, seedToUint32 } from '../synthetic/index.ts';
import type { BgNbdParams } from './bgnbd.ts';
import type { GammaGammaParams } from './gammagamma.ts';
import type { ParetoNbdParams } from './paretonbd.ts';
import {
  type CustomerSummary,
  formatDayNumber,
  PERIOD_DAYS,
  type Period,
  type Transaction,
} from './summary.ts';

/**
 * Seeded draws from the models' own generative processes, for parameter-recovery tests and the
 * benchmark: the same seed gives the same customers. Each customer's observation length T is drawn
 * uniformly from [minT, maxT] (staggered first purchases, as in a real cohort).
 */

/** What to simulate. */
export interface SimulationOptions {
  customers: number;
  seed: number | string;
  /** Observation length T in periods: fixed, or drawn uniformly per customer. */
  T: number | { min: number; max: number };
  /** Spend per transaction (Gamma-Gamma); without it every transaction is worth 1. */
  spend?: GammaGammaParams;
}

/** A simulated customer: the summary figures and the latent values behind them. */
export interface SimulatedCustomer extends CustomerSummary {
  /** The latent purchase rate λ. */
  rate: number;
  /** Whether the customer is still alive at T. */
  alive: boolean;
}

function drawT(rng: Rng, T: SimulationOptions['T']): number {
  return typeof T === 'number' ? T : T.min + (T.max - T.min) * rng.next();
}

/** Repeat-transaction amounts: z ~ Gamma(p, ν) with ν ~ Gamma(q, γ) per customer. */
function spendDrawer(rng: Rng, spend: GammaGammaParams | undefined): () => number {
  if (!spend) return () => 1;
  const nu = rng.gamma(spend.q, spend.gamma);
  return () => rng.gamma(spend.p, nu);
}

function summaryOf(
  index: number,
  times: readonly number[],
  amounts: readonly number[],
  T: number,
  first: number,
): Omit<SimulatedCustomer, 'rate' | 'alive'> {
  const frequency = times.length;
  let repeatTotal = 0;
  for (const amount of amounts) repeatTotal += amount;
  return {
    customerId: `c${index}`,
    frequency,
    recency: frequency > 0 ? (times[frequency - 1] ?? 0) : 0,
    T,
    monetaryValue: frequency > 0 ? repeatTotal / frequency : 0,
    spendFrequency: frequency,
    totalSpend: repeatTotal + first,
    firstPurchase: '',
    lastPurchase: '',
    holdoutFrequency: 0,
    holdoutSpend: 0,
  };
}

/**
 * Customers from BG/NBD: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases at rate λ from the first purchase
 * at time 0; after each repeat purchase the customer drops out with probability p.
 */
export function simulateBgNbdCustomers(params: BgNbdParams, options: SimulationOptions): SimulatedCustomer[] {
  const rng = new Rng(seedToUint32(options.seed), 1);
  const customers: SimulatedCustomer[] = [];
  for (let i = 0; i < options.customers; i++) {
    const T = drawT(rng, options.T);
    const rate = rng.gamma(params.r, params.alpha);
    const dropout = rng.beta(params.a, params.b);
    const amount = spendDrawer(rng, options.spend);
    const first = amount();
    const times: number[] = [];
    const amounts: number[] = [];
    let t = 0;
    let alive = true;
    for (;;) {
      t += rng.exponential(rate);
      if (t > T) break;
      times.push(t);
      amounts.push(amount());
      if (rng.chance(dropout)) {
        alive = false;
        break;
      }
    }
    customers.push({ ...summaryOf(i, times, amounts, T, first), rate, alive });
  }
  return customers;
}

/**
 * Customers from Pareto/NBD: λ ~ Gamma(r, α), lifetime ~ Exponential(μ) with μ ~ Gamma(s, β);
 * purchases at rate λ during the lifetime.
 */
export function simulateParetoNbdCustomers(
  params: ParetoNbdParams,
  options: SimulationOptions,
): SimulatedCustomer[] {
  const rng = new Rng(seedToUint32(options.seed), 2);
  const customers: SimulatedCustomer[] = [];
  for (let i = 0; i < options.customers; i++) {
    const T = drawT(rng, options.T);
    const rate = rng.gamma(params.r, params.alpha);
    const lifetime = rng.exponential(rng.gamma(params.s, params.beta));
    const amount = spendDrawer(rng, options.spend);
    const first = amount();
    const end = Math.min(T, lifetime);
    const times: number[] = [];
    const amounts: number[] = [];
    let t = 0;
    for (;;) {
      t += rng.exponential(rate);
      if (t > end) break;
      times.push(t);
      amounts.push(amount());
    }
    customers.push({ ...summaryOf(i, times, amounts, T, first), rate, alive: lifetime > T });
  }
  return customers;
}

/** What to simulate as dated transactions. */
export interface TransactionSimulationOptions {
  customers: number;
  seed: number | string;
  params: BgNbdParams;
  spend: GammaGammaParams;
  period: Period;
  /** First day customers may make their first purchase (ISO date). */
  start: string;
  /** First purchases are spread uniformly over this many days from `start`. */
  acquisitionDays: number;
  /** Days from `start` after which nothing is generated. */
  days: number;
}

/**
 * Dated BG/NBD transactions (the first purchase included), in customer order: what a transactions
 * file looks like, so the whole path from file to fit can be checked. Times are continuous in the
 * model and cut to days here, so two purchases may fall on one day (they then merge, as in real data).
 */
export function* simulateTransactions(options: TransactionSimulationOptions): Generator<Transaction> {
  const rng = new Rng(seedToUint32(options.seed), 3);
  const periodDays = PERIOD_DAYS[options.period];
  const startDay = Date.parse(`${options.start}T00:00:00Z`) / 86_400_000;
  const { params } = options;
  for (let i = 0; i < options.customers; i++) {
    const firstDay = Math.floor(rng.next() * options.acquisitionDays);
    const rate = rng.gamma(params.r, params.alpha);
    const dropout = rng.beta(params.a, params.b);
    const amount = spendDrawer(rng, options.spend);
    const customerId = `C${String(i).padStart(6, '0')}`;
    yield {
      customerId,
      date: formatDayNumber(startDay + firstDay),
      amount: Math.round(amount() * 100) / 100,
    };
    let t = 0;
    for (;;) {
      t += rng.exponential(rate);
      const day = firstDay + Math.floor(t * periodDays);
      if (day >= options.days) break;
      yield { customerId, date: formatDayNumber(startDay + day), amount: Math.round(amount() * 100) / 100 };
      if (rng.chance(dropout)) break;
    }
  }
}
