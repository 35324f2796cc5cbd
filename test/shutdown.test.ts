import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorkspace, ENGINE, openTestDatabase, testDatabaseUrl } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

/**
 * A key the server accepts: the admin key it wrote at its first start (a fresh embedded data
 * directory), or, on a shared server whose default workspace other tests created, a new workspace's.
 */
async function anAdminKey(dir: string): Promise<string> {
  const file = join(dir, 'admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const database = await openTestDatabase();
  try {
    return (await createTestWorkspace(database)).apiKey;
  } finally {
    await database.close();
  }
}

// SIGTERM ends the server within its grace period even when a request never finishes: here a client
// that sends half a body and waits, which graceful shutdown alone would wait for forever.
describe(`cornerstore serve stops within its grace period (${ENGINE})`, () => {
  let dir: string;
  let child: ChildProcess;
  let output = '';
  let base = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-shutdown-'));
    child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        CORNERSTORE_DATA_DIR: dir,
        PORT: '0',
        DATABASE_URL: testDatabaseUrl() ?? '',
        LOG_LEVEL: 'warn',
        CORNERSTORE_SHUTDOWN_GRACE_MS: '500',
        // On the shared test database the backbone's installation-wide jobs (audit chaining, daily
        // recomputations of every workspace) would reach into other test files' workspaces: this server
        // only serves; the backbone's own tests drive it.
        CORNERSTORE_JOBS_IN_SERVER: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
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

  it('exits (status 1) after the grace period while a request is still in flight', async () => {
    expect(base, output).not.toBe('');
    const { hostname, port } = new URL(base);
    const key = await anAdminKey(dir);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Headers promise 1,000 bytes of body; 10 are sent, the rest never comes.
    socket.write(
      `POST /v1/interactions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${key}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":"n',
    );
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(output).toContain('graceful shutdown timed out');
    socket.destroy();
  });
});
