import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { refitValueOfWorkspaces } from '../governance/index.ts';
import { invalid } from '../shared/errors.ts';
import {
  assertValueOptions,
  type BgNbdFit,
  type CustomerSummary,
  computeBgNbdConditionalExpectedPurchases,
  computeCustomerValues,
  computeDayNumber,
  emptyReadStats,
  fitBgNbd,
  fitGammaGamma,
  fitParetoNbd,
  type GammaGammaFit,
  type ParetoNbdFit,
  PERIOD_DAYS,
  type Period,
  readTransactionsCsv,
  type SummaryResult,
  spendHistoryOf,
  summariseTransactions,
  type TransactionReadStats,
} from '../value/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

/** Options shared by `value fit` and `value score`. */
interface InputOptions {
  transactions: string;
  customerCol: string;
  dateCol: string;
  amountCol?: string;
  quantityCol?: string;
  priceCol?: string;
  dayFirst?: boolean;
  calibrationEnd: string;
  period: string;
}

interface FitOptions extends InputOptions {
  paretoNbd?: boolean;
}

interface ScoreOptions extends InputOptions {
  out: string;
  horizon?: string;
  discountRate: string;
  holdoutEnd?: string;
}

function parsePeriod(value: string): Period {
  if (value === 'week' || value === 'day') return value;
  throw invalid('PERIOD_INVALID', 'The period must be week or day.', { period: value });
}

function parsePositive(value: string, code: string, what: string, allowZero = false): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
    throw invalid(code, `${what} must be a ${allowZero ? 'non-negative' : 'positive'} number.`, { value });
  }
  return number;
}

function assertIsoDate(value: string, option: string): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(computeDayNumber(value))) {
    throw invalid('DATE_INVALID', `${option} must be a date written YYYY-MM-DD.`, { [option]: value });
  }
}

/** Reads and summarises the transactions file named by the options. */
async function summarise(
  options: InputOptions,
  holdoutEnd?: string,
): Promise<{ summary: SummaryResult; stats: TransactionReadStats; period: Period }> {
  const period = parsePeriod(options.period);
  assertIsoDate(options.calibrationEnd, '--calibration-end');
  if (holdoutEnd !== undefined) assertIsoDate(holdoutEnd, '--holdout-end');
  const stats = emptyReadStats();
  const transactions = readTransactionsCsv(
    options.transactions,
    {
      customer: options.customerCol,
      date: options.dateCol,
      ...(options.amountCol === undefined ? {} : { amount: options.amountCol }),
      ...(options.quantityCol === undefined ? {} : { quantity: options.quantityCol }),
      ...(options.priceCol === undefined ? {} : { price: options.priceCol }),
      dayFirst: options.dayFirst === true,
    },
    stats,
  );
  const summary = await summariseTransactions(transactions, {
    calibrationEnd: options.calibrationEnd,
    period,
    ...(holdoutEnd === undefined ? {} : { holdoutEnd }),
  });
  return { summary, stats, period };
}

function inputJson(summary: SummaryResult, stats: TransactionReadStats): Record<string, number> {
  return {
    rows: stats.rows,
    skippedMissingCustomer: stats.missingCustomer,
    skippedNegativeAmount: stats.negativeAmount,
    zeroAmount: stats.zeroAmount,
    transactions: stats.used,
    afterCalibrationEnd: summary.afterCalibration,
    customersOnlyAfterCalibrationEnd: summary.customersOnlyAfter,
  };
}

/** A fit as printed: the parameters in the literature's names, the log-likelihood, then the diagnostics. */
function fitJson(
  fit: BgNbdFit | GammaGammaFit | ParetoNbdFit,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { params, logLikelihood, standardErrors, converged, iterations, atBoundary } = fit;
  const starts = 'starts' in fit ? { startsAgreeing: fit.startsAgreeing, starts: fit.starts } : {};
  return {
    ...params,
    loglik: logLikelihood,
    ...extra,
    standardErrors,
    converged,
    iterations,
    ...starts,
    atBoundary,
  };
}

function sig(value: number, digits = 4): string {
  return Number.isFinite(value) ? value.toPrecision(digits) : String(value);
}

