import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { findImportRun, type ImportRequest, planImport, runImport } from '../src/imports/index.ts';
import { isAppError } from '../src/shared/errors.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  openTestDatabase,
  type TestWorkspace,
  testDatabaseUrl,
} from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

/** A generated input file: its text, how many rows should be stored, and the rows that must be rejected. */
interface Generated {
  text: string;
  /** Distinct interactions the file should store. */
  stored: number;
  /** Rows that repeat an earlier row's key: counted as duplicates. */
  duplicates: number;
  rejects: { line: number; code: string; raw: string }[];
}

const BASE_TIME = Date.UTC(2024, 0, 1);

function interaction(i: number): Record<string, unknown> {
  const purchase = i % 3 !== 0;
  return {
    type: purchase ? 'purchase' : 'visit',
    channel: i % 2 === 0 ? 'store' : 'web',
    occurredAt: new Date(BASE_TIME + i * 60_000).toISOString(),
    source: 'pos',
    externalId: `tx-${i}`,
    customer: { identity: { source: 'pos', externalId: `cust-${i % 97}` } },
    ...(purchase ? { amount: (i % 50) + 0.25, currency: 'EUR' } : {}),
    text: i % 5 === 0 ? `note, "quoted" ${i}` : `row ${i}`,
    properties: { n: i },
  };
}

function ndjsonKind(i: number): 'not-json' | 'no-time' | 'no-currency' | 'repeat' | 'good' {
  if (i % 250 === 0) return 'not-json';
  if (i % 333 === 0) return 'no-time';
  if (i % 401 === 0) return 'no-currency';
  // A repeat of the row before, when that row was stored.
  if (i % 211 === 0 && ndjsonKind(i - 1) === 'good') return 'repeat';
  return 'good';
}

/**
 * Deterministic NDJSON: good rows, plus every so often a line that is not JSON, an interaction missing
 * its time, a purchase without currency, a repeated key and a blank line.
 */
function generateNdjson(count: number): Generated {
  const lines: string[] = [];
  const rejects: Generated['rejects'] = [];
  let stored = 0;
  let duplicates = 0;
  for (let i = 1; i <= count; i++) {
    if (i % 500 === 1) lines.push('');
    let text: string;
    let code: string | undefined;
    const kind = ndjsonKind(i);
    if (kind === 'not-json') {
      text = `{"type":"purchase","externalId":"tx-${i}"`;
      code = 'ROW_INVALID_JSON';
    } else if (kind === 'no-time') {
      const { occurredAt: _omit, ...rest } = interaction(i);
      text = JSON.stringify(rest);
      code = 'INTERACTION_INVALID';
    } else if (kind === 'no-currency') {
      text = JSON.stringify({ ...interaction(i), type: 'purchase', amount: 5, currency: undefined });
      code = 'INTERACTION_INVALID';
    } else if (kind === 'repeat') {
      text = JSON.stringify({ ...interaction(i - 1), text: 'same key again' });
      duplicates++;
    } else {
      text = JSON.stringify(interaction(i));
      stored++;
    }
    lines.push(text);
    if (code) rejects.push({ line: lines.length, code, raw: text });
  }
  return { text: `${lines.join('\n')}\n`, stored, duplicates, rejects };
}

const CSV_HEADER = [
  'externalId',
  'type',
  'channel',
  'occurredAt',
  'source',
  'customerSource',
  'customerExternalId',
  'amount',
  'currency',
  'text',
  'properties',
];

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRecord(i: number, overrides: Record<string, unknown> = {}): string {
  const source = { ...interaction(i), ...overrides } as Record<string, unknown>;
  const identity = (source.customer as { identity: { source: string; externalId: string } }).identity;
  const cells: Record<string, unknown> = {
    ...source,
    customerSource: identity.source,
    customerExternalId: identity.externalId,
  };
  return CSV_HEADER.map((column) => csvCell(cells[column])).join(',');
}

