import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACT_KEYS } from '../src/facts/index.ts';
import { chainAuditBacklog, scanScheduledMoments } from '../src/governance/index.ts';
import {
  assertPlaybook,
  type CustomerSnapshot,
  citable,
  compilePlaybook,
  DEFAULT_PLAYBOOK,
  decide,
  type PurposeView,
  type SnapshotFact,
} from '../src/moments/index.ts';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';

/**
 * Small moments over the API, each a little story on one shared workspace: the cancellation by a
 * customer who declared a divorce yields the caring call at intimacy 3 and only a service action at
 * intimacy 1; a complaint holds a win-back offer back and the trace names the rule; the cap stops the
 * third message in a week; "too personal" suppresses that action for the customer; a withdrawn consent
 * cancels a queued action; no customer-facing explanation cites an inferred or special-category fact;
 * an invalid playbook is refused whole with JSON paths; the backtest changes nothing.
 */

const t = useTestApp();
const DAY = 86_400_000;
let sequence = 0;
let ws: TestWorkspace;

const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

async function call(method: 'GET' | 'POST' | 'PUT', url: string, headers: object, payload?: unknown) {
  const response = await t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return {
    status: response.statusCode,
    body: response.json(),
  };
}

function item(account: string, type: string, days: number, extra: Record<string, unknown> = {}) {
  sequence += 1;
  return {
    type,
    channel: 'phone',
    occurredAt: ago(days),
    source: 'shop',
    externalId: `m-${sequence}`,
    customer: { identity: { source: 'shop', externalId: account } },
    ...(type === 'purchase' ? { amount: 20, currency: 'EUR' } : {}),
    ...extra,
  };
}

async function ingest(items: Record<string, unknown>[]): Promise<string> {
  const r = await call('POST', '/v1/interactions', bearer(ws.apiKey), { interactions: items });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  for (const result of r.body.results) expect(result.status, JSON.stringify(result)).toBe('created');
  return r.body.results[0].customerId as string;
}

const intimacy = async (id: string, level: number) =>
  expect((await call('PUT', `/v1/customers/${id}/intimacy`, reader(ws.apiKey), { level })).status).toBe(200);

const consent = async (id: string, purpose: string, status: string) => {
  const r = await call('POST', `/v1/customers/${id}/consents`, reader(ws.apiKey), { purpose, status });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
};

const nba = async (id: string, purpose = 'service') =>
  (await call('GET', `/v1/customers/${id}/next-best-actions?purpose=${purpose}`, bearer(ws.apiKey))).body;

const decisions = async (id: string) =>
  (await call('GET', `/v1/customers/${id}/decisions?purpose=service`, bearer(ws.apiKey))).body.decisions as {
    trace: {
      moment: { type: string };
      candidates: { action: string; removedBy: string | null; outcome: string }[];
    };
  }[];

