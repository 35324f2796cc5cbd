import { describe, expect, it } from 'vitest';
import { trainRecommendations } from '../src/governance/index.ts';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';

/**
 * Recommendations over HTTP: the gating table (consent × intimacy × kind) through the one access
 * decision, objections and restriction, reasons that cite only the customer's own items, and training
 * that forgets a customer who objected.
 */

const t = useTestApp();
const DAY = 86_400_000;

const CATALOGUE: Record<string, string> = {
  'COF-1': 'Coffee beans',
  'COF-2': 'Paper filters',
  'COF-3': 'Milk frother',
  'DOG-1': 'Dog food',
  'DOG-2': 'Dog lead',
  'DOG-3': 'Chew toy',
  'TEA-1': 'Green tea',
  'TEA-2': 'Tea pot',
};

/** Baskets by group: coffee people, dog people, tea people; some buy across. */
const BASKETS: Record<string, string[][]> = {
  coffee: [['COF-1', 'COF-2'], ['COF-1'], ['COF-1', 'COF-3']],
  dog: [['DOG-1', 'DOG-2'], ['DOG-1'], ['DOG-1', 'DOG-3']],
  tea: [['TEA-1'], ['TEA-1', 'TEA-2']],
};

interface Purchase {
  customer: string;
  day: number;
  skus: string[];
}

/** A small shop: 36 customers, each buying their group's baskets every 28 days until about four weeks ago. */
function world(extra: Purchase[] = []): Purchase[] {
  const out: Purchase[] = [];
  const groups = Object.keys(BASKETS);
  for (let c = 0; c < 36; c++) {
    const group = groups[c % groups.length] as string;
    const baskets = BASKETS[group] as string[][];
    for (let k = 0; k < 4; k++) {
      // The last purchase 26–28 days ago, so a 28-day cadence is due.
      // Every fourth customer keeps to the group's main item: the others' baskets are news to them.
      const basket = c % 4 === 1 ? 1 : (c + k) % baskets.length;
      out.push({ customer: `c${c}`, day: 26 + (c % 3) + 28 * k, skus: baskets[basket] as string[] });
    }
  }
  return [...out, ...extra];
}

function interactions(purchases: Purchase[]): object[] {
  const now = Date.now();
  return purchases.map((p, i) => ({
    type: 'purchase',
    channel: 'web',
    occurredAt: new Date(now - p.day * DAY).toISOString(),
    source: 'shop',
    externalId: `o${i}-${p.customer}-${p.day}`,
    customer: { identity: { source: 'shop', externalId: p.customer } },
    amount: 10 * p.skus.length,
    currency: 'EUR',
    lineItems: p.skus.map((sku) => ({ sku, name: CATALOGUE[sku], quantity: 1 })),
  }));
}

function request(method: 'GET' | 'POST' | 'PUT', url: string, headers: object, payload?: unknown) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** Loads purchases; returns customer ids by external id. */
async function load(ws: TestWorkspace, purchases: Purchase[]): Promise<Map<string, string>> {
  const items = interactions(purchases);
  const response = await request('POST', '/v1/interactions', bearer(ws.apiKey), { interactions: items });
  expect(response.statusCode, response.body).toBe(200);
  const ids = new Map<string, string>();
  response.json().results.forEach((r: { customerId: string }, i: number) => {
    ids.set((purchases[i] as Purchase).customer, r.customerId);
  });
  return ids;
}

async function setUp(
  ws: TestWorkspace,
  id: string,
  state: { consent?: 'granted' | 'withdrawn'; level?: number },
) {
  if (state.consent) {
    const r = await request('POST', `/v1/customers/${id}/consents`, bearer(ws.apiKey), {
      purpose: 'personalization',
      status: state.consent,
    });
    expect(r.statusCode, r.body).toBe(201);
  }
  if (state.level !== undefined) {
    const r = await request('PUT', `/v1/customers/${id}/intimacy`, bearer(ws.apiKey), { level: state.level });
    expect(r.statusCode, r.body).toBe(200);
  }
}

