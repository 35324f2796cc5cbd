import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';

/** Every entry under `root` (itself included) with its permission bits. */
function modes(root: string): { path: string; kind: 'dir' | 'file'; mode: number }[] {
  const out: { path: string; kind: 'dir' | 'file'; mode: number }[] = [];
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    out.push({ path: dir, kind: 'dir', mode: lstatSync(dir).mode & 0o777 });
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) out.push({ path, kind: 'file', mode: lstatSync(path).mode & 0o777 });
    }
  }
  return out;
}

function notPrivate(root: string): string[] {
  return modes(root)
    .filter((e) => e.mode !== (e.kind === 'dir' ? 0o700 : 0o600))
    .map((e) => `${e.path} ${e.mode.toString(8)}`);
}

describe('the embedded data directory is private', () => {
  const parent = mkdtempSync(join(tmpdir(), 'cornerstore-modes-'));
  const dataDir = join(parent, 'data');
  let umask = 0;
  beforeAll(() => {
    umask = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(umask);
    rmSync(parent, { recursive: true, force: true });
  });

  it('creates every directory 0700 and every file 0600 under umask 022, the WAL included', async () => {
    process.umask(0o022);
    const database = await openDatabase({ dataDir });
    try {
      await sql`CREATE TABLE scratch (email text)`.execute(database.db);
      await sql`INSERT INTO scratch SELECT 'ana' || g || '@example.com' FROM generate_series(1, 2000) g`.execute(
        database.db,
      );
      await sql`CHECKPOINT`.execute(database.db);
      // While open, so files PGlite creates as it runs are checked, not only what closing leaves.
      const entries = modes(dataDir);
      expect(entries.length).toBeGreaterThan(100);
      expect(entries.some((e) => e.path.includes('pg_wal') && e.kind === 'file')).toBe(true);
      expect(notPrivate(dataDir)).toEqual([]);
    } finally {
      await database.close();
    }
    expect(notPrivate(dataDir)).toEqual([]);
  });

  it('tightens a directory left readable by an older version when it is opened', async () => {
    process.umask(0o022);
    chmodSync(dataDir, 0o755);
    const stray = join(dataDir, 'base');
    chmodSync(stray, 0o755);
    writeFileSync(join(dataDir, 'left-by-hand'), 'x', { mode: 0o644 });
    chmodSync(join(dataDir, 'left-by-hand'), 0o644);
    expect(notPrivate(dataDir).length).toBeGreaterThan(0);
    const database = await openDatabase({ dataDir });
    try {
      expect(notPrivate(dataDir)).toEqual([]);
      await sql`INSERT INTO scratch VALUES ('late@example.com')`.execute(database.db);
    } finally {
      await database.close();
    }
    expect(notPrivate(dataDir)).toEqual([]);
  });
});
