import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_REJECT_RAW_BYTES, MAX_ROW_BYTES, type Row, type RowBatch } from './import.ts';
import { readCsvBatches, readNdjsonBatches, readRange } from './readers.ts';

const dir = mkdtempSync(join(tmpdir(), 'cornerstore-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;

function writeTemp(content: string | Buffer, extension: string): string {
  fileCounter += 1;
  const path = join(dir, `f${fileCounter}.${extension}`);
  writeFileSync(path, content);
  return path;
}

async function collect(batches: AsyncGenerator<RowBatch>): Promise<{ rows: Row[]; batches: RowBatch[] }> {
  const all: RowBatch[] = [];
  for await (const batch of batches) all.push({ ...batch, rows: [...batch.rows] });
  return { rows: all.flatMap((b) => b.rows), batches: all };
}

function summary(rows: Row[]): unknown[] {
  return rows.map((r) => ({
    line: r.line,
    start: r.start,
    end: r.end,
    value: r.value,
    error: r.error?.code,
  }));
}

describe('NDJSON reader', () => {
  it('reads objects with line numbers and byte offsets, skips blank lines and flags bad lines', async () => {
    const text = '\ufeff{"a":1}\n\n  \n{"b":"é"}\r\nnot json\n[1]\n{"c":3}';
    const path = writeTemp(text, 'ndjson');
    const bytes = Buffer.from(text);
    for (const chunkSize of [1, 2, 5, 1 << 20]) {
      const { rows, batches } = await collect(
        readNdjsonBatches(path, { offset: 0, line: 0, batchSize: 2, chunkSize }),
      );
      expect(rows.map((r) => [r.line, r.value ?? r.error?.code])).toEqual([
        [1, { a: 1 }],
        [4, { b: 'é' }],
        [5, 'ROW_INVALID_JSON'],
        [6, 'ROW_NOT_OBJECT'],
        [7, { c: 3 }],
      ]);
      expect(rows.map((r) => r.raw)).toEqual(['{"a":1}', '{"b":"é"}', 'not json', '[1]', '{"c":3}']);
      expect(bytes.subarray(rows[1]?.start, rows[1]?.end).toString()).toBe('{"b":"é"}\r\n');
      expect(batches.map((b) => [b.endOffset, b.endLine])).toEqual([
        [rows[1]?.end, 4],
        [rows[3]?.end, 6],
        [bytes.length, 7],
      ]);
    }
  });

  it('rejects a line over the size limit without holding it, keeping its start', async () => {
    const huge = `{"text":"${'y'.repeat(MAX_ROW_BYTES + 10)}"}`;
    const path = writeTemp(`{"a":1}\n${huge}\n{"b":2}\n`, 'ndjson');
    const { rows } = await collect(readNdjsonBatches(path, { offset: 0, line: 0, batchSize: 10 }));
    expect(rows.map((r) => [r.line, r.value ?? r.error?.code])).toEqual([
      [1, { a: 1 }],
      [2, 'ROW_TOO_LARGE'],
      [3, { b: 2 }],
    ]);
    expect(rows[1]).toMatchObject({ start: 8, end: 8 + huge.length + 1, truncated: true });
    expect(rows[1]?.raw).toBe(huge.slice(0, MAX_REJECT_RAW_BYTES));
  });

  it('resumes from any batch end with the same rows and line numbers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ k: fc.string(), n: fc.integer() }).map((o) => JSON.stringify(o)),
            fc.constantFrom('', '   ', '{broken', '"text"'),
          ),
          { maxLength: 30 },
        ),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        async (lines, eol, chunkSize, batchSize) => {
          const path = writeTemp(lines.join(eol), 'ndjson');
          const whole = await collect(readNdjsonBatches(path, { offset: 0, line: 0, batchSize, chunkSize }));
          const meaningful = lines.map((l, i) => [l, i + 1] as const).filter(([l]) => l.trim() !== '');
          expect(whole.rows.map((r) => r.line)).toEqual(meaningful.map(([, n]) => n));
          expect(whole.rows.map((r) => r.raw)).toEqual(meaningful.map(([l]) => l));
          for (const batch of whole.batches) {
            const rest = await collect(
              readNdjsonBatches(path, {
                offset: batch.endOffset,
                line: batch.endLine,
                batchSize: 3,
                chunkSize,
              }),
            );
            const after = whole.rows.filter((r) => r.start >= batch.endOffset);
            expect(summary(rest.rows)).toEqual(summary(after));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

describe('CSV reader', () => {
  it('reads records with exact offsets and start lines, and recovers after malformed records', async () => {
    const text =
      '\ufeffa,b,c\r\n1,"x\r\ny",3\r\n\r\n4,é5,6\r\n7,"bad"q,8\r\n9,10\r\n11,12,13\r\n14,"unterminated,15\r\n16,17,18';
    const path = writeTemp(text, 'csv');
    const bytes = Buffer.from(text);
    for (const chunkSize of [1, 3, 7, 1 << 20]) {
      const { rows, batches } = await collect(
        readCsvBatches(path, { offset: 0, line: 0, batchSize: 3, chunkSize }),
      );
      expect(rows.map((r) => [r.line, r.value ?? r.error?.code])).toEqual([
        [1, ['a', 'b', 'c']],
        [2, ['1', 'x\r\ny', '3']],
        [5, ['4', 'é5', '6']],
        [6, 'ROW_INVALID_CSV'],
        [7, ['9', '10']],
        [8, ['11', '12', '13']],
        [9, 'ROW_INVALID_CSV'],
        [10, ['16', '17', '18']],
      ]);
      expect(bytes.subarray(rows[3]?.start, rows[3]?.end).toString()).toBe('7,"bad"q,8\r\n');
      expect(bytes.subarray(rows[6]?.start, rows[6]?.end).toString()).toBe('14,"unterminated,15\r\n');
      expect(bytes.subarray(rows[2]?.start, rows[2]?.end).toString()).toBe('4,é5,6\r\n');
      expect(batches.at(-1)).toMatchObject({ endOffset: bytes.length, endLine: 10 });
    }
  });

  it('reads back what a CSV writer wrote, and resumes from any batch end identically', async () => {
    const field = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('a,b', 'say "hi"', 'two\nlines', 'é€😀', ''),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { maxLength: 25 }),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 4 }),
        async (records, eol, chunkSize, batchSize) => {
          // A record of three empty fields is written ",,"; a record of one empty line would be skipped.
          const text =
            records.map((r) => r.map(csvField).join(',')).join(eol) + (records.length > 0 ? eol : '');
          const path = writeTemp(text, 'csv');
          const whole = await collect(readCsvBatches(path, { offset: 0, line: 0, batchSize, chunkSize }));
          expect(whole.rows.map((r) => r.value)).toEqual(records);
          let line = 1;
          const expectedLines = records.map((r) => {
            const at = line;
            line += 1 + (r.join('').match(/\n/g)?.length ?? 0);
            return at;
          });
          expect(whole.rows.map((r) => r.line)).toEqual(expectedLines);
          for (const batch of whole.batches) {
            const rest = await collect(
              readCsvBatches(path, { offset: batch.endOffset, line: batch.endLine, batchSize: 2, chunkSize }),
            );
            const after = whole.rows.filter((r) => r.start >= batch.endOffset);
            expect(summary(rest.rows)).toEqual(summary(after));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('on malformed input, still ends and resumes from any batch end identically', async () => {
    const token = fc.constantFrom('a', ',', '"', '""', 'x"y', '\n', '\r\n', 'é', ' ');
    await fc.assert(
      fc.asyncProperty(
        fc.array(token, { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 4 }),
        async (tokens, chunkSize, batchSize) => {
          const path = writeTemp(tokens.join(''), 'csv');
          const whole = await collect(readCsvBatches(path, { offset: 0, line: 0, batchSize, chunkSize }));
          const starts = whole.rows.map((r) => r.start);
          expect([...starts].sort((a, b) => a - b)).toEqual(starts);
          for (const batch of whole.batches) {
            const rest = await collect(
              readCsvBatches(path, { offset: batch.endOffset, line: batch.endLine, batchSize: 2, chunkSize }),
            );
            const after = whole.rows.filter((r) => r.start >= batch.endOffset);
            expect(summary(rest.rows)).toEqual(summary(after));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects a record over the size limit and goes on with the next line', async () => {
    const huge = 'x'.repeat(MAX_ROW_BYTES + 10);
    const path = writeTemp(`a,b\n1,2\n3,${huge}\n5,6\n`, 'csv');
    const { rows } = await collect(readCsvBatches(path, { offset: 0, line: 0, batchSize: 10 }));
    expect(rows.map((r) => [r.line, r.value ?? r.error?.code])).toEqual([
      [1, ['a', 'b']],
      [2, ['1', '2']],
      [3, 'ROW_INVALID_CSV'],
      [4, ['5', '6']],
    ]);
  });

  it('reads a byte range back for the rejects file', async () => {
    const path = writeTemp('abc\ndéf\n', 'csv');
    expect(await readRange(path, 4, 9)).toEqual({ text: 'déf\n', truncated: false });
    expect(await readRange(path, 0, 9, 2)).toEqual({ text: 'ab', truncated: true });
  });
});
