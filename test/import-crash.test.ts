import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inWorkspace, openDatabase } from '../src/db/index.ts';
import { ENGINE, testDatabaseUrl } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');
const ROWS = 60_000;

/**
 * Deterministic NDJSON of `count` rows with distinct keys: every 997th line is not JSON and every
 * 1499th purchase has no currency; those are the rows that must be rejected, once each.
 */
function generate(count: number): { text: string; good: number; badLines: number[] } {
  const lines: string[] = [];
  const badLines: number[] = [];
  const base = Date.UTC(2023, 5, 1);
  for (let i = 1; i <= count; i++) {
    if (i % 997 === 0) {
      lines.push(`{"externalId":"crash-${i}",`);
      badLines.push(i);
      continue;
    }
    const bad = i % 1499 === 0;
    if (bad) badLines.push(i);
    lines.push(
      JSON.stringify({
        type: 'purchase',
        channel: i % 2 ? 'web' : 'store',
        occurredAt: new Date(base + i * 1000).toISOString(),
        source: 'crash-test',
        externalId: `crash-${i}`,
        customer: { identity: { source: 'crash-test', externalId: `c-${i % 1000}` } },
        amount: (i % 90) + 1,
        ...(bad ? {} : { currency: 'EUR' }),
        text: `line ${i}`,
      }),
    );
  }
  return { text: `${lines.join('\n')}\n`, good: count - badLines.length, badLines };
}

interface ProgressEvent {
  event: string;
  rows: number;
  line: number;
}

/**
 * Runs the import as a child process and kills it with SIGKILL once it reports (on stderr, as NDJSON
 * progress events) that at least `killAfterRows` rows are committed. Resolves with the signal it died of.
 */
function runAndKill(
  args: string[],
  env: NodeJS.ProcessEnv,
  killAfterRows: number,
): Promise<{ signal: string | null; lastRows: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    let lastRows = 0;
    let killed = false;
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        let event: ProgressEvent;
        try {
          event = JSON.parse(line) as ProgressEvent;
        } catch {
          continue;
        }
        if (event.event === 'progress') lastRows = event.rows;
        if (!killed && event.event === 'progress' && event.rows >= killAfterRows) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, lastRows }));
  });
}

describe(`import survives kill -9 (${ENGINE})`, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-crash-'));
    const url = testDatabaseUrl();
    env = { ...process.env, CORNERSTORE_DATA_DIR: join(dir, 'data'), DATABASE_URL: url ?? '' };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes after two crashes with every good row stored exactly once and every bad row rejected once', async () => {
    const data = generate(ROWS);
    const file = join(dir, 'interactions.ndjson');
    writeFileSync(file, data.text);
    const name = `crash-${process.pid}-${Date.now().toString(36)}`;
    const created = await promisify(execFile)(
      process.execPath,
      [BIN, 'workspace', 'create', name, '--json'],
      { env },
    );
    const workspaceId = (JSON.parse(created.stdout) as { workspace: { id: string } }).workspace.id;
    const args = ['import', 'interactions', file, '--workspace', name, '--json'];

    const first = await runAndKill(args, env, 6_000);
    expect(first.signal).toBe('SIGKILL');
    expect(first.lastRows).toBeLessThan(ROWS);

    const second = await runAndKill(args, env, first.lastRows + 14_000);
    expect(second.signal).toBe('SIGKILL');
    expect(second.lastRows).toBeGreaterThan(first.lastRows);
    expect(second.lastRows).toBeLessThan(ROWS);

    // Rows were rejected: the import reaches the end of the file and says so with exit code 9.
    const last = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? '' }),
    );
    expect(last.code).toBe(9);
    const summary = JSON.parse(last.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      rows: ROWS,
      created: data.good,
      duplicate: 0,
      rejected: data.badLines.length,
      interrupted: false,
    });
    expect(summary.resumedFromLine).toBeGreaterThanOrEqual(second.lastRows);

    const rejects = readFileSync(`${file}.rejects.ndjson`, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { line: number; error: { code: string } });
    expect(rejects.map((r) => r.line)).toEqual(data.badLines);

    const url = testDatabaseUrl();
    const database = await openDatabase(
      url ? { databaseUrl: url, poolSize: 1 } : { dataDir: join(dir, 'data') },
    );
    try {
      const counts = await inWorkspace(database.db, workspaceId, (tx) =>
        tx
          .selectFrom('interactions')
          .select((eb) => [
            eb.fn.countAll<number>().as('rows'),
            eb.fn
              .count<number>(eb.fn('concat', ['source', 'external_id']))
              .distinct()
              .as('keys'),
          ])
          .executeTakeFirstOrThrow(),
      );
      expect(Number(counts.rows)).toBe(data.good);
      expect(Number(counts.keys)).toBe(data.good);
      const run = await inWorkspace(database.db, workspaceId, (tx) =>
        tx
          .selectFrom('import_runs')
          .selectAll()
          .where('id', '=', summary.runId as string)
          .executeTakeFirstOrThrow(),
      );
      expect(run.status).toBe('completed');
      expect(Number(run.created_count)).toBe(data.good);
    } finally {
      await database.close();
    }
  }, 600_000);
});
