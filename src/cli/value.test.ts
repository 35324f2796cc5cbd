import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommands } from '../../test/cli-run.ts';
import { sharedDataFile } from '../../test/shared-data.ts';
import { simulateTransactions } from '../value/index.ts';
import { registerValueCommands } from './value.ts';

function run(args: string[]) {
  return runCommands(registerValueCommands, args);
}

afterEach(() => {
  process.exitCode = 0;
});

const dir = mkdtempSync(join(tmpdir(), 'cornerstore-value-cli-'));
const truth = { r: 0.6, alpha: 5, a: 0.8, b: 4 };
const spend = { p: 5, q: 4, gamma: 30 };
const simulated = join(dir, 'simulated.csv');
{
  const lines = ['customer,day,value'];
  for (const t of simulateTransactions({
    customers: 4000,
    seed: 'cli',
    params: truth,
    spend,
    period: 'week',
    start: '2020-01-01',
    acquisitionDays: 84,
    days: 364,
  })) {
    lines.push(`${t.customerId},${t.date},${t.amount}`);
  }
  writeFileSync(simulated, `${lines.join('\n')}\n`);
}
const common = [
  '--transactions',
  simulated,
  '--customer-col',
  'customer',
  '--date-col',
  'day',
  '--amount-col',
  'value',
];

describe('value fit', () => {
  it('prints the fitted parameters as JSON, close to those that generated the file', async () => {
    const { stdout, exitCode } = await run([
      'value',
      'fit',
      ...common,
      '--calibration-end',
      '2020-09-30',
      '--json',
    ]);
    expect(exitCode).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.customers).toBe(4000);
    expect(Object.keys(result.bgnbd)).toEqual(expect.arrayContaining(['r', 'alpha', 'a', 'b', 'loglik']));
    expect(Object.keys(result.gammagamma)).toEqual(expect.arrayContaining(['p', 'q', 'gamma', 'loglik']));
    expect(result.bgnbd.converged).toBe(true);
    // Days cut from continuous time merge a few purchases, so the check is looser than on exact summaries.
    expect(
      Math.abs(result.bgnbd.r / result.bgnbd.alpha - truth.r / truth.alpha) / (truth.r / truth.alpha),
    ).toBeLessThan(0.2);
    const meanSpend = (result.gammagamma.p * result.gammagamma.gamma) / (result.gammagamma.q - 1);
    expect(Math.abs(meanSpend - 50) / 50).toBeLessThan(0.1);
  });

  it('explains bad input with a code and the exit code of its kind', async () => {
    const missing = await run([
      'value',
      'fit',
      ...common.slice(0, 1),
      join(dir, 'nope.csv'),
      ...common.slice(2),
      '--calibration-end',
      '2020-09-30',
      '--json',
    ]);
    expect(missing.exitCode).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('INPUT_NOT_FOUND');
    const column = await run([
      'value',
      'fit',
      ...common.slice(0, 5),
      'when',
      ...common.slice(6),
      '--calibration-end',
      '2020-09-30',
      '--json',
    ]);
    expect(column.exitCode).toBe(2);
    expect(JSON.parse(column.stderr).error.code).toBe('COLUMN_NOT_FOUND');
    const date = await run(['value', 'fit', ...common, '--calibration-end', '30/09/2020']);
    expect(date.exitCode).toBe(2);
    expect(date.stderr).toMatch(/DATE_INVALID/);
    const period = await run([
      'value',
      'fit',
      ...common,
      '--calibration-end',
      '2020-09-30',
      '--period',
      'month',
    ]);
    expect(period.stderr).toMatch(/PERIOD_INVALID/);
  });
});

describe('value score', () => {
  it('writes one row per customer with P(alive), expected purchases, CLV and the holdout check', async () => {
    const out = join(dir, 'scores.csv');
    const { stdout, exitCode } = await run([
      'value',
      'score',
      ...common,
      '--calibration-end',
      '2020-09-30',
      '--holdout-end',
      '2020-12-29',
      '--out',
      out,
      '--json',
    ]);
    expect(exitCode).toBe(0);
    const result = JSON.parse(stdout);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'customer_id,frequency,recency,T,monetary_value,total_spend,p_alive,expected_purchases,expected_spend,clv,r_score,f_score,m_score,segment,holdout_purchases,predicted_holdout_purchases',
    );
    expect(lines).toHaveLength(4001);
    const first = lines[1]?.split(',') ?? [];
    const pAlive = Number(first[6]);
    expect(pAlive).toBeGreaterThan(0);
    expect(pAlive).toBeLessThanOrEqual(1);
    expect(Number(first[9])).toBeGreaterThanOrEqual(0);
    // The model predicts the holdout from the calibration period alone.
    const { actualPurchases, predictedPurchases } = result.holdout;
    expect(Math.abs(predictedPurchases - actualPurchases) / actualPurchases).toBeLessThan(0.15);
  });
});

const retailFile = sharedDataFile('online_retail/online_retail_2010-12-01_2011-08-31.csv');

describe.skipIf(retailFile === undefined)('value commands on the online_retail data', () => {
  const args = [
    '--transactions',
    retailFile ?? '',
    '--customer-col',
    'CustomerID',
    '--date-col',
    'InvoiceDate',
    '--quantity-col',
    'Quantity',
    '--price-col',
    'UnitPrice',
    '--calibration-end',
    '2011-06-30',
  ];

  it('fits both models; BG/NBD lands on its no-dropout boundary on this window', async () => {
    const { stdout, exitCode } = await run(['value', 'fit', ...args, '--json']);
    expect(exitCode).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.customers).toBe(2960);
    expect(result.input).toMatchObject({
      rows: 320705,
      skippedMissingCustomer: 88652,
      skippedNegativeAmount: 5565,
      // Free lines are purchases: they count for BG/NBD (more purchase days), not for Gamma-Gamma.
      zeroAmount: 21,
    });
    expect(result.bgnbd.r).toBeCloseTo(0.7444, 3);
    expect(result.bgnbd.alpha).toBeCloseTo(9.048, 2);
    expect(result.bgnbd.loglik).toBeCloseTo(-15328.31, 1);
    expect(result.bgnbd.atBoundary).toBe(true);
    expect(result.bgnbd.a / (result.bgnbd.a + result.bgnbd.b)).toBeLessThan(1e-6);
    expect(result.gammagamma).toMatchObject({ customers: 1556, converged: true, atBoundary: false });
    expect(result.gammagamma.p).toBeCloseTo(2.852, 2);
    expect(result.gammagamma.q).toBeCloseTo(3.198, 2);
    expect(result.gammagamma.gamma).toBeCloseTo(321.2, 0);
  });

  it('scores every customer and predicts the two holdout months within 15 %', async () => {
    const out = join(dir, 'retail-scores.csv');
    const { stdout, exitCode } = await run([
      'value',
      'score',
      ...args,
      '--holdout-end',
      '2011-08-31',
      '--out',
      out,
      '--json',
    ]);
    expect(exitCode).toBe(0);
    const result = JSON.parse(stdout);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2961);
    const { actualPurchases, predictedPurchases } = result.holdout;
    expect(Math.abs(predictedPurchases - actualPurchases) / actualPurchases).toBeLessThan(0.15);
  });
});