describe(`small moments (${ENGINE})`, () => {
  beforeAll(async () => {
    ws = await createTestWorkspace(t.database);
  });

  it('turns a cancellation by a customer who declared a divorce into the caring call at intimacy 3, a service action at 1', async () => {
    const ana = await ingest([item('ana', 'purchase', 60)]);
    await intimacy(ana, 3);
    await ingest([item('ana', 'life_event_declared', 20, { properties: { event: 'divorce' } })]);
    await ingest([item('ana', 'cancellation_request', 2, { properties: { subject: 'joint card' } })]);
    const answer = await nba(ana);
    const care = answer.actions.find((a: { action: string }) => a.action === 'care-call-separation');
    expect(care, JSON.stringify(answer)).toBeDefined();
    expect(care.delivery).toBe('task');
    expect(care.script).toContain('separation');
    expect(care.explanation).toBe(
      'You told us about your divorce, so we called to see whether we can make things easier.',
    );

    const ben = await ingest([item('ben', 'purchase', 60)]);
    await intimacy(ben, 3);
    await ingest([item('ben', 'life_event_declared', 20, { properties: { event: 'divorce' } })]);
    await intimacy(ben, 1);
    await ingest([item('ben', 'cancellation_request', 2)]);
    const benAnswer = await nba(ben);
    expect(benAnswer.actions.map((a: { action: string }) => a.action)).toEqual(['caring-cancellation-call']);
    const held = benAnswer.suppressed.find((s: { action: string }) => s.action === 'care-call-separation');
    expect(held?.removedBy, JSON.stringify(benAnswer)).toBe('governance:service');
  });

  it('raises no moment for history: a complaint recorded long after it happened', async () => {
    const dora = await ingest([item('dora', 'complaint', 90)]);
    expect(await decisions(dora)).toEqual([]);
    await ingest([item('dora', 'complaint', 1)]);
    expect((await decisions(dora)).map((d) => d.trace.moment.type)).toContain('complaint_opened');
  });

  it('records "too personal" and then suppresses that action for the customer', async () => {
    const list = (await call('GET', '/v1/tasks?purpose=service', bearer(ws.apiKey))).body.tasks as {
      id: string;
      action: string;
      customerId: string;
    }[];
    const care = list.find((task) => task.action === 'care-call-separation');
    expect(care).toBeDefined();
    const claimed = await call('POST', `/v1/tasks/${care?.id}/claim?purpose=service`, bearer(ws.apiKey), {
      owner: 'maria',
    });
    expect(claimed.body.status).toBe('claimed');
    expect(claimed.body.owner).toBe('maria');
    const done = await call('POST', `/v1/tasks/${care?.id}/complete?purpose=service`, bearer(ws.apiKey), {
      outcome: 'too_personal',
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('done');
    const again = await call('POST', `/v1/tasks/${care?.id}/complete?purpose=service`, bearer(ws.apiKey), {});
    expect(again.status).toBe(409);
    await ingest([item('ana', 'cancellation_request', 0, { properties: { subject: 'insurance' } })]);
    const [latest] = await decisions(care?.customerId ?? '');
    expect(latest?.trace.moment.type).toBe('cancellation_requested');
    const candidate = latest?.trace.candidates.find((c) => c.action === 'care-call-separation');
    expect(candidate?.removedBy).toBe('suppression:too_personal');
  });

  it('holds a win-back offer back within 14 days of a complaint, and the trace names the rule', async () => {
    const items = [0, 1, 2, 3, 4].map((m) => item('cleo', 'purchase', 130 + m * 20));
    const cleo = await ingest(items);
    await consent(cleo, 'marketing', 'granted');
    await ingest([item('cleo', 'complaint', 10, { properties: { severity: 'high' } })]);
    const [scan] = await scanScheduledMoments(t.database.db, { workspaceIds: [ws.workspace.id] });
    expect(scan?.moments).toBeGreaterThan(0);
    const lapse = (await decisions(cleo)).find((d) => d.trace.moment.type === 'lapse_detected');
    const winBack = lapse?.trace.candidates.find((c) => c.action === 'win-back-offer');
    expect(winBack?.removedBy, JSON.stringify(lapse?.trace)).toBe('sequencing:no-winback-after-complaint');
    expect(winBack?.outcome).toBe('suppressed');
  });

  it('stops the third message in a week at the channel cap', async () => {
    await ingest(
      [3, 2, 1].map((d) => item('dan', 'delivery_failed', d, { properties: { reason: 'not home' } })),
    );
    const dan = await ingest([item('dan', 'visit', 0)]);
    const apologies = (await decisions(dan))
      .filter((d) => d.trace.moment.type === 'delivery_failed')
      .map((d) => d.trace.candidates.find((c) => c.action === 'delivery-apology'));
    expect(apologies.map((c) => c?.outcome).sort()).toEqual(['chosen', 'chosen', 'suppressed']);
    expect(apologies.find((c) => c?.outcome === 'suppressed')?.removedBy).toBe('policy:caps[0]');
  });

  it('cancels a queued action at once when the consent it rests on is withdrawn', async () => {
    const eve = await ingest([item('eve', 'visit', 5)]);
    await consent(eve, 'personalization', 'granted');
    await ingest([item('eve', 'purchase', 1)]);
    const queued = (await nba(eve, 'personalization')).actions as {
      id: string;
      action: string;
      status: string;
    }[];
    const thanks = queued.find((a) => a.action === 'first-purchase-thanks');
    expect(thanks?.status).toBe('queued');
    await consent(eve, 'personalization', 'withdrawn');
    const after = await call('GET', `/v1/tasks/${thanks?.id}?purpose=service`, bearer(ws.apiKey));
    expect(after.body.status).toBe('cancelled');
    expect(after.body.cancelledReason).toBe('consent for personalization withdrawn');
  });

  it('keeps a declared illness only with explicit consent, and never names it to the customer', async () => {
    const fay = await ingest([item('fay', 'visit', 10)]);
    await intimacy(fay, 3);
    const refused = await call('POST', '/v1/interactions', bearer(ws.apiKey), {
      interactions: [item('fay', 'life_event_declared', 3, { properties: { event: 'illness' } })],
    });
    expect(refused.body.results[0].error.code).toBe('POLICY_SPECIAL_CATEGORY');
    expect(refused.body.results[0].error.details.errors[0].path).toBe('interactions[0].properties.event');
    await ingest([
      item('fay', 'life_event_declared', 3, {
        properties: { event: 'illness' },
        explicitConsentFor: ['service'],
      }),
    ]);
    await ingest([item('fay', 'cancellation_request', 1)]);
    const answer = await nba(fay);
    const care = answer.actions.find((a: { action: string }) => a.action === 'care-call-illness');
    expect(care, JSON.stringify(answer)).toBeDefined();
    expect(care.explanation).not.toMatch(/illness|health/i);
  });

  it('refuses an invalid playbook whole with JSON paths and keeps the previous version; takes YAML', async () => {
    const bad = structuredClone(DEFAULT_PLAYBOOK) as { rules: Record<string, unknown>[] };
    bad.rules[0] = {
      id: 'x',
      moment: 'cancellation_requested',
      action: 'nope',
      when: { fact: 'shoe', op: 'gte', value: 'a' },
    };
    const refused = await call('PUT', '/v1/moments/playbook?purpose=service', bearer(ws.apiKey), bad);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('PLAYBOOK_INVALID');
    const paths = (refused.body.error.details.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'playbook.rules[0].action',
        'playbook.rules[0].when.fact',
        'playbook.rules[0].when.value',
      ]),
    );
    expect((await call('GET', '/v1/moments/playbook?purpose=service', bearer(ws.apiKey))).body.version).toBe(
      0,
    );
    const yaml = [
      'name: only complaints',
      'actions:',
      '  - id: sorry',
      '    purpose: service',
      '    channels: [phone]',
      '    human: true',
      "    explanation: 'We are calling about {moment}.'",
      'rules:',
      '  - { id: r1, moment: complaint_opened, action: sorry }',
    ].join('\n');
    const saved = await call('PUT', '/v1/moments/playbook?purpose=service', bearer(ws.apiKey), {
      text: yaml,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ version: 1, format: 'yaml' });
    const versions = (await call('GET', '/v1/moments/playbook/versions?purpose=service', bearer(ws.apiKey)))
      .body;
    expect(versions.versions.map((v: { version: number }) => v.version)).toEqual([1, 0]);
  });

  it('backtests a playbook over history without changing the database', async () => {
    const tables = [
      'moments',
      'moment_decisions',
      'moment_actions',
      'moment_feedback',
      'moment_propensities',
      'moment_playbooks',
      'events',
      'audit_events',
    ];
    const count = async () => {
      const out: Record<string, number> = {};
      for (const table of tables) {
        const { rows } = await sql<{
          n: string;
        }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE workspace_id = ${ws.workspace.id}`.execute(
          t.database.db,
        );
        out[table] = Number(rows[0]?.n);
      }
      return out;
    };
    // Audit events earlier requests left waiting are linked first, as the server's timer would.
    await chainAuditBacklog(t.database.db);
    const before = await count();
    const r = await call('POST', '/v1/moments/backtest?purpose=analytics', bearer(ws.apiKey), {
      from: ago(400),
      to: new Date(Date.now() + 60_000).toISOString(),
      playbook: DEFAULT_PLAYBOOK,
      samples: 3,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.moments.cancellation_requested).toBeGreaterThanOrEqual(2);
    expect(r.body.actions['caring-cancellation-call']).toBeGreaterThan(0);
    expect(Object.keys(r.body.suppressed).length).toBeGreaterThan(0);
    expect(r.body.samples.length).toBe(3);
    await chainAuditBacklog(t.database.db);
    expect(await count()).toEqual(before);
  });
});

describe('explanations', () => {
  it('never cite an inferred or special-category fact (property test over random customers)', () => {
    const ctx = {
      purposes: ['service', 'personalization', 'marketing'],
      factKeys: FACT_KEYS.map((k) => k.key),
    };
    const playbook = assertPlaybook(
      {
        ...DEFAULT_PLAYBOOK,
        actions: [
          ...DEFAULT_PLAYBOOK.actions,
          ...['life_event', 'interest', 'accessibility_need', 'important_date'].map((key) => ({
            id: `cite-${key.replaceAll('_', '-')}`,
            purpose: 'care',
            channels: ['phone'],
            human: true,
            requiredFacts: [key],
            explanation: `We remembered {fact.${key}}.`,
          })),
        ],
        rules: [
          ...DEFAULT_PLAYBOOK.rules,
          ...['life_event', 'interest', 'accessibility_need', 'important_date'].map((key) => ({
            id: `r-${key.replaceAll('_', '-')}`,
            moment: 'cancellation_requested',
            action: `cite-${key.replaceAll('_', '-')}`,
          })),
        ],
        maxActions: 10,
      },
      ctx,
    );
    // A validated playbook validates again unchanged (what GET answers, PUT takes back).
    expect(assertPlaybook(playbook, ctx)).toEqual(playbook);
    const compiled = compilePlaybook(playbook, 0);
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const kinds = ['declared', 'observed', 'derived', 'inferred'];
    const values: Record<string, () => unknown> = {
      life_event: () => ({ event: pick(['divorce', 'illness', 'bereavement', 'job_loss', 'moved_house']) }),
      interest: () => pick(['cycling', 'jazz']),
      accessibility_need: () => 'large print',
      important_date: () => ({ month: 3, day: 12, label: 'our anniversary' }),
    };
    const categories: Record<string, string> = {
      life_event: 'life_event',
      interest: 'personal.interest',
      accessibility_need: 'special.health',
      important_date: 'personal.important_date',
    };
    let chosen = 0;
    for (let i = 0; i < 400; i += 1) {
      const facts = new Map<string, SnapshotFact[]>();
      for (const key of Object.keys(values)) {
        if (random() < 0.3) continue;
        facts.set(key, [
          {
            key,
            value: values[key]?.(),
            sourceKind: pick(kinds),
            source: 'test',
            category: categories[key] ?? key,
          },
        ]);
      }
      const view: PurposeView = { open: true, reason: null, facts, withheld: new Map() };
      const snap: CustomerSnapshot = {
        customerId: `c${i}`,
        intimacy: 4,
        purposes: new Map([
          ['service', view],
          ['personalization', view],
          ['marketing', view],
        ]),
        archetype: null,
        archetypeUsable: false,
        dimensions: {},
        value: {},
        segments: new Set(),
        recentMoments: [],
        actions: [],
        feedback: [],
      };
      const decision = decide(
        compiled,
        snap,
        { type: 'cancellation_requested', at: Date.now(), context: {} },
        Date.now(),
        () => undefined,
      );
      for (const c of decision.chosen) {
        chosen += 1;
        for (const key of c.def.requiredFacts) {
          const fact = facts.get(key)?.[0];
          if (fact && c.def.explanation.includes(`{fact.${key}}`))
            expect(citable(fact), JSON.stringify(fact)).toBe(true);
        }
        expect(c.explanation).not.toMatch(/illness|large print/);
      }
    }
    expect(chosen).toBeGreaterThan(100);
  });
});
