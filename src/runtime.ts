import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindAuditKeys, loadAuditKeys } from './audit/index.ts';
import type { Config } from './config.ts';
import { type Database, migrateToLatest, openDatabase, refreshStatistics } from './db/index.ts';
import { createWorkspace, listWorkspaces } from './workspaces/index.ts';

/** Wiring shared by the composition roots: open and migrate the configured database. */

export { VERSION } from './version.ts';

/**
 * Opens the configured database (embedded unless DATABASE_URL is set), applies pending migrations and
 * binds the audit keys of the data directory (created 0600 on first start) to it.
 */
export async function openMigratedDatabase(
  config: Config,
  options: { poolSize?: number } = {},
): Promise<Database> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
  });
  try {
    bindAuditKeys(database.db, loadAuditKeys(config.dataDir, config.auditKey));
    await migrateToLatest(database.db);
    await refreshStatistics(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/**
 * On the first start without a workspace named `default`, creates it and writes its admin key to
 * `<dataDir>/admin-key` (mode 0600). Returns the path of the key file when it wrote one.
 */
export async function ensureDefaultWorkspace(
  database: Database,
  dataDir: string,
): Promise<string | undefined> {
  const exists = async () => (await listWorkspaces(database.db)).some((w) => w.name === 'default');
  if (await exists()) return undefined;
  let apiKey: string;
  try {
    ({ apiKey } = await createWorkspace(database.db, { name: 'default' }));
  } catch (error) {
    // Two processes starting at once on one server: the one that lost the race keeps no key file.
    if (await exists()) return undefined;
    throw error;
  }
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'admin-key');
  writeFileSync(path, `${apiKey}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
