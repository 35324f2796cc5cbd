import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { AppError } from '../shared/errors.ts';
import { lockDataDir } from './database.ts';

/**
 * The embedded engine's data directory as one file (SPEC §14): a gzipped tarball of the whole
 * directory, written by the engine itself (PGlite's dumpDataDir) while it holds the directory, and
 * loaded back (loadDataDir) into a directory that has no database yet. The directory holds more than
 * the database (the admin key, the audit keys and checkpoints), and so does the file.
 */

function isDatabaseDir(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * Writes the data directory's tarball to `file` (mode 0600) through a temporary file renamed at the
 * end. The directory must hold a database and not be in use by another process.
 */
export async function dumpDataDir(dataDir: string, file: string): Promise<{ bytes: number }> {
  if (!isDatabaseDir(dataDir)) {
    throw new AppError('not_found', 'DATA_DIR_NOT_FOUND', `No embedded database in ${dataDir} to back up.`, {
      dataDir,
    });
  }
  const unlock = lockDataDir(dataDir);
  try {
    const client = await PGlite.create(dataDir, { extensions: { pg_trgm } });
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await (await client.dumpDataDir('gzip')).arrayBuffer());
    } finally {
      await client.close();
    }
    const partial = `${file}.partial`;
    writeFileSync(partial, bytes, { mode: 0o600 });
    chmodSync(partial, 0o600);
    renameSync(partial, file);
    return { bytes: bytes.length };
  } finally {
    unlock();
  }
}

/** Makes a restored directory private again: 0700 for directories, 0600 for files. */
function makePrivate(path: string): void {
  const info = statSync(path);
  if (info.isDirectory()) {
    chmodSync(path, 0o700);
    for (const entry of readdirSync(path)) makePrivate(join(path, entry));
  } else if (info.isFile()) chmodSync(path, 0o600);
}

/**
 * Loads a tarball written by `dumpDataDir` into `dataDir`, which must not hold a database yet (it is
 * created, private, when missing); the engine opens it once to check it starts.
 */
export async function loadDataDir(file: string, dataDir: string): Promise<void> {
  if (!existsSync(file))
    throw new AppError('invalid', 'RESTORE_FILE_NOT_FOUND', `No file at ${file}.`, { file });
  if (isDatabaseDir(dataDir)) {
    throw new AppError(
      'conflict',
      'DATA_DIR_NOT_EMPTY',
      `${dataDir} already holds a database; restore into a new data directory (CORNERSTORE_DATA_DIR). Nothing was changed.`,
      { dataDir },
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dataDir);
  const lockFile = join(dataDir, 'cornerstore.lock');
  try {
    const client = await PGlite.create(dataDir, {
      extensions: { pg_trgm },
      loadDataDir: new Blob([readFileSync(file)]),
    });
    try {
      await client.query('SELECT 1');
    } finally {
      await client.close();
    }
    // The tarball carries the lock of the process that wrote it: the directory is ours until we are done.
    writeFileSync(lockFile, String(process.pid), { mode: 0o600 });
    makePrivate(dataDir);
  } finally {
    unlock();
  }
}
