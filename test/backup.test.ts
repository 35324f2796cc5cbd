import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindAuditKeys, recordAuditEvents, verifyWorkspaceAuditChain } from '../src/audit/index.ts';
import {
  type Database,
  inWorkspace,
  listWorkspaceTables,
  migrateToLatest,
  openDatabase,
  readTableRows,
} from '../src/db/index.ts';
import { chainAuditBacklog } from '../src/governance/index.ts';
import { generateCorruptedRecords } from '../src/identity/index.ts';
import {
  BACKUP_EXCLUDED_TABLES,
  exportWorkspace,
  listBackupTables,
  restoreBackup,
} from '../src/imports/index.ts';
import { DEFAULT_PLAYBOOK, momentRepository } from '../src/moments/index.ts';
import { isAppError } from '../src/shared/errors.ts';
import { newId } from '../src/shared/ids.ts';
import { deliverDueWebhooks, enqueueWebhookDeliveries } from '../src/webhooks/index.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  bearer,
  createTestWorkspace,
  ENGINE,
  reader,
  type TestWorkspace,
  testAuditKeys,
  testDatabaseUrl,
  useTestApp,
} from './helpers.ts';
import { valuePopulation } from './value-population.ts';

/**
 * The backup restores everything: a workspace filled through the API (customers, interactions,
 * consents, intimacy and privacy flags, recipients and disclosures, merges and review decisions,
 * rectifications, value models and profiles, segments and members, keys, idempotency keys, the audit
 * chain) is exported, restored into a fresh database, and every table compared row for row, ids included.
 */

const t = useTestApp();
const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

/** A database with nothing in it but the schema: a fresh data directory, or a new database on the server. */
async function openFreshDatabase(): Promise<{ database: Database; drop: () => Promise<void> }> {
  const url = testDatabaseUrl();
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'cornerstore-restore-'));
    const database = await openDatabase({ dataDir: dir });
    bindAuditKeys(database.db, testAuditKeys());
    await migrateToLatest(database.db);
    return {
      database,
      drop: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `cornerstore_restore_${process.pid}_${Date.now().toString(36)}`;
  await sql`CREATE DATABASE ${sql.id(name)}`.execute(t.database.db);
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: fresh.toString(), poolSize: 2 });
  bindAuditKeys(database.db, testAuditKeys());
  await migrateToLatest(database.db);
  return {
    database,
    drop: async () => {
      await database.close();
      // Without FORCE: killing connections the pool is still closing would surface as errors here.
      for (let attempt = 0; ; attempt++) {
        try {
          await sql`DROP DATABASE IF EXISTS ${sql.id(name)}`.execute(t.database.db);
          return;
        } catch (error) {
          if (attempt >= 50) throw error;
          await new Promise((done) => setTimeout(done, 100));
        }
      }
    },
  };
}

/**
 * Every row of every table the backup copies, per table, in primary-key order, read in pages of seven
 * (the backup reads pages of a thousand: the row counts of the two must agree).
 */
async function snapshot(database: Database, workspaceId: string): Promise<Record<string, unknown[]>> {
  return inWorkspace(database.db, workspaceId, async (tx) => {
    const tables: Record<string, unknown[]> = {};
    for (const table of await listBackupTables(tx)) {
      const rows: Record<string, unknown>[] = [];
      for (;;) {
        const page = await readTableRows(tx, table, workspaceId, rows[rows.length - 1] ?? null, 7);
        rows.push(...page);
        if (page.length < 7) break;
      }
      tables[table.name] = rows;
    }
    return tables;
  });
}

async function request(method: 'GET' | 'POST' | 'PUT', url: string, headers: object, payload?: unknown) {
  const response = await t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  return response.json();
}

