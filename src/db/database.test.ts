import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';

describe('embedded data directory lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cornerstore-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second opener while the first holds the directory, and frees it on close', async () => {
    const first = await openDatabase({ dataDir: dir });
    await expect(openDatabase({ dataDir: dir })).rejects.toMatchObject({ code: 'DATA_DIR_IN_USE' });
    await first.close();
    expect(existsSync(join(dir, 'cornerstore.lock'))).toBe(false);
    const second = await openDatabase({ dataDir: dir });
    await second.close();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'cornerstore.lock'), '2147483646');
    const database = await openDatabase({ dataDir: dir });
    await database.close();
  });
});
