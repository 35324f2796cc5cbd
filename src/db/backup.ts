import { sql } from 'kysely';
import type { Tx } from './tx.ts';

/**
 * A workspace's rows, table by table, read from and written to the catalog's own description of the
 * schema: every table with a `workspace_id` column (and the `workspaces` row itself) is found in
 * `information_schema`, so a table added by a later migration is in every backup without anyone
 * remembering it. Rows travel as the JSON PostgreSQL makes of them (`to_jsonb`) and come back through
 * `jsonb_populate_recordset`, which reads every type exactly as it was written (timestamps to the
 * microsecond, numerics, arrays, jsonb, bytea). Generated columns are left out: the database recomputes them.
 */

/** One table of a workspace as a backup copies it. */
export interface WorkspaceTable {
  name: string;
  /** The column naming the workspace: `workspace_id`, or `id` for the `workspaces` table. */
  workspaceColumn: string;
  /** The columns a backup holds, in the table's order (generated columns excluded). */
  columns: string[];
  /** The primary key's columns, which order the rows and page through them. */
  primaryKey: string[];
  /** The SQL types of the primary key's columns (from the catalog), to compare a page's last key. */
  keyTypes: string[];
  /** Generated columns: not copied, the database recomputes them. */
  generated: string[];
}

interface CatalogColumn {
  table_name: string;
  column_name: string;
  is_generated: string;
  ordinal_position: number;
}

/**
 * Every table of a workspace, parents before children (foreign keys), `workspaces` first. Tables
 * without a `workspace_id` column (the migrations' own) are not workspace tables.
 */
export async function listWorkspaceTables(tx: Tx): Promise<WorkspaceTable[]> {
  const { rows: columns } = await sql<CatalogColumn>`
    SELECT c.table_name, c.column_name, c.is_generated, c.ordinal_position
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      AND (c.table_name = 'workspaces' OR c.table_name IN (
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'workspace_id'))
    ORDER BY c.table_name, c.ordinal_position`.execute(tx);
  const { rows: keys } = await sql<{ table_name: string; column_name: string; type: string }>`
    SELECT cl.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_index i
    JOIN pg_class cl ON cl.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = current_schema()
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
    JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
    WHERE i.indisprimary
    ORDER BY cl.relname, k.position`.execute(tx);
  const { rows: references } = await sql<{ child: string; parent: string }>`
    SELECT DISTINCT child.relname AS child, parent.relname AS parent
    FROM pg_constraint con
    JOIN pg_class child ON child.oid = con.conrelid
    JOIN pg_class parent ON parent.oid = con.confrelid
    JOIN pg_namespace n ON n.oid = child.relnamespace AND n.nspname = current_schema()
    WHERE con.contype = 'f' AND con.conrelid <> con.confrelid`.execute(tx);

  const tables = new Map<string, WorkspaceTable>();
  for (const column of columns) {
    let table = tables.get(column.table_name);
    if (!table) {
      table = {
        name: column.table_name,
        workspaceColumn: column.table_name === 'workspaces' ? 'id' : 'workspace_id',
        columns: [],
        primaryKey: [],
        keyTypes: [],
        generated: [],
      };
      tables.set(column.table_name, table);
    }
    if (column.is_generated === 'ALWAYS') table.generated.push(column.column_name);
    else table.columns.push(column.column_name);
  }
  for (const key of keys) {
    const table = tables.get(key.table_name);
    table?.primaryKey.push(key.column_name);
    table?.keyTypes.push(key.type);
  }
  // Every table belongs to a workspace: the `workspaces` row comes first even where no key says so.
  const parents = new Map<string, string[]>(
    [...tables.keys()].filter((name) => name !== 'workspaces').map((name) => [name, ['workspaces']]),
  );
  for (const { child, parent } of references) {
    if (tables.has(child) && tables.has(parent)) parents.set(child, [...(parents.get(child) ?? []), parent]);
  }
  return orderByReferences([...tables.values()], parents);
}

/** Parents before children; ties by name, so the order is the same on every engine and run. */
export function orderByReferences<T extends { name: string }>(
  tables: readonly T[],
  parents: ReadonlyMap<string, readonly string[]>,
): T[] {
  const ordered: T[] = [];
  const placed = new Set<string>();
  const remaining = [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  while (remaining.length > 0) {
    const index = remaining.findIndex((t) => (parents.get(t.name) ?? []).every((p) => placed.has(p)));
    // A cycle of references would need deferred constraints; the schema has none, so take the first.
    const [next] = remaining.splice(Math.max(index, 0), 1);
    if (!next) break;
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

/**
 * The next `limit` rows of the workspace's table after `after` (a row as returned before, or null from
 * the start), in primary-key order, as JSON objects of the backup's columns.
 */
export async function readTableRows(
  tx: Tx,
  table: WorkspaceTable,
  workspaceId: string,
  after: Record<string, unknown> | null,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const t = sql.table(table.name);
  const key = sql.join(table.primaryKey.map((c) => sql.ref(`r.${c}`)));
  // The last key as typed parameters, so the row comparison walks the primary-key index. The types
  // come from the catalog, never from input.
  const afterKey =
    after === null
      ? null
      : sql.join(
          table.primaryKey.map((c, i) => sql`${String(after[c])}::${sql.raw(table.keyTypes[i] ?? 'text')}`),
        );
  const page = afterKey === null ? sql`` : sql`AND (${key}) > (${afterKey})`;
  const { rows } = await sql<{ row: Record<string, unknown> }>`
    SELECT to_jsonb(r) - ${table.generated}::text[] AS row FROM ${t} r
    WHERE ${sql.ref(`r.${table.workspaceColumn}`)} = ${workspaceId} ${page}
    ORDER BY ${key}
    LIMIT ${limit}`.execute(tx);
  return rows.map((r) => r.row);
}

/**
 * Inserts rows of a backup into the table, every column as written (ids included), in one statement.
 * Runs as the tenant role like any write: row-level security still confines it to the workspace.
 */
export async function insertTableRows(
  tx: Tx,
  table: WorkspaceTable,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return;
  const t = sql.table(table.name);
  const columns = sql.join(table.columns.map((c) => sql.ref(c)));
  const values = sql.join(table.columns.map((c) => sql.ref(`r.${c}`)));
  await sql`
    INSERT INTO ${t} (${columns})
    SELECT ${values} FROM jsonb_populate_recordset(null::${t}, ${JSON.stringify(rows)}::jsonb) r`.execute(tx);
}
