import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { CITUS_REFERENCE_TABLES, planCitusDistribution } from '../src/db/migrations/0024_scale_out.ts';
import { ENGINE, openTestDatabase } from './helpers.ts';

/**
 * Readiness for distributing the schema by workspace (Citus), proven on the catalogue and the code since
 * Citus itself is not installed here: a tenant table's every primary key, unique constraint or index and
 * foreign key to another tenant table includes `workspace_id` (so each is enforceable on one shard), and
 * no statement in src/ joins a tenant table without a condition on `workspace_id` (so each is routed to
 * one node).
 */

interface Constraint {
  table_name: string;
  name: string;
  kind: 'p' | 'u' | 'f';
  columns: string[];
  parent: string | null;
  parent_columns: string[] | null;
}

const SRC = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * Every join of a tenant table in the code with the text of its condition: raw SQL `JOIN t … ON …` up to
 * the next clause, and the query builder's `.innerJoin('t as x', (join) => …)` with its callback (the
 * three-argument form, which can equate only one column pair, has an empty condition).
 */
function findTenantJoins(
  source: string,
  tenant: ReadonlySet<string>,
): { table: string; condition: string }[] {
  const joins: { table: string; condition: string }[] = [];
  const raw =
    /\bJOIN\s+([a-z_]+)\b([\s\S]*?)(?=\bJOIN\b|\bWHERE\b|\bGROUP\s+BY\b|\bORDER\s+BY\b|\bLIMIT\b|`|$)/gi;
  for (const match of source.matchAll(raw)) {
    const table = match[1] ?? '';
    if (tenant.has(table)) joins.push({ table, condition: match[2] ?? '' });
  }
  const built = /\.(?:inner|left|right|full)Join\(\s*'([a-z_]+)(?:\s+as\s+\w+)?'\s*,([\s\S]*?)\)\s*\n?\s*\./g;
  for (const match of source.matchAll(built)) {
    const table = match[1] ?? '';
    const rest = match[2] ?? '';
    if (tenant.has(table)) joins.push({ table, condition: rest.includes('=>') ? rest : '' });
  }
  return joins;
}

describe(`distribution by workspace (${ENGINE})`, () => {
  let database: Database;
  let tenant: Set<string>;
  let constraints: Constraint[];

  beforeAll(async () => {
    database = await openTestDatabase();
    const { rows } = await sql<{ table_name: string }>`
      SELECT DISTINCT table_name::text FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'workspace_id'`.execute(database.db);
    tenant = new Set(rows.map((r) => r.table_name).filter((t) => !CITUS_REFERENCE_TABLES.includes(t)));
    constraints = (
      await sql<Constraint>`
        SELECT c.relname::text AS table_name, con.conname::text AS name, con.contype::text AS kind,
               ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
               p.relname::text AS parent,
               CASE WHEN con.contype = 'f' THEN
                 ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
               END AS parent_columns
          FROM pg_constraint con
          JOIN pg_class c ON c.oid = con.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
          LEFT JOIN pg_class p ON p.oid = con.confrelid
         WHERE con.contype IN ('p', 'u', 'f')`.execute(database.db)
    ).rows;
  });
  afterAll(() => database.close());

  it('has workspace_id in every primary key, unique constraint and unique index of a tenant table', async () => {
    expect(tenant.size).toBeGreaterThan(10);
    const keyed = new Set(constraints.filter((c) => c.kind === 'p').map((c) => c.table_name));
    const problems = [...tenant].filter((t) => !keyed.has(t)).map((t) => `${t} has no primary key`);
    for (const c of constraints) {
      if (c.kind !== 'f' && tenant.has(c.table_name) && !c.columns.includes('workspace_id'))
        problems.push(`${c.table_name}.${c.name} (${c.columns.join(', ')})`);
    }
    const { rows: indexes } = await sql<{ table_name: string; name: string; columns: string[] }>`
      SELECT c.relname::text AS table_name, ic.relname::text AS name,
             ARRAY(SELECT a.attname::text FROM unnest(i.indkey) k(n)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n) AS columns
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
       WHERE i.indisunique`.execute(database.db);
    for (const index of indexes) {
      if (tenant.has(index.table_name) && !index.columns.includes('workspace_id'))
        problems.push(`${index.table_name}.${index.name} (${index.columns.join(', ')})`);
    }
    expect(problems).toEqual([]);
  });

  it('pairs workspace_id with workspace_id in every foreign key between tenant tables', () => {
    const problems: string[] = [];
    for (const c of constraints) {
      if (c.kind !== 'f' || c.parent === null) continue;
      const fromTenant = tenant.has(c.table_name);
      const toTenant = tenant.has(c.parent);
      if (!fromTenant && toTenant)
        problems.push(`${c.table_name}.${c.name}: a global table refers to a tenant table`);
      if (!fromTenant || !toTenant) continue;
      const at = c.columns.indexOf('workspace_id');
      if (at < 0 || c.parent_columns?.[at] !== 'workspace_id')
        problems.push(`${c.table_name}.${c.name} (${c.columns.join(', ')}) → ${c.parent}`);
    }
    expect(problems).toEqual([]);
  });

  it('joins no tenant table in src/ without a condition on workspace_id', () => {
    const problems: string[] = [];
    let seen = 0;
    for (const file of sourceFiles(SRC)) {
      for (const { table, condition } of findTenantJoins(readFileSync(file, 'utf8'), tenant)) {
        seen++;
        if (!/workspace_id/.test(condition)) problems.push(`${file.slice(SRC.length + 1)}: JOIN ${table}`);
      }
    }
    expect(seen).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it('finds a join without workspace_id, in SQL and in the query builder', () => {
    const tables = new Set(['customers', 'interactions']);
    const bad = findTenantJoins(
      'sql`SELECT 1 FROM interactions i JOIN customers c ON c.id = i.customer_id WHERE i.workspace_id = $1`;\n' +
        "tx.selectFrom('interactions as i').innerJoin('customers as c', 'c.id', 'i.customer_id')\n  .select('c.id');",
      tables,
    );
    expect(bad.map((j) => /workspace_id/.test(j.condition))).toEqual([false, false]);
    const good = findTenantJoins(
      'JOIN customers c ON c.workspace_id = i.workspace_id AND c.id = i.customer_id WHERE true',
      tables,
    );
    expect(good.map((j) => /workspace_id/.test(j.condition))).toEqual([true]);
  });

  it('plans every tenant table for distribution, parents first, and the global ones as reference tables', async () => {
    const plan = await planCitusDistribution(database.db as unknown as Kysely<unknown>);
    expect(new Set(plan.distributed)).toEqual(tenant);
    expect(plan.reference).toEqual(expect.arrayContaining(['workspaces', 'api_keys']));
    const position = new Map(plan.distributed.map((name, i) => [name, i]));
    for (const c of constraints) {
      if (
        c.kind === 'f' &&
        c.parent !== null &&
        c.parent !== c.table_name &&
        tenant.has(c.table_name) &&
        tenant.has(c.parent)
      )
        expect(position.get(c.parent) ?? -1, `${c.parent} before ${c.table_name}`).toBeLessThan(
          position.get(c.table_name) ?? -1,
        );
    }
    // Without the extension the migration changed nothing: no table is distributed or replicated.
    const { rows } = await sql`SELECT 1 FROM pg_extension WHERE extname = 'citus'`.execute(database.db);
    expect(rows).toEqual([]);
  });
});
