import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestDatabase,
} from '../../test/helpers.ts';
import { loadPrivacySubjects, recordConsent, setIntimacyLevel } from '../consent/index.ts';
import { createCustomer, type GoldenField, getCustomer, updateCustomer } from '../customers/index.ts';
import type { Tx } from '../db/index.ts';
import { type AccessScope, createGovernedCustomer, purposeRules, withAccess } from '../governance/index.ts';
import { newId } from '../shared/ids.ts';
import { generateCorruptedRecords } from './corrupt.ts';
import {
  decideReview,
  listReviewQueue,
  mergeCustomers,
  rectifyField,
  resolveWorkspace,
  unmergeCustomers,
} from './identity.service.ts';

const fixture = useTestDatabase();

function inScope<T>(ws: TestWorkspace, fn: (scope: AccessScope) => Promise<T>): Promise<T> {
  return withAccess(
    fixture.database.db,
    ws.actor,
    { purpose: 'service', requestId: null, mode: 'write' },
    fn,
  );
}

function inTx<T>(ws: TestWorkspace, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTestWorkspace(fixture.database, ws, fn);
}

/** Everything a merge may touch of these customers, exactly as stored (timestamps to the microsecond). */
async function snapshot(ws: TestWorkspace, ids: readonly string[]): Promise<Record<string, string[]>> {
  return inTx(ws, async (tx) => {
    const rows = async (query: ReturnType<typeof sql<{ j: string }>>) =>
      (await query.execute(tx)).rows.map((r) => r.j);
    return {
      customers: await rows(sql<{ j: string }>`
        SELECT row_to_json(t)::text AS j FROM customers t WHERE id = ANY(${ids}::uuid[]) ORDER BY id`),
      fieldValues: await rows(sql<{ j: string }>`
        SELECT row_to_json(t)::text AS j FROM customer_field_values t WHERE customer_id = ANY(${ids}::uuid[])
        ORDER BY id`),
      identities: await rows(sql<{ j: string }>`
        SELECT row_to_json(t)::text AS j FROM customer_identities t WHERE customer_id = ANY(${ids}::uuid[])
        ORDER BY source, external_id`),
      contactPoints: await rows(sql<{ j: string }>`
        SELECT row_to_json(t)::text AS j FROM contact_points t WHERE customer_id = ANY(${ids}::uuid[]) ORDER BY id`),
      consentState: await rows(sql<{ j: string }>`
        SELECT row_to_json(t)::text AS j FROM consent_state t WHERE customer_id = ANY(${ids}::uuid[])
        ORDER BY customer_id, purpose, channel`),
      interactions: await rows(sql<{ j: string }>`
        SELECT id || ' ' || customer_id AS j FROM interactions WHERE customer_id = ANY(${ids}::uuid[]) ORDER BY id`),
    };
  });
}

async function addInteraction(
  tx: Tx,
  ws: TestWorkspace,
  customerId: string,
  source: string,
): Promise<string> {
  const id = newId();
  await sql`
    INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source, external_id)
    VALUES (${ws.workspace.id}, ${id}, ${customerId}, 'purchase', 'store', 'customer', now(), ${source}, ${id})`.execute(
    tx,
  );
  return id;
}

