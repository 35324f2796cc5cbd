import { describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors.ts';
import { assertCsvHeader, computeFingerprint, csvRecordToInteraction, resolveFormat } from './import.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isAppError(error) ? error.code : undefined;
  }
  return undefined;
}

describe('import rules', () => {
  it('picks the format from the extension or the explicit choice', () => {
    expect(resolveFormat('a/b.NDJSON', undefined)).toBe('ndjson');
    expect(resolveFormat('b.jsonl', undefined)).toBe('ndjson');
    expect(resolveFormat('b.json', undefined)).toBe('ndjson');
    expect(resolveFormat('b.csv', undefined)).toBe('csv');
    expect(resolveFormat('b.txt', 'csv')).toBe('csv');
    expect(codeOf(() => resolveFormat('b.txt', undefined))).toBe('IMPORT_FORMAT_UNKNOWN');
    expect(codeOf(() => resolveFormat('b.csv', 'xml'))).toBe('IMPORT_FORMAT_UNKNOWN');
  });

  it('accepts known CSV columns in any order and names unknown or repeated ones', () => {
    expect(assertCsvHeader(['text', 'type'])).toEqual(['text', 'type']);
    expect(() => assertCsvHeader(['type', 'colour'])).toThrow(/colour/);
    expect(codeOf(() => assertCsvHeader(['type', 'colour']))).toBe('IMPORT_CSV_UNKNOWN_COLUMN');
    expect(codeOf(() => assertCsvHeader(['type', 'type']))).toBe('IMPORT_CSV_DUPLICATE_COLUMN');
    expect(codeOf(() => assertCsvHeader([]))).toBe('IMPORT_CSV_HEADER_MISSING');
  });

  it('turns a CSV record into interaction JSON', () => {
    const columns = assertCsvHeader([
      'type',
      'customerSource',
      'customerExternalId',
      'amount',
      'sentiment',
      'text',
      'properties',
    ]);
    expect(
      csvRecordToInteraction(columns, ['purchase', 'pos', 'c1', ' 12.50 ', '', 'hi', '{"a":[1]}']),
    ).toEqual({
      ok: true,
      value: {
        type: 'purchase',
        customer: { identity: { source: 'pos', externalId: 'c1' } },
        amount: 12.5,
        text: 'hi',
        properties: { a: [1] },
      },
    });
    expect(csvRecordToInteraction(columns, ['purchase', 'pos', '', 'x', '2', '', '[1]'])).toEqual({
      ok: false,
      error: {
        code: 'ROW_INVALID',
        message: 'The record has invalid values.',
        details: {
          errors: [
            {
              path: 'amount',
              message: 'must be a decimal number such as 1234.50 (no exponent or separators)',
            },
            { path: 'properties', message: 'must be a JSON object' },
            { path: 'customerExternalId', message: 'customerSource and customerExternalId go together' },
          ],
        },
      },
    });
    expect(csvRecordToInteraction(columns, ['purchase'])).toMatchObject({
      ok: false,
      error: { code: 'ROW_COLUMN_COUNT' },
    });
  });

  it('fingerprints the path, the size and the head of a file', () => {
    const head = Buffer.from('abc');
    const print = computeFingerprint('/a/file', 3, head);
    expect(print).toMatch(/^[0-9a-f]{64}$/);
    expect(computeFingerprint('/a/file', 3, Buffer.from('abc'))).toBe(print);
    expect(computeFingerprint('/b/file', 3, head)).not.toBe(print);
    expect(computeFingerprint('/a/file', 4, head)).not.toBe(print);
    expect(computeFingerprint('/a/file', 3, Buffer.from('abd'))).not.toBe(print);
  });
});
