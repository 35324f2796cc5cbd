import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
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

/** Starts `cornerstore worker` on the database; resolves once it has started, with its output so far. */
function startWorker(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
} {
  const bin = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');
  const child = spawn(process.execPath, [bin, 'worker', '--loops', '2'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => output, exited };
}

describe.skipIf(ENGINE !== 'postgres')('two servers and two workers on a database of their own', () => {
  // A database of their own: the workers run the installation's jobs over every workspace in it.
  const name = `cornerstore_nodes_${process.pid}_${Date.now().toString(36)}`;
  const admin = () => new pg.Client({ connectionString: testDatabaseUrl() });
  const urlOf = () => {
    const url = new URL(testDatabaseUrl() ?? '');
    url.pathname = `/${name}`;
    return url.toString();
  };
  const dirs: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
  });
  afterAll(async () => {
    for (const child of children) {
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  });

  it('ingests through both servers, and both workers dispatch every event exactly once', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: urlOf(),
      CORNERSTORE_AUDIT_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      CORNERSTORE_JOBS_IN_SERVER: 'false',
    };
    const bases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), `cornerstore-node${i}-`));
      dirs.push(dir);
      const node = await startNode({ ...env, CORNERSTORE_DATA_DIR: dir, PORT: '0' });
      children.push(node.child);
      bases.push(node.base);
    }
    // The first server created the workspace `default` and wrote its admin key.
    const key = readFileSync(join(dirs[0] ?? '', 'admin-key'), 'utf8').trim();
    const workers = [0, 1].map((i) => {
      const dir = mkdtempSync(join(tmpdir(), `cornerstore-worker${i}-`));
      dirs.push(dir);
      const worker = startWorker({ ...env, CORNERSTORE_DATA_DIR: dir });
      children.push(worker.child);
      return worker;
    });
    // 40 batches of 25 purchases by 200 customers, alternating between the servers.
    for (let batch = 0; batch < 40; batch++) {
      const interactions = Array.from({ length: 25 }, (_, k) => {
        const n = batch * 25 + k;
        return {
          type: 'purchase',
          channel: 'web',
          occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 3_600_000).toISOString(),
          source: 'nodes',
          externalId: `n-${n}`,
          customer: { identity: { source: 'nodes', externalId: `c-${n % 200}` } },
          amount: 20,
          currency: 'EUR',
        };
      });
      const response = await fetch(`${bases[batch % 2]}/v1/interactions`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify({ interactions }),
      });
      expect(response.status, await response.clone().text()).toBe(200);
    }
    const client = new pg.Client({ connectionString: urlOf() });
    await client.connect();
    try {
      const pending = async () =>
        (
          await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM events WHERE dispatched_at IS NULL',
          )
        ).rows[0]?.n ?? -1;
      for (let i = 0; i < 1200 && (await pending()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await pending()).toBe(0);
      const events = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]?.n;
      for (const worker of workers) worker.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      const dispatched = workers.map((w) => {
        const line = w
          .output()
          .split('\n')
          .find((l) => l.includes('"worker stopped"'));
        return (JSON.parse(line ?? '{}') as { dispatched?: number }).dispatched ?? -1;
      });
      // Each event was claimed by one worker: together they dispatched every one, once.
      expect(dispatched.reduce((a, b) => a + b, 0)).toBe(events);
      expect(events).toBeGreaterThanOrEqual(1000);
      for (const n of dispatched) expect(n).toBeGreaterThan(0);
      // One customer per identity, whichever server stored its purchases.
      const customers = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM customers'))
        .rows[0]?.n;
      expect(customers).toBe(200);
    } finally {
      await client.end();
    }
  });
});