async function consentStatus(ws: TestWorkspace, customerId: string, purpose: string) {
  return inTx(ws, async (tx) => {
    const subjects = await loadPrivacySubjects(tx, ws.workspace.id, [customerId]);
    return subjects.get(customerId)?.consents.get(purpose)?.status ?? null;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Generated customers for the round trip
// ---------------------------------------------------------------------------------------------------------

const SOURCES = ['api', 'pos', 'billing', 'document', 'crm'] as const;
const FIELDS: readonly GoldenField[] = ['givenName', 'familyName', 'preferredName', 'language', 'birthDate'];
const VALUES: Record<GoldenField, readonly string[]> = {
  givenName: ['Ana', 'Anna', 'Jon'],
  familyName: ['Smith', 'Smyth'],
  preferredName: ['Annie', 'J'],
  language: ['en', 'es-MX'],
  birthDate: ['1980-02-01', '1980-01-02'],
};

const sideArb = fc.record({
  writes: fc.array(
    fc.record({
      field: fc.constantFrom(...FIELDS),
      pick: fc.nat(5),
      source: fc.constantFrom(...SOURCES),
      year: fc.integer({ min: 2015, max: 2024 }),
      clear: fc.boolean(),
    }),
    { maxLength: 6 },
  ),
  emails: fc.uniqueArray(
    fc.record({
      value: fc.constantFrom('a@example.org', 'b@example.org', 'c@example.org'),
      verified: fc.boolean(),
    }),
    { maxLength: 3, selector: (e) => e.value },
  ),
  identities: fc.nat(2),
  consents: fc.array(
    fc.record({
      purpose: fc.constantFrom('marketing', 'analytics', 'personalization'),
      channel: fc.constantFrom(undefined, 'email'),
      status: fc.constantFrom('granted' as const, 'denied' as const, 'withdrawn' as const),
    }),
    { maxLength: 4 },
  ),
  interactions: fc.array(fc.constantFrom('pos', 'web'), { maxLength: 3 }),
  intimacy: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
});

type SideSpec = typeof sideArb extends fc.Arbitrary<infer T> ? T : never;

let run = 0;

async function seedSide(scope: AccessScope, ws: TestWorkspace, spec: SideSpec, tag: string): Promise<string> {
  const { tx, actor } = scope;
  const created = await createCustomer(tx, actor, {
    // A customer needs an identifying field: the side's tag names it when nothing else does.
    familyName: `Side ${tag}`,
    emails: spec.emails,
    identities: Array.from({ length: spec.identities }, (_, i) => ({
      source: i % 2 === 0 ? 'pos' : 'web',
      externalId: `${tag}-${i}`,
    })),
  });
  for (const w of spec.writes) {
    const values = VALUES[w.field];
    const value = w.clear && w.pick === 0 ? null : (values[w.pick % values.length] ?? null);
    const patch: Parameters<typeof updateCustomer>[3] = {
      source: w.source,
      capturedAt: `${w.year}-06-01T00:00:00Z`,
    };
    patch[w.field] = value;
    await updateCustomer(tx, actor, created.id, patch);
  }
  for (const c of spec.consents) {
    await recordConsent(
      tx,
      actor,
      created.id,
      { purpose: c.purpose, status: c.status, ...(c.channel ? { channel: c.channel } : {}) },
      purposeRules(scope.taxonomy),
    );
  }
  if (spec.intimacy !== undefined) await setIntimacyLevel(tx, actor, created.id, { level: spec.intimacy });
  for (const source of spec.interactions) await addInteraction(tx, ws, created.id, source);
  return created.id;
}

describe(`identity merges in the database (${ENGINE})`, () => {
  it('merge → unmerge restores both customers exactly (property)', async () => {
    const ws = await createTestWorkspace(fixture.database);
    await fc.assert(
      fc.asyncProperty(sideArb, sideArb, async (s, a) => {
        run += 1;
        const [survivorId, absorbedId] = await inScope(ws, async (scope) => [
          await seedSide(scope, ws, s, `s${run}`),
          await seedSide(scope, ws, a, `a${run}`),
        ]);
        const ids = [survivorId, absorbedId];
        const before = await snapshot(ws, ids);
        const consentsBefore = await inTx(
          ws,
          async (tx) =>
            (
              await sql<{ purpose: string; channel: string; status: string }>`
              SELECT purpose, channel, status FROM consent_state WHERE customer_id = ANY(${ids}::uuid[])`.execute(
                tx,
              )
            ).rows,
        );
        const merge = await inScope(ws, (scope) => mergeCustomers(scope, survivorId, absorbedId));
        const merged = await snapshot(ws, ids);
        // While merged: nothing of the absorbed customer is left on it, and no restriction was lost.
        expect((merged.identities ?? []).every((j) => j.includes(survivorId))).toBe(true);
        expect((merged.interactions ?? []).every((j) => j.endsWith(survivorId))).toBe(true);
        const after = await inTx(
          ws,
          async (tx) =>
            (
              await sql<{ purpose: string; channel: string; status: string }>`
              SELECT purpose, channel, status FROM consent_state WHERE customer_id = ${survivorId}`.execute(
                tx,
              )
            ).rows,
        );
        const rank: Record<string, number> = { granted: 0, denied: 1, withdrawn: 2 };
        for (const c of consentsBefore) {
          const now = after.find((x) => x.purpose === c.purpose && x.channel === c.channel);
          expect(rank[now?.status ?? 'granted'] ?? 0).toBeGreaterThanOrEqual(rank[c.status] ?? 0);
        }
        await inScope(ws, (scope) => unmergeCustomers(scope, merge.id));
        expect(await snapshot(ws, ids)).toEqual(before);
      }),
      { numRuns: 25, seed: 7 },
    );
  }, 120_000);

  it('keeps the most trusted value with its provenance, and every value in the history', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const { s, a } = await inScope(ws, async (scope) => ({
      s: await createCustomer(scope.tx, scope.actor, {
        givenName: 'Jon',
        familyName: 'Smith',
        source: 'pos',
        capturedAt: '2024-05-01T00:00:00Z',
      }),
      a: await createCustomer(scope.tx, scope.actor, {
        givenName: 'John',
        language: 'en',
        source: 'billing',
        capturedAt: '2020-01-01T00:00:00Z',
      }),
    }));
    const merge = await inScope(ws, (scope) => mergeCustomers(scope, s.id, a.id, 'same card'));
    expect(merge.fieldsChanged).toEqual([
      { field: 'givenName', source: 'billing' },
      { field: 'language', source: 'billing' },
    ]);
    const survivor = await inTx(ws, (tx) => getCustomer(tx, ws.actor, s.id));
    expect(survivor).toMatchObject({ givenName: 'John', familyName: 'Smith', language: 'en' });
    expect(survivor.provenance.givenName?.source).toBe('billing');
    expect(survivor.provenance.familyName?.source).toBe('pos');
    const history = await inTx(
      ws,
      async (tx) =>
        (
          await sql<{ value: string; superseded: boolean }>`
          SELECT value #>> '{}' AS value, superseded_at IS NOT NULL AS superseded FROM customer_field_values
          WHERE customer_id = ${s.id} AND field = 'givenName' ORDER BY value`.execute(tx)
        ).rows,
    );
    expect(history).toEqual([
      { value: 'John', superseded: false },
      { value: 'Jon', superseded: true },
    ]);
    // The absorbed customer reads as not found; merging it again is a conflict.
    await expect(inTx(ws, (tx) => getCustomer(tx, ws.actor, a.id))).rejects.toMatchObject({
      code: 'CUSTOMER_NOT_FOUND',
    });
    await expect(inScope(ws, (scope) => mergeCustomers(scope, s.id, a.id))).rejects.toMatchObject({
      code: 'CUSTOMER_MERGED',
    });
    await expect(inScope(ws, (scope) => unmergeCustomers(scope, merge.id))).resolves.toMatchObject({
      mergeId: merge.id,
    });
    await expect(inScope(ws, (scope) => unmergeCustomers(scope, merge.id))).rejects.toMatchObject({
      code: 'MERGE_ALREADY_UNDONE',
    });
  });

  it('never resurrects a withdrawal by a merge, whichever side withdrew', async () => {
    const ws = await createTestWorkspace(fixture.database);
    for (const withdrawnSide of ['survivor', 'absorbed'] as const) {
      const [s, a] = await inScope(ws, async (scope) => {
        const rules = purposeRules(scope.taxonomy);
        const ids: string[] = [];
        for (const side of ['survivor', 'absorbed'] as const) {
          const c = await createCustomer(scope.tx, scope.actor, { givenName: side });
          await recordConsent(
            scope.tx,
            scope.actor,
            c.id,
            { purpose: 'marketing', status: 'granted' },
            rules,
          );
          if (side === withdrawnSide) {
            await recordConsent(
              scope.tx,
              scope.actor,
              c.id,
              { purpose: 'marketing', status: 'withdrawn' },
              rules,
            );
          } else {
            // A later grant on the other side must not win over the withdrawal.
            await recordConsent(
              scope.tx,
              scope.actor,
              c.id,
              { purpose: 'marketing', status: 'granted' },
              rules,
            );
          }
          ids.push(c.id);
        }
        return ids as [string, string];
      });
      const merge = await inScope(ws, (scope) => mergeCustomers(scope, s, a));
      expect(await consentStatus(ws, s, 'marketing')).toBe('withdrawn');
      expect(merge.consentsChanged.length).toBe(withdrawnSide === 'absorbed' ? 1 : 0);
      // Unmerge restores each side's own ledger.
      await inScope(ws, (scope) => unmergeCustomers(scope, merge.id));
      expect(await consentStatus(ws, s, 'marketing')).toBe(
        withdrawnSide === 'survivor' ? 'withdrawn' : 'granted',
      );
      expect(await consentStatus(ws, a, 'marketing')).toBe(
        withdrawnSide === 'absorbed' ? 'withdrawn' : 'granted',
      );
    }
  });

  it('sends events that arrived during the merge to the side whose identity source they come from', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const [s, a] = await inScope(ws, async (scope) => [
      (await createCustomer(scope.tx, scope.actor, { identities: [{ source: 'pos', externalId: 'L-1' }] }))
        .id,
      (await createCustomer(scope.tx, scope.actor, { identities: [{ source: 'web', externalId: 'W-1' }] }))
        .id,
    ]);
    const merge = await inScope(ws, (scope) => mergeCustomers(scope, s, a));
    const [fromWeb, fromPos, fromBilling] = await inTx(ws, async (tx) => [
      await addInteraction(tx, ws, s, 'web'),
      await addInteraction(tx, ws, s, 'pos'),
      await addInteraction(tx, ws, s, 'billing'),
    ]);
    const undone = await inScope(ws, (scope) => unmergeCustomers(scope, merge.id));
    expect(undone.arrivedDuringMerge).toEqual({ total: 3, toAbsorbed: 1 });
    const owners = await inTx(ws, async (tx) =>
      Object.fromEntries(
        (
          await sql<{ id: string; customer_id: string }>`
            SELECT id, customer_id FROM interactions WHERE customer_id = ANY(${[s, a]}::uuid[])`.execute(tx)
        ).rows.map((r) => [r.id, r.customer_id]),
      ),
    );
    expect(owners[fromWeb ?? '']).toBe(a);
    expect(owners[fromPos ?? '']).toBe(s);
    expect(owners[fromBilling ?? '']).toBe(s);
  });

  it('refuses to merge two customers with different government ids of one kind, and unmerges in reverse order', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const [x, y, z] = await inScope(ws, async (scope) => [
      (
        await createGovernedCustomer(scope, {
          givenName: 'X',
          governmentIds: [{ kind: 'passport', value: 'P1' }],
        })
      ).id,
      (
        await createGovernedCustomer(scope, {
          givenName: 'Y',
          governmentIds: [{ kind: 'passport', value: 'P2' }],
        })
      ).id,
      (
        await createGovernedCustomer(scope, {
          givenName: 'Z',
          governmentIds: [{ kind: 'national_id', value: 'N1' }],
        })
      ).id,
    ]);
    await expect(inScope(ws, (scope) => mergeCustomers(scope, x ?? '', y ?? ''))).rejects.toMatchObject({
      code: 'MERGE_REFUSED',
      details: { reason: 'GOVERNMENT_ID_DIFFERS', kind: 'passport' },
    });
    const first = await inScope(ws, (scope) => mergeCustomers(scope, x ?? '', z ?? ''));
    await expect(inScope(ws, (scope) => mergeCustomers(scope, x ?? '', y ?? ''))).rejects.toMatchObject({
      code: 'MERGE_REFUSED',
    });
    const other = await inScope(
      ws,
      async (scope) => (await createCustomer(scope.tx, scope.actor, { givenName: 'Other' })).id,
    );
    const second = await inScope(ws, (scope) => mergeCustomers(scope, x ?? '', other));
    await expect(inScope(ws, (scope) => unmergeCustomers(scope, first.id))).rejects.toMatchObject({
      code: 'UNMERGE_ORDER',
    });
    await inScope(ws, (scope) => unmergeCustomers(scope, second.id));
    await inScope(ws, (scope) => unmergeCustomers(scope, first.id));
  });

  it('rectifies a name with provenance and a name_corrected event in the same transaction', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const id = await inScope(
      ws,
      async (scope) => (await createCustomer(scope.tx, scope.actor, { givenName: 'Jhon' })).id,
    );
    const events = () =>
      inTx(
        ws,
        async (tx) =>
          (
            await sql<{ type: string; customer_id: string; payload: Record<string, unknown> }>`
            SELECT type, customer_id, payload FROM events
             WHERE customer_id = ${id} AND type IN ('name_corrected', 'field_rectified') ORDER BY position`.execute(
              tx,
            )
          ).rows,
      );

    await expect(
      inScope(ws, async (scope) => {
        await rectifyField(scope, id, 'givenName', 'John', 'misspelled at the counter');
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    expect(await events()).toEqual([]);
    expect((await inTx(ws, (tx) => getCustomer(tx, ws.actor, id))).givenName).toBe('Jhon');

    const done = await inScope(ws, (scope) =>
      rectifyField(scope, id, 'givenName', 'John', 'misspelled at the counter'),
    );
    expect(done).toMatchObject({ outcome: 'rectified', value: 'John', event: { type: 'name_corrected' } });
    const customer = await inTx(ws, (tx) => getCustomer(tx, ws.actor, id));
    expect(customer.givenName).toBe('John');
    expect(customer.provenance.givenName).toMatchObject({
      source: 'rectification',
      capturedBy: ws.actor.label,
    });
    expect(await events()).toEqual([
      {
        type: 'name_corrected',
        customer_id: id,
        payload: expect.objectContaining({ field: 'givenName', source: 'rectification' }),
      },
    ]);
    const lang = await inScope(ws, (scope) => rectifyField(scope, id, 'language', 'es', 'asked in Spanish'));
    expect(lang.event?.type).toBe('field_rectified');
    const same = await inScope(ws, (scope) => rectifyField(scope, id, 'givenName', 'John', 'again'));
    expect(same).toMatchObject({ outcome: 'unchanged', event: null });
    expect(await events()).toHaveLength(2);
    const audit = await inTx(
      ws,
      async (tx) =>
        (
          await sql<{ action: string }>`
          SELECT action FROM audit_events WHERE ${id} = ANY(customer_ids) AND action = 'customer.rectify'`.execute(
            tx,
          )
        ).rows,
    );
    expect(audit).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------------------
// A small seeded world
// ---------------------------------------------------------------------------------------------------------

/** Writes generated person records as customers; returns customer id → true person. */
async function seedWorld(
  ws: TestWorkspace,
  records: number,
  seed: number,
  options: { governmentIds: boolean },
): Promise<Map<string, number>> {
  const generated = generateCorruptedRecords({ records, seed });
  const truth = new Map<string, number>();
  await inTx(ws, async (tx) => {
    for (const [i, r] of generated.records.entries()) {
      const id = newId();
      truth.set(id, generated.entities[i] ?? -1);
      const d = r.birthDate ?? '';
      const birth = /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : null;
      const valid =
        birth !== null && !Number.isNaN(Date.parse(birth)) && new Date(birth).toISOString().startsWith(birth);
      await sql`
        INSERT INTO customers (workspace_id, id, given_name, family_name, birth_date, created_at)
        VALUES (${ws.workspace.id}, ${id}, ${r.givenName}, ${r.surname}, ${valid ? birth : null}::date,
          now() + ${i} * interval '1 microsecond')`.execute(tx);
      for (const [kind, value] of [
        ['email', r.email],
        ['phone', r.phone],
      ] as const) {
        if (value === null) continue;
        await sql`
          INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, verified, source)
          VALUES (${ws.workspace.id}, ${newId()}, ${id}, ${kind}, ${value}, false, 'import')`.execute(tx);
      }
      if (options.governmentIds && r.governmentIdHash !== null) {
        await sql`
          INSERT INTO customer_identities (workspace_id, source, external_id, customer_id)
          VALUES (${ws.workspace.id}, 'government_id.national_id', ${r.governmentIdHash}, ${id})
          ON CONFLICT DO NOTHING`.execute(tx);
      }
    }
  });
  return truth;
}

async function activeCount(ws: TestWorkspace): Promise<number> {
  return inTx(ws, async (tx) => {
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM customers WHERE merged_into IS NULL`.execute(tx);
    return rows[0]?.n ?? 0;
  });
}

describe(`resolveWorkspace on a seeded world (${ENGINE})`, () => {
  it('merges above the upper threshold, queues the band once, and obeys decisions', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const truth = await seedWorld(ws, 400, 5, { governmentIds: false });
    const first = await inScope(ws, (scope) => resolveWorkspace(scope, { reviewThreshold: 0.02 }));
    expect(first.customers).toBe(400);
    expect(first.merges.length).toBeGreaterThan(20);
    expect(first.queued).toBeGreaterThan(0);
    expect(await activeCount(ws)).toBe(400 - first.merges.length);
    const right = first.merges.filter((m) => truth.get(m.survivorId) === truth.get(m.absorbedId)).length;
    expect(right / first.merges.length).toBeGreaterThan(0.9);

    // Idempotent: a rerun over unchanged data merges and queues nothing, and nothing is queued twice.
    const second = await inScope(ws, (scope) => resolveWorkspace(scope, { reviewThreshold: 0.02 }));
    const pending = await inScope(ws, (scope) => listReviewQueue(scope, { limit: 500 }));
    const total = await inTx(ws, async (tx) =>
      Number(
        (await sql<{ n: number }>`SELECT count(*)::int AS n FROM identity_reviews`.execute(tx)).rows[0]?.n,
      ),
    );
    expect(total).toBe(first.queued + second.queued);
    expect(second.merges).toEqual([]);
    expect(second.queued).toBe(0);
    expect(second.skipped.settled).toBeGreaterThan(0);
    expect(pending.reviews.length).toBeGreaterThan(1);

    // A rejected pair is never merged, even when the threshold would now merge it.
    const [rejected, ...others] = pending.reviews;
    if (!rejected) throw new Error('expected a pending review');
    await inScope(ws, (scope) => decideReview(scope, rejected.id, 'reject'));
    await expect(inScope(ws, (scope) => decideReview(scope, rejected.id, 'accept'))).rejects.toMatchObject({
      code: 'REVIEW_DECIDED',
    });
    // An accepted pair is merged, unless the guard forbids it (then nothing is recorded).
    let accepted: Awaited<ReturnType<typeof decideReview>> | undefined;
    for (const review of others) {
      try {
        accepted = await inScope(ws, (scope) => decideReview(scope, review.id, 'accept'));
        break;
      } catch (error) {
        expect(error).toMatchObject({ code: 'MERGE_REFUSED' });
        const status = await inTx(
          ws,
          async (tx) =>
            (
              await sql<{
                status: string;
              }>`SELECT status FROM identity_reviews WHERE id = ${review.id}`.execute(tx)
            ).rows[0]?.status,
        );
        expect(status).toBe('pending');
      }
    }
    expect(accepted?.review.status).toBe('accepted');
    expect(accepted?.merge).not.toBeNull();
    const third = await inScope(ws, (scope) =>
      resolveWorkspace(scope, {
        autoThreshold: Math.max(0.001, rejected.probability / 2),
        reviewThreshold: 0.0005,
      }),
    );
    // New thresholds: the customers are looked at again (nothing is settled), and the rejection holds.
    expect(third.skipped.settled).toBe(0);
    const states = await inTx(
      ws,
      async (tx) =>
        (
          await sql<{ id: string; merged_into: string | null }>`
          SELECT id, merged_into FROM customers WHERE id = ANY(${[rejected.customerA, rejected.customerB]}::uuid[])`.execute(
            tx,
          )
        ).rows,
    );
    const survivorsOf = new Map(states.map((r) => [r.id, r.merged_into ?? r.id]));
    expect(survivorsOf.get(rejected.customerA)).not.toBe(survivorsOf.get(rejected.customerB));
  }, 120_000);

  it('keeps the review queue of a workspace invisible to every other workspace', async () => {
    const mine = await createTestWorkspace(fixture.database);
    const theirs = await createTestWorkspace(fixture.database);
    await seedWorld(mine, 200, 9, { governmentIds: true });
    const resolved = await inScope(mine, (scope) => resolveWorkspace(scope, { reviewThreshold: 0.02 }));
    const queue = await inScope(mine, (scope) => listReviewQueue(scope));
    expect(queue.reviews.length).toBe(Math.min(50, resolved.queued));
    const first = queue.reviews[0];
    if (!first) throw new Error('expected a pending review');

    expect((await inScope(theirs, (scope) => listReviewQueue(scope))).reviews).toEqual([]);
    const seen = await inTx(theirs, async (tx) =>
      Number(
        (await sql<{ n: number }>`SELECT count(*)::int AS n FROM identity_reviews`.execute(tx)).rows[0]?.n,
      ),
    );
    expect(seen).toBe(0);
    await expect(inScope(theirs, (scope) => decideReview(scope, first.id, 'accept'))).rejects.toMatchObject({
      code: 'REVIEW_NOT_FOUND',
    });
    const merge = resolved.merges[0];
    if (merge) {
      await expect(inScope(theirs, (scope) => unmergeCustomers(scope, merge.mergeId))).rejects.toMatchObject({
        code: 'MERGE_NOT_FOUND',
      });
    }
  }, 60_000);
});
