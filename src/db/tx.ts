import { type Kysely, type KyselyPlugin, sql, type Transaction } from 'kysely';
import { isServer } from './engine.ts';
import { requestTimeout } from './errors.ts';
import type { DB } from './schema.ts';

/** A transaction confined to one workspace: what every domain repository receives. */
export type Tx = Transaction<DB>;

/** How a workspace transaction runs. */
export interface WorkspaceTxOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /**
   * Time (epoch milliseconds) by which the transaction must be over: every statement is bounded by
   * what remains (`statement_timeout`, which the server honours), and no statement starts after it (checked before each one, which is what bounds the embedded engine,
   * whose statements cannot be interrupted). Past it the transaction rolls back with 503 REQUEST_TIMEOUT.
   */
  deadline?: number | undefined;
}

/** Refuses every statement that would start after the deadline. */
function deadlinePlugin(deadline: number): KyselyPlugin {
  return {
    transformQuery(args) {
      if (Date.now() >= deadline) throw requestTimeout();
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
}

/** Milliseconds left before the deadline, at least 1; throws when it has passed. */
function remainingMs(deadline: number): number {
  const left = Math.ceil(deadline - Date.now());
  if (left <= 0) throw requestTimeout();
  return left;
}

/**
 * Runs `fn` in a transaction confined to `workspaceId`: the transaction takes the tenant role (never a
 * superuser, never BYPASSRLS) and sets the workspace, both with LOCAL scope, so row-level security
 * hides every other workspace even from a query that forgets its filter. On the embedded database the
 * single connection is held for the whole transaction, so concurrent requests never interleave inside it.
 * `isolation: 'repeatable read'` gives the whole transaction one snapshot (exports use it); a
 * `deadline` bounds it in time.
 */
export async function inWorkspace<T>(
  db: Kysely<DB>,
  workspaceId: string,
  fn: (tx: Tx) => Promise<T>,
  options: WorkspaceTxOptions = {},
): Promise<T> {
  if (isServer(db)) return inServerWorkspace(db, workspaceId, fn, options);
  const { deadline } = options;
  const builder = options.isolation
    ? db.transaction().setIsolationLevel(options.isolation)
    : db.transaction();
  return builder.execute(async (tx) => {
    if (deadline === undefined) {
      await sql`SELECT set_config('cornerstore.workspace_id', ${workspaceId}, true), set_config('role', 'cornerstore_app', true)`.execute(
        tx,
      );
      return fn(tx);
    }
    await sql`SELECT set_config('cornerstore.workspace_id', ${workspaceId}, true), set_config('role', 'cornerstore_app', true), set_config('statement_timeout', ${String(remainingMs(deadline))}, true)`.execute(
      tx,
    );
    return fn(tx.withPlugin(deadlinePlugin(deadline)));
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
  options: WorkspaceTxOptions,
): Promise<T> {
  if (!UUID.test(workspaceId)) throw new Error(`not a workspace id: ${workspaceId}`);
  const { isolation, deadline } = options;
  return db.connection().execute(async (connection) => {
    const begin = isolation ? `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}` : 'BEGIN';
    // The budget is an integer of milliseconds, so writing it into the text is safe too.
    const budget =
      deadline === undefined ? '' : `, set_config('statement_timeout', '${remainingMs(deadline)}', true)`;
    await sql
      .raw(
        `${begin}; SELECT set_config('cornerstore.workspace_id', '${workspaceId.toLowerCase()}', true), set_config('role', 'cornerstore_app', true)${budget}`,
      )
      .execute(connection);
    const bounded = deadline === undefined ? connection : connection.withPlugin(deadlinePlugin(deadline));
    let result: T;
    try {
      // The connection is in a transaction the way Kysely's own would be; repositories only query it.
      result = await fn(bounded as unknown as Tx);
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
