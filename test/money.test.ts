import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { planImport, runImport } from '../src/imports/index.ts';
import { checkAmount, isCurrencyCode, listCurrencyCodes } from '../src/shared/money.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';
import { valuePopulation } from './value-population.ts';

/**
 * Money at every entry point: current ISO 4217 currencies only, amounts with at most the currency's
 * decimals kept exactly, purchases before the workspace's earliest date refused, and value counted in
 * one currency, never summed across currencies.
 */

const t = useTestApp();
const dir = mkdtempSync(join(tmpdir(), 'cornerstore-money-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

let serial = 0;
function purchase(customer: string, amount: unknown, currency: unknown, extra: Record<string, unknown> = {}) {
  serial += 1;
  return {
    type: 'purchase',
    channel: 'store',
    occurredAt: daysAgo(30),
    source: 'pos',
    externalId: `r-${serial}`,
    customer: { identity: { source: 'pos', externalId: customer } },
    amount,
    currency,
    ...extra,
  };
}

async function ingest(ws: TestWorkspace, interactions: unknown[]) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/interactions',
    headers: bearer(ws.apiKey),
    payload: { interactions },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().results as {
    status: string;
    id?: string;
    customerId?: string;
    error?: { code: string; message: string; details: { errors: { path: string; message: string }[] } };
  }[];
}

async function patchWorkspace(ws: TestWorkspace, body: Record<string, unknown>) {
  return t.app.inject({ method: 'PATCH', url: '/v1/workspace', headers: bearer(ws.apiKey), payload: body });
}

async function refit(ws: TestWorkspace) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/value/refit',
    headers: bearer(ws.apiKey),
    payload: { period: 'day' },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as {
    status: string;
    currency: string | null;
    unconverted: { currency: string; purchases: number }[];
  };
}

async function profileOf(ws: TestWorkspace, customerId: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/v1/customers/${customerId}`,
    headers: reader(ws.apiKey, 'service'),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().customer.value as { totalSpend: number; currency: string } | undefined;
}

describe('currencies and amounts (pure)', () => {
  it('knows the current ISO 4217 codes, not any three capitals', () => {
    for (const code of ['EUR', 'USD', 'GBP', 'JPY', 'KWD', 'CHF', 'XOF', 'XCG', 'ZWG', 'SLE'])
      expect(isCurrencyCode(code)).toBe(true);
    for (const code of ['XYZ', 'ABC', 'HRK', 'BGN', 'XTS', 'XXX', 'eur', 'EU', 'EURO'])
      expect(isCurrencyCode(code)).toBe(false);
    expect(listCurrencyCodes().length).toBeGreaterThan(150);
  });

  it("accepts exactly the amounts with at most the currency's decimals, and they print back unchanged", () => {
    expect(checkAmount(19.99, 'EUR')).toBeUndefined();
    expect(checkAmount(19.999, 'EUR')).toBe('must have at most 2 decimals in EUR');
    expect(checkAmount(1500, 'JPY')).toBeUndefined();
    expect(checkAmount(1500.5, 'JPY')).toBe('must have at most 0 decimals in JPY');
    expect(checkAmount(1.005, 'KWD')).toBeUndefined();
    expect(checkAmount(1e-7, 'EUR')).toBe('must have at most 2 decimals in EUR');
    expect(checkAmount(12345678901234.56, 'EUR')).toBe('must have at most 15 significant digits');
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 13n) + 1n, max: 10n ** 13n - 1n }), (cents) => {
        // Any amount of cents under 10^13 written as a decimal is accepted and reads back as written.
        const negative = cents < 0n;
        const abs = negative ? -cents : cents;
        const text = `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
        const amount = Number(text);
        expect(checkAmount(amount, 'EUR')).toBeUndefined();
        expect(Number(String(amount))).toBe(Number(text));
        expect(String(amount)).toBe(String(Number(text)));
      }),
    );
  });
});