function withSe(name: string, value: number, se: number): string {
  return `${name} ${sig(value)} (se ${sig(se, 2)})`;
}

function inputLines(summary: SummaryResult, stats: TransactionReadStats): string[] {
  return [
    `Read ${stats.rows} rows: ${stats.used} transactions (${stats.zeroAmount} of amount 0, counted as purchases but not as spend), ` +
      `${stats.missingCustomer} skipped without a customer id, ${stats.negativeAmount} skipped with a negative amount; ` +
      `${summary.afterCalibration} after the calibration end.`,
    `Customers: ${summary.customers.length} (${summary.customersOnlyAfter} more first bought after the calibration end).`,
  ];
}

const BOUNDARY_NOTE =
  '             The likelihood is highest at the edge of the parameter space (a parameter tends to 0 or infinity; ' +
  'for BG/NBD, a → 0 with b → ∞ means no dropout: the NBD model): the estimates are limits, without standard errors.';

function fitLines(bgnbd: BgNbdFit, gammaGamma: GammaGammaFit | undefined): string[] {
  const p = bgnbd.params;
  const se = bgnbd.standardErrors;
  const lines = [
    `BG/NBD       ${withSe('r', p.r, se.r)}, ${withSe('alpha', p.alpha, se.alpha)}, ${withSe('a', p.a, se.a)}, ${withSe('b', p.b, se.b)}; ` +
      `log-likelihood ${bgnbd.logLikelihood.toFixed(2)}; ${bgnbd.converged ? 'converged' : 'NOT converged'} (${bgnbd.iterations} iterations, ${bgnbd.startsAgreeing} of ${bgnbd.starts} starts agree).`,
  ];
  if (bgnbd.atBoundary) lines.push(BOUNDARY_NOTE);
  if (gammaGamma) {
    const g = gammaGamma.params;
    const gse = gammaGamma.standardErrors;
    lines.push(
      `Gamma-Gamma  ${withSe('p', g.p, gse.p)}, ${withSe('q', g.q, gse.q)}, ${withSe('gamma', g.gamma, gse.gamma)}; ` +
        `log-likelihood ${gammaGamma.logLikelihood.toFixed(2)} over ${gammaGamma.customers} customers with a repeat; ` +
        `${gammaGamma.converged ? 'converged' : 'NOT converged'} (${gammaGamma.iterations} iterations).`,
    );
    if (gammaGamma.atBoundary) lines.push(BOUNDARY_NOTE);
  } else {
    lines.push('Gamma-Gamma  not fitted: no customer has a repeat purchase.');
  }
  return lines;
}

function fitSpend(customers: readonly CustomerSummary[]): GammaGammaFit | undefined {
  const spend = customers.map(spendHistoryOf);
  return spend.some((c) => c.frequency > 0 && c.monetaryValue > 0) ? fitGammaGamma(spend) : undefined;
}

async function valueFit(options: FitOptions, global: GlobalOptions): Promise<void> {
  const started = performance.now();
  const { summary, stats, period } = await summarise(options);
  const fitStarted = performance.now();
  const bgnbd = fitBgNbd(summary.customers);
  const gammaGamma = fitSpend(summary.customers);
  const paretoNbd = options.paretoNbd ? fitParetoNbd(summary.customers) : undefined;
  const fitSeconds = (performance.now() - fitStarted) / 1000;
  const seconds = (performance.now() - started) / 1000;
  const value = {
    customers: summary.customers.length,
    bgnbd: fitJson(bgnbd),
    gammagamma: gammaGamma ? fitJson(gammaGamma, { customers: gammaGamma.customers }) : null,
    ...(paretoNbd ? { paretonbd: fitJson(paretoNbd) } : {}),
    period,
    calibrationEnd: options.calibrationEnd,
    input: inputJson(summary, stats),
    seconds: { total: Number(seconds.toFixed(3)), fit: Number(fitSeconds.toFixed(3)) },
  };
  emit(global, value, () => {
    const lines = [...inputLines(summary, stats), ...fitLines(bgnbd, gammaGamma)];
    if (paretoNbd) {
      const p = paretoNbd.params;
      lines.push(
        `Pareto/NBD   r ${sig(p.r)}, alpha ${sig(p.alpha)}, s ${sig(p.s)}, beta ${sig(p.beta)}; log-likelihood ${paretoNbd.logLikelihood.toFixed(2)}.`,
      );
    }
    lines.push(
      `Durations in ${period}s; fitted in ${fitSeconds.toFixed(2)} s (${seconds.toFixed(2)} s with reading).`,
    );
    return lines.join('\n');
  });
}

