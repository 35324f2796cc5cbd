import type { Selectable } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { UserSessionsTable, UsersTable } from '../db/schema.ts';
import type { Purpose, Role } from '../shared/access.ts';
import type { StaffSession, StaffUser } from './user.ts';

/** All SQL of staff users and sessions. */

function toUser(row: Omit<Selectable<UsersTable>, 'password_hash'>): StaffUser {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    role: row.role as Role,
    purposes: row.purposes as Purpose[],
    createdAt: row.created_at.toISOString(),
    disabledAt: row.disabled_at?.toISOString() ?? null,
  };
}

function toSession(row: Selectable<UserSessionsTable>): StaffSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    endedAt: row.ended_at?.toISOString() ?? null,
  };
}

const USER_COLUMNS = [
  'id',
  'workspace_id',
  'email',
  'role',
  'purposes',
  'created_at',
  'disabled_at',
] as const;

export async function insertUser(
  tx: Tx,
  row: {
    workspaceId: string;
    id: string;
    email: string;
    role: Role;
    purposes: Purpose[];
    passwordHash: string;
  },
): Promise<StaffUser | undefined> {
  const inserted = await tx
    .insertInto('users')
    .values({
      workspace_id: row.workspaceId,
      id: row.id,
      email: row.email,
      role: row.role,
      purposes: row.purposes,
      password_hash: row.passwordHash,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'email']).doNothing())
    .returning(USER_COLUMNS)
    .executeTakeFirst();
  return inserted ? toUser(inserted) : undefined;
}

export async function findUserByEmail(
  tx: Tx,
  workspaceId: string,
  email: string,
): Promise<(StaffUser & { passwordHash: string }) | undefined> {
  const row = await tx
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('email', '=', email)
    .executeTakeFirst();
  return row ? { ...toUser(row), passwordHash: row.password_hash } : undefined;
}

export async function findUserById(tx: Tx, workspaceId: string, id: string): Promise<StaffUser | undefined> {
  const row = await tx
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function listUsersOf(tx: Tx, workspaceId: string): Promise<StaffUser[]> {
  const rows = await tx
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toUser);
}

export async function insertSession(
  tx: Tx,
  row: { workspaceId: string; id: string; userId: string; secretHash: string; expiresAt: Date },
): Promise<StaffSession> {
  const inserted = await tx
    .insertInto('user_sessions')
    .values({
      workspace_id: row.workspaceId,
      id: row.id,
      user_id: row.userId,
      secret_hash: row.secretHash,
      expires_at: row.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSession(inserted);
}

/**
 * A session with its user, in one statement (the session cookie is checked on every staff request, so
 * it costs one round trip, not two); undefined when the session is unknown or its user is gone.
 */
export async function findSessionWithUser(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<{ session: StaffSession & { secretHash: string }; user: StaffUser } | undefined> {
  const row = await tx
    .selectFrom('user_sessions as s')
    .innerJoin('users as u', (join) =>
      join.onRef('u.workspace_id', '=', 's.workspace_id').onRef('u.id', '=', 's.user_id'),
    )
    .select([
      's.id as session_id',
      's.workspace_id',
      's.user_id',
      's.secret_hash',
      's.created_at as session_created_at',
      's.expires_at',
      's.ended_at',
      'u.email',
      'u.role',
      'u.purposes',
      'u.created_at as user_created_at',
      'u.disabled_at',
    ])
    .where('s.workspace_id', '=', workspaceId)
    .where('s.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const session = toSession({
    id: row.session_id,
    workspace_id: row.workspace_id,
    user_id: row.user_id,
    secret_hash: row.secret_hash,
    created_at: row.session_created_at,
    expires_at: row.expires_at,
    ended_at: row.ended_at,
  });
  const user = toUser({
    id: row.user_id,
    workspace_id: row.workspace_id,
    email: row.email,
    role: row.role,
    purposes: row.purposes,
    created_at: row.user_created_at,
    disabled_at: row.disabled_at,
  });
  return { session: { ...session, secretHash: row.secret_hash }, user };
}

export async function markSessionEnded(tx: Tx, workspaceId: string, id: string): Promise<boolean> {
  const result = await tx
    .updateTable('user_sessions')
    .set({ ended_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Removes sessions that expired a day ago or more (sessions only grow otherwise). */
export async function deleteExpiredSessions(tx: Tx, workspaceId: string, before: Date): Promise<void> {
  await tx
    .deleteFrom('user_sessions')
    .where('workspace_id', '=', workspaceId)
    .where('expires_at', '<', before)
    .execute();
}
