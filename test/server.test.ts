import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE, testDatabaseUrl } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

// The server as a user starts it: first start creates workspace "default" and its admin key file;
// SIGTERM lets in-flight requests finish before the process exits.
describe(`cornerstore serve (${ENGINE})`, () => {
  let dir: string;
  let child: ChildProcess;
  let output = '';
  let base = '';

  // On PostgreSQL, a database of its own: on the shared one another file's server may have created
  // "default" first, and this first start would find it there.
  const own = `cornerstore_serve_${process.pid}_${Date.now().toString(36)}`;
  const onServer = async (statement: string) => {
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-serve-'));
    let url = testDatabaseUrl();
    if (url) {
      await onServer(`CREATE DATABASE ${own}`);
      const parsed = new URL(url);
      parsed.pathname = `/${own}`;
      url = parsed.toString();
    }
    child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        CORNERSTORE_DATA_DIR: dir,
        PORT: '0',
        DATABASE_URL: url ?? '',
        // Requests are logged as they arrive: the shutdown test waits for its request to be in flight.
        LOG_LEVEL: 'info',
        // On the shared test database the backbone's installation-wide jobs (audit chaining, daily
        // recomputations of every workspace) would reach into other test files' workspaces: this server
        // only serves; the backbone's own tests drive it.
        CORNERSTORE_JOBS_IN_SERVER: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const deadline = Date.now() + 90_000;
    while (!/API documentation/.test(output) && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    base = output.match(/listening on (http:\/\/\S+)/)?.[1] ?? '';
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (testDatabaseUrl()) await onServer(`DROP DATABASE IF EXISTS ${own} WITH (FORCE)`);
  });

  it('creates workspace "default" on first start and writes its admin key readable only by the owner', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const keyFile = join(dir, 'admin-key');
    expect(output).toContain(keyFile);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8').trim();
    const res = await fetch(`${base}/v1/workspace`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    // With DATABASE_URL the server may share its database with other tests, so only check the name here.
    expect(((await res.json()) as { workspace: { name: string } }).workspace.name).toBe('default');
  });

  it('finishes an in-flight batch on SIGTERM, then exits cleanly', async () => {
    const key = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
    const interactions = Array.from({ length: 5000 }, (_, i) => ({
      type: 'visit',
      channel: 'store',
      occurredAt: '2026-01-02T10:00:00Z',
      source: 'pos',
      externalId: `shutdown-${i}`,
      customer: { identity: { source: 'pos', externalId: `L${i % 500}` } },
    }));
    const inFlight = fetch(`${base}/v1/interactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ interactions }),
    });
    // SIGTERM once the server has the request in hand (it logs each request as it arrives), however
    // long the request took to get there: a request arriving after SIGTERM is refused, as it should be.
    const arrived = () => /"method":"POST","url":"\/v1\/interactions"/.test(output);
    for (let i = 0; i < 1200 && !arrived(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(arrived()).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const res = await inFlight;
    const body = (await res.json()) as { counts: { created: number } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.counts.created).toBe(5000);
    expect(await exited).toBe(0);
  });
});
