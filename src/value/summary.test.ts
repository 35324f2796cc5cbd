import { describe, expect, it } from 'vitest';
import { computeDayNumber, summariseTransactions, type Transaction } from './summary.ts';

describe('summariseTransactions', () => {
  const transactions: Transaction[] = [
    { customerId: 'a', date: '2024-01-03', amount: 30 },
    { customerId: 'a', date: '2024-01-01', amount: 10 },
    { customerId: 'a', date: '2024-01-01 15:30:00', amount: 5 },
    { customerId: 'a', date: '2024-01-15', amount: 50 },
    { customerId: 'b', date: '2024-01-29', amount: 7 },
    { customerId: 'a', date: '2024-02-01', amount: 99 },
    { customerId: 'a', date: '2024-02-03', amount: 1 },
    { customerId: 'c', date: '2024-02-02', amount: 8 },
  ];

  it('follows the literature: days merge, repeats after the first, durations to the calibration end', async () => {
    const result = await summariseTransactions(transactions, {
      calibrationEnd: '2024-01-29',
      period: 'week',
    });
    const a = result.customers.find((c) => c.customerId === 'a');
    // Purchase days 1, 3 and 15 January: two repeats; first to last 14 days; first to the end 28 days.
    expect(a).toMatchObject({
      frequency: 2,
      recency: 2,
      T: 4,
      monetaryValue: 40,
      totalSpend: 95,
      firstPurchase: '2024-01-01',
      lastPurchase: '2024-01-15',
    });
    const b = result.customers.find((c) => c.customerId === 'b');
    expect(b).toMatchObject({ frequency: 0, recency: 0, T: 0, monetaryValue: 0, totalSpend: 7 });
    expect(result.customers).toHaveLength(2);
    expect(result.customersOnlyAfter).toBe(1);
    expect(result.afterCalibration).toBe(3);
    expect(result.transactions).toBe(8);
  });

  it('counts durations in days with period day, and holdout purchase days', async () => {
    const result = await summariseTransactions(
      (async function* () {
        yield* transactions;
      })(),
      { calibrationEnd: '2024-01-29', period: 'day', holdoutEnd: '2024-02-02' },
    );
    const a = result.customers.find((c) => c.customerId === 'a');
    expect(a).toMatchObject({ recency: 14, T: 28, holdoutFrequency: 1, holdoutSpend: 99 });
  });

  it('rejects bad dates', async () => {
    await expect(summariseTransactions([], { calibrationEnd: '2024-02-30', period: 'week' })).rejects.toThrow(
      /calibrationEnd/,
    );
    await expect(
      summariseTransactions([{ customerId: 'a', date: 'yesterday', amount: 1 }], {
        calibrationEnd: '2024-02-01',
        period: 'week',
      }),
    ).rejects.toMatchObject({ code: 'DATE_INVALID' });
  });

  it('numbers days from 1970', () => {
    expect(computeDayNumber('1970-01-02')).toBe(1);
    expect(computeDayNumber('2011-06-30T23:59:59Z')).toBe(computeDayNumber('2011-06-30'));
  });
});
