import type { Tx } from '../db/index.ts';
import { currencyDecimals } from '../shared/money.ts';
import { fitBgNbd } from './bgnbd.ts';
import { fitGammaGamma, type GammaGammaFit } from './gammagamma.ts';
import {
  computeFitVerdict,
  computeMeanSpend,
  computeProfileSummary,
  computeRfmThresholds,
  computeValueProfile,
  explainFitVerdict,
  type FitVerdict,
  type PredictionCache,
  type ProfileSummary,
  type PurchaseAggregate,
  profileModelsOf,
  type StoredValueModel,
  type ValueProfile,
} from './profile.ts';
import type { RfmSegment } from './rfm.ts';
import {
  assertValueOptions,
  MAX_ANNUAL_DISCOUNT_RATE,
  MAX_HORIZON_DAYS,
  type ValueOptions,
} from './score.ts';
import { computeDayNumber, PERIOD_DAYS, type Period } from './summary.ts';
import * as repo from './value.repository.ts';

/** How a refit values customers; the defaults are a year in weeks at a 10 % annual discount rate. */
export interface RefitOptions {
  /** When the refit runs: the model's `fittedAt` and the profiles' `updatedAt` (default: the clock). */
  now?: Date;
  /**
   * The value clock: the calibration end, the instant every profile is scored as of (default: `now`).
   * Purchases after it are not read.
   */
  asOf?: Date;
  period?: Period;
  /** Horizon of expected purchases and CLV, in periods. */
  horizon?: number;
  annualDiscountRate?: number;
  /** The currency value is counted in (the workspace's `valueCurrency`); null or absent: the one most purchases are in. */
  valueCurrency?: string | null;
  /** Units of the value currency one unit of another currency is worth; purchases in others are left out. */
  exchangeRates?: Readonly<Record<string, number>>;
}

/**
 * How a refit ended: `fitted` (the new model and its profiles are stored), `no_purchases` (every profile
 * removed), or a fit that was refused — `not_converged` (the optimiser stopped before a maximum) or
 * `boundary` (the maximum lies at the edge of the parameter space, so the estimates are limits) — which
 * leaves the previous model and its profiles as they were.
 */
export type RefitStatus = 'fitted' | 'no_purchases' | FitVerdict;

/** What a refit did. */
export interface RefitReport {
  status: RefitStatus;
  customers: number;
  /** The currency of every money figure; null when there were no purchases. */
  currency: string | null;
  /** Purchases left out of value because their currency has no rate into `currency`, per currency. */
  unconverted: { currency: string; purchases: number }[];
  fittedAt: string;
  /** The value clock the profiles are scored as of (the calibration end). */
  asOf: string;
  /** The model in force after the refit: the new one when fitted, otherwise the previous one (or null). */
  model: StoredValueModel | null;
  /** A refused fit: why, in a sentence, and the fit itself with its convergence diagnostics. */
  refused: { reason: string; model: StoredValueModel } | null;
  /** Customers per RFM segment. */
  segments: Partial<Record<RfmSegment, number>>;
  /** Profiles removed (customers without purchases any more, e.g. merged away). */
  removed: number;
  seconds: { aggregate: number; fit: number; score: number; write: number; total: number };
}

const DEFAULTS: Record<Period, ValueOptions> = {
  week: { period: 'week', horizon: 52, annualDiscountRate: 0.1 },
  day: { period: 'day', horizon: 365, annualDiscountRate: 0.1 },
};

function dayOf(date: Date): number {
  return computeDayNumber(date.toISOString());
}

function fitSpend(summaries: readonly ProfileSummary[]): GammaGammaFit | null {
  return summaries.some((s) => s.frequency > 0 && s.monetaryValue > 0) ? fitGammaGamma(summaries) : null;
}

const seconds = (from: number): number => Number(((performance.now() - from) / 1000).toFixed(3));

/**
 * What a refit reads (in one short statement pair) and hands to the fit: the options resolved, the
 * money chosen and the purchases aggregated per customer. Plain data, so it crosses to a worker thread.
 */
export interface RefitInput {
  now: Date;
  asOf: Date;
  valueOptions: ValueOptions;
  currency: string | null;
  exchangeRates: Record<string, number>;
  unconverted: { currency: string; purchases: number }[];
  aggregates: PurchaseAggregate[];
  /** Seconds the read took. */
  aggregateSeconds: number;
}

/** A stored profile as a refit computes it. */
export type RefitProfile = ValueProfile & { firstPurchaseAt: Date; lastPurchaseAt: Date };

/** What the fit made of a `RefitInput`: the model and its verdict, and when fitted every profile. */
export interface RefitComputation {
  verdict: FitVerdict | 'no_purchases';
  model: StoredValueModel | null;
  profiles: RefitProfile[];
  segments: Partial<Record<RfmSegment, number>>;
  seconds: { fit: number; score: number };
}