function csvKind(i: number): 'bad-amount' | 'stray-quote' | 'short' | 'no-time' | 'repeat' | 'good' {
  if (i % 250 === 0) return 'bad-amount';
  if (i % 333 === 0) return 'stray-quote';
  if (i % 401 === 0) return 'short';
  if (i % 277 === 0) return 'no-time';
  if (i % 211 === 0 && csvKind(i - 1) === 'good') return 'repeat';
  return 'good';
}

/**
 * Deterministic CSV with multi-line quoted text, and bad records: an amount that is not a number, a
 * stray quote, a missing field, an interaction without its time, a repeated key.
 */
function generateCsv(count: number): Generated {
  const records: string[] = [CSV_HEADER.join(',')];
  let line = 2;
  const rejects: Generated['rejects'] = [];
  let stored = 0;
  let duplicates = 0;
  for (let i = 1; i <= count; i++) {
    let text: string;
    let code: string | undefined;
    const kind = csvKind(i);
    if (kind === 'bad-amount') {
      text = csvRecord(i, { amount: 'twelve' });
      code = 'ROW_INVALID';
    } else if (kind === 'stray-quote') {
      text = csvRecord(i, { text: 'a stray"quote' }).replace('"a stray""quote"', 'a stray"quote');
      code = 'ROW_INVALID_CSV';
    } else if (kind === 'short') {
      text = csvRecord(i).split(',').slice(0, 5).join(',');
      code = 'ROW_COLUMN_COUNT';
    } else if (kind === 'no-time') {
      text = csvRecord(i, { occurredAt: undefined });
      code = 'INTERACTION_INVALID';
    } else if (kind === 'repeat') {
      text = csvRecord(i - 1, { text: 'same key again' });
      duplicates++;
    } else {
      text = csvRecord(i, i % 7 === 0 ? { text: `first line ${i}\nsecond, line` } : {});
      stored++;
    }
    records.push(text);
    if (code) rejects.push({ line, code, raw: text });
    line += text.split('\n').length;
  }
  return { text: `${records.join('\r\n')}\r\n`, stored, duplicates, rejects };
}

