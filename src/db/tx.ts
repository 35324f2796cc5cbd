import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from './schema.ts';

/** A transaction confined to one workspace: what every domain repository receives. */
export type Tx = Transaction<DB>;

/**
 * Runs `fn` in a transaction confined to `workspaceId`: the transaction takes the tenant role (never a
 * superuser, never BYPASSRLS) and sets the workspace, both with LOCAL scope, so row-level security
 * hides every other workspace even from a query that forgets its filter. On the embedded database the
 * single connection is held for the whole transaction, so concurrent requests never interleave inside it.
 * `isolation: 'repeatable read'` gives the whole transaction one snapshot (exports use it).
 */
export async function inWorkspace<T>(
  db: Kysely<DB>,
  workspaceId: string,
  fn: (tx: Tx) => Promise<T>,
  options: { isolation?: 'read committed' | 'repeatable read' | 'serializable' } = {},
): Promise<T> {
  const builder = options.isolation
    ? db.transaction().setIsolationLevel(options.isolation)
    : db.transaction();
  return builder.execute(async (tx) => {
    await sql`SELECT set_config('cornerstore.workspace_id', ${workspaceId}, true), set_config('role', 'cornerstore_app', true)`.execute(
      tx,
    );
    return fn(tx);
  });
}

/**
 * Runs `fn` in a transaction as the operator (the database owner), outside any workspace: only for
 * listing and creating workspaces. Never use it to read or write tenant tables.
 */
export async function asOperator<T>(db: Kysely<DB>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(fn);
}
