import { beforeAll, describe, expect, it } from 'vitest';
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
 * Merges move facts (issue 13): the absorbed customer's facts reach the survivor with their provenance,
 * a conflict is settled by the facts rules (a newer statement of the same kind wins; a derived fact never
 * beats a declared one), and the unmerge gives every fact back as it was.
 */

const t = useTestApp();

function call(method: 'GET' | 'POST' | 'PUT', url: string, headers: object, payload?: object) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload }),
  });
}

interface Fact {
  id: string;
  versionId: string;
  key: string;
  value: unknown;
  sourceKind: string;
  status: string;
  provenance: { source: string; capturedBy: string; interactionId: string | null };
}

let ws: TestWorkspace;
let seq = 0;

async function newCustomer(name: string): Promise<string> {
  const created = await call('POST', '/v1/customers', bearer(ws.apiKey), {
    givenName: name,
    familyName: 'Merge',
    emails: [`${name.toLowerCase()}${++seq}@example.com`],
  });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().customer.id as string;
  const level = await call('PUT', `/v1/customers/${id}/intimacy`, bearer(ws.apiKey), { level: 2 });
  expect(level.statusCode, level.body).toBe(200);
  return id;
}

async function record(id: string, key: string, value: unknown, source = 'desk'): Promise<Fact> {
  const response = await call('POST', `/v1/customers/${id}/facts`, bearer(ws.apiKey), {
    key,
    value,
    sourceKind: 'declared',
    source,
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json().fact as Fact;
}

async function factsOf(id: string): Promise<Fact[]> {
  const response = await call('GET', `/v1/customers/${id}/facts`, reader(ws.apiKey, 'service'));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().facts as Fact[];
}

const summary = (facts: readonly Fact[]) =>
  facts.map((f) => `${f.key}=${JSON.stringify(f.value)}/${f.sourceKind}`).sort();

beforeAll(async () => {
  ws = await createTestWorkspace(t.database);
});

describe(`merges move facts (${ENGINE})`, () => {
  it('carries facts to the survivor with provenance, settles conflicts by the facts rules, and an unmerge gives them back', async () => {
    const survivor = await newCustomer('Ana');
    const absorbed = await newCustomer('Anna');
    // The absorbed customer's purchases show an emailed receipt: a derived fact.
    const purchases = Array.from({ length: 6 }, (_, i) => ({
      type: 'purchase',
      channel: 'store',
      occurredAt: `2026-04-${String(2 + i * 3).padStart(2, '0')}T10:00:00Z`,
      source: 'pos',
      externalId: `merge-${absorbed}-${i}`,
      customer: { id: absorbed },
      amount: 12 + i,
      currency: 'EUR',
      properties: { receipt: 'email' },
    }));
    const ingest = await call('POST', '/v1/interactions', bearer(ws.apiKey), { interactions: purchases });
    expect(ingest.statusCode, ingest.body).toBeLessThan(300);
    expect(summary(await factsOf(absorbed))).toContain('receipt="email"/derived');

    // Statements in time order: who said it last wins, per key, within the same kind.
    const oldLanguage = await record(survivor, 'language', 'es');
    await record(absorbed, 'channel', 'email');
    await record(absorbed, 'language', 'pt', 'portal');
    await record(survivor, 'channel', 'phone');
    await record(survivor, 'receipt', 'paper');
    await record(survivor, 'interest', 'cycling');
    await record(absorbed, 'interest', 'cycling');
    const dislike = await record(absorbed, 'dislike', 'cold calls', 'portal');
    const survivorBefore = summary(await factsOf(survivor));
    const absorbedBefore = summary(await factsOf(absorbed));

    const merged = await call('POST', `/v1/customers/${survivor}/merge`, bearer(ws.apiKey), {
      absorbedId: absorbed,
    });
    expect(merged.statusCode, merged.body).toBe(200);
    const after = await factsOf(survivor);
    expect(summary(after)).toEqual(
      [
        'language="pt"/declared', // the absorbed customer said it later
        'channel="phone"/declared', // the survivor said it later
        'receipt="paper"/declared',
        'receipt="email"/derived', // side by side: readers rank the customer's word first
        'interest="cycling"/declared', // the same value once
        'dislike="cold calls"/declared',
      ].sort(),
    );
    // Provenance travels with the fact: same fact id, source and capture.
    const moved = after.find((f) => f.key === 'dislike');
    expect(moved).toMatchObject({ id: dislike.id, provenance: { source: 'portal' } });
    // The loser stays in the history of its fact, superseded.
    const kept = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('facts')
        .select(['customer_id', 'superseded_at', 'value'])
        .where('id', '=', oldLanguage.versionId)
        .executeTakeFirstOrThrow(),
    );
    expect(kept).toMatchObject({ customer_id: survivor, value: 'es' });
    expect(kept.superseded_at).not.toBeNull();
    // A derived fact never beats a declared one: prefill answers the customer's own word.
    const prefill = await call('POST', `/v1/customers/${survivor}/prefill`, bearer(ws.apiKey), {
      fields: ['receipt', 'language'],
      purpose: 'service',
    });
    expect(prefill.statusCode, prefill.body).toBe(200);
    expect(prefill.json().values.receipt).toMatchObject({
      value: 'paper',
      provenance: { sourceKind: 'declared' },
    });
    expect(prefill.json().values.language).toMatchObject({ value: 'pt' });

    const undone = await call('POST', `/v1/merges/${merged.json().merge.id}/unmerge`, bearer(ws.apiKey), {});
    expect(undone.statusCode, undone.body).toBe(200);
    expect(summary(await factsOf(survivor))).toEqual(survivorBefore);
    expect(summary(await factsOf(absorbed))).toEqual(absorbedBefore);
    const back = (await factsOf(survivor)).find((f) => f.key === 'language');
    expect(back).toMatchObject({ id: oldLanguage.id, versionId: oldLanguage.versionId, value: 'es' });
  });
});
