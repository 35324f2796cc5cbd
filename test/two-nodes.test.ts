import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/api/app.ts';
import { KeyVerifier } from '../src/workspaces/index.ts';
import {
  bearer,
  createTestKey,
  createTestWorkspace,
  ENGINE,
  reader,
  testDatabaseUrl,
  useTestDatabase,
} from './helpers.ts';

/**
 * Nodes that share nothing but the database: a key's rate limit is counted in the database, so two API
 * nodes together let through exactly the limit; what one node writes the other reads; a key revoked on
 * one is refused by the other.
 */

const LIMIT = 10;
const t = useTestDatabase();

function nodeApp(): Promise<App> {
  return buildApp(
    // Keys re-read on every request (a server re-reads them every second): no test waits on a clock.
    { db: t.database.db, keys: new KeyVerifier(t.database.db, 0) },
    {
      bodyLimit: 1024 * 1024,
      rateLimitPerMinute: LIMIT,
      logger: false,
      version: 'test',
      sharedRateLimits: true,
    },
  );
}

/** The rate-limit window the database is in now (the servers count by its clock). */
async function currentWindow(): Promise<string> {
  const { rows } = await sql<{ window: string }>`
    SELECT date_bin(interval '1 minute', now(), timestamptz 'epoch')::text AS window`.execute(t.database.db);
  return rows[0]?.window ?? '';
}

/** Sends `count` requests alternately to the nodes; answers the statuses, or none when a window ended between. */
async function alternate(
  send: (node: number) => Promise<number>,
  count: number,
  windowOf: () => Promise<string | undefined>,
): Promise<number[] | undefined> {
  const before = await windowOf();
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await send(i % 2));
  return before !== undefined && before === (await windowOf()) ? statuses : undefined;
}

describe(`two API nodes on one database, in process (${ENGINE})`, () => {
  let nodes: App[];
  beforeAll(async () => {
    nodes = [await nodeApp(), await nodeApp()];
  });
  afterAll(async () => {
    for (const node of nodes ?? []) await node.close();
  });

  it('counts a key once across both nodes: together they let through exactly the limit', async () => {
    const ws = await createTestWorkspace(t.database);
    let statuses: number[] | undefined;
    // A minute's window may end in the middle of a run: then the run is repeated in the next one.
    for (let attempt = 0; attempt < 3 && statuses === undefined; attempt++) {
      const fresh = await createTestKey(t.database, ws, 'agent');
      statuses = await alternate(
        async (node) =>
          (await nodes[node]?.inject({ method: 'GET', url: '/v1/workspace', headers: bearer(fresh) }))
            ?.statusCode ?? 0,
        LIMIT + 4,
        currentWindow,
      );
    }
    expect(statuses).toBeDefined();
    expect(statuses?.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses?.filter((s) => s === 429)).toHaveLength(4);
    expect(statuses?.slice(LIMIT)).toEqual([429, 429, 429, 429]);
  });

  it('reads on one node what the other wrote, and refuses on one a key revoked on the other', async () => {
    const ws = await createTestWorkspace(t.database);
    const [a, b] = nodes as [App, App];
    const created = await a.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: reader(ws.apiKey),
      payload: { givenName: 'Ana', emails: ['ana@example.com'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id: string = created.json().customer.id;
    const read = await b.inject({ method: 'GET', url: `/v1/customers/${id}`, headers: reader(ws.apiKey) });
    expect(read.json().customer.givenName).toBe('Ana');

    const key = await a.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(ws.apiKey),
      payload: { role: 'agent', name: 'short-lived' },
    });
    expect(key.statusCode, key.body).toBe(201);
    const { apiKey, key: stored } = key.json() as { apiKey: string; key: { id: string } };
    expect(
      (await b.inject({ method: 'GET', url: '/v1/workspace', headers: bearer(apiKey) }))?.statusCode,
    ).toBe(200);
    const revoked = await a.inject({
      method: 'DELETE',
      url: `/v1/keys/${stored.id}`,
      headers: bearer(ws.apiKey),
    });
    expect(revoked.statusCode, revoked.body).toBeLessThan(300);
    expect(
      (await b.inject({ method: 'GET', url: '/v1/workspace', headers: bearer(apiKey) }))?.statusCode,
    ).toBe(401);
  });
});

/** Starts `cornerstore serve` on the database; resolves with its address once it listens. */
function startNode(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; base: string }> {
  const bin = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');
  // The shared test database holds other files' workspaces: these nodes serve and leave the backbone's
  // installation-wide jobs (audit chaining, daily recomputations) to the backbone's own tests.
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...env, CORNERSTORE_JOBS_IN_SERVER: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const base = output.match(/listening on (http:\/\/\S+)/)?.[1];
      if (base) resolve({ child, base });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) =>
      reject(new Error(`the server exited (${code}) before listening:\n${output}`)),
    );
  });
}

describe.skipIf(ENGINE !== 'postgres')('two server processes on one PostgreSQL database', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const bases: string[] = [];

  beforeAll(async () => {
    const auditKey = randomBytes(32).toString('hex');
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), `cornerstore-node${i}-`));
      dirs.push(dir);
      const node = await startNode({
        ...process.env,
        DATABASE_URL: testDatabaseUrl() ?? '',
        CORNERSTORE_DATA_DIR: dir,
        CORNERSTORE_AUDIT_KEY: auditKey,
        CORNERSTORE_RATE_LIMIT: String(LIMIT),
        PORT: '0',
        LOG_LEVEL: 'warn',
      });
      children.push(node.child);
      bases.push(node.base);
    }
  });
  afterAll(() => {
    for (const child of children) {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves one workspace from both and counts its key once', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await fetch(`${bases[0]}/v1/customers`, {
      method: 'POST',
      headers: { ...reader(ws.apiKey), 'content-type': 'application/json' },
      body: JSON.stringify({ givenName: 'Bo' }),
    });
    expect(created.status).toBe(201);
    const { customer } = (await created.json()) as { customer: { id: string } };
    const read = await fetch(`${bases[1]}/v1/customers/${customer.id}`, { headers: reader(ws.apiKey) });
    expect(((await read.json()) as { customer: { givenName: string } }).customer.givenName).toBe('Bo');

    let statuses: number[] | undefined;
    for (let attempt = 0; attempt < 3 && statuses === undefined; attempt++) {
      const key = await createTestKey(t.database, ws, 'agent');
      statuses = await alternate(
        async (node) => (await fetch(`${bases[node]}/v1/workspace`, { headers: bearer(key) })).status,
        LIMIT + 2,
        currentWindow,
      );
    }
    expect(statuses?.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses?.slice(LIMIT)).toEqual([429, 429]);
  });
});
