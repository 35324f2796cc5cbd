import type { Command } from 'commander';
import { trainRecommendationsOfWorkspaces } from '../governance/index.ts';
import {
  DEFAULT_GRID,
  EVALUATED_MODELS,
  type EvaluatedModel,
  type ItemEvent,
  runEvaluation,
  type TuningGrid,
} from '../recommendations/index.ts';
import { invalid } from '../shared/errors.ts';
import { computeDayNumber, emptyReadStats, readTransactionsCsv } from '../value/index.ts';
import { action, emit, type GlobalOptions, list, withDatabase } from './output.ts';

/** `recommend train` and `recommend evaluate`. */

/** The options of `recommend evaluate` (the columns and filters are also what the bench reads with). */
export interface EvaluateOptions {
  transactions: string;
  customerCol: string;
  dateCol: string;
  itemCol: string;
  invoiceCol?: string;
  quantityCol?: string;
  priceCol?: string;
  amountCol?: string;
  dayFirst?: boolean;
  itemPattern: string;
  splitDate: string;
  endDate?: string;
  k: string;
  lambdas?: string[];
  models?: string[];
}

function assertIsoDate(value: string, option: string): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(computeDayNumber(value))) {
    throw invalid('DATE_INVALID', `${option} must be a date written YYYY-MM-DD.`, { [option]: value });
  }
}

function parseK(value: string): number {
  const k = Number(value);
  if (!Number.isInteger(k) || k < 1 || k > 1000) {
    throw invalid('K_INVALID', '--k must be a whole number from 1 to 1000.', { k: value });
  }
  return k;
}

function parseLambdas(values: string[] | undefined): number[] {
  if (values === undefined) return DEFAULT_GRID.lambdas;
  const lambdas = values.map(Number);
  if (lambdas.some((l) => !(l > 0) || !Number.isFinite(l))) {
    throw invalid('LAMBDA_INVALID', '--lambdas must be positive numbers, comma separated.', {
      lambdas: values,
    });
  }
  return lambdas;
}

function parseModels(values: string[] | undefined): EvaluatedModel[] {
  if (values === undefined) return [...EVALUATED_MODELS];
  const unknown = values.filter((v) => !(EVALUATED_MODELS as readonly string[]).includes(v));
  if (unknown.length > 0 || values.length === 0) {
    throw invalid('MODEL_UNKNOWN', `--models takes ${EVALUATED_MODELS.join(', ')}.`, { unknown });
  }
  return values as EvaluatedModel[];
}

function parsePattern(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (error) {
    throw invalid('ITEM_PATTERN_INVALID', `--item-pattern is not a regular expression: ${String(error)}`, {
      value,
    });
  }
}

/**
 * The evaluation protocol's rows: a customer, not a cancellation (invoice starting with C), quantity
 * and unit price above 0 (or an amount above 0), an item code matching the pattern (Online Retail:
 * starting with a digit, which leaves out postage, fees and manual lines).
 */
export async function readItemEvents(options: EvaluateOptions, pattern: RegExp) {
  const stats = emptyReadStats();
  const events: ItemEvent[] = [];
  let dropped = 0;
  for await (const line of readTransactionsCsv(
    options.transactions,
    {
      customer: options.customerCol,
      date: options.dateCol,
      item: options.itemCol,
      ...(options.invoiceCol === undefined ? {} : { invoice: options.invoiceCol }),
      ...(options.amountCol === undefined
        ? { quantity: options.quantityCol ?? 'Quantity', price: options.priceCol ?? 'UnitPrice' }
        : { amount: options.amountCol }),
      dayFirst: options.dayFirst === true,
    },
    stats,
  )) {
    const cancelled = line.invoice?.startsWith('C') === true;
    const positive =
      line.quantity !== undefined && line.price !== undefined
        ? line.quantity > 0 && line.price > 0
        : line.amount > 0;
    if (cancelled || !positive || !pattern.test(line.item ?? '')) {
      dropped++;
      continue;
    }
    events.push({ customer: line.customerId, item: line.item ?? '', date: line.date });
  }
  return { events, stats, dropped };
}

