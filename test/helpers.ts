import { afterAll, beforeAll, inject } from 'vitest';
import { type App, buildApp } from '../src/api/app.ts';
import { type AuditKeys, bindAuditKeys, loadAuditKeys } from '../src/audit/index.ts';
import { createJobRegistry } from '../src/backbone.ts';
import { type Database, inWorkspace, migrateToLatest, openDatabase, type Tx } from '../src/db/index.ts';
import { Dispatcher, type DispatchReport, type JobRegistry } from '../src/jobs/index.ts';
import type { Role } from '../src/shared/access.ts';
import {
  type Actor,
  createApiKey,
  createWorkspace,
  KeyVerifier,
  type Workspace,
} from '../src/workspaces/index.ts';

/**
 * Test fixtures over real databases: a fresh in-memory embedded database per test file, or the
 * PostgreSQL server named by TEST_DATABASE_URL (migrated once by the global setup). Tests isolate
 * themselves by creating their own workspaces, which is what the product promises anyway.
 */

let counter = 0;

/** Which engine the suite runs on, for test names. */
export const ENGINE = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

/** This run's own PostgreSQL database (see global-setup.ts), or undefined for the embedded engine. */
export function testDatabaseUrl(): string | undefined {
  return inject('testDatabaseUrl');
}

let auditKeys: AuditKeys | undefined;

/**
 * The test run's audit keys and checkpoints file (a directory the global setup makes and removes), as a
 * composition root loads them from the data directory.
 */
export function testAuditKeys(): AuditKeys {
  auditKeys ??= loadAuditKeys(inject('testAuditKeyDir'));
  return auditKeys;
}

/** Opens the test database (migrated, with the test audit keys bound). Close it in `afterAll`. */
export async function openTestDatabase(): Promise<Database> {
  const url = testDatabaseUrl();
  const database = await openDatabase(url ? { databaseUrl: url, poolSize: 8 } : { dataDir: 'memory://' });
  bindAuditKeys(database.db, testAuditKeys());
  if (!url) await migrateToLatest(database.db);
  return database;
}

/** A unique workspace name for this test process. */
export function uniqueName(prefix = 'ws'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export interface TestWorkspace {
  workspace: Workspace;
  /** Admin key of the workspace. */
  apiKey: string;
  /** Owner actor for calling services directly. */
  actor: Actor;
}

/** Creates a fresh workspace with an admin key. */
export async function createTestWorkspace(
  database: Database,
  options: { defaultRegion?: string } = {},
): Promise<TestWorkspace> {
  const { workspace, apiKey, key } = await createWorkspace(database.db, {
    name: uniqueName(),
    defaultRegion: options.defaultRegion,
  });
  return {
    workspace,
    apiKey,
    actor: {
      workspaceId: workspace.id,
      keyId: key.id,
      role: 'admin',
      purposes: key.purposes,
      label: `key:${key.id}`,
    },
  };
}

/**
 * Creates an API key of a role in the test workspace and answers the key; an integration key is
 * granted `purposes` (default `service`), as it must name the purposes it may use.
 */
export async function createTestKey(
  database: Database,
  ws: TestWorkspace,
  role: Role,
  purposes?: string[],
): Promise<string> {
  const granted = purposes ?? (role === 'integration' ? ['service'] : undefined);
  const { apiKey } = await inWorkspace(database.db, ws.workspace.id, (tx) =>
    createApiKey(tx, ws.workspace.id, {
      role,
      name: `${role} key`,
      ...(granted ? { purposes: granted } : {}),
    }),
  );
  return apiKey;
}

/** Runs `fn` in a transaction confined to the test workspace. */
export function inTestWorkspace<T>(
  database: Database,
  ws: TestWorkspace,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return inWorkspace(database.db, ws.workspace.id, fn);
}

/** Builds the HTTP app over the test database, silent, for `app.inject`. */
export function buildTestApp(
  database: Database,
  options: { rateLimitPerMinute?: number; bodyLimit?: number; jobs?: JobRegistry } = {},
): Promise<App> {
  const jobs = options.jobs ?? testJobRegistry();
  return buildApp(
    { db: database.db, keys: new KeyVerifier(database.db), jobs },
    {
      // Only the caller's workspace: test files share a server, each with workspaces of its own.
      settle: (request) =>
        new Dispatcher(database.db, jobs).drain(request.actor ? [request.actor.workspaceId] : []),
      bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 1_000_000,
      logger: false,
      version: 'test',
    },
  );
}

/** The installation's subscribers and jobs as the composition roots register them (no timed refit). */
export function testJobRegistry(): JobRegistry {
  return createJobRegistry({ valueRefitMinutes: 0, eventRetentionDays: 7 });
}

/**
 * Settles the event backbone for the test's workspaces: dispatches their pending events to the
 * registered subscribers (and runs due retries), as the server's runner would between requests. Never
 * every workspace: test files share a server and dispatch their own workspaces' events their own way.
 */
export function drainEvents(
  database: Database,
  workspaces: readonly TestWorkspace[],
  registry: JobRegistry = testJobRegistry(),
): Promise<DispatchReport> {
  return new Dispatcher(database.db, registry).drain(workspaces.map((w) => w.workspace.id));
}

/** Authorization header for a key. */
export function bearer(apiKey: string): { authorization: string } {
  return { authorization: `Bearer ${apiKey}` };
}

/** The headers of a read of personal data: the key and the purpose it is read for. */
export function reader(
  apiKey: string,
  purpose = 'service',
): { authorization: string; 'cornerstore-purpose': string } {
  return { ...bearer(apiKey), 'cornerstore-purpose': purpose };
}

/** The database of a test file, opened before its tests and closed after them. */
export interface DatabaseFixture {
  readonly database: Database;
}

/** The database and HTTP app of a test file, opened before its tests and closed after them. */
export interface AppFixture extends DatabaseFixture {
  readonly app: App;
}

/** Registers hooks that open the test database before the file's tests and close it after. */
export function useTestDatabase(): DatabaseFixture {
  let database: Database | undefined;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });
  return {
    get database(): Database {
      if (!database) throw new Error('the test database is open only inside tests');
      return database;
    },
  };
}

/** Registers hooks that open the test database and the HTTP app before the file's tests and close both after. */
export function useTestApp(
  options: { rateLimitPerMinute?: number; bodyLimit?: number; jobs?: JobRegistry } = {},
): AppFixture {
  const fixture = useTestDatabase();
  let app: App | undefined;
  beforeAll(async () => {
    app = await buildTestApp(fixture.database, options);
  });
  afterAll(async () => {
    await app?.close();
  });
  return {
    get database(): Database {
      return fixture.database;
    },
    get app(): App {
      if (!app) throw new Error('the test app is open only inside tests');
      return app;
    },
  };
}