describe(`money at every entry point (${ENGINE})`, () => {
  it('the API refuses unknown currencies, extra decimals and purchases before the earliest date, with paths', async () => {
    const ws = await createTestWorkspace(t.database);
    const results = await ingest(ws, [
      purchase('a', 19.99, 'EUR'),
      purchase('a', 5, 'XYZ'),
      purchase('a', 5, 'HRK'),
      purchase('a', 19.999, 'EUR'),
      purchase('a', 1500.5, 'JPY'),
      purchase('a', 1.005, 'KWD'),
      purchase('a', 10, 'EUR', { occurredAt: '1969-12-31T23:59:59Z' }),
      { ...purchase('a', undefined, undefined), type: 'visit', occurredAt: '1950-06-01T10:00:00Z' },
    ]);
    expect(results.map((r) => [r.status, r.error?.code, r.error?.details.errors[0]?.path])).toEqual([
      ['created', undefined, undefined],
      ['rejected', 'INTERACTION_INVALID', 'interactions[1].currency'],
      ['rejected', 'INTERACTION_INVALID', 'interactions[2].currency'],
      ['rejected', 'INTERACTION_INVALID', 'interactions[3].amount'],
      ['rejected', 'INTERACTION_INVALID', 'interactions[4].amount'],
      ['created', undefined, undefined],
      ['rejected', 'PURCHASE_TOO_OLD', 'interactions[6].occurredAt'],
      ['created', undefined, undefined],
    ]);
    expect(results[1]?.error?.details.errors[0]?.message).toMatch(/ISO 4217/);
    expect(results[3]?.error?.details.errors[0]?.message).toBe('must have at most 2 decimals in EUR');
    expect(results[6]?.error?.message).toMatch(/1970-01-01.*earliestPurchaseDate/);

    // Amounts read back exactly as written.
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/interactions/${results[5]?.id}`,
      headers: reader(ws.apiKey),
    });
    expect(read.json().interaction).toMatchObject({ amount: 1.005, currency: 'KWD' });

    // The earliest date is the workspace's: validated, then applied to the next ingest.
    const bad = await patchWorkspace(ws, { earliestPurchaseDate: '2020-02-30' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({
      code: 'EARLIEST_PURCHASE_DATE_INVALID',
      details: { errors: [{ path: 'earliestPurchaseDate' }] },
    });
    const ok = await patchWorkspace(ws, { earliestPurchaseDate: '2020-01-01' });
    expect(ok.json().workspace.settings.earliestPurchaseDate).toBe('2020-01-01');
    const later = await ingest(ws, [
      purchase('a', 3, 'EUR', { occurredAt: '2019-12-31T12:00:00Z' }),
      { ...purchase('a', 3, 'EUR', { occurredAt: '2019-12-31T12:00:00Z' }), type: 'return' },
      purchase('a', 3, 'EUR', { occurredAt: '2020-01-01T00:00:00Z' }),
    ]);
    expect(later.map((r) => r.error?.code ?? r.status)).toEqual([
      'PURCHASE_TOO_OLD',
      'PURCHASE_TOO_OLD',
      'created',
    ]);
  });

  for (const format of ['ndjson', 'csv'] as const) {
    it(`a bulk import (${format}) holds amounts and currencies to the same rules`, async () => {
      const ws = await createTestWorkspace(t.database);
      const rows: { item: Record<string, unknown>; amountText: string }[] = [
        { item: purchase('imp', 19.99, 'EUR'), amountText: '19.99' },
        { item: purchase('imp', 5, 'XYZ'), amountText: '5' },
        { item: purchase('imp', 19.999, 'EUR'), amountText: '19.999' },
        { item: purchase('imp', 10, 'EUR', { occurredAt: '1900-01-01T00:00:00Z' }), amountText: '10' },
        { item: purchase('imp', 1000, 'JPY'), amountText: format === 'csv' ? '1e3' : '1000.5' },
      ];
      const text =
        format === 'ndjson'
          ? rows.map(({ item }, i) => JSON.stringify(i === 4 ? { ...item, amount: 1000.5 } : item)).join('\n')
          : [
              'type,channel,occurredAt,source,externalId,customerSource,customerExternalId,amount,currency',
              ...rows.map(({ item, amountText }) =>
                [
                  item.type,
                  item.channel,
                  item.occurredAt,
                  item.source,
                  item.externalId,
                  'pos',
                  'imp',
                  amountText,
                  item.currency,
                ].join(','),
              ),
            ].join('\n');
      const file = join(dir, `money.${format}`);
      writeFileSync(file, `${text}\n`);
      const summary = await runImport(
        t.database.db,
        operatorActor(ws.workspace.id),
        await planImport({ kind: 'interactions', file }),
      );
      expect(summary).toMatchObject({ created: 1, rejected: 4 });
      const rejects = readFileSync(summary.rejectsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { error: { code: string; details: { errors: { path: string }[] } } });
      expect(rejects.map((r) => [r.error.code, r.error.details.errors[0]?.path])).toEqual([
        ['INTERACTION_INVALID', 'currency'],
        ['INTERACTION_INVALID', 'amount'],
        ['PURCHASE_TOO_OLD', 'occurredAt'],
        [format === 'csv' ? 'ROW_INVALID' : 'INTERACTION_INVALID', 'amount'],
      ]);
    });
  }

  it('value is counted in one currency, exactly; other currencies only through the workspace rates', async () => {
    const ws = await createTestWorkspace(t.database);
    // Buyers besides this test's own, in euros: enough for the value model to fit (a fit over three
    // customers is refused).
    await ingest(ws, valuePopulation({ customers: 300, end: new Date(Date.now() - 86_400_000) }));
    // Three purchase days whose float sum is not the decimal sum (0.1 + 0.2 + 4376.35).
    const euro = await ingest(ws, [
      purchase('eu', 0.1, 'EUR', { occurredAt: daysAgo(60) }),
      purchase('eu', 0.2, 'EUR', { occurredAt: daysAgo(40) }),
      purchase('eu', 4376.35, 'EUR', { occurredAt: daysAgo(20) }),
      purchase('eu2', 10, 'EUR', { occurredAt: daysAgo(50) }),
      purchase('eu2', 12.5, 'EUR', { occurredAt: daysAgo(10) }),
    ]);
    expect(0.1 + 0.2 + 4376.35).not.toBe(4376.65);
    const dollars = await ingest(ws, [
      purchase('us', 100, 'USD', { occurredAt: daysAgo(45) }),
      purchase('us', 33.33, 'USD', { occurredAt: daysAgo(15) }),
    ]);
    const eu = euro[0]?.customerId as string;
    const us = dollars[0]?.customerId as string;

    // Without a rate, dollars are left out and said so; they are never added to euros.
    const first = await refit(ws);
    expect(first).toMatchObject({
      status: 'fitted',
      currency: 'EUR',
      unconverted: [{ currency: 'USD', purchases: 2 }],
    });
    expect(await profileOf(ws, eu)).toMatchObject({ totalSpend: 4376.65, currency: 'EUR' });
    expect(await profileOf(ws, us)).toBeUndefined();

    // Rates are validated against the value currency.
    const badRates = await patchWorkspace(ws, { valueCurrency: 'EUR', exchangeRates: { XYZ: 1, USD: -2 } });
    expect(badRates.json().error).toMatchObject({
      code: 'EXCHANGE_RATES_INVALID',
      details: { errors: [{ path: 'exchangeRates.XYZ' }, { path: 'exchangeRates.USD' }] },
    });
    const noCurrency = await patchWorkspace(ws, { exchangeRates: { USD: 0.9 } });
    expect(noCurrency.json().error.details.errors).toEqual([
      { path: 'valueCurrency', message: 'must be set for exchangeRates to convert into it' },
    ]);
    expect((await patchWorkspace(ws, { valueCurrency: 'XYZ' })).json().error.code).toBe('CURRENCY_INVALID');

    // With a rate the workspace sets, dollars count, converted exactly and rounded to cents.
    const set = await patchWorkspace(ws, { valueCurrency: 'EUR', exchangeRates: { USD: 0.9137 } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().workspace.settings).toMatchObject({
      valueCurrency: 'EUR',
      exchangeRates: { USD: 0.9137 },
    });
    expect(await refit(ws)).toMatchObject({ status: 'fitted', currency: 'EUR', unconverted: [] });
    // 100 × 0.9137 = 91.37 and 33.33 × 0.9137 = 30.453621 → 30.45.
    expect(await profileOf(ws, us)).toMatchObject({ totalSpend: 121.82, currency: 'EUR' });

    // A new purchase updates the profile without a refit, in the same currency and rates.
    await ingest(ws, [purchase('eu', 0.05, 'EUR', { occurredAt: daysAgo(1) })]);
    expect(await profileOf(ws, eu)).toMatchObject({ totalSpend: 4376.7, currency: 'EUR' });

    // A segment's sum names its currency.
    const noSumCurrency = await t.app.inject({
      method: 'POST',
      url: '/v1/segments/preview',
      headers: reader(ws.apiKey),
      payload: { definition: { aggregate: 'sum', type: 'purchase', op: 'gte', value: 100 } },
    });
    expect(noSumCurrency.json().error.details.errors).toEqual([
      {
        path: 'definition.currency',
        message: 'is required with sum: amounts in different currencies are never added up',
      },
    ]);
    const inDollars = await t.app.inject({
      method: 'POST',
      url: '/v1/segments/preview',
      headers: reader(ws.apiKey),
      payload: {
        definition: { aggregate: 'sum', type: 'purchase', currency: 'USD', op: 'gte', value: 133.33 },
      },
    });
    expect(inDollars.json()).toEqual({ count: 1 });
  });
});
