import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  chainPendingEvents,
  listAccessLog,
  recordAuditEvents,
  verifyAuditChain,
} from '../src/audit/index.ts';
import { loadPrivacySubjects, recordConsent, setIntimacyLevel } from '../src/consent/index.ts';
import type { Tx } from '../src/db/index.ts';
import {
  createGovernedCustomer,
  type GovernedFact,
  listGovernedCustomers,
  prefillGoverned,
  purposeRules,
  readCustomer,
  readFacts,
  readTimeline,
  recordFactGoverned,
  withAccess,
} from '../src/governance/index.ts';
import { exportWorkspace, planImport, runImport } from '../src/imports/index.ts';
import { BASE_TAXONOMY, CUSTOMER_FIELD_CATEGORIES, decide, decideSubject } from '../src/policy/index.ts';
import { PURPOSES, ROLES, type Role } from '../src/shared/access.ts';
import type { Actor } from '../src/workspaces/index.ts';
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
 * The data policy below HTTP: no read path returns a field the decision denies (property test over
 * random customers, roles and purposes), exports under a purpose, and the audit chain's tamper evidence.
 */

const t = useTestDatabase();

const WRITE = { purpose: undefined, requestId: null, mode: 'write' } as const;

function actorOf(ws: TestWorkspace, role: Role): Actor {
  return { workspaceId: ws.workspace.id, keyId: null, role, purposes: [], label: `test:${role}` };
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** A customer's privacy state as the property test draws it. */
interface DrawnState {
  intimacy: 0 | 1 | 2 | 3 | 4;
  consents: {
    purpose: string;
    status: 'granted' | 'denied' | 'withdrawn';
    explicit: boolean;
    expired: boolean;
  }[];
  restricted: boolean;
  objections: string[];
}

const drawnState = fc.record({
  intimacy: fc.constantFrom(0, 1, 2, 3, 4),
  consents: fc.array(
    fc.record({
      purpose: fc.constantFrom(...PURPOSES),
      status: fc.constantFrom('granted', 'denied', 'withdrawn'),
      explicit: fc.boolean(),
      expired: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
  restricted: fc.boolean(),
  objections: fc.subarray([...PURPOSES], { maxLength: 3 }),
}) as fc.Arbitrary<DrawnState>;

async function applyState(tx: Tx, actor: Actor, customerId: string, state: DrawnState): Promise<void> {
  const rules = purposeRules(BASE_TAXONOMY);
  for (const c of state.consents) {
    await recordConsent(
      tx,
      actor,
      customerId,
      {
        purpose: c.purpose,
        status: c.status,
        explicit: c.explicit || rules.needsExplicitOptIn(c.purpose),
        effectiveFrom: c.expired ? '2020-01-01T00:00:00Z' : undefined,
        expiresAt: c.expired ? '2021-01-01T00:00:00Z' : undefined,
      } as never,
      rules,
    );
  }
  await setIntimacyLevel(tx, actor, customerId, { level: state.intimacy });
  await sql`UPDATE customers SET processing_restricted = ${state.restricted}, objections = ${state.objections}::text[]
            WHERE id = ${customerId}`.execute(tx);
}

/** Facts of every category and source kind the API takes, for the oracle. */
const ORACLE_FACTS = [
  { key: 'receipt', value: 'paper', sourceKind: 'declared', source: 'pos' },
  { key: 'channel', value: 'sms', sourceKind: 'observed', source: 'store' },
  {
    key: 'delivery_window',
    value: 'weekday_evening',
    sourceKind: 'declared',
    source: 'web',
    expiresAt: '2021-01-01T00:00:00Z',
  },
  {
    key: 'household_member',
    value: { name: 'Mia', relation: 'daughter' },
    sourceKind: 'declared',
    source: 'store',
  },
  { key: 'birthday', value: '--07-14', sourceKind: 'declared', source: 'store' },
  { key: 'life_event', value: { event: 'new_baby' }, sourceKind: 'declared', source: 'web' },
  {
    key: 'no_interest_bearing_products',
    value: true,
    sourceKind: 'declared',
    source: 'branch',
    consentPurposes: ['service', 'billing'],
  },
  {
    key: 'accessibility_need',
    value: 'step-free access',
    sourceKind: 'declared',
    source: 'store',
    consentPurposes: ['marketing'],
  },
] as const;

/** Fields a form asks for in the oracle: every fact key above, through prefill. */
const PREFILL_FIELDS = [
  'receipt',
  'channel',
  'delivery_window',
  'household_member',
  'birthday',
  'life_event',
  'no_interest_bearing_products',
  'accessibility_need',
  'language',
];

/** Prefill answers values, not facts: the fact each came from, by id, as stored. */
const ORACLE_STORED = new Map<
  string,
  Pick<GovernedFact, 'key' | 'category' | 'sourceKind' | 'consentPurposes' | 'minIntimacy' | 'stale'>
>();
describe(`data policy in the data layer (${ENGINE})`, () => {
  it('no read path returns a field the decision denies', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = operatorActor(ws.workspace.id);
    const states = fc.sample(drawnState, { numRuns: 24, seed: 20261125 });
    const ids: string[] = [];
    await withAccess(t.database.db, owner, WRITE, async (scope) => {
      for (const [i, state] of states.entries()) {
        const customer = await createGovernedCustomer(scope, {
          givenName: `Given${i}`,
          familyName: `Family${i}`,
          preferredName: `P${i}`,
          language: 'en',
          birthDate: '1980-02-03',
          emails: [`c${i}@example.com`],
          phones: ['+14155550100'],
          identities: [{ source: 'pos', externalId: `L-${i}` }],
        });
        ids.push(customer.id);
        // Facts of every kind are stored at the closest level; the drawn state may lower it after.
        await setIntimacyLevel(scope.tx, owner, customer.id, { level: 4 });
        for (const fact of ORACLE_FACTS) await recordFactGoverned(scope, customer.id, fact);
        await applyState(scope.tx, owner, customer.id, state);
      }
    });
    const stored = await inTestWorkspace(t.database, ws, (tx) =>
      sql<{
        fact_id: string;
        key: string;
        category: string;
        source_kind: string;
        consent_purposes: string[];
        min_intimacy: number;
        expires_at: Date | null;
      }>`
        SELECT fact_id, key, category, source_kind, consent_purposes, min_intimacy, expires_at
        FROM facts WHERE superseded_at IS NULL`.execute(tx),
    );
    for (const f of stored.rows) {
      ORACLE_STORED.set(f.fact_id, {
        key: f.key,
        category: f.category,
        sourceKind: f.source_kind,
        consentPurposes: f.consent_purposes,
        minIntimacy: f.min_intimacy,
        stale: f.expires_at !== null && new Date(f.expires_at).getTime() <= Date.now(),
      });
    }
    expect(ORACLE_STORED.size).toBe(states.length * ORACLE_FACTS.length);

    let factsShown = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROLES), fc.constantFrom(...PURPOSES), async (role, purpose) => {
        const actor = actorOf(ws, role);
        const now = new Date();
        const outcome = await withAccess(
          t.database.db,
          actor,
          { purpose, requestId: null, mode: 'read' },
          async (scope) => {
            const listed = await listGovernedCustomers(scope, { limit: 100 });
            const single = await Promise.all(ids.map((id) => readCustomer(scope, id)));
            const subjects = await loadPrivacySubjects(scope.tx, ws.workspace.id, ids);
            // Every read path of facts: the customer read, the facts list, and prefill.
            const facts: [
              string,
              Pick<
                GovernedFact,
                'key' | 'category' | 'sourceKind' | 'consentPurposes' | 'minIntimacy' | 'stale'
              >,
            ][] = [];
            for (const c of single) for (const f of c.facts ?? []) facts.push([c.id, f]);
            for (const id of ids) {
              for (const f of (await readFacts(scope, id)).facts) facts.push([id, f]);
              const prefill = await prefillGoverned(scope, id, PREFILL_FIELDS);
              for (const value of Object.values(prefill.values)) {
                if (value.from !== 'fact') continue;
                const stored = ORACLE_STORED.get(value.provenance.factId ?? '');
                if (!stored) throw new Error('prefill named a fact that is not stored');
                facts.push([id, stored]);
              }
            }
            return { listed: listed.customers, single, subjects, facts };
          },
        ).catch((error: { code?: string }) => {
          // The purpose itself is refused to the role: nothing at all is read.
          expect(error.code).toBe('PURPOSE_NOT_ALLOWED');
          return undefined;
        });
        if (!outcome) return;
        const listedIds = new Set(outcome.listed.map((c) => c.id));
        for (const customer of [...outcome.listed, ...outcome.single]) {
          const subject = outcome.subjects.get(customer.id);
          if (!subject) throw new Error('subject missing');
          for (const field of [
            'givenName',
            'familyName',
            'preferredName',
            'language',
            'birthDate',
            'emails',
            'phones',
            'identities',
          ] as const) {
            const value = customer[field];
            const shown = Array.isArray(value) ? value.length > 0 : value !== null;
            const category = CUSTOMER_FIELD_CATEGORIES[field];
            if (!category) continue;
            const decision = decide(BASE_TAXONOMY, actor, purpose, subject, { category }, now);
            if (shown) expect(decision, `${role}/${purpose}/${field}`).toEqual({ allowed: true });
            else if (decision.allowed) expect(customer.withheld.some((w) => w.field === field)).toBe(false);
          }
        }
        // No read path returns a fact the decision denies, or one the customer's level no longer keeps.
        factsShown += outcome.facts.length;
        for (const [id, fact] of outcome.facts) {
          const subject = outcome.subjects.get(id);
          if (!subject) throw new Error('subject missing');
          const ref = {
            category: fact.category,
            source: fact.sourceKind as 'declared',
            consentPurposes: fact.consentPurposes,
          };
          const decision = decide(BASE_TAXONOMY, actor, purpose, subject, ref, now);
          expect(decision, `${role}/${purpose}/${fact.key}`).toEqual({ allowed: true });
          expect(fact.minIntimacy, `${role}/${purpose}/${fact.key}`).toBeLessThanOrEqual(
            subject.intimacyLevel,
          );
          if (BASE_TAXONOMY.purposes.get(purpose)?.outreach) expect(fact.stale).toBe(false);
        }
        // A list holds exactly the customers the purpose may process.
        for (const id of ids) {
          const subject = outcome.subjects.get(id);
          if (!subject) throw new Error('subject missing');
          const processable = decideSubject(BASE_TAXONOMY, purpose, subject, now).allowed;
          expect(listedIds.has(id), `${role}/${purpose}`).toBe(processable);
        }
      }),
      { numRuns: 40, seed: 7 },
    );
    // The property held over facts actually shown, not over empty reads.
    expect(factsShown).toBeGreaterThan(0);
  }, 120_000);

  it('filters a customer exactly as the decision says, field by field', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = operatorActor(ws.workspace.id);
    const id = await withAccess(t.database.db, owner, WRITE, async (scope) => {
      const c = await createGovernedCustomer(scope, {
        givenName: 'Zoe',
        language: 'fr',
        emails: ['z@example.com'],
      });
      await setIntimacyLevel(scope.tx, owner, c.id, { level: 0 });
      return c.id;
    });
    const read = await withAccess(
      t.database.db,
      actorOf(ws, 'agent'),
      { purpose: 'service', requestId: 'req-1', mode: 'read' },
      (scope) => readCustomer(scope, id),
    );
    expect(read).toMatchObject({ givenName: 'Zoe', language: null, emails: ['z@example.com'] });
    expect(read.withheld).toEqual([{ field: 'language', reason: 'INTIMACY_TOO_LOW' }]);
  });

  it('exports for a purpose only what it may see, with a disclosure per customer', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = operatorActor(ws.workspace.id);
    const [yes, no] = await withAccess(t.database.db, owner, WRITE, async (scope) => {
      const a = await createGovernedCustomer(scope, { givenName: 'Yes', emails: ['yes@example.com'] });
      const b = await createGovernedCustomer(scope, { givenName: 'No', emails: ['no@example.com'] });
      await recordConsent(
        scope.tx,
        owner,
        a.id,
        { purpose: 'marketing', status: 'granted' },
        purposeRules(scope.taxonomy),
      );
      return [a.id, b.id];
    });
    const out = new Collect();
    const summary = await exportWorkspace(
      t.database.db,
      { actor: owner, purpose: 'marketing', fileName: 'newsletter.ndjson' },
      out,
    );
    expect(summary).toMatchObject({
      customers: 1,
      purpose: 'marketing',
      recipient: 'file:newsletter.ndjson',
    });
    const customers = out.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.record === 'customer');
    expect(customers.map((c) => c.id)).toEqual([yes]);
    expect(out.text).not.toContain('no@example.com');
    const disclosures = await inTestWorkspace(t.database, ws, (tx) =>
      tx.selectFrom('disclosures').select(['customer_id', 'purpose', 'fields']).execute(),
    );
    expect(disclosures).toEqual([
      { customer_id: yes, purpose: 'marketing', fields: expect.arrayContaining(['emails', 'givenName']) },
    ]);
    expect(disclosures.some((d) => d.customer_id === no)).toBe(false);
  });

  it('audit verify names the first changed, deleted or reordered event', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = operatorActor(ws.workspace.id);
    const ids = await withAccess(t.database.db, owner, WRITE, async (scope) => {
      const made: string[] = [];
      for (const name of ['A', 'B', 'C', 'D'])
        made.push((await createGovernedCustomer(scope, { givenName: name })).id);
      return made;
    });
    for (const id of ids) {
      await withAccess(
        t.database.db,
        actorOf(ws, 'agent'),
        { purpose: 'service', requestId: null, mode: 'read' },
        (scope) => readTimeline(scope, id, {}).then(() => readCustomer(scope, id)),
      );
    }
    const verify = () =>
      inTestWorkspace(t.database, ws, (tx) =>
        verifyAuditChain(tx, ws.workspace.id, testAuditKeys(), { pageSize: 3 }),
      );
    const clean = await verify();
    expect(clean).toMatchObject({ ok: true, events: 8 });

    // Tampering needs the database owner's rights and the triggers switched off for the session.
    const tamper = (...statements: ReturnType<typeof sql>[]) =>
      t.database.db.transaction().execute(async (tx) => {
        await sql`SET LOCAL session_replication_role = replica`.execute(tx);
        for (const statement of statements) await statement.execute(tx);
      });
    const swap = (a: number, b: number) =>
      tamper(
        sql`UPDATE audit_events SET seq = -1 WHERE workspace_id = ${ws.workspace.id} AND seq = ${a}`,
        sql`UPDATE audit_events SET seq = ${a} WHERE workspace_id = ${ws.workspace.id} AND seq = ${b}`,
        sql`UPDATE audit_events SET seq = ${b} WHERE workspace_id = ${ws.workspace.id} AND seq = -1`,
      );
    const ws0 = ws.workspace.id;
    await tamper(sql`UPDATE audit_events SET purpose = 'marketing' WHERE workspace_id = ${ws0} AND seq = 6`);
    expect(await verify()).toMatchObject({ ok: false, break: { seq: 6, problem: 'hash_mismatch' } });
    await tamper(sql`UPDATE audit_events SET purpose = 'service' WHERE workspace_id = ${ws0} AND seq = 6`);
    expect((await verify()).ok).toBe(true);

    // Reorder: two events swap places.
    await swap(3, 4);
    expect(await verify()).toMatchObject({ ok: false, break: { seq: 3, problem: 'prev_hash_mismatch' } });
    await swap(3, 4);
    expect((await verify()).ok).toBe(true);

    // Delete one in the middle, then the last one.
    await tamper(sql`DELETE FROM audit_events WHERE workspace_id = ${ws0} AND seq = 8`);
    expect(await verify()).toMatchObject({ ok: false, break: { seq: 8, problem: 'missing_event' } });
    await tamper(sql`DELETE FROM audit_events WHERE workspace_id = ${ws0} AND seq = 2`);
    expect(await verify()).toMatchObject({ ok: false, break: { seq: 2, problem: 'missing_event' } });
  });

  it('a CSV import masks card numbers in text and rejects do-not-store columns into the rejects file', async () => {
    const ws = await createTestWorkspace(t.database);
    const dir = mkdtempSync(join(tmpdir(), 'cornerstore-policy-'));
    try {
      const file = join(dir, 'calls.csv');
      writeFileSync(
        file,
        [
          'type,channel,occurredAt,source,externalId,customerSource,customerExternalId,text,properties',
          'call,phone,2024-05-01T10:00:00Z,cc,1,pos,L-1,"paid with 4111-1111-1111-1111, thanks",{}',
          'call,phone,2024-05-01T11:00:00Z,cc,2,pos,L-1,hello,"{""iban"": ""DE89370400440532013000""}"',
          'call,phone,2024-05-01T12:00:00Z,cc,3,pos,L-1,"national id 12345678Z",{}',
        ].join('\n'),
      );
      const summary = await runImport(
        t.database.db,
        operatorActor(ws.workspace.id),
        await planImport({ kind: 'interactions', file, format: 'csv' }),
      );
      expect(summary).toMatchObject({ created: 2, rejected: 1 });
      const rejects = readFileSync(summary.rejectsFile, 'utf8');
      expect(rejects).toContain('POLICY_DO_NOT_STORE');
      expect(rejects).not.toContain('DE89370400440532013000');
      const texts = await inTestWorkspace(t.database, ws, (tx) =>
        tx.selectFrom('interactions').select('text').orderBy('external_id').execute(),
      );
      expect(texts.map((r) => r.text)).toEqual([
        'paid with ****-****-****-1111, thanks',
        'national id *********',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an access is in the access log at once, and in the chain once the chainer links it', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await withAccess(t.database.db, operatorActor(ws.workspace.id), WRITE, async (scope) => {
      return (await createGovernedCustomer(scope, { givenName: 'Pia' })).id;
    });
    // Written straight to the inbox, as a transaction that lost the race to chain would leave it.
    await inTestWorkspace(t.database, ws, (tx) =>
      recordAuditEvents(
        tx,
        ws.workspace.id,
        { actor: { keyId: null, role: 'agent', label: 'desk' }, requestId: 'r-9' },
        [{ action: 'customer.read', purpose: 'service', customerIds: [id], fields: ['givenName'] }],
      ),
    );
    const log = await inTestWorkspace(t.database, ws, (tx) => listAccessLog(tx, ws.workspace.id, id));
    expect(log.entries.map((e) => [e.seq, e.action])).toEqual([
      [null, 'customer.read'],
      [1, 'customer.create'],
    ]);
    expect(
      await inTestWorkspace(t.database, ws, (tx) => verifyAuditChain(tx, ws.workspace.id, testAuditKeys())),
    ).toMatchObject({
      ok: true,
      events: 1,
      pending: 1,
    });
    const chained = await inTestWorkspace(t.database, ws, (tx) =>
      chainPendingEvents(tx, ws.workspace.id, testAuditKeys(), { wait: false }),
    );
    expect(chained).toBe(1);
    expect(
      await inTestWorkspace(t.database, ws, (tx) => verifyAuditChain(tx, ws.workspace.id, testAuditKeys())),
    ).toMatchObject({
      ok: true,
      events: 2,
      pending: 0,
    });
  });

  it('an access and its audit event commit or roll back together', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = operatorActor(ws.workspace.id);
    const count = () =>
      inTestWorkspace(t.database, ws, async (tx) =>
        Number((await sql<{ n: string }>`SELECT count(*) AS n FROM audit_events`.execute(tx)).rows[0]?.n),
      );
    await expect(
      withAccess(t.database.db, owner, WRITE, async (scope) => {
        await createGovernedCustomer(scope, { givenName: 'Ghost' });
        throw new Error('the request failed after the write');
      }),
    ).rejects.toThrow('the request failed');
    expect(await count()).toBe(0);
    const customers = await inTestWorkspace(t.database, ws, (tx) =>
      tx.selectFrom('customers').select('id').execute(),
    );
    expect(customers).toEqual([]);
  });
});
