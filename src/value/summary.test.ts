import { describe, expect, it } from 'vitest';
import { fitBgNbd } from './bgnbd.ts';
import { simulateTransactions } from './simulate.ts';
import { computeDayNumber, spendHistoryOf, summariseTransactions, type Transaction } from './summary.ts';

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

describe('purchases of amount 0', () => {
  it('count for the purchase process and are left out only of the spend model', async () => {
    const result = await summariseTransactions(
      [
        { customerId: 'free', date: '2024-01-01', amount: 0 },
        { customerId: 'free', date: '2024-01-08', amount: 0 },
        { customerId: 'mixed', date: '2024-01-01', amount: 20 },
        { customerId: 'mixed', date: '2024-01-08', amount: 0 },
        { customerId: 'mixed', date: '2024-01-15', amount: 30 },
      ],
      { calibrationEnd: '2024-01-29', period: 'week' },
    );
    const free = result.customers.find((c) => c.customerId === 'free');
    const mixed = result.customers.find((c) => c.customerId === 'mixed');
    expect(free).toMatchObject({ frequency: 1, recency: 1, T: 4, spendFrequency: 0, monetaryValue: 0 });
    expect(mixed).toMatchObject({ frequency: 2, recency: 2, T: 4, spendFrequency: 1, monetaryValue: 30 });
  });

  it('leave a cohort drawn with the published CDNOW estimates whole: the same customers and BG/NBD likelihood', async () => {
    // The published BG/NBD estimates of the CDNOW cohort (2,357 customers, weeks), used to draw one.
    const params = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    const drawn = [
      ...simulateTransactions({
        customers: 2357,
        seed: 'cdnow',
        params,
        spend: { p: 6.25, q: 3.74, gamma: 15.44 },
        period: 'week',
        start: '1997-01-01',
        acquisitionDays: 84,
        days: 273,
      }),
    ];
    // Some customers got everything free, others now and then: as a real file has them.
    const zeroed = drawn.map((t, i) =>
      Number(t.customerId.slice(1)) % 250 === 0 || i % 17 === 0 ? { ...t, amount: 0 } : t,
    );
    const options = { calibrationEnd: '1997-09-30', period: 'week' as const };
    const paid = await summariseTransactions(drawn, options);
    const withZeros = await summariseTransactions(zeroed, options);
    expect(withZeros.customers).toHaveLength(2357);
    expect(withZeros.customers.map(({ frequency, recency, T }) => ({ frequency, recency, T }))).toEqual(
      paid.customers.map(({ frequency, recency, T }) => ({ frequency, recency, T })),
    );
    const fit = fitBgNbd(withZeros.customers);
    expect(fit.logLikelihood).toBe(fitBgNbd(paid.customers).logLikelihood);
    // Recovered within sampling error of a cohort this size.
    expect(fit.params.r / fit.params.alpha).toBeCloseTo(params.r / params.alpha, 1);
    // The spend model reads fewer customers: those with a paid repeat purchase only.
    const spending = withZeros.customers.map(spendHistoryOf).filter((c) => c.frequency > 0);
    expect(spending.length).toBeLessThan(paid.customers.filter((c) => c.frequency > 0).length);
    expect(spending.every((c) => c.monetaryValue > 0)).toBe(true);
  });
});
