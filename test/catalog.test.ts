import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_ONLY_STATE, classifyDatabaseError, type Database } from '../src/db/index.ts';
import { ENGINE, openTestDatabase } from './helpers.ts';
import { declaredTables } from './schema-source.ts';

/**
 * Rules the catalogue must hold whatever a future migration forgets: every tenant table confined by
 * forced row-level security, and the hand-written table types of `db/schema.ts` naming exactly the
 * columns the migrations made (with `| null` exactly where a column is nullable).
 */

interface ColumnRow {
  table_name: string;
  column_name: string;
  is_nullable: 'YES' | 'NO';
  is_generated: 'ALWAYS' | 'NEVER';
}

describe(`the catalogue (${ENGINE})`, () => {
  let database: Database;
  let columns: ColumnRow[];

  beforeAll(async () => {
    database = await openTestDatabase();
    columns = (
      await sql<ColumnRow>`
        SELECT table_name::text, column_name::text, is_nullable::text, is_generated::text
          FROM information_schema.columns
         WHERE table_schema = current_schema()
           AND table_name NOT LIKE 'kysely_%'
         ORDER BY table_name, ordinal_position`.execute(database.db)
    ).rows;
  });
  afterAll(() => database.close());

  it('confines every table with a workspace_id by forced row-level security on the workspace', async () => {
    const tenantTables = [
      ...new Set(columns.filter((c) => c.column_name === 'workspace_id').map((c) => c.table_name)),
    ];
    expect(tenantTables.length).toBeGreaterThan(10);
    const security = (
      await sql<{ table_name: string; enabled: boolean; forced: boolean; policies: string[] }>`
        SELECT c.relname::text AS table_name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
               coalesce(array_agg(pg_get_expr(p.polqual, p.polrelid)) FILTER (WHERE p.polqual IS NOT NULL),
                        '{}') AS policies
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
          LEFT JOIN pg_policy p ON p.polrelid = c.oid
         WHERE c.relname = ANY(${tenantTables}::text[]) AND c.relkind IN ('r', 'p')
         GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity`.execute(database.db)
    ).rows;
    const unconfined = security
      .filter(
        (t) =>
          !t.enabled ||
          !t.forced ||
          !t.policies.some((p) => /workspace_id = cornerstore_workspace\(\)/.test(p)),
      )
      .map((t) => t.table_name);
    expect(unconfined).toEqual([]);
    expect(security.map((t) => t.table_name).sort()).toEqual([...tenantTables].sort());
  });

  it('declares in db/schema.ts exactly the tables and columns the migrations made', () => {
    const declared = declaredTables();
    const actual = new Map<string, ColumnRow[]>();
    for (const c of columns) actual.set(c.table_name, [...(actual.get(c.table_name) ?? []), c]);

    expect([...declared.keys()].sort()).toEqual([...actual.keys()].sort());
    const problems: string[] = [];
    for (const [table, cols] of actual) {
      const fields = declared.get(table) ?? new Map<string, string>();
      for (const c of cols) {
        const type = fields.get(c.column_name);
        if (type === undefined) {
          problems.push(`${table}.${c.column_name} is missing from its type`);
          continue;
        }
        // A generated column reads as nullable in the catalogue whatever its expression yields.
        const typedNullable = /\bnull\b/.test(type);
        if (c.is_generated === 'NEVER' && (c.is_nullable === 'YES') !== typedNullable) {
          problems.push(
            `${table}.${c.column_name} is ${c.is_nullable === 'YES' ? 'nullable' : 'NOT NULL'} but typed ${type}`,
          );
        }
      }
      for (const field of fields.keys()) {
        if (!cols.some((c) => c.column_name === field)) problems.push(`${table}.${field} is not a column`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses a change of an append-only ledger with its own SQLSTATE, classified by code', async () => {
    // As the database owner, whom no grant stops: only the ledger's trigger does.
    const error = await sql`TRUNCATE intimacy_changes`.execute(database.db).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string } | undefined)?.code).toBe(APPEND_ONLY_STATE);
    expect(classifyDatabaseError(error).code).toBe('LEDGER_APPEND_ONLY');
  });
});
