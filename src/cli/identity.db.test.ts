import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE, testDatabaseUrl, uniqueName } from '../../test/helpers.ts';
import { createCustomer } from '../customers/index.ts';
import { inWorkspace, migrateToLatest, openDatabase } from '../db/index.ts';
import { createWorkspace, operatorActor } from '../workspaces/index.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'cornerstore.js');

describe(`identity commands on a workspace (${ENGINE})`, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const name = uniqueName('identity-cli');
  let customers: string[] = [];

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-identity-cli-'));
    const url = testDatabaseUrl();
    env = { ...process.env, CORNERSTORE_DATA_DIR: dir, DATABASE_URL: url ?? '' };
    const database = await openDatabase(url ? { databaseUrl: url } : { dataDir: dir });
    try {
      await migrateToLatest(database.db);
      const { workspace } = await createWorkspace(database.db, { name });
      const actor = operatorActor(workspace.id);
      customers = await inWorkspace(database.db, workspace.id, async (tx) => [
        (
          await createCustomer(tx, actor, {
            givenName: 'Ana',
            familyName: 'Ruiz',
            emails: ['ana@example.org'],
          })
        ).id,
        (
          await createCustomer(tx, actor, {
            givenName: 'Anna',
            familyName: 'Ruiz',
            emails: ['ana@example.org'],
          })
        ).id,
      ]);
    } finally {
      await database.close();
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('merges, unmerges, resolves and lists the queue', { timeout: 240_000 }, async () => {
    const [survivor = '', absorbed = ''] = customers;
    const merged = await cli('identity', 'merge', survivor, absorbed, '--workspace', name, '--json');
    expect(merged.code, merged.stderr).toBe(0);
    const merge = JSON.parse(merged.stdout).merge;
    expect(merge).toMatchObject({ survivorId: survivor, absorbedId: absorbed, origin: 'manual' });

    const undone = await cli('identity', 'unmerge', merge.id, '--workspace', name, '--json');
    expect(undone.code, undone.stderr).toBe(0);
    expect(JSON.parse(undone.stdout).unmerge).toMatchObject({ mergeId: merge.id });

    const resolved = await cli('identity', 'resolve-workspace', '--workspace', name, '--json');
    expect(resolved.code, resolved.stderr).toBe(0);
    const summary = JSON.parse(resolved.stdout);
    expect(summary.customers).toBe(2);
    // The unmerge said they are two people: the model is not allowed to join them again.
    expect(summary.merges).toEqual([]);

    const reviews = await cli('identity', 'reviews', '--workspace', name, '--json');
    expect(reviews.code, reviews.stderr).toBe(0);
    expect(JSON.parse(reviews.stdout)).toEqual({ reviews: [], nextCursor: null });

    const missing = await cli('identity', 'decide', merge.id, 'accept', '--workspace', name);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('REVIEW_NOT_FOUND');
    const bad = await cli('identity', 'decide', merge.id, 'maybe', '--workspace', name);
    expect(bad.code).toBe(2);
  });
});
