import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-serve-'));
    const url = testDatabaseUrl();
    child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        CORNERSTORE_DATA_DIR: dir,
        PORT: '0',
        DATABASE_URL: url ?? '',
        LOG_LEVEL: 'warn',
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
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
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
    await new Promise((r) => setTimeout(r, 30));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const res = await inFlight;
    const body = (await res.json()) as { counts: { created: number } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.counts.created).toBe(5000);
    expect(await exited).toBe(0);
  });
});
