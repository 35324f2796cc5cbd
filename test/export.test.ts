import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer } from '../src/customers/index.ts';
import type { Database } from '../src/db/index.ts';
import { exportWorkspace, planImport, runImport } from '../src/imports/index.ts';
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

type Line = Record<string, unknown> & { record: string };

/** Deterministic interactions for `customers` identities, some by email, with line items and properties. */
function generateInteractions(count: number, tag: string): string {
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const byEmail = i % 4 === 0;
    lines.push(
      JSON.stringify({
        type: i % 3 === 0 ? 'complaint' : 'purchase',
        channel: i % 2 === 0 ? 'store' : 'web',
        occurredAt: new Date(Date.UTC(2024, 1, 1) + i * 3_600_000).toISOString(),
        source: 'shop',
        externalId: `${tag}-${i}`,
        customer: byEmail
          ? { email: `buyer${i % 7}@example.com` }
          : { identity: { source: 'shop', externalId: `${tag}-c${i % 11}` } },
        ...(i % 3 === 0
          ? { text: `complaint ${i}`, sentiment: -0.5 }
          : {
              amount: i + 0.5,
              currency: 'EUR',
              lineItems: [{ sku: `sku-${i % 5}`, quantity: 1 + (i % 3) }],
            }),
        properties: { i, tag },
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

function parseExport(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** The export without what depends on the operation: workspace, export time, interaction ids and receipt times. */
function comparable(lines: Line[]): { customers: Line[]; interactions: Line[] } {
  const customers = lines.filter((l) => l.record === 'customer');
  const interactions = lines
    .filter((l) => l.record === 'interaction')
    .map(({ id: _id, receivedAt: _receivedAt, ...rest }) => rest as Line)
    .sort((a, b) => String(a.externalId).localeCompare(String(b.externalId)));
  return { customers, interactions };
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe(`workspace export and restore (${ENGINE})`, () => {
  let database: Database;
  let dir: string;
  let counter = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-export-'));
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeFile(name: string, text: string): string {
    counter += 1;
    const path = join(dir, `${counter}-${name}`);
    writeFileSync(path, text);
    return path;
  }

  async function exportOf(ws: TestWorkspace): Promise<{ text: string; lines: Line[] }> {
    const out = new Collect();
    await exportWorkspace(
      database.db,
      { actor: operatorActor(ws.workspace.id), purpose: 'legal', fileName: 'test-export', format: 'records' },
      out,
    );
    return { text: out.text, lines: parseExport(out.text) };
  }

  async function importInto(
    ws: TestWorkspace,
    kind: 'interactions' | 'workspace',
    file: string,
    batchSize = 150,
  ) {
    return runImport(
      database.db,
      operatorActor(ws.workspace.id),
      await planImport({ kind, file, batchSize }),
    );
  }

  async function fillWorkspace(ws: TestWorkspace, tag: string, interactions: number): Promise<void> {
    await inTestWorkspace(database, ws, async (tx) => {
      for (let i = 0; i < 3; i++) {
        await createCustomer(tx, ws.actor, {
          givenName: `Given${i}`,
          familyName: `Family ${tag}`,
          language: 'es',
          birthDate: `198${i}-0${i + 1}-15`,
          emails: [{ value: `person${i}.${tag}@example.com`, verified: i === 0 }],
          phones: ['+14155550100'.replace('0100', `01${i}${i}`)],
          identities: [{ source: 'crm', externalId: `${tag}-p${i}` }],
          source: 'crm',
        });
      }
    });
    const summary = await importInto(
      ws,
      'interactions',
      writeFile(`${tag}.ndjson`, generateInteractions(interactions, tag)),
    );
    expect(summary.rejected).toBe(0);
  }

  it('exports a header, then customers, then interactions; restores them into another workspace, idempotently', async () => {
    const source = await createTestWorkspace(database);
    await fillWorkspace(source, 'rt', 400);
    const exported = await exportOf(source);
    const [header, ...records] = exported.lines;
    expect(header).toMatchObject({
      record: 'cornerstore-export',
      version: 1,
      workspace: { id: source.workspace.id },
    });
    expect(typeof header?.exportedAt).toBe('string');
    const kinds = records.map((r) => r.record);
    const firstInteraction = kinds.indexOf('interaction');
    expect(kinds.slice(0, firstInteraction).every((k) => k === 'customer')).toBe(true);
    expect(kinds.slice(firstInteraction).every((k) => k === 'interaction')).toBe(true);
    const { customers, interactions } = comparable(exported.lines);
    expect(interactions).toHaveLength(400);
    const stored = await inTestWorkspace(database, source, (tx) =>
      tx
        .selectFrom('customers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    expect(customers).toHaveLength(Number(stored.n));
    expect(customers.length).toBeGreaterThan(3);

    const target = await createTestWorkspace(database);
    const file = writeFile('export.ndjson', exported.text);
    const restored = await importInto(target, 'workspace', file);
    expect(restored).toMatchObject({ created: customers.length + 400, duplicate: 0, rejected: 0 });
    const again = await exportOf(target);
    expect(again.lines[0]).toMatchObject({ workspace: { id: target.workspace.id } });
    expect(comparable(again.lines)).toEqual(comparable(exported.lines));

    const twice = await importInto(target, 'workspace', file);
    expect(twice).toMatchObject({ created: 0, duplicate: customers.length + 400, rejected: 0 });
    expect(comparable((await exportOf(target)).lines)).toEqual(comparable(exported.lines));
  });

  it('exports only its own workspace', async () => {
    const a = await createTestWorkspace(database);
    const b = await createTestWorkspace(database);
    await fillWorkspace(a, 'only-a', 30);
    await fillWorkspace(b, 'only-b', 30);
    const text = (await exportOf(a)).text;
    expect(text).toContain('only-a-1');
    expect(text).not.toContain('only-b');
    expect(text).not.toContain(b.workspace.id);
  });

  it('rejects records it cannot restore, with their lines, and restores the rest', async () => {
    const source = await createTestWorkspace(database);
    await fillWorkspace(source, 'bad', 20);
    const lines = (await exportOf(source)).text.split('\n').filter((l) => l !== '');
    const customerLine = lines.findIndex((l) => l.includes('"record":"customer"'));
    lines.splice(
      customerLine + 1,
      0,
      '{"record":"customer","id":"not-a-uuid"}',
      '{"record":"order","id":1}',
      'oops',
    );
    const target = await createTestWorkspace(database);
    const file = writeFile('broken.ndjson', `${lines.join('\n')}\n`);
    const summary = await importInto(target, 'workspace', file);
    expect(summary.rejected).toBe(3);
    const rejects = readFileSync(summary.rejectsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { line: number; error: { code: string } });
    expect(rejects.map((r) => [r.line, r.error.code])).toEqual([
      [customerLine + 2, 'EXPORT_RECORD_INVALID'],
      [customerLine + 3, 'EXPORT_RECORD_UNKNOWN'],
      [customerLine + 4, 'ROW_INVALID_JSON'],
    ]);
    expect(comparable((await exportOf(target)).lines)).toEqual(comparable((await exportOf(source)).lines));
  });

  it('refuses a file that is not an export before storing anything', async () => {
    const notExport = writeFile('interactions.ndjson', generateInteractions(3, 'x'));
    const error = await planImport({ kind: 'workspace', file: notExport }).catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe('IMPORT_NOT_AN_EXPORT');
    const future = writeFile('future.ndjson', '{"record":"cornerstore-export","version":99}\n');
    const versionError = await planImport({ kind: 'workspace', file: future }).catch((e: unknown) => e);
    expect(isAppError(versionError) && versionError.code).toBe('IMPORT_EXPORT_VERSION_UNSUPPORTED');
  });

  it('round-trips through the CLI: export --out, import workspace, export to standard output', async () => {
    const url = testDatabaseUrl();
    const env = { ...process.env, CORNERSTORE_DATA_DIR: join(dir, 'cli-data'), DATABASE_URL: url ?? '' };
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
          env,
          maxBuffer: 64 * 1024 * 1024,
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    const suffix = `${process.pid}-${Date.now().toString(36)}`;
    const [from, to] = [`exp-from-${suffix}`, `exp-to-${suffix}`];
    expect((await cli('workspace', 'create', from)).code).toBe(0);
    expect((await cli('workspace', 'create', to)).code).toBe(0);
    const input = writeFile('cli.ndjson', generateInteractions(120, 'cli'));
    expect((await cli('import', 'interactions', input, '--workspace', from)).code).toBe(0);

    const out = join(dir, 'cli-export.ndjson');
    const exported = await cli(
      'export',
      '--workspace',
      from,
      '--purpose',
      'legal',
      '--format',
      'records',
      '--out',
      out,
      '--json',
    );
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ file: out, interactions: 120 });

    const restored = await cli('import', 'workspace', out, '--workspace', to, '--json');
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ rejected: 0, duplicate: 0 });

    const streamed = await cli('export', '--workspace', to, '--purpose', 'legal', '--format', 'records');
    expect(streamed.code).toBe(0);
    expect(comparable(parseExport(streamed.stdout))).toEqual(
      comparable(parseExport(readFileSync(out, 'utf8'))),
    );

    const missing = await cli('export', '--workspace', `none-${suffix}`, '--purpose', 'legal', '--json');
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('WORKSPACE_NOT_FOUND');
  }, 300_000);
});
