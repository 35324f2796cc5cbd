import {
  DEFAULT_MIGRATION_TABLE,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely';
import { AppError } from '../shared/errors.ts';
import * as m0001 from './migrations/0001_foundation.ts';
import * as m0002 from './migrations/0002_customer_identity_lookup.ts';
import * as m0003 from './migrations/0003_schema_usage.ts';
import * as m0004 from './migrations/0004_governance.ts';
import * as m0005 from './migrations/0005_identity.ts';
import * as m0006 from './migrations/0006_value.ts';
import * as m0007 from './migrations/0007_privacy_subjects.ts';
import * as m0008 from './migrations/0008_postal_addresses.ts';
import * as m0009 from './migrations/0009_money.ts';
import * as m0010 from './migrations/0010_field_values_by_customer.ts';
import * as m0011 from './migrations/0011_import_attempts.ts';
import * as m0012 from './migrations/0012_audit_hardening.ts';
import * as m0014 from './migrations/0014_idempotency_receipts.ts';
import * as m0015 from './migrations/0015_append_only_state.ts';
import * as m0016 from './migrations/0016_events.ts';
import * as m0017 from './migrations/0017_facts.ts';
import * as m0018 from './migrations/0018_relationships.ts';
import * as m0019 from './migrations/0019_recommendations.ts';
import * as m0020 from './migrations/0020_staff_users.ts';
import * as m0023 from './migrations/0023_webhooks.ts';
import * as m0024 from './migrations/0024_scale_out.ts';
import * as m0025 from './migrations/0025_privacy_rights.ts';
import * as m0026 from './migrations/0026_moments.ts';
import * as m0027 from './migrations/0027_address_validity.ts';
import type { DB } from './schema.ts';

/**
 * Forward-only, versioned migrations, applied at start and by `cornerstore migrate`. A migration, once
 * released, is never edited: a change is a new file added to this list.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_customer_identity_lookup': m0002,
  '0003_schema_usage': m0003,
  '0004_governance': m0004,
  '0005_identity': m0005,
  '0006_value': m0006,
  '0007_privacy_subjects': m0007,
  '0008_postal_addresses': m0008,
  '0009_money': m0009,
  '0010_field_values_by_customer': m0010,
  '0011_import_attempts': m0011,
  '0012_audit_hardening': m0012,
  '0014_idempotency_receipts': m0014,
  '0015_append_only_state': m0015,
  '0016_events': m0016,
  '0017_facts': m0017,
  '0018_relationships': m0018,
  '0019_recommendations': m0019,
  '0020_staff_users': m0020,
  '0023_webhooks': m0023,
  '0024_scale_out': m0024,
  '0025_privacy_rights': m0025,
  '0026_moments': m0026,
  '0027_address_validity': m0027,
};

const provider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export interface MigrationReport {
  applied: string[];
  latest: string;
}

/** Applies every pending migration; concurrent callers are serialised by a lock in the database. */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationReport> {
  const names = Object.keys(MIGRATIONS).sort();
  const latest = names[names.length - 1] ?? '';
  // Every start passes here: on an up-to-date database two small reads answer, without the migrator's
  // table checks and lock.
  const applied = await findAppliedMigrations(db);
  if (applied !== undefined && names.every((name) => applied.has(name))) return { applied: [], latest };
  const migrator = new Migrator({ db: db as unknown as Kysely<unknown>, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new AppError(
      'unavailable',
      'MIGRATION_FAILED',
      `Migration ${failed ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`,
      { migration: failed },
      { cause: error },
    );
  }
  return {
    applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
    latest,
  };
}

/** The names of the migrations applied, or nothing when the database has no migration table yet. */
async function findAppliedMigrations(db: Kysely<DB>): Promise<Set<string> | undefined> {
  const exists = await sql<{ found: boolean }>`
    SELECT to_regclass(${DEFAULT_MIGRATION_TABLE}) IS NOT NULL AS found`.execute(db);
  if (exists.rows[0]?.found !== true) return undefined;
  const { rows } = await sql<{
    name: string;
  }>`SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db);
  return new Set(rows.map((row) => row.name));
}
