import { type Kysely, sql, type Transaction } from 'kysely';
import { isServer } from './engine.ts';
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
  if (isServer(db)) return inServerWorkspace(db, workspaceId, fn, options.isolation);
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * On a PostgreSQL server, BEGIN and the workspace settings travel in one message (a simple query of
 * two statements), which spares every transaction a round trip. The workspace id is a checked UUID,
 * so writing it into the text is safe; the embedded engine takes one statement per message.
 */
async function inServerWorkspace<T>(
  db: Kysely<DB>,
  workspaceId: string,
  fn: (tx: Tx) => Promise<T>,
  isolation: 'read committed' | 'repeatable read' | 'serializable' | undefined,
): Promise<T> {
  if (!UUID.test(workspaceId)) throw new Error(`not a workspace id: ${workspaceId}`);
  return db.connection().execute(async (connection) => {
    const begin = isolation ? `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}` : 'BEGIN';
    await sql
      .raw(
        `${begin}; SELECT set_config('cornerstore.workspace_id', '${workspaceId.toLowerCase()}', true), set_config('role', 'cornerstore_app', true)`,
      )
      .execute(connection);
    let result: T;
    try {
      // The connection is in a transaction the way Kysely's own would be; repositories only query it.
      result = await fn(connection as unknown as Tx);
    } catch (error) {
      await sql`ROLLBACK`.execute(connection).catch(() => undefined);
      throw error;
    }
    await sql`COMMIT`.execute(connection);
    return result;
  });
}

/**
 * Runs `fn` in a transaction as the operator (the database owner), outside any workspace: only for
 * listing and creating workspaces. Never use it to read or write tenant tables.
 */
export async function asOperator<T>(db: Kysely<DB>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(fn);
}
