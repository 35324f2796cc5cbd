/**
 * Customer value: the numerics of RFM and CLV (SPEC §8) and the stored value profiles. It owns the
 * special functions and optimiser the models need, the BG/NBD, Gamma-Gamma and Pareto/NBD likelihoods
 * and their maximum-likelihood fits, the per-customer predictions (P(alive), expected purchases,
 * expected spend, discounted CLV), RFM scores and segments, the summary of transactions into the
 * literature's (x, t_x, T, m̄) figures, a streaming reader of transactions CSV files, and seeded
 * simulation from the models; and, over the database, the workspace's fitted model and one value
 * profile per customer (`value.service.ts`: the refit job and the per-customer update ingest calls).
 * The models themselves stay pure: they never touch the database, read the clock or draw unseeded
 * random numbers; only the service reads and writes the `value_models` and `value_profiles` tables,
 * and it reads interactions only through its own aggregating SQL. It knows nothing of purposes: the
 * governed reads above it decide who may see a profile.
 */

export {
  /** Throws PURCHASE_HISTORY_INVALID unless 0 ≤ recency ≤ T and the frequency is a whole number ≥ 0. */
  assertPurchaseHistory,
  /** A fitted BG/NBD model with standard errors and convergence. */
  type BgNbdFit,
  /** BG/NBD parameters. */
  type BgNbdParams,
  /** One customer's BG/NBD expected purchases in the next t periods. */
  computeBgNbdConditionalExpectedPurchases,
  /** E[X(t)] of a customer who has just made a first purchase. */
  computeBgNbdExpectedPurchases,
  /** One customer's BG/NBD log-likelihood. */
  computeBgNbdLogLikelihood,
  /** One customer's BG/NBD probability of being alive. */
  computeBgNbdProbabilityAlive,
  /** The BG/NBD log-likelihood of many customers. */
  computeBgNbdTotalLogLikelihood,
  /** Fits BG/NBD by maximum likelihood. */
  fitBgNbd,
} from './bgnbd.ts';
export {
  /** One customer's Gamma-Gamma expected spend per purchase. */
  computeGammaGammaExpectedSpend,
  /** One customer's Gamma-Gamma log-likelihood. */
  computeGammaGammaLogLikelihood,
  /** Mean spend per purchase across the population. */
  computeGammaGammaPopulationMean,
  /** The Gamma-Gamma log-likelihood of many customers. */
  computeGammaGammaTotalLogLikelihood,
  /** Fits Gamma-Gamma by maximum likelihood on customers with a repeat purchase. */
  fitGammaGamma,
  /** A fitted Gamma-Gamma model with standard errors and convergence. */
  type GammaGammaFit,
  /** Gamma-Gamma parameters. */
  type GammaGammaParams,
  /** Whether a customer enters the spend model (a repeat purchase and a positive mean value). */
  isSpendModelled,
  /** What the spend model reads of a customer. */
  type SpendHistory,
} from './gammagamma.ts';
export {
  /** Pareto/NBD expected purchases in the next t periods. */
  computeParetoNbdConditionalExpectedPurchases,
  /** One customer's Pareto/NBD log-likelihood. */
  computeParetoNbdLogLikelihood,
  /** One customer's Pareto/NBD probability of being alive. */
  computeParetoNbdProbabilityAlive,
  /** Fits Pareto/NBD by maximum likelihood. */
  fitParetoNbd,
  /** A fitted Pareto/NBD model. */
  type ParetoNbdFit,
  /** Pareto/NBD parameters. */
  type ParetoNbdParams,
} from './paretonbd.ts';
export {
  /** Whether a fit may be stored: every model converged inside the parameter space. */
  computeFitVerdict,
  /** The models' figures of one aggregate at a calibration end. */
  computeProfileSummary,
  /** Quintile boundaries that reproduce the quintile scores of a population. */
  computeQuintileBoundaries,
  /** One customer's profile from stored models. */
  computeValueProfile,
  /** One sentence on a refused fit. */
  explainFitVerdict,
  /** Whether a fit may be stored, or why not. */
  type FitVerdict,
  /** One customer's purchases as the database aggregates them. */
  type PurchaseAggregate,
  /** A workspace's fitted model as stored. */
  type StoredValueModel,
  /** A computed value profile. */
  type ValueProfile,
} from './profile.ts';
export {
  /** Quintile scores 1–5 of values (larger scores higher; ties share a score). */
  computeQuintileScores,
  /** RFM scores and named segments of customers scored together. */
  computeRfmScores,
  /** The named segment of a recency and frequency score. */
  computeRfmSegment,
  /** The named RFM segments. */
  RFM_SEGMENTS,
  /** What RFM reads of a customer. */
  type RfmInput,
  /** A customer's RFM scores and segment. */
  type RfmScore,
  /** A named RFM segment. */
  type RfmSegment,
} from './rfm.ts';
export {
  /** Refuses a horizon or discount rate out of range (the valuation loop's bound). */
  assertValueOptions,
  /** One customer's value. */
  type CustomerValue,
  /** Per-customer value and RFM from fitted models. */
  computeCustomerValues,
  /** Discounted expected purchases over a horizon, in monthly steps. */
  computeDiscountedPurchases,
  /** The highest annual discount rate accepted. */
  MAX_ANNUAL_DISCOUNT_RATE,
  /** The longest horizon valued, in days (ten years). */
  MAX_HORIZON_DAYS,
  /** The fitted models value is computed from. */
  type ValueModels,
  /** Horizon, discount rate and period of a valuation. */
  type ValueOptions,
} from './score.ts';
export {
  /** A simulated customer with its latent rate and state. */
  type SimulatedCustomer,
  /** Options of a summary-level simulation. */
  type SimulationOptions,
  /** Seeded BG/NBD customers. */
  simulateBgNbdCustomers,
  /** Seeded Pareto/NBD customers. */
  simulateParetoNbdCustomers,
  /** Seeded dated BG/NBD transactions with Gamma-Gamma amounts. */
  simulateTransactions,
  /** Options of a transaction-level simulation. */
  type TransactionSimulationOptions,
} from './simulate.ts';
export {
  /** One customer's figures at the calibration end. */
  type CustomerSummary,
  /** Days since 1970-01-01 of an ISO date; NaN when it is not one. */
  computeDayNumber,
  /** The ISO date of a day number. */
  formatDayNumber,
  /** Days in each period. */
  PERIOD_DAYS,
  /** The unit of durations. */
  type Period,
  /** The figures of the purchase-process models: frequency, recency, T. */
  type PurchaseHistory,
  /** How transactions are summarised. */
  type SummaryOptions,
  /** Summarised customers and what was left out. */
  type SummaryResult,
  /** What the spend model reads of a summarised customer (zero-amount days left out). */
  spendHistoryOf,
  /** Summarises transactions into per-customer figures with the literature's conventions. */
  summariseTransactions,
  /** One purchase: customer, date, amount. */
  type Transaction,
} from './summary.ts';
export {
  /** Fresh zeroed read statistics. */
  emptyReadStats,
  /** A written date as an ISO date, or undefined. */
  normaliseDate,
  /** Streams transactions from a CSV file. */
  readTransactionsCsv,
  /** Which columns of a CSV file hold what. */
  type TransactionColumns,
  /** One line of a transactions file as read (with the item, invoice, quantity and price when named). */
  type TransactionLine,
  /** What reading a transactions file saw and skipped. */
  type TransactionReadStats,
} from './transactions-csv.ts';
export {
  /** Deletes the customers' value profiles (erasure). */
  eraseValueProfiles,
} from './value.erasure.ts';
export {
  /** The arithmetic of a refit (fit and score), without the database. */
  computeRefit,
  /** The workspace's stored model, or undefined before a first fit. */
  findValueModel,
  /** A customer's stored value profile, or undefined. */
  findValueProfile,
  /** Customers whose profiles were rewritten by events after an instant. */
  listProfilesUpdatedAfter,
  /** What a refit computed: the model, its verdict and every profile. */
  type RefitComputation,
  /** What a refit reads and hands to the fit. */
  type RefitInput,
  /** How a refit values customers. */
  type RefitOptions,
  /** A profile as a refit computes it. */
  type RefitProfile,
  /** What a refit did. */
  type RefitReport,
  /** How a refit ended: fitted, no purchases, or a refused fit (not converged, at the boundary). */
  type RefitStatus,
  /** One part of a refit's read: the next customers' aggregates. */
  readRefitAggregates,
  /** The read of a refit (short transaction). */
  readRefitInput,
  /** Full refit of a workspace: aggregate, fit, score, write in bulk. */
  refitWorkspaceValue,
  /** A customer's stored value profile. */
  type StoredValueProfile,
  /** The write of a refit and its report. */
  storeRefit,
  /** Recomputes the given customers' profiles with the stored model (no refit); for ingest. */
  updateProfilesForCustomers,
  /** Writes a batch of a refit's profiles, leaving those events rewrote since alone. */
  writeRefitProfiles,
} from './value.service.ts';
export {
  /** Fits and scores a refit in a worker thread (the event loop keeps answering). */
  fitValueInWorker,
} from './worker.ts';
