import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded data directory holds every customer's data in clear (tables, WAL), so it is private to
 * the user running Cornerstore: directories 0700, files 0600, whatever the umask the process started
 * with. PGlite writes through Node's file system, so the process's umask decides the modes of the
 * files it creates later (new WAL segments, relation files); existing files (a directory made by an
 * older version, or copied in) are tightened when the directory is opened.
 */

/** Mode of every directory in a private tree. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in a private tree. */
export const PRIVATE_FILE_MODE = 0o600;
/** The umask under which everything created is private to the user. */
const PRIVATE_UMASK = 0o077;

/**
 * Sets the process's umask so that every file and directory it creates from now on is private: the
 * process serving an embedded database keeps it (exports and rejects files it writes hold personal
 * data too). Where the umask cannot be changed (a worker thread) the files PGlite creates later keep
 * the inherited umask, and only `makeTreePrivate` at open and close tightens them.
 */
export function usePrivateUmask(): boolean {
  try {
    process.umask(PRIVATE_UMASK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the data directory `root` when missing and sets it to 0700; when it holds a database cluster
 * (`PG_VERSION`), also every directory under it to 0700 and every file to 0600. A directory that holds
 * no cluster yet is not walked, so a data directory set by mistake to a folder of other files does not
 * have them changed. Symbolic links are left alone: their targets are not part of the tree.
 */
export function makeTreePrivate(root: string): void {
  mkdirSync(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(root, PRIVATE_DIR_MODE);
  if (!existsSync(join(root, 'PG_VERSION'))) return;
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    chmodSync(dir, PRIVATE_DIR_MODE);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) chmodSync(path, PRIVATE_FILE_MODE);
    }
  }
}
