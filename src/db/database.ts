import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { AppError } from '../shared/errors.ts';
import { markServer } from './engine.ts';
import { makeTreePrivate, usePrivateUmask } from './private-dir.ts';
import type { DB } from './schema.ts';

/** Which engine is behind the query layer: the embedded one or a PostgreSQL server. */
export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: DatabaseKind;
  /** Human-readable location: a data directory or a server URL without its password. */
  readonly location: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent the embedded database is used. */
  databaseUrl?: string | undefined;
  /** Data directory of the embedded database; `memory://` keeps it in memory (tests). */
  dataDir?: string;
  /** Largest number of server connections (PostgreSQL only). */
  poolSize?: number;
}

// Dates stay 'YYYY-MM-DD' strings, numerics and 64-bit integers become numbers: the same values
// whichever engine answers. For money this is exact: amounts are accepted with at most 15 significant
// digits (shared/money.ts), which a double holds and prints back unchanged; sums are computed as
// numeric in SQL before they arrive here, never added up as floats.
const DATE_OID = 1082;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

pg.types.setTypeParser(DATE_OID, (value) => value);
pg.types.setTypeParser(INT8_OID, (value) => Number(value));
pg.types.setTypeParser(NUMERIC_OID, (value) => Number(value));

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded engine is a database server inside this process: two processes opening one data
 * directory would corrupt it. A lock file holding the owner's pid keeps a second process out; a lock
 * left by a process that died (kill -9) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'cornerstore.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new AppError(
          'unavailable',
          'DATA_DIR_IN_USE',
          `The embedded database in ${dataDir} is in use by process ${owner} (a running server or command). Stop it first, or set DATABASE_URL to a PostgreSQL server to run commands beside a running server.`,
          { dataDir, pid: owner },
        );
      }
      try {
        unlinkSync(path);
      } catch {
        // Another process took the stale lock over first; try again.
      }
    }
  }
  throw new AppError(
    'unavailable',
    'DATA_DIR_IN_USE',
    `Could not lock the embedded database in ${dataDir}.`,
    {
      dataDir,
    },
  );
}

/** Opens the embedded database or a PostgreSQL server, without migrating. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    markServer(db);
    return { db, kind: 'postgres', location: redact(options.databaseUrl), close: () => db.destroy() };
  }
  const dataDir = options.dataDir ?? 'memory://';
  const inMemory = dataDir.startsWith('memory://');
  // Everything in the data directory is private (0700/0600), whatever the umask (see private-dir.ts).
  const umaskSet = !inMemory && usePrivateUmask();
  if (!inMemory) makeTreePrivate(dataDir);
  const unlock = inMemory ? () => {} : lockDataDir(dataDir);
  try {
    const client = await PGlite.create(dataDir, {
      extensions: { pg_trgm },
      parsers: {
        [DATE_OID]: (value: string) => value,
        [INT8_OID]: (value: string) => Number(value),
        [NUMERIC_OID]: (value: string) => Number(value),
      },
    });
    const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
    return {
      db,
      kind: 'pglite',
      location: dataDir,
      close: async () => {
        try {
          await db.destroy();
          if (!inMemory && !umaskSet) makeTreePrivate(dataDir);
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
