import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './helpers.ts';

const run = promisify(execFile);
const BIN = new URL('../bin/cornerstore.js', import.meta.url).pathname;

/** `cornerstore user create`: a generated password printed once, the role's purposes, clear refusals. */
describe('cornerstore user create', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cornerstore-users-'));
  const env = { ...process.env, CORNERSTORE_DATA_DIR: dir, DATABASE_URL: testDatabaseUrl() ?? '' };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 180_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  }

  it('creates users with a generated or given password and refuses a weak one', {
    timeout: 600_000,
  }, async () => {
    const name = `users-${process.pid}-${Date.now().toString(36)}`;
    expect((await cli('workspace', 'create', name, '--json')).code).toBe(0);
    const generated = await cli(
      'user',
      'create',
      'Agent@Example.com',
      '--role',
      'agent',
      '--workspace',
      name,
      '--json',
    );
    expect(generated.code, generated.stderr).toBe(0);
    const body = JSON.parse(generated.stdout);
    expect(body.user).toMatchObject({
      email: 'agent@example.com',
      role: 'agent',
      purposes: ['service', 'billing', 'fulfilment', 'personalization'],
    });
    expect(body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const weak = await cli(
      'user',
      'create',
      'm@example.com',
      '--role',
      'marketer',
      '--password',
      'short',
      '--workspace',
      name,
      '--json',
    );
    expect(weak.code).toBe(4);
    expect(JSON.parse(weak.stderr).error.code).toBe('PASSWORD_TOO_WEAK');
    const listed = await cli('user', 'list', '--workspace', name, '--json');
    expect(JSON.parse(listed.stdout).users.map((u: { email: string }) => u.email)).toEqual([
      'agent@example.com',
    ]);
    expect(listed.stdout).not.toContain(body.password);
  });
});
