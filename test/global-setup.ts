import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { loadAuditKeys } from '../src/audit/index.ts';
import { migrateToLatest, openDatabase } from '../src/db/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of this run's own database on the PostgreSQL server, when TEST_DATABASE_URL is set. */
    testDatabaseUrl: string | undefined;
    /** This run's directory of audit keys and checkpoints, shared by its test files, removed at the end. */
    testAuditKeyDir: string;
  }
}

let created: { adminUrl: string; name: string } | undefined;
let auditKeyDir: string | undefined;

/**
 * With TEST_DATABASE_URL, each run gets a database of its own on that server (so runs never trample
 * each other), migrated once; it is dropped at the end.
 */
export async function setup(project: TestProject): Promise<void> {
  auditKeyDir = mkdtempSync(join(tmpdir(), 'cornerstore-test-audit-'));
  loadAuditKeys(auditKeyDir);
  project.provide('testAuditKeyDir', auditKeyDir);
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    project.provide('testDatabaseUrl', undefined);
    return;
  }
  const name = `cornerstore_test_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ databaseUrl: adminUrl, poolSize: 1 });
  try {
    await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  created = { adminUrl, name };
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
  project.provide('testDatabaseUrl', url.toString());
}

export async function teardown(): Promise<void> {
  if (auditKeyDir) rmSync(auditKeyDir, { recursive: true, force: true });
  if (!created) return;
  const admin = await openDatabase({ databaseUrl: created.adminUrl, poolSize: 1 });
  try {
    await sql`DROP DATABASE IF EXISTS ${sql.id(created.name)} WITH (FORCE)`.execute(admin.db);
  } finally {
    await admin.close();
  }
}
