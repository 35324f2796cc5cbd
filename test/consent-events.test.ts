import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { planImport, runImport } from '../src/imports/index.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  bearer,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * A `consent_changed` interaction is a consent: recorded in the ledger in the transaction of its
 * ingest, through the API and the bulk import, so the next read for marketing sees the customer.
 */

const t = useTestApp();
const dir = mkdtempSync(join(tmpdir(), 'cornerstore-consent-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;
const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString();

function consentEvent(
  customer: string,
  externalId: string,
  properties: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    type: 'consent_changed',
    channel: 'web',
    occurredAt: at(24),
    source: 'web',
    externalId,
    customer: { identity: { source: 'web', externalId: customer } },
    properties,
    ...extra,
  };
}

async function ingest(ws: TestWorkspace, interactions: unknown[], atomic = false) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/interactions',
    headers: bearer(ws.apiKey),
    payload: { interactions, atomic },
  });
}

async function ledger(ws: TestWorkspace, customerId: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/v1/customers/${customerId}/consents`,
    headers: reader(ws.apiKey, 'legal'),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as {
    current: { purpose: string; channel: string | null; status: string; recordId: string }[];
    history: Record<string, unknown>[];
  };
}

async function marketingIds(ws: TestWorkspace): Promise<string[]> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/v1/customers?limit=100',
    headers: reader(ws.apiKey, 'marketing'),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().customers.map((c: { id: string }) => c.id);
}

async function marketingCount(ws: TestWorkspace): Promise<number> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/segments/preview',
    headers: reader(ws.apiKey, 'marketing'),
    payload: { definition: { aggregate: 'count', type: 'consent_changed', op: 'gte', value: 1 } },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().count;
}

function countRows(ws: TestWorkspace, table: 'interactions' | 'consent_records'): Promise<number> {
  return inTestWorkspace(t.database, ws, async (tx) => {
    const row = await tx
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  });
}

describe(`consent events (${ENGINE})`, () => {
  it('a consent interaction records a consent with its evidence, and the next read sees the customer for marketing', async () => {
    const ws = await createTestWorkspace(t.database);
    expect(await marketingIds(ws)).toEqual([]);
    const when = at(24);
    const response = await ingest(ws, [
      consentEvent(
        'w-1',
        'c-1',
        {
          purpose: 'marketing',
          status: 'granted',
          noticeVersion: 'v3',
          evidence: { form: 'checkout', checkbox: 'unticked by default' },
        },
        { occurredAt: when },
      ),
      consentEvent('w-2', 'c-2', { purpose: 'marketing', status: 'denied', noticeVersion: 'v3' }),
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const results = response.json().results;
    expect(results.map((r: { status: string }) => r.status)).toEqual(['created', 'created']);
    const [granted, denied] = results as { id: string; customerId: string }[];
    if (!granted || !denied) throw new Error('two results expected');

    const { current, history } = await ledger(ws, granted.customerId);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      purpose: 'marketing',
      status: 'granted',
      channel: null,
      noticeVersion: 'v3',
      source: 'web',
      lawfulBasis: 'consent',
      effectiveFrom: when,
      evidence: {
        interactionId: granted.id,
        capturedVia: 'web',
        detail: { form: 'checkout', checkbox: 'unticked by default' },
      },
    });
    expect(current).toMatchObject([{ purpose: 'marketing', status: 'granted', recordId: history[0]?.id }]);

    // The very next read: visible for marketing, counted by a marketing segment; a denial is not.
    expect(await marketingIds(ws)).toEqual([granted.customerId]);
    expect(await marketingCount(ws)).toBe(1);

    // Sent again, the interaction is a duplicate and the ledger does not grow.
    const again = await ingest(ws, [
      consentEvent('w-1', 'c-1', { purpose: 'marketing', status: 'granted', noticeVersion: 'v3' }),
    ]);
    expect(again.json().results[0].status).toBe('duplicate');
    expect((await ledger(ws, granted.customerId)).history).toHaveLength(1);
  });

  it('the latest choice wins whatever order events arrive in; a channel consent stays on its channel', async () => {
    const ws = await createTestWorkspace(t.database);
    const withdrawn = await ingest(ws, [
      consentEvent(
        'w-late',
        'late-1',
        { purpose: 'marketing', status: 'withdrawn', evidence: 'unsubscribe link' },
        { occurredAt: at(2), channel: 'email' },
      ),
    ]);
    const customerId = withdrawn.json().results[0].customerId as string;
    // An older grant arrives after the withdrawal: kept in the ledger, the withdrawal still stands.
    await ingest(ws, [
      consentEvent('w-late', 'late-0', { purpose: 'marketing', status: 'granted' }, { occurredAt: at(48) }),
    ]);
    const after = await ledger(ws, customerId);
    expect(after.history.map((r) => r.status)).toEqual(['withdrawn', 'granted']);
    expect(after.current).toMatchObject([{ purpose: 'marketing', channel: null, status: 'withdrawn' }]);
    expect(await marketingIds(ws)).toEqual([]);

    // Both orders inside one batch, and a grant limited to one channel.
    const batch = await ingest(ws, [
      consentEvent('w-b', 'b-new', { purpose: 'marketing', status: 'granted' }, { occurredAt: at(1) }),
      consentEvent('w-b', 'b-old', { purpose: 'marketing', status: 'withdrawn' }, { occurredAt: at(30) }),
      consentEvent('w-b', 'b-sms', { purpose: 'marketing', status: 'granted', channel: 'sms' }),
    ]);
    const b = batch.json().results[0].customerId as string;
    const state = await ledger(ws, b);
    expect(state.history).toHaveLength(3);
    expect(state.current.map((c) => [c.channel, c.status])).toEqual([
      [null, 'granted'],
      ['sms', 'granted'],
    ]);
    expect(await marketingIds(ws)).toEqual([b]);
  });

  it('whatever the arrival order and batching, the current state is the latest choice per purpose and channel', async () => {
    const ws = await createTestWorkspace(t.database);
    let run = 0;
    const event = fc.record({
      hoursAgo: fc.integer({ min: 1, max: 2000 }),
      purpose: fc.constantFrom('marketing', 'personalization'),
      status: fc.constantFrom('granted', 'denied', 'withdrawn'),
      channel: fc.constantFrom(undefined, 'email'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(event, { minLength: 1, maxLength: 8, selector: (e) => e.hoursAgo }),
        fc.integer({ min: 1, max: 4 }),
        async (events, batchSize) => {
          run += 1;
          const customer = `order-${run}`;
          const items = events.map((e, i) =>
            consentEvent(
              customer,
              `${customer}-${i}`,
              { purpose: e.purpose, status: e.status, ...(e.channel ? { channel: e.channel } : {}) },
              { occurredAt: at(e.hoursAgo) },
            ),
          );
          let customerId = '';
          for (let start = 0; start < items.length; start += batchSize) {
            const response = await ingest(ws, items.slice(start, start + batchSize));
            customerId = response.json().results[0].customerId;
          }
          const { current, history } = await ledger(ws, customerId);
          expect(history).toHaveLength(events.length);
          const latest = new Map<string, (typeof events)[number]>();
          for (const e of events) {
            const key = `${e.purpose}/${e.channel ?? ''}`;
            const seen = latest.get(key);
            if (!seen || e.hoursAgo < seen.hoursAgo) latest.set(key, e);
          }
          const expected = [...latest.values()]
            .map((e) => `${e.purpose}/${e.channel ?? ''}/${e.status}`)
            .sort();
          expect(current.map((c) => `${c.purpose}/${c.channel ?? ''}/${c.status}`).sort()).toEqual(expected);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('refuses invalid consent events with the path of the field, storing nothing of them', async () => {
    const ws = await createTestWorkspace(t.database);
    const response = await ingest(ws, [
      consentEvent('w-ok', 'ok', { purpose: 'marketing', status: 'granted' }),
      consentEvent('w-bad', 'unknown-purpose', { purpose: 'astrology', status: 'granted' }),
      consentEvent('w-bad', 'bad-status', { purpose: 'marketing', status: 'maybe' }),
      consentEvent('w-bad', 'no-purpose', { status: 'granted' }),
      consentEvent('w-bad', 'not-explicit', { purpose: 'third_party_sharing', status: 'granted' }),
      consentEvent('w-bad', 'future', { purpose: 'marketing', status: 'granted' }, { occurredAt: at(-2) }),
      consentEvent('w-bad', 'expiry', { purpose: 'marketing', status: 'granted', expiresAt: at(30) }),
      consentEvent('w-bad', 'bad-evidence', { purpose: 'marketing', status: 'granted', evidence: 3 }),
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const results = response.json().results as {
      status: string;
      error?: { code: string; details: { errors: { path: string; message: string }[] } };
    }[];
    expect(results.map((r) => [r.status, r.error?.code, r.error?.details.errors[0]?.path])).toEqual([
      ['created', undefined, undefined],
      ['rejected', 'PURPOSE_UNKNOWN', 'interactions[1].properties.purpose'],
      ['rejected', 'INTERACTION_INVALID', 'interactions[2].properties.status'],
      ['rejected', 'INTERACTION_INVALID', 'interactions[3].properties.purpose'],
      ['rejected', 'CONSENT_NOT_EXPLICIT', 'interactions[4].properties.explicit'],
      ['rejected', 'CONSENT_EFFECTIVE_IN_FUTURE', 'interactions[5].occurredAt'],
      ['rejected', 'CONSENT_EXPIRY_INVALID', 'interactions[6].properties.expiresAt'],
      ['rejected', 'INTERACTION_INVALID', 'interactions[7].properties.evidence'],
    ]);
    expect(await countRows(ws, 'interactions')).toBe(1);
    expect(await countRows(ws, 'consent_records')).toBe(1);

    // Atomic: one bad consent and nothing at all is stored, the good grant included.
    const atomic = await ingest(
      ws,
      [
        consentEvent('w-atomic', 'a-ok', { purpose: 'personalization', status: 'granted' }),
        consentEvent('w-atomic', 'a-bad', { purpose: 'astrology', status: 'granted' }),
      ],
      true,
    );
    expect(atomic.statusCode).toBe(400);
    expect(atomic.json().error.code).toBe('BATCH_REJECTED');
    expect(JSON.stringify(atomic.json().error.details.errors)).toContain(
      'interactions[1].properties.purpose',
    );
    expect(await countRows(ws, 'interactions')).toBe(1);
    expect(await countRows(ws, 'consent_records')).toBe(1);

    // A single interaction names its fields without an item prefix.
    const single = await t.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: bearer(ws.apiKey),
      payload: consentEvent('w-single', 's-1', { purpose: 'astrology', status: 'granted' }),
    });
    expect(single.statusCode).toBe(400);
    expect(single.json().error).toMatchObject({
      code: 'PURPOSE_UNKNOWN',
      details: { errors: [{ path: 'properties.purpose' }] },
    });
  });

  for (const format of ['ndjson', 'csv'] as const) {
    it(`a bulk import (${format}) records its consent events; the bad one is a reject with its path`, async () => {
      const ws = await createTestWorkspace(t.database);
      const rows = [
        consentEvent('imp-1', 'i-1', { purpose: 'marketing', status: 'granted', noticeVersion: 'v7' }),
        consentEvent('imp-2', 'i-2', { purpose: 'astrology', status: 'granted' }),
        consentEvent('imp-3', 'i-3', { purpose: 'marketing', status: 'withdrawn' }),
      ];
      const text =
        format === 'ndjson'
          ? rows.map((r) => JSON.stringify(r)).join('\n')
          : [
              'type,channel,occurredAt,source,externalId,customerSource,customerExternalId,properties',
              ...rows.map((r) =>
                [
                  r.type,
                  r.channel,
                  r.occurredAt,
                  r.source,
                  r.externalId,
                  r.customer.identity.source,
                  r.customer.identity.externalId,
                  `"${JSON.stringify(r.properties).replaceAll('"', '""')}"`,
                ].join(','),
              ),
            ].join('\n');
      const file = join(dir, `consents-${format}.${format}`);
      writeFileSync(file, `${text}\n`);
      const summary = await runImport(
        t.database.db,
        operatorActor(ws.workspace.id),
        await planImport({ kind: 'interactions', file }),
      );
      expect(summary).toMatchObject({ created: 2, rejected: 1 });
      const rejects = readFileSync(summary.rejectsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rejects).toMatchObject([
        {
          line: format === 'csv' ? 3 : 2,
          error: { code: 'PURPOSE_UNKNOWN', details: { errors: [{ path: 'properties.purpose' }] } },
        },
      ]);
      expect(await countRows(ws, 'consent_records')).toBe(2);
      const visible = await marketingIds(ws);
      expect(visible).toHaveLength(1);
      const [id] = visible;
      expect((await ledger(ws, id as string)).history).toMatchObject([
        { purpose: 'marketing', status: 'granted', noticeVersion: 'v7', source: 'web' },
      ]);
      expect(await marketingCount(ws)).toBe(1);
    });
  }
});