/** A CSV field, quoted when it needs to be. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function valueScore(options: ScoreOptions, global: GlobalOptions): Promise<void> {
  const period = parsePeriod(options.period);
  const defaultHorizon = period === 'week' ? 52 : 365;
  const horizon =
    options.horizon === undefined
      ? defaultHorizon
      : parsePositive(options.horizon, 'HORIZON_INVALID', 'The horizon (in periods)');
  const discountRate = parsePositive(
    options.discountRate,
    'DISCOUNT_RATE_INVALID',
    'The discount rate',
    true,
  );
  if (options.holdoutEnd !== undefined && options.holdoutEnd <= options.calibrationEnd) {
    throw invalid('HOLDOUT_END_INVALID', 'The holdout end must come after the calibration end.', {
      calibrationEnd: options.calibrationEnd,
      holdoutEnd: options.holdoutEnd,
    });
  }
  assertValueOptions({ period, horizon, annualDiscountRate: discountRate });
  const { summary, stats } = await summarise(options, options.holdoutEnd);
  const bgnbd = fitBgNbd(summary.customers);
  const gammaGamma = fitSpend(summary.customers);
  if (!gammaGamma) {
    throw invalid(
      'FIT_NO_DATA',
      'No customer has a repeat purchase, so spend per purchase cannot be fitted.',
    );
  }
  const values = computeCustomerValues(
    summary.customers,
    { bgnbd: bgnbd.params, gammaGamma: gammaGamma.params },
    { period, horizon, annualDiscountRate: discountRate },
  );
  const holdoutPeriods =
    options.holdoutEnd === undefined
      ? undefined
      : (computeDayNumber(options.holdoutEnd) - computeDayNumber(options.calibrationEnd)) /
        PERIOD_DAYS[period];
  const out = createWriteStream(options.out);
  const header = [
    'customer_id',
    'frequency',
    'recency',
    'T',
    'monetary_value',
    'total_spend',
    'p_alive',
    'expected_purchases',
    'expected_spend',
    'clv',
    'r_score',
    'f_score',
    'm_score',
    'segment',
    ...(holdoutPeriods === undefined ? [] : ['holdout_purchases', 'predicted_holdout_purchases']),
  ];
  out.write(`${header.join(',')}\n`);
  let totalExpected = 0;
  let totalClv = 0;
  let actual = 0;
  let predicted = 0;
  let absoluteError = 0;
  const segments: Record<string, number> = {};
  summary.customers.forEach((customer, i) => {
    const value = values[i];
    if (!value) return;
    totalExpected += value.expectedPurchases;
    totalClv += value.clv;
    segments[value.segment] = (segments[value.segment] ?? 0) + 1;
    const row: (string | number)[] = [
      customer.customerId,
      customer.frequency,
      customer.recency,
      customer.T,
      customer.monetaryValue,
      customer.totalSpend,
      value.probabilityAlive,
      value.expectedPurchases,
      value.expectedSpend,
      value.clv,
      value.recencyScore,
      value.frequencyScore,
      value.monetaryScore,
      value.segment,
    ];
    if (holdoutPeriods !== undefined) {
      const forecast = computeBgNbdConditionalExpectedPurchases(bgnbd.params, customer, holdoutPeriods);
      actual += customer.holdoutFrequency;
      predicted += forecast;
      absoluteError += Math.abs(forecast - customer.holdoutFrequency);
      row.push(customer.holdoutFrequency, forecast);
    }
    out.write(`${row.map(csvField).join(',')}\n`);
  });
  out.end();
  await finished(out);
  const n = summary.customers.length;
  const holdout =
    holdoutPeriods === undefined
      ? undefined
      : {
          end: options.holdoutEnd,
          periods: holdoutPeriods,
          actualPurchases: actual,
          predictedPurchases: predicted,
          meanAbsoluteError: n > 0 ? absoluteError / n : 0,
        };
  const json = {
    customers: n,
    out: options.out,
    period,
    horizon,
    discountRate,
    bgnbd: fitJson(bgnbd),
    gammagamma: fitJson(gammaGamma, { customers: gammaGamma.customers }),
    totals: { expectedPurchases: totalExpected, clv: totalClv },
    segments,
    ...(holdout ? { holdout } : {}),
    input: inputJson(summary, stats),
  };
  emit(global, json, () => {
    const lines = [...inputLines(summary, stats), ...fitLines(bgnbd, gammaGamma)];
    lines.push(
      `Wrote ${n} customers to ${options.out}: ${totalExpected.toFixed(1)} purchases expected over ${horizon} ${period}s, ` +
        `discounted CLV ${totalClv.toFixed(2)} in total (annual discount rate ${discountRate}).`,
    );
    lines.push(
      `Segments: ${Object.entries(segments)
        .sort((x, y) => y[1] - x[1])
        .map(([name, count]) => `${name} ${count}`)
        .join(', ')}.`,
    );
    if (holdout) {
      lines.push(
        `Holdout to ${holdout.end} (${holdout.periods.toFixed(1)} ${period}s): ${holdout.actualPurchases} repeat purchase days, ` +
          `${holdout.predictedPurchases.toFixed(1)} predicted; mean absolute error ${holdout.meanAbsoluteError.toFixed(3)} per customer.`,
      );
    }
    return lines.join('\n');
  });
}

function addInputOptions(command: Command): Command {
  return command
    .requiredOption('--transactions <file>', 'CSV file of transactions with a header row')
    .requiredOption('--customer-col <name>', 'column of the customer id (rows without one are skipped)')
    .requiredOption(
      '--date-col <name>',
      'column of the date: YYYY-MM-DD, YYYYMMDD or M/D/YYYY, a time after it ignored',
    )
    .option(
      '--amount-col <name>',
      'column of the amount (rows with a negative amount are skipped; amount 0 is a purchase, left out of spend)',
    )
    .option('--quantity-col <name>', 'column of the quantity, with --price-col instead of --amount-col')
    .option('--price-col <name>', 'column of the unit price (amount = quantity × price)')
    .option('--day-first', 'read slashed dates as D/M/YYYY')
    .requiredOption(
      '--calibration-end <date>',
      'last day (YYYY-MM-DD) of the period the models are fitted on',
    )
    .option('--period <unit>', 'unit of durations: week (days / 7) or day', 'week')
    .option('--json', 'print the result as JSON');
}

/** `value fit` and `value score`: offline customer-value models over a transactions file. */
export function registerValueCommands(program: Command): void {
  const value = program
    .command('value')
    .description('Customer value from a transactions file: BG/NBD and Gamma-Gamma fits, P(alive), CLV, RFM.');

  addInputOptions(
    value
      .command('fit')
      .description(
        'Fit BG/NBD (purchases) and Gamma-Gamma (spend per purchase) by maximum likelihood on the transactions ' +
          'up to the calibration end. Purchases on one day merge; frequency counts repeat purchase days, recency ' +
          'runs from the first to the last purchase, T from the first purchase to the calibration end.',
      )
      .option('--pareto-nbd', 'also fit Pareto/NBD (slower)'),
  ).action(
    action(async (options: FitOptions, command: Command) => {
      await valueFit(options, command.optsWithGlobals<GlobalOptions>());
    }),
  );

  addInputOptions(
    value
      .command('score')
      .description(
        'Fit the models and write per-customer P(alive), expected purchases, expected spend, discounted CLV ' +
          '(monthly steps) and RFM scores and segments to a CSV file.',
      )
      .requiredOption('--out <file>', 'where the per-customer CSV goes')
      .option(
        '--horizon <periods>',
        'horizon of expected purchases and CLV, in periods (default: 52 weeks or 365 days)',
      )
      .option('--discount-rate <rate>', 'annual discount rate of the CLV', '0.1')
      .option(
        '--holdout-end <date>',
        'compare predictions with the purchases from the calibration end to this day',
      ),
  ).action(
    action(async (options: ScoreOptions, command: Command) => {
      await valueScore(options, command.optsWithGlobals<GlobalOptions>());
    }),
  );

  registerValueRefitCommand(value);
}

