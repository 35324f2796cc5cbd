import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emptyReadStats,
  normaliseCustomerId,
  normaliseDate,
  parseAmount,
  readTransactionsCsv,
  type TransactionColumns,
} from './transactions-csv.ts';

const dir = mkdtempSync(join(tmpdir(), 'cornerstore-value-csv-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(path: string, columns: TransactionColumns) {
  const stats = emptyReadStats();
  const rows = [];
  for await (const row of readTransactionsCsv(path, columns, stats)) rows.push(row);
  return { rows, stats };
}

describe('field readers', () => {
  it('normalises numeric-looking customer ids', () => {
    expect(normaliseCustomerId(' 17850.0 ')).toBe('17850');
    expect(normaliseCustomerId('17850.5')).toBe('17850.5');
    expect(normaliseCustomerId('C-12.0')).toBe('C-12.0');
  });

  it('reads plain numbers only', () => {
    expect(parseAmount(' -2.5 ')).toBe(-2.5);
    expect(parseAmount('1e3')).toBe(1000);
    expect(parseAmount('')).toBeUndefined();
    expect(parseAmount('1,000')).toBeUndefined();
  });

  it('reads the supported date forms and drops the time', () => {
    expect(normaliseDate('2011-06-30 08:26:00')).toBe('2011-06-30');
    expect(normaliseDate('2011/6/3')).toBe('2011-06-03');
    expect(normaliseDate('19970101')).toBe('1997-01-01');
    expect(normaliseDate('12/1/2010 8:26')).toBe('2010-12-01');
    expect(normaliseDate('12/1/2010', true)).toBe('2010-01-12');
    expect(normaliseDate('2011-02-30')).toBeUndefined();
    expect(normaliseDate('June 3')).toBeUndefined();
  });

  it('round-trips every calendar day in each form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60_000 }), (day) => {
        const iso = new Date(day * 86_400_000).toISOString().slice(0, 10);
        const [y, m, d] = iso.split('-');
        expect(normaliseDate(`${iso} 23:59:59`)).toBe(iso);
        expect(normaliseDate(`${y}${m}${d}`)).toBe(iso);
        expect(normaliseDate(`${Number(m)}/${Number(d)}/${y}`)).toBe(iso);
        expect(normaliseDate(`${Number(d)}/${Number(m)}/${y}`, true)).toBe(iso);
      }),
    );
  });
});

describe('readTransactionsCsv', () => {
  it('multiplies quantity by price, skips guests and negative amounts, keeps amount 0, counts everything', async () => {
    const path = file(
      'lines.csv',
      '\uFEFFInvoiceNo,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n' +
        '1,"MUG, RED",6,2010-12-01 08:26:00,2.55,17850.0\n' +
        '2,PLATE,2,2010-12-01 09:00:00,1.00,\n' +
        'C3,MUG,-6,2010-12-02 08:00:00,2.55,17850.0\n' +
        '4,FREE,1,2010-12-02 08:00:00,0,13047.0\n' +
        '5,BOWL,1,2010-12-03 10:00:00,4.5,13047.0\n',
    );
    const { rows, stats } = await readAll(path, {
      customer: 'CustomerID',
      date: 'InvoiceDate',
      quantity: 'Quantity',
      price: 'UnitPrice',
    });
    expect(rows).toEqual([
      {
        customerId: '17850',
        date: '2010-12-01',
        time: '08:26:00',
        amount: 6 * 2.55,
        quantity: 6,
        price: 2.55,
      },
      { customerId: '13047', date: '2010-12-02', time: '08:00:00', amount: 0, quantity: 1, price: 0 },
      { customerId: '13047', date: '2010-12-03', time: '10:00:00', amount: 4.5, quantity: 1, price: 4.5 },
    ]);
    expect(stats).toEqual({ rows: 5, used: 3, missingCustomer: 1, negativeAmount: 1, zeroAmount: 1 });
  });

  it('hands on the item, invoice and description columns when named', async () => {
    const path = file(
      'items.csv',
      'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n' +
        '536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,2010-12-01 08:26:00,2.55,17850.0\n',
    );
    const { rows } = await readAll(path, {
      customer: 'CustomerID',
      date: 'InvoiceDate',
      quantity: 'Quantity',
      price: 'UnitPrice',
      item: 'StockCode',
      invoice: 'InvoiceNo',
      description: 'Description',
    });
    expect(rows[0]).toMatchObject({
      item: '85123A',
      invoice: '536365',
      description: 'WHITE HANGING HEART T-LIGHT HOLDER',
    });
  });

  it('says which column is missing, which line is bad, and when the file is absent', async () => {
    const path = file('amounts.csv', 'id,day,value\n1,2020-01-01,3\n2,someday,4\n3,2020-01-02,lots\n');
    await expect(readAll(path, { customer: 'id', date: 'when', amount: 'value' })).rejects.toMatchObject({
      code: 'COLUMN_NOT_FOUND',
      details: { column: 'when', columns: ['id', 'day', 'value'] },
    });
    await expect(readAll(path, { customer: 'id', date: 'day', amount: 'value' })).rejects.toMatchObject({
      code: 'DATE_INVALID',
      details: { line: 3 },
    });
    const noDates = file('bad-amount.csv', 'id,day,value\n3,2020-01-02,lots\n');
    await expect(readAll(noDates, { customer: 'id', date: 'day', amount: 'value' })).rejects.toMatchObject({
      code: 'AMOUNT_INVALID',
      details: { line: 2 },
    });
    await expect(
      readAll(join(dir, 'missing.csv'), { customer: 'id', date: 'day', amount: 'v' }),
    ).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
      kind: 'not_found',
    });
    await expect(
      readAll(path, { customer: 'id', date: 'day', amount: 'value', quantity: 'q', price: 'p' }),
    ).rejects.toMatchObject({ code: 'AMOUNT_COLUMNS_INVALID' });
  });
});
