import { invalid } from '../shared/errors.ts';

/**
 * Transactions → the per-customer figures the value models read, with the conventions of the
 * BG/NBD and Gamma-Gamma literature: purchases on the same day merge into one transaction (amounts
 * summed); `frequency` counts purchase days after the first; `recency` runs from the first to the last
 * purchase day; `T` from the first purchase day to the calibration end; durations in periods (a week is
 * seven days); `monetaryValue` is the mean of the repeat transactions (the first is left out, as the
 * spend model expects). A transaction of amount 0 (a free line, a gift) is a purchase like any other
 * for the purchase process (frequency, recency, T: BG/NBD, Pareto/NBD, RFM); only the spend model
 * leaves out the repeat days whose amount is 0 (`spendFrequency` counts the days it reads), so a
 * customer whose purchases are all free is still a customer of the purchase models. Transactions after the calibration end do not enter the calibration figures;
 * up to an optional holdout end they are counted as the holdout that predictions are checked against.
 */

/** One purchase: who, when (ISO date, or a timestamp whose first ten characters are one), how much. */
export interface Transaction {
  customerId: string;
  date: string;
  amount: number;
}

/** The unit of every duration. */
export type Period = 'day' | 'week';

/** Days in one period. */
export const PERIOD_DAYS: Record<Period, number> = { day: 1, week: 7 };

/** The three figures of the purchase-process models. */
export interface PurchaseHistory {
  /** Repeat purchase days (purchase days after the first). */
  frequency: number;
  /** First to last purchase day, in periods. */
  recency: number;
  /** First purchase day to the calibration end, in periods. */
  T: number;
}

/** One customer's figures at the calibration end. */
export interface CustomerSummary extends PurchaseHistory {
  customerId: string;
  /** Mean amount of the repeat transactions with a positive amount; 0 without one. */
  monetaryValue: number;
  /** Repeat transaction days with a positive amount: the spend model's number of transactions. */
  spendFrequency: number;
  /** Amount of every transaction in the calibration period, the first included. */
  totalSpend: number;
  firstPurchase: string;
  lastPurchase: string;
  /** Purchase days after the calibration end up to the holdout end (0 without a holdout). */
  holdoutFrequency: number;
  holdoutSpend: number;
}

/** What the spend model reads of a customer: repeat days with a positive amount and their mean. */
export function spendHistoryOf(customer: CustomerSummary): { frequency: number; monetaryValue: number } {
  return { frequency: customer.spendFrequency, monetaryValue: customer.monetaryValue };
}

/** How transactions are summarised. */
export interface SummaryOptions {
  /** Last day of the calibration period (ISO date); its transactions count. */
  calibrationEnd: string;
  period: Period;
  /** Last day of the holdout period (ISO date), after the calibration end. */
  holdoutEnd?: string;
}

/** The customers and what was left out. */
export interface SummaryResult {
  customers: CustomerSummary[];
  /** Transactions read. */
  transactions: number;
  /** Transactions after the calibration end (the holdout ones included). */
  afterCalibration: number;
  /** Customers whose first purchase falls after the calibration end (not summarised). */
  customersOnlyAfter: number;
}

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** Days since 1970-01-01 of an ISO date (or the date part of an ISO timestamp); NaN when it is not one. */
export function computeDayNumber(date: string): number {
  const match = ISO_DATE.exec(date);
  if (!match) return Number.NaN;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const time = Date.UTC(year, month - 1, day);
  const check = new Date(time);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return Number.NaN;
  }
  return time / MS_PER_DAY;
}

