import { type Kysely, sql } from 'kysely';

/**
 * Staff users and their browser sessions (the web). A user has a role and purposes like an API key and
 * signs in with an email and a password kept only as a slow hash; a session is a random secret kept
 * only as a SHA-256 hash (it has 256 bits of entropy, so a slow hash adds nothing), with an absolute
 * expiry and the time it was ended by a logout.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      id uuid NOT NULL,
      email text NOT NULL,
      role text NOT NULL,
      purposes text[] NOT NULL,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      disabled_at timestamptz,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX users_email ON users (workspace_id, email)`.execute(db);
  await sql`
    CREATE TABLE user_sessions (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      user_id uuid NOT NULL,
      secret_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      ended_at timestamptz,
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX user_sessions_user ON user_sessions (workspace_id, user_id)`.execute(db);
  await sql`CREATE INDEX user_sessions_expiry ON user_sessions (workspace_id, expires_at)`.execute(db);

  for (const table of ['users', 'user_sessions']) {
    const t = sql.table(table);
    await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY workspace_isolation ON ${t}
      USING (workspace_id = cornerstore_workspace())
      WITH CHECK (workspace_id = cornerstore_workspace())`.execute(db);
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO cornerstore_app`.execute(db);
  }
}
