import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { markAttempt } from '../src/imports/import.repository.ts';
import { planImport, runImport } from '../src/imports/index.ts';
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

function row(i: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'note',
    channel: 'web',
    occurredAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    source: 'poison',
    externalId: `p-${i}`,
    customer: { identity: { source: 'poison', externalId: `c-${i % 7}` } },
    text: `row ${i}`,
    ...extra,
  });
}

/** A row whose properties nest `depth` objects deep, written by hand (serialising it would overflow). */
function deepRow(i: number, depth: number): string {
  return row(i, { properties: 'DEEP' }).replace('"DEEP"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

function readRejects(path: string): { line: number; error: { code: string } }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe(`Imports never wedge (${ENGINE})`, () => {
  let database: Database;
  let dir: string;
  beforeAll(async () => {
    database = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-poison-'));
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function countInteractions(ws: TestWorkspace): Promise<number> {
    return inTestWorkspace(database, ws, async (tx) => {
      const result = await tx
        .selectFrom('interactions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(result.n);
    });
  }

  it('stores the good rows, rejects NUL, lone-surrogate and 10,000-deep rows with their lines, and exits 9', async () => {
    const lines = [
      row(1),
      row(2, { text: 'a\u0000b' }),
      row(3),
      deepRow(4, 10_000),
      row(5, { properties: { note: 'x\uDC00' } }),
      row(6),
    ];
    const file = join(dir, 'poison.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const dataDir = join(dir, 'cli-data');
    const env = { ...process.env, CORNERSTORE_DATA_DIR: dataDir, DATABASE_URL: testDatabaseUrl() ?? '' };
    const run = async (...args: string[]) => {
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args], { env });
        return { code: 0, stdout };
      } catch (error) {
        const e = error as { code?: number; stdout?: string };
        return { code: e.code ?? 1, stdout: e.stdout ?? '' };
      }
    };
    const name = `poison-${process.pid}-${Date.now().toString(36)}`;
    expect((await run('workspace', 'create', name, '--json')).code).toBe(0);
    const result = await run('import', 'interactions', file, '--workspace', name, '--json');
    expect(result.code).toBe(9);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 6, created: 3, rejected: 3, interrupted: false });
    expect(readRejects(`${file}.rejects.ndjson`).map((r) => [r.line, r.error.code])).toEqual([
      [2, 'TEXT_INVALID_CHARACTER'],
      [4, 'JSON_TOO_DEEP'],
      [5, 'TEXT_INVALID_CHARACTER'],
    ]);
  });

  it('retries row by row the batch a process died storing, and rejects the row it died on alone', async () => {
    for (const single of [false, true]) {
      const ws = await createTestWorkspace(database);
      const file = join(dir, `crashed-${single}.ndjson`);
      const lines = [1, 2, 3, 4, 5].map((i) => row(i));
      writeFileSync(file, `${lines.join('\n')}\n`);
      const plan = await planImport({ kind: 'interactions', file, batchSize: 2 });
      const actor = operatorActor(ws.workspace.id);
      // A run that starts and is stopped before its first batch, then the mark a process leaves when
      // it dies storing the first batch (or its first row alone).
      const stopped = new AbortController();
      stopped.abort();
      const first = await runImport(database.db, actor, plan, { signal: stopped.signal });
      expect(first).toMatchObject({ interrupted: true, rows: 0 });
      const endOfSecondRow = Buffer.byteLength(`${lines[0]}\n${lines[1]}\n`);
      await inTestWorkspace(database, ws, (tx) =>
        markAttempt(tx, ws.workspace.id, first.runId, { offset: 0, endOffset: endOfSecondRow, single }),
      );
      const progress: number[] = [];
      const summary = await runImport(database.db, actor, plan, {
        onProgress: (p) => progress.push(p.line),
      });
      // Row by row up to the end of the suspect batch, then batches again.
      expect(progress).toEqual([1, 2, 4, 5]);
      expect(summary).toMatchObject({ rows: 5, created: single ? 4 : 5, rejected: single ? 1 : 0 });
      expect(await countInteractions(ws)).toBe(single ? 4 : 5);
      const rejects = single ? readRejects(summary.rejectsFile) : [];
      expect(rejects.map((r) => [r.line, r.error.code])).toEqual(single ? [[1, 'IMPORT_ROW_CRASHED']] : []);
    }
  });

  it('rejects NUL and too-deep properties in CSV rows too, and stores the rest', async () => {
    const ws = await createTestWorkspace(database);
    const file = join(dir, 'poison.csv');
    const deep = `${'{""a"":'.repeat(100)}1${'}'.repeat(100)}`;
    writeFileSync(
      file,
      `${[
        'type,channel,occurredAt,source,externalId,customerSource,customerExternalId,text,properties',
        'note,web,2024-01-01T00:00:00Z,csv,c-1,csv,k-1,fine,',
        'note,web,2024-01-01T00:01:00Z,csv,c-2,csv,k-1,"a\u0000b",',
        `note,web,2024-01-01T00:02:00Z,csv,c-3,csv,k-1,deep,"${deep}"`,
        'note,web,2024-01-01T00:03:00Z,csv,c-4,csv,k-1,fine too,',
      ].join('\n')}\n`,
    );
    const summary = await runImport(
      database.db,
      operatorActor(ws.workspace.id),
      await planImport({ kind: 'interactions', file }),
    );
    expect(summary).toMatchObject({ rows: 4, created: 2, rejected: 2 });
    expect(readRejects(summary.rejectsFile).map((r) => [r.line, r.error.code])).toEqual([
      [3, 'TEXT_INVALID_CHARACTER'],
      [4, 'JSON_TOO_DEEP'],
    ]);
  });
});