function recommendations(ws: TestWorkspace, id: string, purpose = 'personalization') {
  return request('GET', `/v1/customers/${id}/recommendations?limit=10`, reader(ws.apiKey, purpose));
}

interface Served {
  items: { item: string; name: string; kind: string; reason: string }[];
  withheld: { field: string; reason: string }[];
}

describe(`recommendations over HTTP (${ENGINE})`, () => {
  it('gates each kind by consent and intimacy through the access decision (the table)', async () => {
    const ws = await createTestWorkspace(t.database);
    const ids = await load(ws, world());
    await trainRecommendations(t.database.db, ws.workspace.id);
    const table: {
      consent?: 'granted' | 'withdrawn';
      level: number;
      own: boolean;
      collective: boolean;
      reason?: string;
    }[] = [
      { level: 4, own: false, collective: false, reason: 'CONSENT_REQUIRED' },
      { consent: 'withdrawn', level: 4, own: false, collective: false, reason: 'CONSENT_WITHDRAWN' },
      { consent: 'granted', level: 0, own: false, collective: false, reason: 'INTIMACY_TOO_LOW' },
      { consent: 'granted', level: 1, own: false, collective: false, reason: 'INTIMACY_TOO_LOW' },
      { consent: 'granted', level: 2, own: true, collective: false, reason: 'INTIMACY_TOO_LOW' },
      { consent: 'granted', level: 3, own: true, collective: true },
      { consent: 'granted', level: 4, own: true, collective: true },
    ];
    for (const [row, expected] of table.entries()) {
      const id = ids.get(`c${row}`) as string;
      await setUp(ws, id, expected);
      const response = await recommendations(ws, id);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as Served;
      const kinds = new Set(body.items.map((i) => i.kind));
      expect(kinds.has('own_history'), JSON.stringify({ expected, body })).toBe(expected.own);
      expect(kinds.has('collective'), JSON.stringify({ expected, body })).toBe(expected.collective);
      const withheld = body.withheld.map((w) => w.field).sort();
      const expectedWithheld = [
        ...(expected.collective ? [] : ['recommendations.collective']),
        ...(expected.own ? [] : ['recommendations.ownHistory']),
      ];
      expect(withheld).toEqual(expectedWithheld);
      if (expected.reason) expect(body.withheld.map((w) => w.reason)).toContain(expected.reason);
    }
  });

  it('gives none to a customer who objected or restricted processing, and refuses a purpose that is not outreach', async () => {
    const ws = await createTestWorkspace(t.database);
    const ids = await load(ws, world());
    await trainRecommendations(t.database.db, ws.workspace.id);
    const objecting = ids.get('c0') as string;
    const restricted = ids.get('c1') as string;
    for (const id of [objecting, restricted]) await setUp(ws, id, { consent: 'granted', level: 4 });
    await request('POST', `/v1/customers/${objecting}/privacy-flags`, bearer(ws.apiKey), {
      kind: 'object',
      purpose: 'personalization',
    });
    await request('POST', `/v1/customers/${restricted}/privacy-flags`, bearer(ws.apiKey), {
      kind: 'restrict',
    });
    const a = (await recommendations(ws, objecting)).json() as Served;
    expect(a.items).toEqual([]);
    expect(new Set(a.withheld.map((w) => w.reason))).toEqual(new Set(['OBJECTED']));
    const b = (await recommendations(ws, restricted)).json() as Served;
    expect(b.items).toEqual([]);
    expect(new Set(b.withheld.map((w) => w.reason))).toEqual(new Set(['PROCESSING_RESTRICTED']));
    const service = await recommendations(ws, ids.get('c2') as string, 'service');
    expect(service.statusCode).toBe(400);
    expect(service.json().error.code).toBe('RECOMMENDATION_PURPOSE_INVALID');
  });

  it("explains every item in one sentence that cites only the customer's own items", async () => {
    const ws = await createTestWorkspace(t.database);
    const purchases = world();
    const ids = await load(ws, purchases);
    await trainRecommendations(t.database.db, ws.workspace.id);
    const names = Object.values(CATALOGUE);
    let checked = 0;
    for (const [external, id] of ids) {
      await setUp(ws, id, { consent: 'granted', level: 3 });
      const body = (await recommendations(ws, id)).json() as Served;
      const own = new Set(
        purchases.filter((p) => p.customer === external).flatMap((p) => p.skus.map((s) => CATALOGUE[s])),
      );
      for (const item of body.items) {
        expect(item.reason).toMatch(/^[A-Z].*\.$/);
        const cited = names.filter((name) => item.reason.includes(name));
        for (const name of cited) expect(own, `${external}: ${item.reason}`).toContain(name);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(36);
    // A dog person due for dog food is told so, in the customer's terms.
    const dog = (await recommendations(ws, ids.get('c1') as string)).json() as Served;
    expect(dog.items.find((i) => i.kind === 'own_history' && i.name === 'Dog food')?.reason).toBe(
      'You usually reorder Dog food every 4 weeks, and it is about time again.',
    );
    expect(
      dog.items.some((i) => i.kind === 'collective' && i.reason.startsWith('Because you bought Dog')),
      JSON.stringify(dog),
    ).toBe(true);
  });

  it("an objecting customer's purchases do not change anyone else's recommendations after retraining", async () => {
    // The outlier buys coffee and dog things together, which links the two groups; without them, no link.
    const outlier: Purchase[] = [1, 2, 3, 4, 5, 6].map((k) => ({
      customer: 'outlier',
      day: 3 * k,
      skus: ['COF-1', 'DOG-2', 'DOG-3', 'TEA-2'],
    }));
    const withOutlier = await createTestWorkspace(t.database);
    const ids = await load(withOutlier, world(outlier));
    const without = await createTestWorkspace(t.database);
    const idsWithout = await load(without, world());
    const everyone = [...ids.keys()].filter((c) => c !== 'outlier');
    const lists = async (ws: TestWorkspace, map: Map<string, string>) => {
      const out: Record<string, unknown> = {};
      for (const c of everyone) {
        const id = map.get(c) as string;
        await setUp(ws, id, { consent: 'granted', level: 3 });
        out[c] = ((await recommendations(ws, id)).json() as Served).items;
      }
      return out;
    };
    await trainRecommendations(t.database.db, withOutlier.workspace.id);
    await trainRecommendations(t.database.db, without.workspace.id);
    const reference = await lists(without, idsWithout);
    const influenced = await lists(withOutlier, ids);
    expect(influenced).not.toEqual(reference);

    await request('POST', `/v1/customers/${ids.get('outlier')}/privacy-flags`, bearer(withOutlier.apiKey), {
      kind: 'object',
      purpose: 'personalization',
    });
    const retrained = await trainRecommendations(t.database.db, withOutlier.workspace.id);
    expect(retrained.excluded).toBe(1);
    const after: Record<string, unknown> = {};
    for (const c of everyone) {
      after[c] = ((await recommendations(withOutlier, ids.get(c) as string)).json() as Served).items;
    }
    expect(after).toEqual(reference);
  });

  it('serves popular items to a consenting customer without purchases, and says when nothing was trained', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await request('POST', '/v1/customers', bearer(ws.apiKey), { givenName: 'Nova' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().customer.id as string;
    await setUp(ws, id, { consent: 'granted', level: 3 });
    const untrained = (await recommendations(ws, id)).json();
    expect(untrained).toMatchObject({ items: [], trainedAt: null, withheld: [] });
    await load(ws, world());
    await trainRecommendations(t.database.db, ws.workspace.id);
    const body = (await recommendations(ws, id)).json() as Served & { trainedAt: string };
    expect(body.trainedAt).not.toBeNull();
    expect(body.items.length).toBeGreaterThan(0);
    expect(
      body.items.every((i) => i.kind === 'collective' && i.reason === 'One of our most popular items.'),
    ).toBe(true);
    expect(body.items[0]?.item).toBe('COF-1');
  });
});