async function recommendEvaluate(options: EvaluateOptions, global: GlobalOptions): Promise<void> {
  assertIsoDate(options.splitDate, '--split-date');
  if (options.endDate !== undefined) {
    assertIsoDate(options.endDate, '--end-date');
    if (options.endDate < options.splitDate) {
      throw invalid('END_DATE_INVALID', '--end-date must not come before --split-date.', {
        splitDate: options.splitDate,
        endDate: options.endDate,
      });
    }
  }
  const k = parseK(options.k);
  const grid: TuningGrid = { ...DEFAULT_GRID, lambdas: parseLambdas(options.lambdas) };
  const pattern = parsePattern(options.itemPattern);
  const models = parseModels(options.models);
  const started = performance.now();
  const { events, stats, dropped } = await readItemEvents(options, pattern);
  const readSeconds = (performance.now() - started) / 1000;
  const report = runEvaluation(events, {
    splitDate: options.splitDate,
    endDate: options.endDate,
    k,
    grid,
    models,
  });
  const value = {
    ...report,
    input: {
      rows: stats.rows,
      used: events.length,
      skippedMissingCustomer: stats.missingCustomer,
      skippedByProtocol: dropped + stats.negativeAmount,
    },
    seconds: { read: Number(readSeconds.toFixed(2)), ...report.seconds },
  };
  emit(global, value, () => {
    const v = report.validation;
    const lines = [
      `Read ${stats.rows} rows, ${events.length} item purchases kept. Train before ${options.splitDate}: ${report.customers} customers × ${report.items} items; ` +
        `${report.evaluated} customers bought something new by ${options.endDate ?? 'the end of the file'}.`,
      ...(v
        ? [
            `Chosen on the validation split (${v.testFrom} to ${v.testTo}, ${v.customers} customers, ${v.tried} settings, ` +
              `HR@${k} ${v.hitRate.toFixed(3)}): λ ${v.chosen.lambda}, half-life ${v.chosen.halfLifeDays || '∞'} days, ` +
              `frequency power ${v.chosen.frequencyPower}, trend ${v.chosen.trendWeight} over ${v.chosen.trendDays} days.`,
          ]
        : []),
      `model        HR@${k}   P@${k}    R@${k}`,
      ...Object.entries(report.models).map(
        ([name, m]) =>
          `${name.padEnd(12)} ${m.hitRate.toFixed(3)}  ${m.precision.toFixed(3)}  ${m.recall.toFixed(3)}`,
      ),
    ];
    return lines.join('\n');
  });
}

interface TrainOptions {
  workspace?: string[];
  asOf?: string;
}

async function recommendTrain(options: TrainOptions, global: GlobalOptions): Promise<void> {
  if (options.asOf !== undefined) assertIsoDate(options.asOf, '--as-of');
  const asOf = options.asOf === undefined ? undefined : new Date(`${options.asOf}T00:00:00Z`);
  const runs = await withDatabase((database) =>
    trainRecommendationsOfWorkspaces(
      database.db,
      options.workspace ?? [],
      asOf === undefined ? {} : { asOf },
    ),
  );
  emit(
    global,
    runs,
    () =>
      runs
        .map(
          (r) =>
            `${r.workspaceName}: ${r.customers} customers × ${r.items} items as of ${r.asOf} (${r.excluded} left out: objected or restricted); ` +
            `${r.seconds.total.toFixed(2)} s (read ${r.seconds.read.toFixed(2)}, train ${r.seconds.train.toFixed(2)}, store ${r.seconds.write.toFixed(2)}).`,
        )
        .join('\n') || 'No workspace.',
  );
}

/** `recommend train` (the stored model of workspaces) and `recommend evaluate` (offline, on a file). */
export function registerRecommendCommands(program: Command): void {
  const recommend = program
    .command('recommend')
    .description('Recommendations: train the workspace models; evaluate the models on a transactions file.');

  recommend
    .command('train')
    .description(
      "Train each workspace's recommendations (own history, the linear item model with trending items, popularity) " +
        "in a worker thread and store every customer's lists. Customers who objected to personalization or restricted " +
        'processing are left out of training.',
    )
    .option('--workspace <ref...>', 'workspace ids or names (default: every workspace)')
    .option('--as-of <date>', 'the day (YYYY-MM-DD) the lists are made for; purchases after it are not read')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: TrainOptions, command: Command) =>
        recommendTrain(options, command.optsWithGlobals<GlobalOptions>()),
      ),
    );

  recommend
    .command('evaluate')
    .description(
      'Temporal split of a transactions CSV: train before --split-date, test from it to --end-date. Customers who bought ' +
        'an item in the test period they had never bought are evaluated; each model recommends k items outside their ' +
        "training items. Reports hit rate, precision and recall at k for the product's model (settings chosen on a " +
        'validation split inside the training period) and for popularity, item-kNN (cosine), user-kNN (cosine, k = 50) ' +
        'and the linear item model (λ = 500). Online Retail column names by default.',
    )
    .requiredOption('--transactions <file>', 'CSV file of transaction lines with a header row')
    .requiredOption('--split-date <date>', 'first day (YYYY-MM-DD) of the test period')
    .option('--end-date <date>', 'last day (YYYY-MM-DD) of the test period (default: the end of the file)')
    .option('--k <n>', 'length of each recommendation list', '10')
    .option('--customer-col <name>', 'column of the customer id', 'CustomerID')
    .option('--date-col <name>', 'column of the date', 'InvoiceDate')
    .option('--item-col <name>', 'column of the item (stock code)', 'StockCode')
    .option('--invoice-col <name>', 'column of the invoice (cancellations start with C)', 'InvoiceNo')
    .option('--quantity-col <name>', 'column of the quantity (kept when above 0)', 'Quantity')
    .option('--price-col <name>', 'column of the unit price (kept when above 0)', 'UnitPrice')
    .option('--amount-col <name>', 'column of the amount, instead of quantity and price')
    .option('--day-first', 'read slashed dates as D/M/YYYY')
    .option('--item-pattern <regex>', 'items kept (Online Retail: codes starting with a digit)', '^[0-9]')
    .option(
      '--lambdas <list>',
      'ridge values of the linear model tried on the validation split (comma separated)',
      list,
    )
    .option(
      '--models <list>',
      `models to evaluate, comma separated (default: ${EVALUATED_MODELS.join(',')})`,
      list,
    )
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: EvaluateOptions, command: Command) =>
        recommendEvaluate(options, command.optsWithGlobals<GlobalOptions>()),
      ),
    );
}