/**
 * The read of a refit: purchases per currency, the value currency and rates, and every customer's
 * aggregate up to the value clock. Two statements; the caller owns the (short) transaction.
 */
export async function readRefitInput(
  tx: Tx,
  workspaceId: string,
  options: RefitOptions = {},
  read: { aggregates: boolean } = { aggregates: true },
): Promise<RefitInput> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const asOf = options.asOf ?? now;
  const period = options.period ?? 'week';
  const valueOptions: ValueOptions = {
    period,
    horizon: options.horizon ?? DEFAULTS[period].horizon,
    annualDiscountRate: options.annualDiscountRate ?? DEFAULTS[period].annualDiscountRate,
  };
  assertValueOptions(valueOptions);
  // Money is counted in one currency: others only through the workspace's rates, never added as they are.
  const byCurrency = await repo.countPurchasesByCurrency(tx, workspaceId, asOf);
  const currency = options.valueCurrency ?? byCurrency[0]?.currency ?? null;
  const exchangeRates = { ...(options.exchangeRates ?? {}) };
  const unconverted = byCurrency.filter(
    (c) => c.currency !== currency && !Object.hasOwn(exchangeRates, c.currency),
  );
  const aggregates =
    currency === null || !read.aggregates
      ? []
      : await repo.aggregatePurchases(tx, workspaceId, {
          end: asOf,
          money: { currency, decimals: currencyDecimals(currency), rates: exchangeRates },
        });
  return {
    now,
    asOf,
    valueOptions,
    currency,
    exchangeRates,
    unconverted,
    aggregates,
    aggregateSeconds: seconds(started),
  };
}

/**
 * One part of a refit's read, for a read in several short transactions: the aggregates of the next
 * `size` customers after `after` in id order (null: from the first), appended to `input.aggregates`.
 * Answers where the next part starts, or null after the last.
 */
export async function readRefitAggregates(
  tx: Tx,
  workspaceId: string,
  input: RefitInput,
  after: string | null,
  size: number,
): Promise<string | null> {
  if (input.currency === null) return null;
  const started = performance.now();
  const upTo = await repo.findCustomerRangeEnd(tx, workspaceId, after, size);
  const part = await repo.aggregatePurchases(tx, workspaceId, {
    end: input.asOf,
    money: {
      currency: input.currency,
      decimals: currencyDecimals(input.currency),
      rates: input.exchangeRates,
    },
    range: { after, upTo },
  });
  for (const aggregate of part) input.aggregates.push(aggregate);
  input.aggregateSeconds = Number((input.aggregateSeconds + seconds(started)).toFixed(3));
  return upTo;
}

/**
 * The arithmetic of a refit, without the database: BG/NBD and Gamma-Gamma fitted by maximum
 * likelihood, RFM quintiles over all customers, and, when the fit may be stored, every profile. Pure
 * and CPU-bound: the backbone runs it in a worker thread (`fitValueInWorker`).
 */
export function computeRefit(input: RefitInput): RefitComputation {
  const { asOf, now, valueOptions, currency, exchangeRates, unconverted, aggregates } = input;
  const endDay = dayOf(asOf);
  const summaries = aggregates.map((a) => computeProfileSummary(a, endDay, valueOptions.period));
  if (summaries.length === 0) {
    return {
      verdict: 'no_purchases',
      model: null,
      profiles: [],
      segments: {},
      seconds: { fit: 0, score: 0 },
    };
  }
  const fitStarted = performance.now();
  const bgnbd = fitBgNbd(summaries);
  const gammaGamma = fitSpend(summaries);
  const fitted = seconds(fitStarted);
  const model: StoredValueModel = {
    fittedAt: now,
    ...valueOptions,
    bgnbd: {
      params: bgnbd.params,
      standardErrors: bgnbd.standardErrors,
      logLikelihood: bgnbd.logLikelihood,
      customers: bgnbd.customers,
    },
    gammaGamma: gammaGamma && {
      params: gammaGamma.params,
      standardErrors: gammaGamma.standardErrors,
      logLikelihood: gammaGamma.logLikelihood,
      customers: gammaGamma.customers,
    },
    rfm: computeRfmThresholds(summaries),
    calibration: {
      end: asOf.toISOString(),
      customers: summaries.length,
      purchaseDays: summaries.reduce((sum, s) => sum + s.purchases, 0),
      meanSpend: computeMeanSpend(gammaGamma?.params ?? null, summaries),
      ...(currency === null ? {} : { currency }),
      exchangeRates,
      unconverted,
    },
    convergence: {
      bgnbd: {
        converged: bgnbd.converged,
        iterations: bgnbd.iterations,
        atBoundary: bgnbd.atBoundary,
        startsAgreeing: bgnbd.startsAgreeing,
      },
      ...(gammaGamma
        ? {
            gammaGamma: {
              converged: gammaGamma.converged,
              iterations: gammaGamma.iterations,
              atBoundary: gammaGamma.atBoundary,
              startsAgreeing: gammaGamma.startsAgreeing,
            },
          }
        : {}),
    },
  };
  const verdict = computeFitVerdict(model);
  if (verdict !== 'fitted') {
    return { verdict, model, profiles: [], segments: {}, seconds: { fit: fitted, score: 0 } };
  }
  const scoreStarted = performance.now();
  const models = profileModelsOf(model);
  const cache: PredictionCache = new Map();
  const segments: Partial<Record<RfmSegment, number>> = {};
  const profiles = summaries.map((summary, i) => {
    const profile = computeValueProfile(summary, models, valueOptions, cache);
    segments[profile.rfmSegment] = (segments[profile.rfmSegment] ?? 0) + 1;
    const aggregate = aggregates[i];
    return {
      ...profile,
      firstPurchaseAt: aggregate?.firstPurchaseAt ?? asOf,
      lastPurchaseAt: aggregate?.lastPurchaseAt ?? asOf,
    };
  });
  return { verdict, model, profiles, segments, seconds: { fit: fitted, score: seconds(scoreStarted) } };
}