interface RefitCommandOptions {
  workspace?: string[];
  period: string;
  horizon?: string;
  discountRate: string;
}

async function valueRefit(options: RefitCommandOptions, global: GlobalOptions): Promise<void> {
  const period = parsePeriod(options.period);
  const horizon =
    options.horizon === undefined
      ? undefined
      : parsePositive(options.horizon, 'HORIZON_INVALID', 'The horizon (in periods)');
  const annualDiscountRate = parsePositive(
    options.discountRate,
    'DISCOUNT_RATE_INVALID',
    'The discount rate',
    true,
  );
  const runs = await withDatabase((database) =>
    refitValueOfWorkspaces(database.db, options.workspace ?? [], {
      period,
      annualDiscountRate,
      ...(horizon === undefined ? {} : { horizon }),
    }),
  );
  emit(
    global,
    runs.map((r) => ({
      workspace: r.workspaceName,
      workspaceId: r.workspaceId,
      status: r.refit.status,
      asOf: r.refit.asOf,
      customers: r.refit.customers,
      currency: r.refit.currency,
      unconverted: r.refit.unconverted,
      bgnbd: r.refit.model?.bgnbd.params ?? null,
      gammagamma: r.refit.model?.gammaGamma?.params ?? null,
      convergence: r.refit.model?.convergence ?? null,
      rfmSegments: r.refit.segments,
      removed: r.refit.removed,
      refused: r.refit.refused,
      seconds: r.refit.seconds,
      segments: r.segments,
    })),
    () =>
      runs
        .map((r) => {
          const head = `${r.workspaceName}: ${r.refit.customers} customers with purchases, ${r.refit.status} as of ${r.refit.asOf} in ${r.refit.seconds.total.toFixed(2)} s`;
          if (r.refit.refused) return `${head}. ${r.refit.refused.reason}`;
          const p = r.refit.model?.bgnbd.params;
          const fit = p
            ? `; BG/NBD r ${sig(p.r)}, alpha ${sig(p.alpha)}, a ${sig(p.a)}, b ${sig(p.b)}` +
              (r.refit.model?.convergence.bgnbd?.converged ? '' : ' (NOT converged)')
            : '';
          const segments = Object.entries(r.segments)
            .map(([name, change]) => `${name} +${change.entered}/-${change.left}`)
            .join(', ');
          const money = r.refit.currency ? ` Money in ${r.refit.currency}.` : '';
          const left = r.refit.unconverted.map((u) => `${u.purchases} in ${u.currency}`).join(', ');
          const unconverted = left ? ` Left out (no exchange rate): ${left}.` : '';
          return `${head}${fit}.${money}${unconverted}${segments ? ` Segments: ${segments}.` : ''}`;
        })
        .join('\n') || 'No workspace.',
  );
}

/** `value refit`: the stored value model, profiles and segments of workspaces (the server's periodic job). */
function registerValueRefitCommand(value: Command): void {
  value
    .command('refit')
    .description(
      'Refit BG/NBD and Gamma-Gamma on the stored purchases (returns reduce spend), rewrite every value profile ' +
        '(P(alive), expected purchases and spend, discounted CLV, RFM) and refresh every segment.',
    )
    .option('--workspace <ref...>', 'workspace ids or names (default: every workspace)')
    .option('--period <unit>', 'unit of durations: week or day', 'week')
    .option('--horizon <periods>', 'horizon of expected purchases and CLV (default: 52 weeks or 365 days)')
    .option('--discount-rate <rate>', 'annual discount rate of the CLV', '0.1')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: RefitCommandOptions, command: Command) => {
        await valueRefit(options, command.optsWithGlobals<GlobalOptions>());
      }),
    );
}