/** Fills a workspace so that every table a backup copies has rows. */
async function fill(ws: TestWorkspace): Promise<void> {
  const key = ws.apiKey;
  // People as several source systems know them: the matcher merges some and queues others for review.
  const generated = generateCorruptedRecords({ records: 240, seed: 7 });
  await inWorkspace(t.database.db, ws.workspace.id, async (tx) => {
    for (const [i, r] of generated.records.entries()) {
      const id = newId();
      await sql`
        INSERT INTO customers (workspace_id, id, given_name, family_name, created_at)
        VALUES (${ws.workspace.id}, ${id}, ${r.givenName}, ${r.surname}, now() + ${i} * interval '1 microsecond')`.execute(
        tx,
      );
      if (r.email !== null) {
        await sql`
          INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, source)
          VALUES (${ws.workspace.id}, ${newId()}, ${id}, 'email', ${r.email}, 'import')`.execute(tx);
      }
    }
  });
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/customers',
    headers: { ...bearer(key), 'idempotency-key': 'backup-create-ana' },
    payload: {
      givenName: 'Ana',
      familyName: 'Ruiz',
      emails: ['ana@example.com'],
      phones: ['+14155550132'],
      identities: [{ source: 'pos', externalId: 'L-1' }],
      governmentIds: [{ kind: 'passport', value: 'X1234567' }],
      source: 'pos',
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  const ana = created.json().customer.id as string;
  const other = (
    await request('POST', '/v1/customers', bearer(key), {
      givenName: 'Anna',
      familyName: 'Ruiz',
      source: 'web',
    })
  ).customer.id as string;
  await request('POST', '/v1/segments', reader(key), {
    name: 'buyers',
    definition: { all: [{ aggregate: 'count', type: 'purchase', within: 'P365D', op: 'gte', value: 1 }] },
  });
  await request('POST', '/v1/interactions', bearer(key), {
    interactions: Array.from({ length: 6 }, (_, i) => ({
      type: i === 5 ? 'complaint' : 'purchase',
      channel: 'store',
      occurredAt: new Date(Date.now() - (i + 1) * 86_400_000).toISOString(),
      source: 'pos',
      externalId: `R-${i}`,
      customer: { id: ana },
      ...(i === 5 ? { text: 'arrived damaged', sentiment: -0.4 } : { amount: 10.25 + i, currency: 'EUR' }),
      properties: { till: i },
    })),
  });
  await request('POST', `/v1/customers/${ana}/consents`, reader(key), {
    purpose: 'sale',
    status: 'granted',
    explicit: true,
    noticeVersion: '2026-03',
    evidence: { checkbox: 'unticked by default' },
  });
  await request('PUT', `/v1/customers/${ana}/intimacy`, reader(key), { level: 2 });
  await request('POST', `/v1/customers/${ana}/facts`, reader(key), {
    key: 'receipt',
    value: 'paper',
    sourceKind: 'declared',
    source: 'store',
  });
  await request('POST', '/v1/users', bearer(key), { email: 'clerk@example.com', role: 'agent' });
  await request('POST', `/v1/customers/${ana}/privacy-flags`, reader(key), {
    kind: 'object',
    purpose: 'analytics',
  });
  await request('POST', '/v1/recipients', bearer(key), {
    name: 'partner',
    kind: 'partner',
    purposes: ['sale'],
  });
  await request('POST', `/v1/customers/${ana}/shares`, reader(key, 'sale'), { recipient: 'partner' });
  // A webhook with a delivery and its first attempt (nothing listens on port 9: a refused connection).
  await request('POST', '/v1/recipients', bearer(key), {
    name: 'hook',
    kind: 'webhook',
    url: 'http://127.0.0.1:9/hook',
    purposes: ['service'],
  });
  await inWorkspace(t.database.db, ws.workspace.id, (tx) =>
    enqueueWebhookDeliveries(tx, {
      id: newId(),
      workspaceId: ws.workspace.id,
      type: 'field_rectified',
      customerId: ana,
      payload: { fields: ['familyName'] },
      occurredAt: new Date(),
    }),
  );
  await deliverDueWebhooks(t.database.db, { workspaceIds: [ws.workspace.id] });
  await request('POST', `/v1/customers/${ana}/rectify`, bearer(key), {
    field: 'familyName',
    value: 'Ruíz',
    reason: 'accent missing',
  });
  // A privacy request carried out (an erasure, which fills the suppression list); the rectification
  // above told the partner (a notification).
  const gone = await request('POST', '/v1/customers', bearer(key), {
    givenName: 'Zed',
    emails: ['zed@example.com'],
  });
  const erasure = await request('POST', '/v1/privacy-requests', reader(key, 'legal'), {
    customerId: gone.customer.id,
    kind: 'erasure',
    verifiedBy: 'id_document',
  });
  await request('POST', `/v1/privacy-requests/${erasure.request.id}/complete`, reader(key, 'legal'), {});
  // Buyers enough for the value model to fit, so its model and profiles are in the backup too.
  await request('POST', '/v1/interactions', bearer(key), {
    interactions: valuePopulation({ customers: 300, end: new Date(Date.now() - 86_400_000) }),
  });
  const refit = await request('POST', '/v1/value/refit', bearer(key), {});
  expect(refit.status).toBe('fitted');
  // A rule table version of its own, relationship profiles, the norm and their history.
  const rules = await request('GET', '/v1/relationships/rules', reader(key));
  const set = await request('PUT', '/v1/relationships/rules', reader(key), rules.table);
  expect(set.version).toBe(1);
  const relationships = await request('POST', '/v1/relationships/recompute', bearer(key), {});
  expect(relationships.recomputed).toBeGreaterThan(0);
  // Small moments: the complaint queued a recovery task (moment, decision, action); a playbook version
  // of its own, feedback on the task and the propensity it moved, written by the domain's repository.
  await inWorkspace(t.database.db, ws.workspace.id, async (tx) => {
    const [task] = await momentRepository.listActions(tx, ws.workspace.id, { limit: 1 });
    expect(task).toBeDefined();
    const now = new Date();
    await momentRepository.insertPlaybook(tx, ws.workspace.id, {
      version: 1,
      definition: DEFAULT_PLAYBOOK,
      format: 'json',
      createdBy: 'test',
      now,
    });
    if (!task) return;
    await momentRepository.insertFeedback(tx, ws.workspace.id, {
      id: newId(),
      actionId: task.id,
      customerId: task.customer_id,
      action: task.action,
      outcome: 'accepted',
      source: 'test',
      now,
    });
    await momentRepository.bumpPropensity(tx, ws.workspace.id, task.action, true, now);
  });
  await request('POST', `/v1/customers/${ana}/merge`, bearer(key), {
    absorbedId: other,
    reason: 'same person',
  });
  const resolved = await request('POST', '/v1/identity/resolve', bearer(key), { reviewThreshold: 0.02 });
  expect(resolved.queued).toBeGreaterThan(0);
  const { reviews } = await request('GET', '/v1/identity/reviews?limit=1', reader(key));
  await request('POST', `/v1/identity/reviews/${reviews[0].id}/decision`, bearer(key), {
    decision: 'reject',
  });
  await chainAuditBacklog(t.database.db);
  // One access still waiting to be chained, as requests leave them between two runs of the chainer.
  await inWorkspace(t.database.db, ws.workspace.id, (tx) =>
    recordAuditEvents(
      tx,
      ws.workspace.id,
      { actor: { keyId: null, role: 'agent', label: 'desk' }, requestId: 'r-1' },
      [{ action: 'customer.read', purpose: 'service', customerIds: [ana], fields: ['givenName'] }],
    ),
  );
}

describe(`workspace backup and restore (${ENGINE})`, () => {
  let source: TestWorkspace;
  let before: Record<string, unknown[]>;
  let backup: string;

  beforeAll(async () => {
    source = await createTestWorkspace(t.database);
    await fill(source);
    before = await snapshot(t.database, source.workspace.id);
    const out = new Collect();
    const summary = await exportWorkspace(
      t.database.db,
      { actor: operatorActor(source.workspace.id), purpose: 'legal', fileName: 'backup.ndjson' },
      out,
    );
    expect(summary).toMatchObject({ format: 'backup', recipient: 'file:backup.ndjson' });
    backup = join(mkdtempSync(join(tmpdir(), 'cornerstore-backup-')), 'backup.ndjson');
    await import('node:fs/promises').then((fs) => fs.writeFile(backup, out.text));
  }, 240_000);

  afterAll(() => {
    rmSync(join(backup, '..'), { recursive: true, force: true });
  });

  it('holds every table of the catalog with a workspace, but those excluded with a reason', async () => {
    const catalog = await inWorkspace(t.database.db, source.workspace.id, listWorkspaceTables);
    const header = JSON.parse(readFileSync(backup, 'utf8').split('\n')[0] as string);
    const inBackup = new Set((header.tables as { name: string }[]).map((table) => table.name));
    for (const table of catalog) {
      const excluded = BACKUP_EXCLUDED_TABLES[table.name];
      // A new table is backed up by itself; one left out must say why.
      expect(inBackup.has(table.name) || (excluded !== undefined && excluded.length > 20), table.name).toBe(
        true,
      );
      expect(inBackup.has(table.name) && excluded !== undefined, table.name).toBe(false);
    }
    for (const name of Object.keys(BACKUP_EXCLUDED_TABLES)) {
      expect(
        catalog.some((table) => table.name === name),
        `${name} is excluded but not a table`,
      ).toBe(true);
    }
    expect(catalog[0]?.name).toBe('workspaces');
    // The fixture gives every table rows, so the comparison below compares something everywhere.
    const empty = Object.entries(before)
      .filter(([, rows]) => rows.length === 0)
      .map(([name]) => name);
    expect(empty).toEqual([]);
  });

  it('restores into a fresh database to the identical state, and the audit chain verifies', async () => {
    const fresh = await openFreshDatabase();
    try {
      const summary = await restoreBackup(fresh.database.db, backup, testAuditKeys());
      expect(summary.audit).toMatchObject({ ok: true, pending: 0 });
      const rows = Object.values(before).reduce((n, table) => n + table.length, 0);
      expect(summary.rows).toBe(rows);
      const after = await snapshot(fresh.database, source.workspace.id);
      // Once verified, the waiting event is chained: compare the chain as it stood, then every table.
      const chained = before.audit_events?.length ?? 0;
      expect(after.audit_events?.slice(0, chained)).toEqual(before.audit_events);
      expect(after.audit_inbox).toEqual([]);
      const seqOf = (row: unknown) => Number((row as { seq: number }).seq);
      expect(after.audit_subjects?.filter((row) => seqOf(row) <= chained)).toEqual(before.audit_subjects);
      expect(after.audit_heads?.map(seqOf)).toEqual([chained + 1]);
      for (const name of Object.keys(before)) {
        if (['audit_events', 'audit_inbox', 'audit_subjects', 'audit_heads'].includes(name)) continue;
        expect(after[name], name).toEqual(before[name]);
      }
      expect(
        await verifyWorkspaceAuditChain(fresh.database.db, source.workspace.id, testAuditKeys()),
      ).toMatchObject({ ok: true, events: chained + 1 });

      // A second restore changes nothing.
      const again = await restoreBackup(fresh.database.db, backup, testAuditKeys()).catch((e: unknown) => e);
      expect(isAppError(again) && again.code).toBe('RESTORE_WORKSPACE_EXISTS');
    } finally {
      await fresh.drop();
    }
  }, 120_000);

  it('refuses a cut file, another audit key, or a workspace already here, storing nothing', async () => {
    const fresh = await openFreshDatabase();
    try {
      const cut = `${backup}.cut`;
      const text = readFileSync(backup, 'utf8');
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(cut, text.slice(0, text.lastIndexOf('{"record":"end"'))),
      );
      const error = await restoreBackup(fresh.database.db, cut, testAuditKeys()).catch((e: unknown) => e);
      expect(isAppError(error) && error.code).toBe('RESTORE_BACKUP_INVALID');
      const stored = await inWorkspace(fresh.database.db, source.workspace.id, (tx) =>
        tx.selectFrom('customers').select('id').execute(),
      );
      expect(stored).toEqual([]);
      const otherKey = { ...testAuditKeys(), hmacKey: Buffer.alloc(32, 1) };
      const keyError = await restoreBackup(fresh.database.db, backup, otherKey).catch((e: unknown) => e);
      expect(isAppError(keyError) && keyError.code).toBe('RESTORE_AUDIT_KEY_MISMATCH');
    } finally {
      await fresh.drop();
    }
    const here = await restoreBackup(t.database.db, backup, testAuditKeys()).catch((e: unknown) => e);
    expect(isAppError(here) && here.code).toBe('RESTORE_WORKSPACE_EXISTS');
    // A backup holds everything stored: only an owner writes one, and only for the purpose legal.
    const notLegal = await exportWorkspace(
      t.database.db,
      { actor: operatorActor(source.workspace.id), purpose: 'service', fileName: 'x', format: 'backup' },
      new Collect(),
    ).catch((e: unknown) => e);
    expect(isAppError(notLegal) && notLegal.code).toBe('EXPORT_BACKUP_NOT_ALLOWED');
    const notOwner = await exportWorkspace(
      t.database.db,
      {
        actor: { ...source.actor, role: 'privacy_officer' },
        purpose: 'legal',
        fileName: 'x',
        format: 'backup',
      },
      new Collect(),
    ).catch((e: unknown) => e);
    expect(isAppError(notOwner) && notOwner.code).toBe('EXPORT_BACKUP_NOT_ALLOWED');
  }, 120_000);

  it.runIf(ENGINE === 'pglite')(
    'through the command line: export, import workspace into a fresh data directory; backup and restore of a data directory',
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'cornerstore-backup-cli-'));
      const cli = async (dataDir: string, ...args: string[]) => {
        try {
          const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
            env: { ...process.env, CORNERSTORE_DATA_DIR: dataDir, DATABASE_URL: '' },
          });
          return { code: 0, stdout, stderr };
        } catch (error) {
          const e = error as { code?: number; stdout?: string; stderr?: string };
          return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
        }
      };
      try {
        const [a, b, c] = [join(root, 'a'), join(root, 'b'), join(root, 'c')];
        expect((await cli(a, 'workspace', 'create', 'shop')).code).toBe(0);
        const file = join(root, 'shop.ndjson');
        const exported = await cli(
          a,
          'export',
          '--workspace',
          'shop',
          '--purpose',
          'legal',
          '--out',
          file,
          '--json',
        );
        expect(exported.code, exported.stderr).toBe(0);
        expect(JSON.parse(exported.stdout)).toMatchObject({ format: 'backup' });

        // Another data directory has another audit key (refused, see above): the original's is given.
        const withKey = async (...args: string[]) => {
          const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
            env: {
              ...process.env,
              CORNERSTORE_DATA_DIR: b,
              DATABASE_URL: '',
              CORNERSTORE_AUDIT_KEY: readFileSync(join(a, 'audit-key'), 'utf8').trim(),
            },
          });
          return { stdout, stderr };
        };
        const restored = JSON.parse((await withKey('import', 'workspace', file, '--json')).stdout);
        expect(restored).toMatchObject({ workspace: { name: 'shop' }, audit: { ok: true } });
        expect(
          JSON.parse((await withKey('audit', 'verify', '--workspace', 'shop', '--json')).stdout),
        ).toMatchObject({
          ok: true,
        });

        const dump = join(root, 'a.tar.gz');
        const dumped = await cli(a, 'backup', dump, '--json');
        expect(dumped.code, dumped.stderr).toBe(0);
        expect(JSON.parse(dumped.stdout).bytes).toBeGreaterThan(0);
        const loaded = await cli(c, 'restore', dump, '--json');
        expect(loaded.code, loaded.stderr).toBe(0);
        const listed = await cli(c, 'workspace', 'list', '--json');
        expect(JSON.parse(listed.stdout).workspaces.map((w: { name: string }) => w.name)).toContain('shop');
        const verified = await cli(c, 'audit', 'verify', '--workspace', 'shop', '--json');
        expect(verified.code, verified.stderr).toBe(0);
        const again = await cli(c, 'restore', dump, '--json');
        expect(JSON.parse(again.stderr).error.code).toBe('DATA_DIR_NOT_EMPTY');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
