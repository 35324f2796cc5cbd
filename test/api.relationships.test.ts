import { describe, expect, it } from 'vitest';
import { recomputeRelationshipsOfWorkspaces } from '../src/governance/relationships.ts';
import type { Role } from '../src/shared/access.ts';
import {
  bearer,
  createTestKey,
  createTestWorkspace,
  ENGINE,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * Relationships over HTTP: the recompute job assigns archetypes with reasons and evidence, the customer
 * read carries them under the decision, an analyst sees them pseudonymised, a customer at intimacy
 * level 0 gets no archetype used for outreach, segments filter on archetypes and dimensions, an invalid
 * rule table is refused whole with JSON paths while the previous version stays, and merges recompute.
 */

const t = useTestApp();
const DAY = 86_400_000;
let sequence = 0;

function request(method: 'GET' | 'POST' | 'PUT', url: string, headers: object, payload?: unknown) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

function keyFor(ws: TestWorkspace, role: Role): Promise<string> {
  return createTestKey(t.database, ws, role);
}

const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

function item(account: string, type: string, days: number, extra: Record<string, unknown> = {}) {
  sequence += 1;
  return {
    type,
    channel: 'store',
    occurredAt: ago(days),
    source: 'shop',
    externalId: `r-${sequence}`,
    customer: { identity: { source: 'shop', externalId: account } },
    ...(type === 'purchase' ? { amount: 20, currency: 'EUR' } : {}),
    ...extra,
  };
}

/** Ingests a batch; answers the customer id of each account. */
async function ingest(ws: TestWorkspace, items: Record<string, unknown>[]): Promise<Map<string, string>> {
  const response = await request('POST', '/v1/interactions', bearer(ws.apiKey), { interactions: items });
  expect(response.statusCode, response.body).toBe(200);
  const ids = new Map<string, string>();
  const results = response.json().results as { status: string; customerId: string }[];
  results.forEach((r, i) => {
    expect(r.status, JSON.stringify(r)).toBe('created');
    const account = (items[i] as { customer: { identity: { externalId: string } } }).customer.identity
      .externalId;
    ids.set(account, r.customerId);
  });
  return ids;
}

const monthly = (account: string, months: number) =>
  Array.from({ length: months }, (_, m) => item(account, 'purchase', 5 + m * 30));

/** An adversary (escalating complaints), a best friend (warm, suggesting, disclosing), and a quiet buyer. */
async function world(ws: TestWorkspace) {
  // The best friend chose "reach out when it matters" (3): what they tell us about their life is
  // remembered as declared facts, and disclosure is measured on declared facts only.
  const made = await request('POST', '/v1/customers', bearer(ws.apiKey), {
    identities: [{ source: 'shop', externalId: 'friend' }],
  });
  expect(made.statusCode, made.body).toBe(201);
  const level = await request('PUT', `/v1/customers/${made.json().customer.id}/intimacy`, bearer(ws.apiKey), {
    level: 3,
  });
  expect(level.statusCode, level.body).toBe(200);
  const ids = await ingest(ws, [
    ...monthly('grumpy', 8),
    item('grumpy', 'complaint', 40, { properties: { severity: 'low' } }),
    item('grumpy', 'complaint', 20, { properties: { severity: 'medium' } }),
    item('grumpy', 'complaint', 6, { properties: { severity: 'high' } }),
    item('grumpy', 'complaint', 2, { properties: { severity: 'high' } }),
    ...monthly('friend', 16),
    ...[10, 60, 120, 200].map((d) => item('friend', 'compliment', d)),
    ...[30, 150, 300].map((d) => item('friend', 'suggestion', d, { text: 'Open on Sundays?' })),
    item('friend', 'preference_stated', 100, { properties: { key: 'interest', value: 'gardening' } }),
    item('friend', 'life_event_declared', 90, { properties: { event: 'new_baby' } }),
    ...monthly('quiet', 6),
  ]);
  return { grumpy: ids.get('grumpy') ?? '', friend: ids.get('friend') ?? '', quiet: ids.get('quiet') ?? '' };
}

async function recompute(ws: TestWorkspace) {
  const response = await request('POST', '/v1/relationships/recompute', bearer(ws.apiKey));
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

describe(`relationships over HTTP (${ENGINE})`, () => {
  it('assigns archetypes with reasons and evidence, in the relationship read and the customer read', async () => {
    const ws = await createTestWorkspace(t.database);
    const c = await world(ws);
    // The ingest's events already recomputed each customer incrementally (the backbone's subscriber):
    // the first label is taken at once, with no recompute job.
    const before = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(ws.apiKey));
    expect(before.statusCode, before.body).toBe(200);
    expect(before.json().relationship).toMatchObject({
      archetype: 'adversary',
      history: [{ from: null, to: 'adversary', ruleVersion: 0 }],
    });
    // The full job (with the workspace's intensity norm) recomputes all three and confirms their labels.
    const report = await recompute(ws);
    expect(report).toMatchObject({ recomputed: 3, changed: 0, ruleVersion: 0 });

    const read = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(ws.apiKey));
    expect(read.statusCode, read.body).toBe(200);
    const body = read.json();
    expect(body.subject).toBe(c.grumpy);
    expect(body.relationship).toMatchObject({
      archetype: 'adversary',
      guidance: { do: expect.stringContaining('recover'), dont: 'any commercial action' },
      modifiers: { highDemand: false, discretion: false },
      history: [{ from: null, to: 'adversary', ruleVersion: 0 }],
    });
    const friction = body.relationship.reasons.find((r: { dimension: string }) => r.dimension === 'friction');
    expect(friction).toMatchObject({ op: 'gte', threshold: 0.6 });
    // The evidence is the customer's own complaints.
    const timeline = await request(
      'GET',
      `/v1/customers/${c.grumpy}/timeline?type=complaint`,
      reader(ws.apiKey),
    );
    const complaints = timeline.json().interactions.map((i: { id: string }) => i.id);
    expect(new Set(friction.evidence)).toEqual(new Set(complaints));
    expect(Object.keys(body.relationship.dimensions)).toHaveLength(10);

    const friend = await request('GET', `/v1/customers/${c.friend}/relationship`, reader(ws.apiKey));
    expect(friend.json().relationship.archetype).toBe('best_friend');

    const customer = await request('GET', `/v1/customers/${c.grumpy}`, reader(ws.apiKey));
    expect(customer.json().customer.relationship).toMatchObject({
      archetype: 'adversary',
      reasons: expect.arrayContaining([expect.objectContaining({ dimension: 'friction' })]),
    });

    // Recomputing again changes nothing and records no new history.
    expect(await recompute(ws)).toMatchObject({ recomputed: 3, changed: 0 });
  });

  it('shows an analyst the relationship pseudonymised, and the mix in aggregate', async () => {
    const ws = await createTestWorkspace(t.database);
    const c = await world(ws);
    await recompute(ws);
    const analyst = await keyFor(ws, 'analyst');
    const read = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(analyst, 'analytics'));
    expect(read.statusCode, read.body).toBe(200);
    const body = read.json();
    expect(body.subject).toMatch(/^p_[0-9a-f]{24}$/);
    expect(read.body).not.toContain(c.grumpy);
    expect(body.relationship.archetype).toBe('adversary');
    for (const reason of body.relationship.reasons) expect(reason.evidence).toEqual([]);
    // The same pseudonym every time, and another for another customer.
    const again = await request(
      'GET',
      `/v1/customers/${c.grumpy}/relationship`,
      reader(analyst, 'analytics'),
    );
    expect(again.json().subject).toBe(body.subject);
    const other = await request(
      'GET',
      `/v1/customers/${c.friend}/relationship`,
      reader(analyst, 'analytics'),
    );
    expect(other.json().subject).not.toBe(body.subject);

    const mix = await request('GET', '/v1/relationships/mix', reader(analyst, 'analytics'));
    expect(mix.statusCode, mix.body).toBe(200);
    expect(mix.json()).toMatchObject({ total: 3 });
    const byArchetype = Object.fromEntries(
      mix.json().archetypes.map((a: { archetype: string; customers: number }) => [a.archetype, a.customers]),
    );
    expect(byArchetype).toMatchObject({ adversary: 1, best_friend: 1 });
    for (const id of Object.values(c)) expect(mix.body).not.toContain(id);
  });

  it('never uses the archetype of an intimacy-0 customer for outreach', async () => {
    const ws = await createTestWorkspace(t.database);
    const c = await world(ws);
    for (const id of [c.friend, c.quiet]) {
      const granted = await request('POST', `/v1/customers/${id}/consents`, reader(ws.apiKey), {
        purpose: 'marketing',
        status: 'granted',
      });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    const levels: [string, number][] = [
      [c.friend, 3],
      [c.quiet, 0],
    ];
    for (const [id, level] of levels) {
      const set = await request('PUT', `/v1/customers/${id}/intimacy`, reader(ws.apiKey), { level });
      expect(set.statusCode, set.body).toBe(200);
    }
    await recompute(ws);

    const service = await request('GET', `/v1/customers/${c.quiet}/relationship`, reader(ws.apiKey));
    expect(service.json()).toMatchObject({
      relationship: { archetype: expect.any(String) },
      outreach: { allowed: false, reason: expect.stringContaining('intimacy level 0') },
    });
    const marketer = await keyFor(ws, 'marketer');
    const marketing = await request(
      'GET',
      `/v1/customers/${c.quiet}/relationship`,
      reader(marketer, 'marketing'),
    );
    expect(marketing.statusCode, marketing.body).toBe(200);
    expect(marketing.json().relationship).toBeNull();
    expect(marketing.json().withheld.length).toBeGreaterThan(0);
    const close = await request(
      'GET',
      `/v1/customers/${c.friend}/relationship`,
      reader(marketer, 'marketing'),
    );
    expect(close.json()).toMatchObject({
      relationship: { archetype: 'best_friend' },
      outreach: { allowed: true },
    });

    // A marketing segment on archetypes or dimensions never holds the intimacy-0 customer.
    for (const definition of [
      { field: 'relationship.archetype', op: 'exists', value: true },
      { field: 'relationship.commitment', op: 'gte', value: 0 },
      { not: { field: 'relationship.archetype', op: 'eq', value: 'adversary' } },
    ]) {
      const preview = await request('POST', '/v1/segments/preview', reader(marketer, 'marketing'), {
        definition,
      });
      expect(preview.statusCode, preview.body).toBe(200);
      expect(preview.json().count, JSON.stringify(definition)).toBe(1);
    }
    const forService = await request('POST', '/v1/segments/preview', reader(ws.apiKey), {
      definition: {
        all: [
          { field: 'relationship.archetype', op: 'in', value: ['adversary', 'captive'] },
          { field: 'relationship.friction', op: 'gte', value: 0.6 },
        ],
      },
    });
    expect(forService.json().count).toBe(1);
    const bad = await request('POST', '/v1/segments/preview', reader(ws.apiKey), {
      definition: { field: 'relationship.warmth', op: 'gt', value: 2 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.errors[0].path).toBe('definition.value');
  });

  it('refuses an invalid rule table whole with JSON paths and keeps the previous version active', async () => {
    const ws = await createTestWorkspace(t.database);
    const c = await world(ws);
    const initial = await request('GET', '/v1/relationships/rules', reader(ws.apiKey));
    expect(initial.json()).toMatchObject({ version: 0 });
    const rules = initial.json().table.rules as { archetype: string; when: unknown[] }[];

    // Stricter: an adversary needs friction ≥ 0.99 (the grumpy customer no longer is one).
    const stricter = rules.map((r) =>
      r.archetype === 'adversary'
        ? { archetype: 'adversary', when: [{ dimension: 'friction', op: 'gte', value: 0.99 }] }
        : r,
    );
    const set = await request('PUT', '/v1/relationships/rules', reader(ws.apiKey), { rules: stricter });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ version: 1 });

    const invalid = await request('PUT', '/v1/relationships/rules', reader(ws.apiKey), {
      rules: [
        { archetype: 'adversary', when: [{ dimension: 'rudeness', op: 'gte', value: 0.5 }] },
        { archetype: 'buddy', when: [{ dimension: 'warmth', op: 'gte', value: 7 }] },
        { archetype: 'basic_exchange', when: [] },
        { archetype: 'best_friend', when: [] },
      ],
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('RELATIONSHIP_RULES_INVALID');
    expect(invalid.json().error.details.errors.map((e: { path: string }) => e.path)).toEqual([
      'table.rules[0].when[0].dimension',
      'table.rules[1].when[0].value',
      'table.rules[3]',
    ]);
    const still = await request('GET', '/v1/relationships/rules', reader(ws.apiKey));
    expect(still.json()).toMatchObject({ version: 1 });

    const analyst = await keyFor(ws, 'analyst');
    const refused = await request('PUT', '/v1/relationships/rules', reader(analyst, 'analytics'), {
      rules: stricter,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('ROLE_NOT_ALLOWED');

    expect(await recompute(ws)).toMatchObject({ ruleVersion: 1 });
    const read = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(ws.apiKey));
    // The ingest's events already labelled grumpy an adversary under version 0, so the stricter rule is
    // only proposed: hysteresis holds the label until two recomputations spanning 14 days propose it.
    expect(read.json().relationship).toMatchObject({
      archetype: 'adversary',
      ruleVersion: 1,
      pending: { archetype: 'basic_exchange', recomputations: 1 },
      history: [{ from: null, to: 'adversary', ruleVersion: 0 }],
    });
    const [later] = await recomputeRelationshipsOfWorkspaces(t.database.db, [ws.workspace.id], {
      now: new Date(Date.now() + 15 * DAY),
    });
    expect(later?.report).toMatchObject({ ruleVersion: 1, changed: 1 });
    const after = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(ws.apiKey));
    expect(after.json().relationship).toMatchObject({ archetype: 'basic_exchange', pending: null });
    expect(after.json().relationship.archetype).not.toBe('adversary');
    expect(after.json().relationship.history[0]).toMatchObject({
      from: 'adversary',
      to: 'basic_exchange',
      ruleVersion: 1,
    });
  });

  it('recomputes both customers of a merge and of its unmerge', async () => {
    const ws = await createTestWorkspace(t.database);
    const c = await world(ws);
    await recompute(ws);
    const merged = await request('POST', `/v1/customers/${c.friend}/merge`, reader(ws.apiKey), {
      absorbedId: c.grumpy,
    });
    expect(merged.statusCode, merged.body).toBe(200);
    const gone = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(ws.apiKey));
    expect(gone.json().error.code).toBe('CUSTOMER_MERGED');
    const survivor = await request('GET', `/v1/customers/${c.friend}/relationship`, reader(ws.apiKey));
    // The absorbed complaints now weigh on the survivor.
    expect(survivor.json().relationship.dimensions.friction.value).toBeGreaterThan(0.6);
    const mix = await request('GET', '/v1/relationships/mix', reader(ws.apiKey, 'analytics'));
    expect(mix.json().total).toBe(2);

    const unmerge = await request('POST', `/v1/merges/${merged.json().merge.id}/unmerge`, reader(ws.apiKey));
    expect(unmerge.statusCode, unmerge.body).toBe(200);
    const back = await request('GET', `/v1/customers/${c.grumpy}/relationship`, reader(ws.apiKey));
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().relationship.archetype).toBe('adversary');
    const friend = await request('GET', `/v1/customers/${c.friend}/relationship`, reader(ws.apiKey));
    expect(friend.json().relationship.dimensions.friction.value).toBe(0);
  });
});
