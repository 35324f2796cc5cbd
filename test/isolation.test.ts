import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, inWorkspace } from '../src/db/index.ts';
import { newId } from '../src/shared/ids.ts';
import { createTestWorkspace, ENGINE, openTestDatabase, type TestWorkspace } from './helpers.ts';

// Row-level security is the floor under every query: these tests write raw SQL that "forgets" its
// workspace filter and show the database still refuses to cross workspaces.
describe(`row-level security (${ENGINE})`, () => {
  let database: Database;
  let a: TestWorkspace;
  let b: TestWorkspace;

  beforeAll(async () => {
    database = await openTestDatabase();
    a = await createTestWorkspace(database);
    b = await createTestWorkspace(database);
    for (const ws of [a, b]) {
      await inWorkspace(database.db, ws.workspace.id, async (tx) => {
        await sql`INSERT INTO customers (workspace_id, id, given_name) VALUES (${ws.workspace.id}, ${newId()}, 'Ada')`.execute(
          tx,
        );
      });
    }
  });
  afterAll(() => database.close());

  it('shows a raw query without a workspace no rows at all', async () => {
    const rows = await database.db.transaction().execute(async (tx) => {
      await sql`SET LOCAL ROLE cornerstore_app`.execute(tx);
      return (
        await sql<{ n: number }>`
          SELECT (SELECT count(*) FROM customers)::int + (SELECT count(*) FROM api_keys)::int
               + (SELECT count(*) FROM workspaces)::int AS n`.execute(tx)
      ).rows;
    });
    expect(rows[0]?.n).toBe(0);
  });

  it('shows a raw query with no filter only its own workspace', async () => {
    const seen = await inWorkspace(
      database.db,
      a.workspace.id,
      async (tx) =>
        (await sql<{ workspace_id: string }>`SELECT workspace_id FROM customers`.execute(tx)).rows,
    );
    expect(seen.length).toBe(1);
    expect(seen.every((r) => r.workspace_id === a.workspace.id)).toBe(true);
    const keys = await inWorkspace(
      database.db,
      a.workspace.id,
      async (tx) => (await sql<{ workspace_id: string }>`SELECT workspace_id FROM api_keys`.execute(tx)).rows,
    );
    expect(keys.map((k) => k.workspace_id)).toEqual([a.workspace.id]);
  });

  it('refuses to write a row into another workspace', async () => {
    await expect(
      inWorkspace(database.db, a.workspace.id, async (tx) => {
        await sql`INSERT INTO customers (workspace_id, id) VALUES (${b.workspace.id}, ${newId()})`.execute(
          tx,
        );
      }),
    ).rejects.toThrow(/row-level security/);
  });

  it("cannot update or delete another workspace's rows", async () => {
    const changed = await inWorkspace(database.db, a.workspace.id, async (tx) => {
      const u =
        await sql`UPDATE customers SET given_name = 'Eve' WHERE workspace_id = ${b.workspace.id}`.execute(tx);
      const d = await sql`DELETE FROM customers WHERE workspace_id = ${b.workspace.id}`.execute(tx);
      return Number(u.numAffectedRows ?? 0) + Number(d.numAffectedRows ?? 0);
    });
    expect(changed).toBe(0);
    const names = await inWorkspace(database.db, b.workspace.id, async (tx) =>
      (await sql<{ given_name: string }>`SELECT given_name FROM customers`.execute(tx)).rows.map(
        (r) => r.given_name,
      ),
    );
    expect(names).toEqual(['Ada']);
  });

  it('runs tenant transactions as a role that is neither superuser nor exempt from row security', async () => {
    const role = await inWorkspace(
      database.db,
      a.workspace.id,
      async (tx) =>
        (
          await sql<{ rolsuper: boolean; rolbypassrls: boolean; current_user: string }>`
          SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`.execute(tx)
        ).rows[0],
    );
    expect(role).toEqual({ current_user: 'cornerstore_app', rolsuper: false, rolbypassrls: false });
  });
});
