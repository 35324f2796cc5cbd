import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB, Tx } from '../db/index.ts';
import type { ApiKeysTable, WorkspacesTable } from '../db/schema.ts';
import type { Purpose, Role } from '../shared/access.ts';
import {
  type ApiKeyInfo,
  DEFAULT_EARLIEST_PURCHASE_DATE,
  DEFAULT_PRIVACY_REQUEST_DAYS,
  DEFAULT_SOURCE_TRUST,
  type Workspace,
} from './workspace.ts';

/** All SQL of workspaces and API keys. */

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function rates(value: unknown): Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, rate]) => typeof rate === 'number'));
}

function toWorkspace(row: Selectable<WorkspacesTable>): Workspace {
  const policy = row.policy ?? {};
  return {
    id: row.id,
    name: row.name,
    settings: {
      defaultRegion: row.default_region,
      autoCreateCustomers: row.auto_create_customers,
      doNotStore: policy.doNotStore === 'strip' ? 'strip' : 'reject',
      linkVerifiedContacts: policy.linkVerifiedContacts !== false,
      sourceTrust: Array.isArray(policy.sourceTrust)
        ? policy.sourceTrust.filter((s): s is string => typeof s === 'string')
        : [...DEFAULT_SOURCE_TRUST],
      earliestPurchaseDate:
        typeof policy.earliestPurchaseDate === 'string'
          ? policy.earliestPurchaseDate
          : DEFAULT_EARLIEST_PURCHASE_DATE,
      valueCurrency: typeof policy.valueCurrency === 'string' ? policy.valueCurrency : null,
      exchangeRates: rates(policy.exchangeRates),
      valueAsOf: typeof policy.valueAsOf === 'string' ? policy.valueAsOf : null,
      privacyRequestDays:
        typeof policy.privacyRequestDays === 'number'
          ? policy.privacyRequestDays
          : DEFAULT_PRIVACY_REQUEST_DAYS,
    },
    policy: {
      categories: list(policy.categories),
      purposes: list(policy.purposes),
      overrides: list(policy.overrides),
    },
    createdAt: row.created_at.toISOString(),
  };
}

function toApiKey(row: Omit<Selectable<ApiKeysTable>, 'secret_hash'>): ApiKeyInfo {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    role: row.role as Role,
    purposes: row.purposes as Purpose[],
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

export async function insertWorkspace(
  tx: Tx,
  row: { id: string; name: string; defaultRegion: string },
): Promise<Workspace> {
  const inserted = await tx
    .insertInto('workspaces')
    .values({ id: row.id, name: row.name, default_region: row.defaultRegion })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toWorkspace(inserted);
}

export async function findWorkspaceByName(db: Kysely<DB>, name: string): Promise<Workspace | undefined> {
  const row = await db.selectFrom('workspaces').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toWorkspace(row);
}

export async function listAllWorkspaces(db: Kysely<DB>): Promise<Workspace[]> {
  const rows = await db.selectFrom('workspaces').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toWorkspace);
}

/** The workspace of the current transaction (row-level security shows only that one). */
export async function findCurrentWorkspace(tx: Tx, id: string): Promise<Workspace | undefined> {
  const row = await tx.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toWorkspace(row);
}

export async function updateWorkspaceSettings(
  tx: Tx,
  id: string,
  patch: {
    defaultRegion?: string;
    autoCreateCustomers?: boolean;
    policy?: Partial<
      Record<
        | 'doNotStore'
        | 'categories'
        | 'purposes'
        | 'overrides'
        | 'linkVerifiedContacts'
        | 'sourceTrust'
        | 'earliestPurchaseDate'
        | 'valueCurrency'
        | 'exchangeRates'
        | 'valueAsOf'
        | 'privacyRequestDays',
        unknown
      >
    >;
  },
): Promise<Workspace | undefined> {
  const row = await tx
    .updateTable('workspaces')
    .set({
      ...(patch.policy === undefined
        ? {}
        : { policy: sql`policy || ${JSON.stringify(patch.policy)}::jsonb` }),
      ...(patch.defaultRegion === undefined ? {} : { default_region: patch.defaultRegion }),
      ...(patch.autoCreateCustomers === undefined
        ? {}
        : { auto_create_customers: patch.autoCreateCustomers }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && toWorkspace(row);
}

export async function insertApiKey(
  tx: Tx,
  row: { workspaceId: string; id: string; name: string; role: Role; purposes: Purpose[]; secretHash: string },
): Promise<ApiKeyInfo> {
  const inserted = await tx
    .insertInto('api_keys')
    .values({
      workspace_id: row.workspaceId,
      id: row.id,
      name: row.name,
      role: row.role,
      purposes: row.purposes,
      secret_hash: row.secretHash,
      revoked_at: null,
      last_used_at: null,
    })
    .returning(['workspace_id', 'id', 'name', 'role', 'purposes', 'created_at', 'revoked_at', 'last_used_at'])
    .executeTakeFirstOrThrow();
  return toApiKey(inserted);
}

export async function findApiKeyWithHash(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<(ApiKeyInfo & { secretHash: string }) | undefined> {
  const row = await tx
    .selectFrom('api_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && { ...toApiKey(row), secretHash: row.secret_hash };
}

/** Records that a key was used, at most once a minute: a use within the minute writes nothing. */
export async function touchApiKey(tx: Tx, workspaceId: string, id: string): Promise<void> {
  await tx
    .updateTable('api_keys')
    .set({ last_used_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`),
      ]),
    )
    .execute();
}

export async function listApiKeysOf(tx: Tx, workspaceId: string): Promise<ApiKeyInfo[]> {
  const rows = await tx
    .selectFrom('api_keys')
    .select(['workspace_id', 'id', 'name', 'role', 'purposes', 'created_at', 'revoked_at', 'last_used_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toApiKey);
}

export async function markApiKeyRevoked(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<ApiKeyInfo | undefined> {
  const row = await tx
    .updateTable('api_keys')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(['workspace_id', 'id', 'name', 'role', 'purposes', 'created_at', 'revoked_at', 'last_used_at'])
    .executeTakeFirst();
  return row && toApiKey(row);
}

/**
 * The ids of the workspace's active keys of the given roles, each locked until the transaction ends:
 * two revocations racing for the last of them are serialised, and the second sees the first's effect.
 */
export async function lockActiveKeyIds(
  tx: Tx,
  workspaceId: string,
  roles: readonly Role[],
): Promise<string[]> {
  const rows = await tx
    .selectFrom('api_keys')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('role', 'in', [...roles])
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The workspace's secret for a purpose (the keyed hash of government ids), created on first use: 32
 * random bytes that never leave the database.
 */
export async function findOrCreateSecret(
  tx: Tx,
  workspaceId: string,
  purpose: string,
  fresh: () => Buffer,
): Promise<Buffer> {
  await tx
    .insertInto('workspace_secrets')
    .values({ workspace_id: workspaceId, purpose, secret: fresh() })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const row = await tx
    .selectFrom('workspace_secrets')
    .select('secret')
    .where('workspace_id', '=', workspaceId)
    .where('purpose', '=', purpose)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.secret);
}
