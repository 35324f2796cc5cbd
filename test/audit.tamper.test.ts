import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type AuditEvent, computeEventHash, type HashVersion } from '../src/audit/audit.ts';
import { signCheckpoint } from '../src/audit/checkpoint.ts';
import {
  type Checkpoint,
  findLatestCheckpoint,
  recordAuditEvents,
  verifyAuditChain,
  verifyWorkspaceAuditChain,
} from '../src/audit/index.ts';
import { createGovernedCustomer, readCustomer, withAccess } from '../src/governance/index.ts';
import { newId } from '../src/shared/ids.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  testAuditKeys,
  useTestDatabase,
} from './helpers.ts';

/**
 * The audit chain against the database's own administrator and against the tenant role: re-hashing,
 * trimming the tail, deleting waiting events, altering a checkpoint. Each is caught by `audit verify`
 * (or refused by the database).
 */

const t = useTestDatabase();

const READ = { purpose: 'service', requestId: null, mode: 'read' } as const;
const WRITE = { purpose: undefined, requestId: null, mode: 'write' } as const;

/** A workspace with three customers, each created and read: six chained events, and a checkpoint. */
async function auditedWorkspace(): Promise<{ ws: TestWorkspace; ids: string[] }> {
  const ws = await createTestWorkspace(t.database);
  const owner = operatorActor(ws.workspace.id);
  const ids: string[] = [];
  for (const name of ['A', 'B', 'C']) {
    const id = await withAccess(t.database.db, owner, WRITE, async (scope) => {
      return (await createGovernedCustomer(scope, { givenName: name })).id;
    });
    await withAccess(t.database.db, owner, READ, (scope) => readCustomer(scope, id));
    ids.push(id);
  }
  return { ws, ids };
}

const verify = (ws: TestWorkspace) =>
  verifyWorkspaceAuditChain(t.database.db, ws.workspace.id, testAuditKeys());

/** Runs statements as the database's superuser with triggers switched off: what its administrator can do. */
const asAdministrator = (...statements: ReturnType<typeof sql>[]) =>
  t.database.db.transaction().execute(async (tx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(tx);
    for (const statement of statements) await statement.execute(tx);
  });

interface StoredEvent {
  seq: number;
  id: string;
  occurred_at: Date;
  actor: AuditEvent['actor'];
  purpose: string | null;
  action: string;
  customer_ids: string[];
  fields: string[];
  request_id: string | null;
  details: unknown;
}

/**
 * Rewrites a workspace's whole chain as its administrator would: one event's purpose changed, every
 * hash recomputed (with `key`, or unkeyed as version 1) and the head moved to the new last hash.
 */
async function rehash(ws: TestWorkspace, version: HashVersion, key: Uint8Array): Promise<void> {
  const workspaceId = ws.workspace.id;
  const { rows } = await sql<StoredEvent>`
    SELECT seq, id, occurred_at, actor, purpose, action, customer_ids, fields, request_id, details
    FROM audit_events WHERE workspace_id = ${workspaceId} ORDER BY seq`.execute(t.database.db);
  let prevHash = '0'.repeat(64);
  const statements: ReturnType<typeof sql>[] = [];
  for (const row of rows) {
    const event = {
      workspaceId,
      seq: Number(row.seq),
      id: row.id,
      occurredAt: new Date(row.occurred_at).toISOString(),
      actor: row.actor,
      purpose: Number(row.seq) === 2 ? 'marketing' : row.purpose,
      action: row.action,
      customerIds: row.customer_ids,
      fields: row.fields,
      requestId: row.request_id,
      details: row.details,
      prevHash,
      hashVersion: version,
    };
    const hash = computeEventHash(event, key);
    statements.push(sql`
      UPDATE audit_events SET purpose = ${event.purpose}, prev_hash = ${prevHash}, hash = ${hash},
             hash_version = ${version}
      WHERE workspace_id = ${workspaceId} AND seq = ${event.seq}`);
    prevHash = hash;
  }
  statements.push(sql`UPDATE audit_heads SET hash = ${prevHash} WHERE workspace_id = ${workspaceId}`);
  await asAdministrator(...statements);
}

function forgerKeys() {
  const pair = generateKeyPairSync('ed25519');
  return { signingKey: pair.privateKey, publicKey: pair.publicKey };
}