/** The ISO date of a day number. */
export function formatDayNumber(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

function assertDay(date: string, field: string): number {
  const day = computeDayNumber(date);
  if (Number.isNaN(day)) {
    throw invalid('DATE_INVALID', `${field} must be a date written YYYY-MM-DD.`, { [field]: date });
  }
  return day;
}

/** Amount by purchase day, for one customer. */
interface Purchases {
  days: Map<number, number>;
  holdoutDays: Set<number>;
  holdoutSpend: number;
}

/**
 * Summarises transactions (an async or plain iterable, in any order) into per-customer figures.
 * Throws DATE_INVALID for an unreadable date and AMOUNT_INVALID for an amount that is not a finite
 * number; filtering (refunds, guest checkouts) is the reader's business.
 */
export async function summariseTransactions(
  transactions: AsyncIterable<Transaction> | Iterable<Transaction>,
  options: SummaryOptions,
): Promise<SummaryResult> {
  const calibrationEnd = assertDay(options.calibrationEnd, 'calibrationEnd');
  const holdoutEnd =
    options.holdoutEnd === undefined ? calibrationEnd : assertDay(options.holdoutEnd, 'holdoutEnd');
  if (holdoutEnd < calibrationEnd) {
    throw invalid('HOLDOUT_END_INVALID', 'The holdout end must not come before the calibration end.', {
      calibrationEnd: options.calibrationEnd,
      holdoutEnd: options.holdoutEnd,
    });
  }
  const periodDays = PERIOD_DAYS[options.period];
  const byCustomer = new Map<string, Purchases>();
  let count = 0;
  let afterCalibration = 0;
  for await (const transaction of transactions) {
    count++;
    const day = computeDayNumber(transaction.date);
    if (Number.isNaN(day)) {
      throw invalid('DATE_INVALID', 'A transaction date is not a date written YYYY-MM-DD.', {
        customerId: transaction.customerId,
        date: transaction.date,
      });
    }
    if (!Number.isFinite(transaction.amount)) {
      throw invalid('AMOUNT_INVALID', 'A transaction amount is not a finite number.', {
        customerId: transaction.customerId,
        amount: transaction.amount,
      });
    }
    let purchases = byCustomer.get(transaction.customerId);
    if (!purchases) {
      purchases = { days: new Map(), holdoutDays: new Set(), holdoutSpend: 0 };
      byCustomer.set(transaction.customerId, purchases);
    }
    if (day > calibrationEnd) {
      afterCalibration++;
      if (day <= holdoutEnd) {
        purchases.holdoutDays.add(day);
        purchases.holdoutSpend += transaction.amount;
      }
      continue;
    }
    purchases.days.set(day, (purchases.days.get(day) ?? 0) + transaction.amount);
  }
  const customers: CustomerSummary[] = [];
  let customersOnlyAfter = 0;
  for (const [customerId, purchases] of byCustomer) {
    if (purchases.days.size === 0) {
      customersOnlyAfter++;
      continue;
    }
    customers.push(summariseCustomer(customerId, purchases, calibrationEnd, periodDays));
  }
  return { customers, transactions: count, afterCalibration, customersOnlyAfter };
}

function summariseCustomer(
  customerId: string,
  purchases: Purchases,
  calibrationEnd: number,
  periodDays: number,
): CustomerSummary {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let total = 0;
  for (const [day, amount] of purchases.days) {
    if (day < first) first = day;
    if (day > last) last = day;
    total += amount;
  }
  const frequency = purchases.days.size - 1;
  let spendFrequency = 0;
  let repeatSpend = 0;
  for (const [day, amount] of purchases.days) {
    if (day === first || !(amount > 0)) continue;
    spendFrequency++;
    repeatSpend += amount;
  }
  return {
    customerId,
    frequency,
    recency: (last - first) / periodDays,
    T: (calibrationEnd - first) / periodDays,
    monetaryValue: spendFrequency > 0 ? repeatSpend / spendFrequency : 0,
    spendFrequency,
    totalSpend: total,
    firstPurchase: formatDayNumber(first),
    lastPurchase: formatDayNumber(last),
    holdoutFrequency: purchases.holdoutDays.size,
    holdoutSpend: purchases.holdoutSpend,
  };
}