/**
 * The write of a refit, and its report: a fitted model is stored and its profiles written (in `tx`,
 * unless `profilesWritten` says they were already written in short transactions of their own, and how
 * many seconds that took), then the profiles not written since `now` removed; a refused fit keeps the
 * previous model and says why; no purchases removes every profile.
 */
export async function storeRefit(
  tx: Tx,
  workspaceId: string,
  input: RefitInput,
  computed: RefitComputation,
  options: { started?: number; profilesWritten?: { seconds: number } } = {},
): Promise<RefitReport> {
  const started = options.started ?? performance.now();
  const { now, asOf, currency, unconverted } = input;
  const base = {
    currency,
    unconverted,
    fittedAt: now.toISOString(),
    asOf: asOf.toISOString(),
  };
  if (computed.verdict === 'no_purchases' || computed.model === null) {
    const removed = await repo.deleteProfilesNotUpdatedSince(tx, workspaceId, now);
    return {
      status: 'no_purchases',
      customers: 0,
      ...base,
      model: null,
      refused: null,
      segments: {},
      removed,
      seconds: { aggregate: input.aggregateSeconds, fit: 0, score: 0, write: 0, total: seconds(started) },
    };
  }
  const model = computed.model;
  if (computed.verdict !== 'fitted') {
    // A fit that stopped short of a maximum, or found it at the edge, describes no population: the
    // previous model and every profile stay as they were, and the answer says why.
    const previous = await repo.findValueModelRow(tx, workspaceId);
    return {
      status: computed.verdict,
      customers: input.aggregates.length,
      ...base,
      model: previous ?? null,
      refused: { reason: explainFitVerdict(computed.verdict, model, previous !== undefined), model },
      segments: {},
      removed: 0,
      seconds: {
        aggregate: input.aggregateSeconds,
        fit: computed.seconds.fit,
        score: 0,
        write: 0,
        total: seconds(started),
      },
    };
  }
  const writeStarted = performance.now();
  await repo.saveValueModel(tx, workspaceId, model);
  if (!options.profilesWritten)
    await repo.upsertValueProfiles(tx, workspaceId, computed.profiles, asOf, now, currency as string);
  const removed = await repo.deleteProfilesNotUpdatedSince(tx, workspaceId, now);
  return {
    status: 'fitted',
    customers: computed.profiles.length,
    ...base,
    model,
    refused: null,
    segments: computed.segments,
    removed,
    seconds: {
      aggregate: input.aggregateSeconds,
      fit: computed.seconds.fit,
      score: computed.seconds.score,
      write: seconds(writeStarted) + (options.profilesWritten?.seconds ?? 0),
      total: seconds(started),
    },
  };
}

/**
 * Full refit of a workspace in the caller's transaction: purchases aggregated per customer and day in
 * one statement, BG/NBD and Gamma-Gamma fitted by maximum likelihood, every profile recomputed (RFM
 * quintiles over all customers) and written in bulk; profiles of customers without purchases any more
 * are removed. The fit runs on the calling thread: the backbone's scheduled refit uses the same steps
 * with short transactions and a worker thread instead (governance's `refitValueOfWorkspaces`).
 */
export async function refitWorkspaceValue(
  tx: Tx,
  workspaceId: string,
  options: RefitOptions = {},
): Promise<RefitReport> {
  const started = performance.now();
  const input = await readRefitInput(tx, workspaceId, options);
  return storeRefit(tx, workspaceId, input, computeRefit(input), { started });
}