describe(`bulk import (${ENGINE})`, () => {
  let database: Database;
  let dir: string;
  let counter = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-import-'));
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeInput(extension: string, text: string): string {
    counter += 1;
    const path = join(dir, `input-${counter}.${extension}`);
    writeFileSync(path, text);
    return path;
  }

  async function importFile(
    ws: TestWorkspace,
    request: ImportRequest,
    options: Parameters<typeof runImport>[3] = {},
  ) {
    return runImport(database.db, operatorActor(ws.workspace.id), await planImport(request), options);
  }

  function countInteractions(ws: TestWorkspace): Promise<number> {
    return inTestWorkspace(database, ws, async (tx) => {
      const row = await tx
        .selectFrom('interactions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  function readRejects(
    path: string,
  ): { line: number; error: { code: string; message: string }; raw: string }[] {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
  }

  for (const format of ['ndjson', 'csv'] as const) {
    it(`imports ${format} with exact counts, rejects exactly the bad rows with their lines, and re-imports nothing new`, async () => {
      const ws = await createTestWorkspace(database);
      const data = format === 'csv' ? generateCsv(3000) : generateNdjson(3000);
      const file = writeInput(format, data.text);
      const summary = await importFile(ws, { kind: 'interactions', file, batchSize: 700 });

      expect(summary).toMatchObject({
        rows: 3000,
        created: data.stored,
        duplicate: data.duplicates,
        rejected: data.rejects.length,
        resumedFromLine: null,
        interrupted: false,
        rejectsFile: `${file}.rejects.ndjson`,
      });
      expect(await countInteractions(ws)).toBe(data.stored);
      const rejects = readRejects(summary.rejectsFile);
      expect(rejects.map((r) => ({ line: r.line, code: r.error.code, raw: r.raw }))).toEqual(data.rejects);
      for (const reject of rejects) expect(reject.error.message).toMatch(/\S/);
      // Problem paths name the field of the row, not its place in a batch.
      const invalid = rejects.find((r) => r.error.code === 'INTERACTION_INVALID');
      expect(JSON.stringify(invalid?.error)).toContain('"path":"occurredAt"');
      expect(invalid?.error.message).not.toMatch(/\[\d+\]/);

      const run = await inTestWorkspace(database, ws, (tx) =>
        findImportRun(tx, ws.workspace.id, summary.runId),
      );
      expect(run).toMatchObject({
        status: 'completed',
        createdCount: data.stored,
        rejectedCount: data.rejects.length,
      });

      const again = await importFile(ws, { kind: 'interactions', file, batchSize: 700 });
      expect(again.runId).not.toBe(summary.runId);
      expect(again).toMatchObject({
        created: 0,
        duplicate: data.stored + data.duplicates,
        rejected: data.rejects.length,
      });
      expect(await countInteractions(ws)).toBe(data.stored);
      expect(readRejects(again.rejectsFile)).toHaveLength(data.rejects.length);
    });
  }

  it('maps CSV columns to interactions: customer by email, numbers, properties; empty cells are absent', async () => {
    const ws = await createTestWorkspace(database);
    const file = writeInput(
      'csv',
      [
        'type,channel,occurredAt,source,externalId,customerEmail,amount,currency,sentiment,text,properties,initiatedBy',
        'purchase,web,2024-03-01T10:00:00Z,shop,o-1,ann@example.com,19.99,EUR,0.5,"hello, world","{""sku"":""A1""}",',
        'complaint,phone,2024-03-02T10:00:00Z,shop,o-2,ann@example.com,,,-0.75,,,customer',
      ].join('\n'),
    );
    const summary = await importFile(ws, { kind: 'interactions', file });
    expect(summary).toMatchObject({ created: 2, rejected: 0 });
    const rows = await inTestWorkspace(database, ws, (tx) =>
      tx
        .selectFrom('interactions')
        .select(['external_id', 'amount', 'currency', 'sentiment', 'text', 'properties', 'initiated_by'])
        .orderBy('external_id')
        .execute(),
    );
    expect(rows).toMatchObject([
      {
        external_id: 'o-1',
        amount: 19.99,
        currency: 'EUR',
        sentiment: 0.5,
        text: 'hello, world',
        properties: { sku: 'A1' },
      },
      {
        external_id: 'o-2',
        amount: null,
        currency: null,
        sentiment: -0.75,
        text: null,
        initiated_by: 'customer',
      },
    ]);
  });

  it('refuses bad input with a stable code before storing anything', async () => {
    const ws = await createTestWorkspace(database);
    const expectCode = async (request: ImportRequest, code: string) => {
      const error = await importFile(ws, request).catch((e: unknown) => e);
      expect(isAppError(error) && error.kind === 'invalid' ? error.code : error).toBe(code);
    };
    await expectCode({ kind: 'interactions', file: join(dir, 'missing.ndjson') }, 'IMPORT_FILE_NOT_FOUND');
    const txt = writeInput('txt', '{}\n');
    await expectCode({ kind: 'interactions', file: txt }, 'IMPORT_FORMAT_UNKNOWN');
    await expectCode({ kind: 'interactions', file: txt, format: 'xml' }, 'IMPORT_FORMAT_UNKNOWN');
    await expectCode(
      { kind: 'interactions', file: txt, format: 'ndjson', batchSize: 10_001 },
      'IMPORT_BATCH_SIZE_INVALID',
    );
    const unknownColumn = writeInput('csv', 'type,channel,colour\npurchase,web,red\n');
    await expectCode({ kind: 'interactions', file: unknownColumn }, 'IMPORT_CSV_UNKNOWN_COLUMN');
    const error = await planImport({ kind: 'interactions', file: unknownColumn }).catch((e: unknown) => e);
    expect(isAppError(error) && error.details).toMatchObject({ errors: [{ path: 'header[2]' }] });
    await expectCode({ kind: 'interactions', file: writeInput('csv', '') }, 'IMPORT_CSV_HEADER_MISSING');
    await expectCode(
      {
        kind: 'interactions',
        file: writeInput('ndjson', '{}\n'),
        rejects: join(dir, 'no-such-dir', 'r.ndjson'),
      },
      'IMPORT_REJECTS_PATH_INVALID',
    );
    await expectCode(
      { kind: 'workspace', file: writeInput('ndjson', '{"record":"customer"}\n') },
      'IMPORT_NOT_AN_EXPORT',
    );

    expect(await countInteractions(ws)).toBe(0);
    const runs = await inTestWorkspace(database, ws, (tx) =>
      tx.selectFrom('import_runs').selectAll().execute(),
    );
    expect(runs).toHaveLength(0);
  });

  it('resumes an interrupted import at its checkpoint: nothing lost, nothing twice, rejects cut back', async () => {
    const ws = await createTestWorkspace(database);
    const data = generateNdjson(2000);
    const file = writeInput('ndjson', data.text);
    const controller = new AbortController();
    let batches = 0;
    const first = await importFile(
      ws,
      { kind: 'interactions', file, batchSize: 300 },
      {
        signal: controller.signal,
        onProgress: () => {
          batches += 1;
          if (batches === 3) controller.abort();
        },
      },
    );
    expect(first.interrupted).toBe(true);
    expect(first.rows).toBe(900);
    const run = await inTestWorkspace(database, ws, (tx) => findImportRun(tx, ws.workspace.id, first.runId));
    expect(run?.status).toBe('running');
    expect(statSync(first.rejectsFile).size).toBe(run?.rejectsOffset);
    // What a crash between the rejects' fsync and the commit leaves behind: rejects of an uncommitted batch.
    appendFileSync(
      first.rejectsFile,
      '{"line":999999,"error":{"code":"X","message":"uncommitted"},"raw":""}\n',
    );

    const resumed = await importFile(ws, { kind: 'interactions', file, batchSize: 300 });
    expect(resumed.runId).toBe(first.runId);
    expect(resumed.resumedFromLine).toBe(run?.checkpointLine);
    expect(resumed).toMatchObject({
      rows: 2000,
      created: data.stored,
      duplicate: data.duplicates,
      rejected: data.rejects.length,
      interrupted: false,
    });
    expect(await countInteractions(ws)).toBe(data.stored);
    expect(readRejects(resumed.rejectsFile).map((r) => r.line)).toEqual(data.rejects.map((r) => r.line));
  });

  it('--restart abandons an interrupted run and imports from the start, idempotently', async () => {
    const ws = await createTestWorkspace(database);
    const data = generateNdjson(1200);
    const file = writeInput('ndjson', data.text);
    const controller = new AbortController();
    const first = await importFile(
      ws,
      { kind: 'interactions', file, batchSize: 400 },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    expect(first.interrupted).toBe(true);
    const restarted = await importFile(ws, { kind: 'interactions', file, batchSize: 400 }, { restart: true });
    expect(restarted.runId).not.toBe(first.runId);
    expect(restarted.resumedFromLine).toBeNull();
    expect(restarted.rows).toBe(1200);
    expect(restarted.created + first.created).toBe(data.stored);
    expect(await countInteractions(ws)).toBe(data.stored);
    const abandoned = await inTestWorkspace(database, ws, (tx) =>
      findImportRun(tx, ws.workspace.id, first.runId),
    );
    expect(abandoned?.status).toBe('abandoned');
    expect(readRejects(restarted.rejectsFile)).toHaveLength(data.rejects.length);
  });

  it('refuses a second concurrent import of the same file: one of them stops, nothing is lost or doubled', async () => {
    const ws = await createTestWorkspace(database);
    const data = generateNdjson(1500);
    const file = writeInput('ndjson', data.text);
    const request: ImportRequest = { kind: 'interactions', file, batchSize: 250 };
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (error: unknown) => error,
      );
    let second: Promise<unknown> = Promise.resolve(undefined);
    const first = settle(
      importFile(ws, request, {
        // The second import starts once the first has its run and before it commits a batch.
        onStart: () => {
          second = settle(importFile(ws, request));
        },
      }),
    );
    const firstError = await first;
    const errors = [firstError, await second].filter((e) => e !== undefined);
    expect(errors).toHaveLength(1);
    expect(isAppError(errors[0]) && errors[0].code).toBe('IMPORT_RUN_CONCURRENT');
    expect(await countInteractions(ws)).toBe(data.stored);
    const rejects = readRejects(`${file}.rejects.ndjson`);
    expect(rejects.map((r) => r.line)).toEqual(data.rejects.map((r) => r.line));

    const after = await importFile(ws, request);
    expect(after).toMatchObject({ created: 0, rejected: data.rejects.length });
  });

  it('keeps workspaces apart: another workspace sees no rows and does not resume this one’s run', async () => {
    const a = await createTestWorkspace(database);
    const b = await createTestWorkspace(database);
    const data = generateNdjson(600);
    const file = writeInput('ndjson', data.text);
    const controller = new AbortController();
    const inA = await importFile(
      a,
      { kind: 'interactions', file, batchSize: 200 },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    expect(inA.interrupted).toBe(true);
    expect(await countInteractions(b)).toBe(0);

    const inB = await importFile(b, {
      kind: 'interactions',
      file,
      batchSize: 200,
      rejects: `${file}.b.ndjson`,
    });
    expect(inB.runId).not.toBe(inA.runId);
    expect(inB.resumedFromLine).toBeNull();
    expect(inB.created).toBe(data.stored);
    expect(await countInteractions(b)).toBe(data.stored);
    expect(await countInteractions(a)).toBe(inA.created);
    const runsSeenByB = await inTestWorkspace(database, b, (tx) =>
      tx.selectFrom('import_runs').select('id').execute(),
    );
    expect(runsSeenByB.map((r) => r.id)).toEqual([inB.runId]);
    expect(
      await inTestWorkspace(database, b, (tx) => findImportRun(tx, b.workspace.id, inA.runId)),
    ).toBeUndefined();
  });

  it('the CLI reports bad input with a stable code and exit code, and imports with --json', async () => {
    const dataDir = join(dir, 'cli-data');
    const url = testDatabaseUrl();
    const env = { ...process.env, CORNERSTORE_DATA_DIR: dataDir, DATABASE_URL: url ?? '' };
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    const name = `imp-${process.pid}-${Date.now().toString(36)}`;
    expect((await cli('workspace', 'create', name, '--json')).code).toBe(0);
    const good = writeInput('ndjson', generateNdjson(50).text);

    const noWorkspace = await cli(
      'import',
      'interactions',
      good,
      '--workspace',
      'no-such-workspace',
      '--json',
    );
    expect(noWorkspace.code).toBe(4);
    expect(JSON.parse(noWorkspace.stderr.trim().split('\n').at(-1) ?? '').error.code).toBe(
      'WORKSPACE_NOT_FOUND',
    );

    const badColumn = await cli(
      'import',
      'interactions',
      writeInput('csv', 'type,colour\n'),
      '--workspace',
      name,
    );
    expect(badColumn.code).toBe(2);
    expect(badColumn.stderr).toContain('IMPORT_CSV_UNKNOWN_COLUMN');

    const missing = await cli(
      'import',
      'interactions',
      join(dir, 'nope.ndjson'),
      '--workspace',
      name,
      '--json',
    );
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stderr).error.code).toBe('IMPORT_FILE_NOT_FOUND');

    const ok = await cli('import', 'interactions', good, '--workspace', name, '--json');
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout);
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining([
        'runId',
        'file',
        'rows',
        'created',
        'duplicate',
        'rejected',
        'rejectsFile',
        'resumedFromLine',
        'seconds',
        'rowsPerSecond',
      ]),
    );
    expect(summary).toMatchObject({ rows: 50, created: 50, rejected: 0, resumedFromLine: null });
    const events = ok.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ event: 'progress', rows: 50, created: 50 });

    const help = await cli('import', 'interactions', '--help');
    expect(help.stdout).toContain('--batch-size');
    expect(help.stdout).toContain('--json');
  }, 300_000);
});