describe(`audit chain tamper evidence (${ENGINE})`, () => {
  it('verifies a clean chain and signs a checkpoint of its head', async () => {
    const { ws } = await auditedWorkspace();
    const report = await verify(ws);
    expect(report).toMatchObject({ ok: true, events: 6, pending: 0 });
    const latest = findLatestCheckpoint(testAuditKeys(), ws.workspace.id);
    expect(latest).toMatchObject({ workspaceId: ws.workspace.id, seq: 6 });
    expect(report.ok && latest?.hash === report.head).toBe(true);
  });

  it('catches a chain re-hashed with another key', async () => {
    const { ws } = await auditedWorkspace();
    await rehash(ws, 2, randomBytes(32));
    expect(await verify(ws)).toMatchObject({ ok: false, break: { seq: 1, problem: 'hash_mismatch' } });
  });

  it('catches a chain re-hashed the legacy way (plain SHA-256, no key needed) by its checkpoint', async () => {
    const { ws } = await auditedWorkspace();
    expect((await verify(ws)).ok).toBe(true);
    await rehash(ws, 1, Buffer.alloc(0));
    expect(await verify(ws)).toMatchObject({ ok: false, break: { seq: 6, problem: 'checkpoint_mismatch' } });
  });

  it('catches a tail trimmed with the head moved back behind a signed checkpoint', async () => {
    const { ws } = await auditedWorkspace();
    expect((await verify(ws)).ok).toBe(true);
    const id = ws.workspace.id;
    const { rows } = await sql<{ hash: string }>`
      SELECT hash FROM audit_events WHERE workspace_id = ${id} AND seq = 4`.execute(t.database.db);
    await asAdministrator(
      sql`DELETE FROM audit_subjects WHERE workspace_id = ${id} AND seq > 4`,
      sql`DELETE FROM audit_events WHERE workspace_id = ${id} AND seq > 4`,
      sql`UPDATE audit_heads SET seq = 4, hash = ${rows[0]?.hash} WHERE workspace_id = ${id}`,
    );
    expect(await verify(ws)).toMatchObject({
      ok: false,
      events: 4,
      break: { seq: 5, problem: 'chain_trimmed' },
    });
  });

  it('the tenant role can neither delete nor change waiting events; they are all chained', async () => {
    const { ws, ids } = await auditedWorkspace();
    // Twenty reads waiting in the inbox, as requests leave them between two runs of the chainer.
    await inTestWorkspace(t.database, ws, (tx) =>
      recordAuditEvents(
        tx,
        ws.workspace.id,
        { actor: { keyId: null, role: 'agent', label: 'desk' }, requestId: null },
        Array.from({ length: 20 }, () => ({
          action: 'customer.read',
          purpose: 'service',
          customerIds: [ids[0] as string],
          fields: ['givenName'],
        })),
      ),
    );
    const attempt = (statement: ReturnType<typeof sql>) =>
      inTestWorkspace(t.database, ws, (tx) => statement.execute(tx));
    await expect(attempt(sql`DELETE FROM audit_inbox`)).rejects.toThrow(/permission denied/);
    await expect(attempt(sql`UPDATE audit_inbox SET action = 'nothing'`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(attempt(sql`TRUNCATE audit_inbox`)).rejects.toThrow(/permission denied/);
    // The function that clears chained entries leaves entries that are not in the chain alone.
    const cleared = await inTestWorkspace(t.database, ws, (tx) =>
      sql<{
        n: number;
      }>`SELECT cornerstore_audit_inbox_chained(${ws.workspace.id}::uuid, 1, 1000000) AS n`.execute(tx),
    );
    expect(Number(cleared.rows[0]?.n)).toBe(0);
    expect(await verify(ws)).toMatchObject({ ok: true, events: 26 });
  });

  it('catches an altered checkpoint, and one signed by another key', async () => {
    const { ws } = await auditedWorkspace();
    expect((await verify(ws)).ok).toBe(true);
    const keys = testAuditKeys();
    const latest = findLatestCheckpoint(keys, ws.workspace.id) as Checkpoint;
    // Whoever can write the file but has no signing key moves the checkpoint back to cover a trim.
    appendFileSync(keys.checkpointsFile, `${JSON.stringify({ ...latest, seq: 2 })}\n`);
    expect(await verify(ws)).toMatchObject({ ok: false, break: { problem: 'checkpoint_invalid' } });
    // One signed with a key pair of the forger's own: the signature does not hold under ours.
    appendFileSync(
      keys.checkpointsFile,
      `${JSON.stringify(signCheckpoint({ ...latest, seq: 2 }, new Date(), forgerKeys()))}\n`,
    );
    const other = await verify(ws);
    expect(other).toMatchObject({ ok: false, break: { problem: 'checkpoint_invalid' } });
    expect(other.ok ? '' : other.break.detail).toContain('another key');
    // The genuine checkpoint appended again: the chain verifies.
    const lines = readFileSync(keys.checkpointsFile, 'utf8');
    writeFileSync(keys.checkpointsFile, `${lines}${JSON.stringify(latest)}\n`);
    expect((await verify(ws)).ok).toBe(true);
  });

  it('a chain written before keyed hashing (unkeyed, version 1) still verifies, and keyed events follow it', async () => {
    const ws = await createTestWorkspace(t.database);
    const workspaceId = ws.workspace.id;
    let prevHash = '0'.repeat(64);
    const statements: ReturnType<typeof sql>[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const event = {
        workspaceId,
        seq,
        id: newId(),
        occurredAt: new Date(Date.UTC(2026, 0, seq)).toISOString(),
        actor: { keyId: null, role: 'owner', label: 'operator:cli' },
        purpose: 'service',
        action: 'customer.read',
        customerIds: [],
        fields: ['givenName'],
        requestId: null,
        details: null,
        prevHash,
        hashVersion: 1 as const,
      };
      const hash = computeEventHash(event, Buffer.alloc(0));
      statements.push(sql`
        INSERT INTO audit_events (workspace_id, seq, id, occurred_at, actor, purpose, action, customer_ids, fields,
                                  request_id, details, prev_hash, hash_version, hash)
        VALUES (${workspaceId}, ${seq}, ${event.id}, ${event.occurredAt}, ${JSON.stringify(event.actor)}::jsonb,
                'service', 'customer.read', '{}', '{givenName}', NULL, NULL, ${prevHash}, 1, ${hash})`);
      prevHash = hash;
    }
    statements.push(
      sql`INSERT INTO audit_heads (workspace_id, seq, hash) VALUES (${workspaceId}, 3, ${prevHash})`,
    );
    await asAdministrator(...statements);
    await withAccess(t.database.db, operatorActor(workspaceId), WRITE, (scope) =>
      createGovernedCustomer(scope, { givenName: 'Keyed' }),
    );
    const versions = await sql<{ hash_version: number }>`
      SELECT hash_version FROM audit_events WHERE workspace_id = ${workspaceId} ORDER BY seq`.execute(
      t.database.db,
    );
    expect(versions.rows.map((r) => Number(r.hash_version))).toEqual([1, 1, 1, 2]);
    expect(await verify(ws)).toMatchObject({ ok: true, events: 4 });
  });

  it('names a chained event that differs from the access its inbox entry recorded', async () => {
    const { ws, ids } = await auditedWorkspace();
    const workspaceId = ws.workspace.id;
    await inTestWorkspace(t.database, ws, (tx) =>
      recordAuditEvents(
        tx,
        workspaceId,
        { actor: { keyId: null, role: 'agent', label: 'desk' }, requestId: null },
        [
          {
            action: 'customer.read',
            purpose: 'service',
            customerIds: [ids[0] as string],
            fields: ['givenName'],
          },
        ],
      ),
    );
    // Someone holding the key chains a doctored copy of the waiting access (another purpose) himself.
    const [waiting] = (
      await sql<StoredEvent>`SELECT * FROM audit_inbox WHERE workspace_id = ${workspaceId}`.execute(
        t.database.db,
      )
    ).rows;
    const head = (
      await sql<{ hash: string }>`SELECT hash FROM audit_heads WHERE workspace_id = ${workspaceId}`.execute(
        t.database.db,
      )
    ).rows[0] as { hash: string };
    if (!waiting) throw new Error('no waiting event');
    const forged = {
      workspaceId,
      seq: 7,
      id: waiting.id,
      occurredAt: new Date(waiting.occurred_at).toISOString(),
      actor: waiting.actor,
      purpose: 'marketing',
      action: waiting.action,
      customerIds: waiting.customer_ids,
      fields: waiting.fields,
      requestId: waiting.request_id,
      details: waiting.details,
      prevHash: head.hash,
      hashVersion: 2 as const,
    };
    const hash = computeEventHash(forged, testAuditKeys().hmacKey);
    await asAdministrator(
      sql`INSERT INTO audit_events (workspace_id, seq, id, occurred_at, actor, purpose, action, customer_ids, fields,
                                    request_id, details, prev_hash, hash_version, hash)
          SELECT workspace_id, 7, id, occurred_at, actor, 'marketing', action, customer_ids, fields, request_id,
                 details, ${head.hash}, 2, ${hash}
          FROM audit_inbox WHERE workspace_id = ${workspaceId}`,
      sql`INSERT INTO audit_subjects (workspace_id, customer_id, seq) VALUES (${workspaceId}, ${ids[0]}, 7)`,
      sql`UPDATE audit_heads SET seq = 7, hash = ${hash} WHERE workspace_id = ${workspaceId}`,
    );
    expect(
      await inTestWorkspace(t.database, ws, (tx) => verifyAuditChain(tx, workspaceId, testAuditKeys())),
    ).toMatchObject({ ok: false, break: { seq: 7, problem: 'inbox_mismatch' } });
  });
});