/**
 * Writes a part of a refit's profiles (a short transaction of its own), leaving alone the profiles an
 * event rewrote after the refit read its purchases (updated after `now`): they carry newer purchases.
 */
export function writeRefitProfiles(
  tx: Tx,
  workspaceId: string,
  input: Pick<RefitInput, 'asOf' | 'now' | 'currency'>,
  profiles: readonly RefitProfile[],
): Promise<void> {
  return repo.upsertValueProfiles(
    tx,
    workspaceId,
    profiles,
    input.asOf,
    input.now,
    input.currency as string,
    {
      unlessUpdatedAfter: input.now,
    },
  );
}

/** Customers whose profiles were rewritten by events after `since` (to rescore with a new model). */
export function listProfilesUpdatedAfter(tx: Tx, workspaceId: string, since: Date): Promise<string[]> {
  return repo.listProfilesUpdatedAfter(tx, workspaceId, since);
}

/**
 * Recomputes the summary statistics and predictions of the given customers with the stored model (no
 * refit; RFM against the stored quintile boundaries), as of the value clock `asOf`. Nothing happens
 * before a first fit. Returns how many profiles were written. Cheap enough for every ingest: one lookup
 * of the model, one aggregating statement over those customers' interactions, one bulk upsert.
 */
export async function updateProfilesForCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  asOf: Date = new Date(),
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const stored = await repo.findValueModelRow(tx, workspaceId);
  // A model fitted before its currency was recorded is refreshed by the next refit, not here.
  const currency = stored?.calibration.currency;
  if (!stored || currency === undefined) return 0;
  const ids = [...new Set(customerIds)];
  const aggregates = await repo.aggregatePurchases(tx, workspaceId, {
    end: asOf,
    customerIds: ids,
    money: { currency, decimals: currencyDecimals(currency), rates: stored.calibration.exchangeRates ?? {} },
  });
  const endDay = dayOf(asOf);
  const models = profileModelsOf(stored);
  // A model stored before horizons were bounded may carry a longer one: value over the longest allowed
  // rather than refuse every ingest of the workspace.
  const options: ValueOptions = {
    period: stored.period,
    horizon: Math.min(stored.horizon, Math.floor(MAX_HORIZON_DAYS / PERIOD_DAYS[stored.period])),
    annualDiscountRate: Math.min(stored.annualDiscountRate, MAX_ANNUAL_DISCOUNT_RATE),
  };
  const cache: PredictionCache = new Map();
  const profiles = aggregates.map((a) => ({
    ...computeValueProfile(computeProfileSummary(a, endDay, stored.period), models, options, cache),
    firstPurchaseAt: a.firstPurchaseAt,
    lastPurchaseAt: a.lastPurchaseAt,
  }));
  await repo.upsertValueProfiles(tx, workspaceId, profiles, asOf, new Date(), currency);
  const kept = new Set(aggregates.map((a) => a.customerId));
  await repo.deleteProfiles(
    tx,
    workspaceId,
    ids.filter((id) => !kept.has(id)),
  );
  return profiles.length;
}

/** A customer's stored value profile (camel case), as of its `asOf`. */
export interface StoredValueProfile {
  customerId: string;
  purchases: number;
  frequency: number;
  totalSpend: number;
  monetaryValue: number;
  firstPurchaseAt: string;
  lastPurchaseAt: string;
  pAlive: number;
  expectedPurchases: number;
  expectedSpend: number;
  clv: number;
  rfm: { r: number; f: number; m: number; segment: string };
  /** The ISO 4217 currency of totalSpend, monetaryValue, expectedSpend and clv. */
  currency: string | null;
  asOf: string;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

/** A customer's stored value profile, or undefined before a fit or without purchases. */
export async function findValueProfile(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<StoredValueProfile | undefined> {
  const row = await repo.findValueProfileRow(tx, workspaceId, customerId);
  if (!row) return undefined;
  return {
    customerId: row.customer_id,
    purchases: row.purchases,
    frequency: row.frequency,
    totalSpend: row.total_spend,
    monetaryValue: row.monetary,
    firstPurchaseAt: iso(row.first_purchase_at),
    lastPurchaseAt: iso(row.last_purchase_at),
    pAlive: row.p_alive,
    expectedPurchases: row.expected_purchases,
    expectedSpend: row.expected_spend,
    clv: row.clv,
    rfm: { r: row.rfm_r, f: row.rfm_f, m: row.rfm_m, segment: row.rfm_segment },
    currency: row.currency === null ? null : row.currency.trim(),
    asOf: iso(row.as_of),
  };
}

/** The workspace's stored model, or undefined before a first fit. */
export function findValueModel(tx: Tx, workspaceId: string): Promise<StoredValueModel | undefined> {
  return repo.findValueModelRow(tx, workspaceId);
}
