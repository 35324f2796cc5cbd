import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.ts';
import { ENGINE, testDatabaseUrl } from './helpers.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe(`cornerstore CLI (${ENGINE})`, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  async function cli(...args: string[]): Promise<Result> {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
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

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-cli-'));
    const url = testDatabaseUrl();
    env = { ...process.env, CORNERSTORE_DATA_DIR: dir, DATABASE_URL: url ?? '' };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a workspace and keys with the documented JSON shapes', { timeout: 240_000 }, async () => {
    const name = `cli-${process.pid}-${Date.now().toString(36)}`;
    const created = await cli('workspace', 'create', name, '--json');
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body.workspace.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.apiKey).toMatch(/^cs_/);

    const key = await cli(
      'key',
      'create',
      '--workspace',
      body.workspace.id,
      '--role',
      'integration',
      '--purposes',
      'service,billing',
      '--json',
    );
    expect(key.code).toBe(0);
    const keyBody = JSON.parse(key.stdout);
    expect(keyBody.apiKey).toMatch(/^cs_/);
    expect(keyBody.key.purposes).toEqual(['service', 'billing']);

    const listed = JSON.parse((await cli('key', 'list', '--workspace', name, '--json')).stdout);
    expect(listed.keys).toHaveLength(2);

    const revoked = await cli('key', 'revoke', keyBody.key.id, '--workspace', name, '--json');
    expect(JSON.parse(revoked.stdout).key.revokedAt).toBeTruthy();

    const workspaces = JSON.parse((await cli('workspace', 'list', '--json')).stdout);
    expect(workspaces.workspaces.map((w: { name: string }) => w.name)).toContain(name);
  });

  it('registers recipients, exports for a purpose, and audit verify catches tampering', {
    timeout: 240_000,
  }, async () => {
    const name = `cli-audit-${process.pid}-${Date.now().toString(36)}`;
    const created = JSON.parse((await cli('workspace', 'create', name, '--json')).stdout);
    const partner = await cli(
      'recipient',
      'create',
      'mailer',
      '--kind',
      'processor',
      '--purposes',
      'marketing',
      '--workspace',
      name,
      '--json',
    );
    expect(partner.code, partner.stderr).toBe(0);
    expect(JSON.parse(partner.stdout)).toMatchObject({
      name: 'mailer',
      kind: 'processor',
      purposes: ['marketing'],
    });
    const listed = JSON.parse((await cli('recipient', 'list', '--workspace', name, '--json')).stdout);
    expect(listed.map((r: { name: string }) => r.name)).toEqual(['mailer']);

    const file = join(dir, `${name}.ndjson`);
    const refused = await cli(
      'export',
      '--workspace',
      name,
      '--purpose',
      'legal',
      '--recipient',
      'mailer',
      '--json',
    );
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stderr).error.code).toBe('RECIPIENT_PURPOSE_NOT_ALLOWED');
    const missingPurpose = await cli('export', '--workspace', name);
    expect(missingPurpose.code).not.toBe(0);
    const exported = await cli(
      'export',
      '--workspace',
      name,
      '--purpose',
      'marketing',
      '--recipient',
      'mailer',
      '--out',
      file,
      '--json',
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      purpose: 'marketing',
      recipient: 'mailer',
      customers: 0,
    });

    const verified = await cli('audit', 'verify', '--workspace', name, '--json');
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });

    // The last three events vanish (the head still counts them): the chain no longer adds up.
    const url = testDatabaseUrl();
    const database = await openDatabase(url ? { databaseUrl: url } : { dataDir: dir });
    try {
      await database.db.transaction().execute(async (tx) => {
        await sql`SET LOCAL session_replication_role = replica`.execute(tx);
        await sql`INSERT INTO audit_heads (workspace_id, seq, hash) VALUES (${created.workspace.id}, 3, ${'f'.repeat(64)})
                  ON CONFLICT (workspace_id) DO UPDATE SET seq = 3, hash = ${'f'.repeat(64)}`.execute(tx);
      });
    } finally {
      await database.close();
    }
    const broken = await cli('audit', 'verify', '--workspace', name, '--json');
    expect(broken.code).toBe(8);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, break: { problem: 'missing_event' } });
  });

  it('registers a webhook, rotates its secret, runs the worker and reads the log', {
    timeout: 240_000,
  }, async () => {
    const name = `cli-hooks-${process.pid}-${Date.now().toString(36)}`;
    expect((await cli('workspace', 'create', name, '--json')).code).toBe(0);
    const created = await cli(
      'recipient',
      'create',
      'hook',
      '--kind',
      'webhook',
      '--url',
      'http://127.0.0.1:9/hook',
      '--purposes',
      'service',
      '--workspace',
      name,
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body).toMatchObject({
      name: 'hook',
      kind: 'webhook',
      webhook: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(body.secret).toMatch(/^whsec_/);
    const rotated = await cli('webhooks', 'rotate-secret', 'hook', '--workspace', name, '--json');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout).secret).toMatch(/^whsec_/);
    expect(JSON.parse(rotated.stdout).secret).not.toBe(body.secret);
    const deliver = await cli('webhooks', 'deliver', '--workspace', name, '--json');
    expect(deliver.code, deliver.stderr).toBe(0);
    // Only this workspace's deliveries (on the shared test database, other files' are left alone); this
    // webhook had no event yet, so nothing is attempted and its log below stays empty.
    expect(JSON.parse(deliver.stdout)).toMatchObject({ attempted: 0, delivered: 0 });
    const log = await cli('webhooks', 'deliveries', 'hook', '--workspace', name, '--json');
    expect(JSON.parse(log.stdout)).toEqual({ deliveries: [], nextCursor: null });
    const missing = await cli(
      'webhooks',
      'replay',
      '0190c8a0-0000-7000-8000-000000000000',
      '--workspace',
      name,
      '--json',
    );
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('WEBHOOK_DELIVERY_NOT_FOUND');
  });

  it('reports bad input with a stable code and a non-zero exit code', { timeout: 120_000 }, async () => {
    const badRole = await cli(
      'key',
      'create',
      '--workspace',
      'no-such-workspace',
      '--role',
      'agent',
      '--json',
    );
    expect(badRole.code).toBe(4);
    expect(JSON.parse(badRole.stderr).error.code).toBe('WORKSPACE_NOT_FOUND');

    const badName = await cli('workspace', 'create', 'Not A Name');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('WORKSPACE_NAME_INVALID');
  });

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
    expect(weak.code).toBe(2);
    expect(JSON.parse(weak.stderr).error.code).toBe('PASSWORD_TOO_WEAK');
    const listed = await cli('user', 'list', '--workspace', name, '--json');
    expect(JSON.parse(listed.stdout).users.map((u: { email: string }) => u.email)).toEqual([
      'agent@example.com',
    ]);
    expect(listed.stdout).not.toContain(body.password);
  });

  it('has --help on every command', { timeout: 240_000 }, async () => {
    const top = await cli('--help');
    expect(top.stdout).toContain('Usage: cornerstore');
    for (const command of ['serve', 'migrate', 'workspace', 'key', 'import', 'export']) {
      expect(top.stdout).toContain(command);
      const help = await cli(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: cornerstore ${command}`);
    }
  });
});
