import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPrivacySubjects, type PrivacySubject } from '../src/consent/index.ts';
import { categoryOfType } from '../src/interactions/index.ts';
import { BASE_TAXONOMY, CUSTOMER_FIELD_CATEGORIES, decide, type FieldRef } from '../src/policy/index.ts';
import { PURPOSES, ROLE_PURPOSES, ROLES, type Role } from '../src/shared/access.ts';
import {
  bearer,
  createTestKey,
  createTestWorkspace,
  drainEvents,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * The policy oracle over every route. Each customer carries values found nowhere else (a name, an email,
 * a phone, an external id, a fact, a complaint's text), each planted value knowing its customer and its
 * data categories. Every route of the OpenAPI document that reads — and the writes that answer with
 * data: a duplicate ingest, an identity already taken, a rectification, a prefill, an idempotent replay —
 * is called by every role under the purposes it may use (and one it may not), and each answer is
 * searched for every planted value: one found must be one the decision function allows that caller,
 * purpose and customer state, at the customer's intimacy level. The routes come from the document, so a
 * new read route is tried the day it is added, and fails here until it says how to call it.
 */

const t = useTestApp();
/** When the complaints happened: recently, so they raise moments (history does not). */
const RECENT = new Date(Date.now() - 2 * 86_400_000).toISOString();

/** A planted value: shown only where the decision allows each of its references. */
interface Marker {
  value: string;
  customer: number;
  refs: FieldRef[];
  /** A fact's level: shown only to customers at this level or closer. */
  minIntimacy: number;
}

/** The customers' states, one of each kind the decision tells apart. */
const STATES: {
  label: string;
  intimacy: number;
  consents: { purpose: string; status: string }[];
  flags: { kind: 'restrict' | 'object'; purpose?: string }[];
}[] = [
  {
    label: 'close, opted in',
    intimacy: 4,
    consents: [
      { purpose: 'marketing', status: 'granted' },
      { purpose: 'personalization', status: 'granted' },
    ],
    flags: [],
  },
  { label: 'restricted', intimacy: 3, consents: [], flags: [{ kind: 'restrict' }] },
  {
    label: 'objects to analytics and personalization',
    intimacy: 2,
    consents: [{ purpose: 'personalization', status: 'granted' }],
    flags: [
      { kind: 'object', purpose: 'analytics' },
      { kind: 'object', purpose: 'personalization' },
    ],
  },
  { label: 'distant', intimacy: 0, consents: [], flags: [] },
  {
    label: 'withdrew marketing',
    intimacy: 1,
    consents: [
      { purpose: 'marketing', status: 'granted' },
      { purpose: 'marketing', status: 'withdrawn' },
    ],
    flags: [],
  },
];

/** Facts with values of their own per customer: a plain one, a household one, a special-category one. */
function factsOf(i: number) {
  return [
    {
      key: 'household_member',
      value: { name: `Kidq${i}zed`, relation: 'daughter' },
      sourceKind: 'declared',
      source: 'store',
      marker: `Kidq${i}zed`,
    },
    {
      key: 'accessibility_need',
      value: `Rampq${i}zed`,
      sourceKind: 'declared',
      source: 'store',
      consentPurposes: ['service'],
      marker: `Rampq${i}zed`,
    },
    {
      key: 'delivery_window',
      value: `Eveq${i}zed`,
      sourceKind: 'observed',
      source: 'web',
      marker: `Eveq${i}zed`,
    },
  ];
}

interface Caller {
  role: Role;
  key: string;
  purposes: readonly string[];
}

interface World {
  ws: TestWorkspace;
  ids: string[];
  markers: Marker[];
  subjects: Map<string, PrivacySubject>;
  callers: Caller[];
  interactions: string[];
  facts: string[];
  segment: string;
  webhook: string;
  privacyRequests: string[];
  decisions: string[];
  tasks: string[];
}

/** How to call each read route: its path parameters for customer `i`, or null when it names none. */
function paramsOf(route: string, w: World, i: number): Record<string, string> | undefined {
  const customer = { id: w.ids[i] ?? '' };
  const table: Record<string, Record<string, string>> = {
    'GET /v1/customers/{id}': customer,
    'GET /v1/customers/{id}/360': customer,
    'GET /v1/customers/{id}/history': customer,
    'GET /v1/customers/{id}/facts': customer,
    'GET /v1/customers/{id}/facts/{factId}/history': { id: w.ids[i] ?? '', factId: w.facts[i] ?? '' },
    'GET /v1/customers/{id}/timeline': customer,
    'GET /v1/customers/{id}/consents': customer,
    'GET /v1/customers/{id}/privacy': customer,
    'GET /v1/customers/{id}/disclosures': customer,
    'GET /v1/customers/{id}/access-log': customer,
    'GET /v1/customers/{id}/relationship': customer,
    'GET /v1/customers/{id}/recommendations': customer,
    'GET /v1/interactions/{id}': { id: w.interactions[i] ?? '' },
    'GET /v1/segments/{id}': { id: w.segment },
    'GET /v1/segments/{id}/count': { id: w.segment },
    'GET /v1/segments/{id}/members': { id: w.segment },
    'GET /v1/segments/{id}/members/{customerId}/why': { id: w.segment, customerId: w.ids[i] ?? '' },
    'GET /v1/recipients/{id}/deliveries': { id: w.webhook },
    'GET /v1/customers/{id}/recipients': customer,
    'GET /v1/privacy-requests/{id}': { id: w.privacyRequests[i] ?? '' },
    'GET /v1/customers/{id}/next-best-actions': customer,
    'GET /v1/customers/{id}/decisions': customer,
    'GET /v1/decisions/{id}': { id: w.decisions[i % w.decisions.length] ?? '' },
    'GET /v1/tasks/{id}': { id: w.tasks[i % w.tasks.length] ?? '' },
  };
  return table[route];
}

/** Read routes that name no record, with the query that makes them show customers where they can. */
const LIST_QUERIES: Record<string, (w: World, i: number) => string> = {
  'GET /v1/customers': () => 'limit=100',
  'GET /v1/customers#search': (_w, i) => `q=${encodeURIComponent(`Ogn${i}q`)}`,
  'GET /v1/customers#email': (_w, i) => `email=${encodeURIComponent(`oracle${i}.mail@example.com`)}`,
  'GET /v1/customers#external': (_w, i) => `source=pos&externalId=OXID${i}Q`,
  'GET /v1/identity/reviews': () => 'status=pending',
  'GET /v1/privacy-requests': (w, i) => `customerId=${w.ids[i]}`,
  'GET /v1/privacy-notifications': (w, i) => `customerId=${w.ids[i]}`,
  'GET /v1/tasks': () => 'limit=100',
};

/** Routes that read nothing of a customer (the workspace, its keys, the queue, sessions): still scanned. */
const NO_CUSTOMER_ROUTES = new Set([
  'GET /health',
  'GET /ready',
  'GET /v1/workspace',
  'GET /v1/keys',
  'GET /v1/facts/keys',
  'GET /v1/recipients',
  'GET /v1/segments',
  'GET /v1/relationships/mix',
  'GET /v1/relationships/rules',
  'GET /v1/sessions/current',
  'GET /v1/users',
  'GET /v1/jobs',
  'GET /v1/jobs/metrics',
  'GET /v1/jobs/failures',
  'GET /v1/moments/playbook',
  'GET /v1/moments/playbook/versions',
]);

describe(`the policy oracle over every route's answers (${ENGINE})`, () => {
  let w: World;

  async function send(
    method: string,
    url: string,
    caller: Caller,
    purpose: string,
    payload?: unknown,
    extra: Record<string, string> = {},
  ) {
    return t.app.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer(caller.key), 'cornerstore-purpose': purpose, ...extra },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }

  beforeAll(async () => {
    const ws = await createTestWorkspace(t.database);
    const admin: Caller = { role: 'admin', key: ws.apiKey, purposes: PURPOSES };
    const markers: Marker[] = [];
    const ids: string[] = [];
    const interactions: string[] = [];
    const facts: string[] = [];
    const ok = async (response: { statusCode: number; body: string }, status = 200) => {
      expect(response.statusCode, response.body).toBe(status);
      return JSON.parse(response.body);
    };
    const mark = (customer: number, value: string, field: string) => {
      const category = CUSTOMER_FIELD_CATEGORIES[field];
      if (!category) throw new Error(`no category for ${field}`);
      markers.push({ value, customer, refs: [{ category }], minIntimacy: 0 });
    };
    const webhook = await ok(
      await send('POST', '/v1/recipients', admin, 'legal', {
        name: 'hook',
        kind: 'webhook',
        url: 'http://127.0.0.1:9/hook',
        purposes: ['service'],
      }),
      201,
    );
    for (const [i, state] of STATES.entries()) {
      const created = await ok(
        await send('POST', '/v1/customers', admin, 'service', {
          givenName: `Ogn${i}q`,
          familyName: `Ofn${i}q`,
          preferredName: `Opn${i}q`,
          language: 'en',
          birthDate: `193${i}-0${i + 1}-2${i}`,
          emails: [`oracle${i}.mail@example.com`],
          phones: [`+44207946012${i}`],
          identities: [{ source: 'pos', externalId: `OXID${i}Q` }],
        }),
        201,
      );
      const id = created.customer.id as string;
      ids.push(id);
      mark(i, `Ogn${i}q`, 'givenName');
      mark(i, `Ofn${i}q`, 'familyName');
      mark(i, `Opn${i}q`, 'preferredName');
      mark(i, `193${i}-0${i + 1}-2${i}`, 'birthDate');
      mark(i, `oracle${i}.mail@example.com`, 'emails');
      mark(i, `+44207946012${i}`, 'phones');
      mark(i, `OXID${i}Q`, 'identities');
      // Facts are stored at the closest level; the state lowers it after.
      await ok(await send('PUT', `/v1/customers/${id}/intimacy`, admin, 'service', { level: 4 }));
      for (const { marker, ...fact } of factsOf(i)) {
        const stored = (
          await ok(await send('POST', `/v1/customers/${id}/facts`, admin, 'service', fact), 201)
        ).fact;
        if (facts.length === i) facts.push(stored.id);
        markers.push({
          value: marker,
          customer: i,
          refs: [
            { category: stored.category, source: stored.sourceKind, consentPurposes: stored.consentPurposes },
          ],
          minIntimacy: stored.minIntimacy,
        });
      }
      const complaint = await ok(
        await send('POST', '/v1/interactions', admin, 'service', {
          type: 'complaint',
          channel: 'phone',
          occurredAt: RECENT,
          source: 'callcentre',
          externalId: `OC-${i}`,
          customer: { id },
          text: `Otx${i}q arrived broken`,
        }),
        201,
      );
      interactions.push(complaint.id);
      markers.push({
        value: `Otx${i}q`,
        customer: i,
        refs: [{ category: categoryOfType('complaint') }, { category: 'service.note' }],
        minIntimacy: 0,
      });
      for (const consent of state.consents) {
        await ok(
          await send('POST', `/v1/customers/${id}/consents`, admin, 'legal', { ...consent, explicit: true }),
          201,
        );
      }
      await ok(
        await send('PUT', `/v1/customers/${id}/intimacy`, admin, 'service', { level: state.intimacy }),
      );
      for (const flag of state.flags) {
        await ok(await send('POST', `/v1/customers/${id}/privacy-flags`, admin, 'legal', flag));
      }
    }
    // An access request per customer, so the privacy office's queue has something to show.
    const privacyRequests: string[] = [];
    for (const id of ids) {
      const request = await ok(
        await send('POST', '/v1/privacy-requests', admin, 'legal', { customerId: id, kind: 'access' }),
        201,
      );
      privacyRequests.push(request.request.id);
    }
    const segment = await ok(
      await send('POST', '/v1/segments', admin, 'service', {
        name: 'english speakers',
        definition: { field: 'language', op: 'eq', value: 'en' },
      }),
      201,
    );
    // The backbone's reactions (facts, relationships, value, webhook deliveries) as a worker would run them.
    await drainEvents(t.database, [ws]);
    const callers: Caller[] = [admin];
    for (const role of ROLES) {
      if (role === 'admin') continue;
      const purposes = role === 'integration' ? PURPOSES : ROLE_PURPOSES[role];
      callers.push({ role, key: await createTestKey(t.database, ws, role, [...purposes]), purposes });
    }
    // The complaints raised moments: their decisions, and the tasks they queued.
    const decisions: string[] = [];
    for (const id of ids) {
      // A restricted customer's are not shown under service.
      const listed = await send('GET', `/v1/customers/${id}/decisions`, admin, 'service');
      if (listed.statusCode === 200) {
        decisions.push(...(listed.json().decisions as { id: string }[]).map((d) => d.id));
      }
    }
    const tasks = (
      (await ok(await send('GET', '/v1/tasks?limit=100', admin, 'service'))).tasks as { id: string }[]
    ).map((task) => task.id);
    expect(decisions.length).toBeGreaterThan(0);
    expect(tasks.length).toBeGreaterThan(0);
    const subjects = await inTestWorkspace(t.database, ws, (tx) =>
      loadPrivacySubjects(tx, ws.workspace.id, ids),
    );
    w = {
      ws,
      ids,
      markers,
      subjects,
      callers,
      interactions,
      facts,
      segment: segment.segment?.id ?? segment.id,
      webhook: webhook.recipient.id,
      privacyRequests,
      decisions,
      tasks,
    };
  });

  /** The purposes a caller is tried under: those it may use and one it may not (refused, so nothing shown). */
  function purposesOf(caller: Caller): string[] {
    const refused = PURPOSES.find((p) => !caller.purposes.includes(p));
    return refused ? [...caller.purposes, refused] : [...caller.purposes];
  }

  /** What the answer shows that the decision denies; counts the planted values it shows. */
  function check(
    label: string,
    body: string,
    caller: Caller,
    purpose: string,
    seen: { n: number },
  ): string[] {
    const problems: string[] = [];
    const now = new Date();
    for (const marker of w.markers) {
      if (!body.includes(marker.value)) continue;
      seen.n++;
      const subject = w.subjects.get(w.ids[marker.customer] ?? '');
      if (!subject) throw new Error('subject missing');
      const actor = { role: caller.role, purposes: caller.purposes };
      for (const ref of marker.refs) {
        const decision = decide(BASE_TAXONOMY, actor, purpose, subject, ref, now);
        if (!decision.allowed) {
          problems.push(
            `${label} as ${caller.role}/${purpose} shows ${marker.value} (${STATES[marker.customer]?.label}): ${JSON.stringify(decision)}`,
          );
        }
      }
      if (marker.minIntimacy > subject.intimacyLevel) {
        problems.push(
          `${label} as ${caller.role}/${purpose} shows ${marker.value} above the customer's level`,
        );
      }
    }
    return problems;
  }

  it('no read route answers a planted value the decision denies, for any role, purpose or customer state', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const reads = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods)
        .filter((m) => m === 'get')
        .map(() => `GET ${path}`),
    );
    const problems: string[] = [];
    const seen = { n: 0 };
    const answered = new Map<string, number>();
    const calls: { label: string; url: string }[] = [];
    for (const route of reads) {
      const path = route.slice('GET '.length);
      if (NO_CUSTOMER_ROUTES.has(route)) {
        calls.push({ label: route, url: path });
        continue;
      }
      const lists = Object.entries(LIST_QUERIES).filter(([name]) => name.split('#')[0] === route);
      if (lists.length > 0) {
        for (const [name, query] of lists) {
          for (const i of w.ids.keys()) calls.push({ label: name, url: `${path}?${query(w, i)}` });
        }
        continue;
      }
      if (!path.includes('{')) {
        problems.push(`${route}: not called; say how in oracle.routes.test.ts`);
        continue;
      }
      for (const i of w.ids.keys()) {
        const params = paramsOf(route, w, i);
        if (!params) {
          problems.push(`${route}: no parameters written for this route in oracle.routes.test.ts`);
          break;
        }
        calls.push({
          label: route,
          url: path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? ''),
        });
      }
    }
    // Every call by every role, the purpose turning with the call, so each role meets each of its
    // purposes (and the refused one) on every route across the customers.
    for (const [c, caller] of w.callers.entries()) {
      const purposes = purposesOf(caller);
      for (const [n, call] of calls.entries()) {
        const purpose = purposes[(n + c) % purposes.length] ?? 'service';
        const response = await send('GET', call.url, caller, purpose);
        if (response.statusCode === 200) answered.set(call.label, (answered.get(call.label) ?? 0) + 1);
        problems.push(...check(call.label, response.body, caller, purpose, seen));
      }
    }
    expect(problems).toEqual([]);
    // The oracle compared something: planted values were shown where allowed, and every route that reads
    // a customer answered someone (a staff session's routes answer no key).
    expect(seen.n).toBeGreaterThan(100);
    for (const call of calls) {
      if (NO_CUSTOMER_ROUTES.has(call.label)) continue;
      expect(answered.get(call.label) ?? 0, call.label).toBeGreaterThan(0);
    }
  });

  it('no write answers, duplicates or replays with what the caller could not read', async () => {
    const problems: string[] = [];
    const seen = { n: 0 };
    const admin = w.callers[0] as Caller;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...w.callers),
        fc.nat(),
        fc.integer({ min: 0, max: STATES.length - 1 }),
        async (caller, pick, i) => {
          const purposes = purposesOf(caller);
          const purpose = purposes[pick % purposes.length] ?? 'service';
          const id = w.ids[i] ?? '';
          const answers: [string, string][] = [];
          // A duplicate ingest of the customer's complaint.
          const duplicate = await send('POST', '/v1/interactions', caller, purpose, {
            type: 'complaint',
            channel: 'phone',
            occurredAt: RECENT,
            source: 'callcentre',
            externalId: `OC-${i}`,
            customer: { id },
            text: 'a guess at the text',
          });
          answers.push(['duplicate ingest', duplicate.body]);
          // A new record claiming the customer's external id: the answer names no owner.
          const taken = await send('POST', '/v1/customers', caller, purpose, {
            givenName: 'Someone',
            identities: [{ source: 'pos', externalId: `OXID${i}Q` }],
          });
          answers.push(['identity taken', taken.body.replaceAll(`OXID${i}Q`, '')]);
          // A rectification guessing the family name.
          const guess = await send('POST', `/v1/customers/${id}/rectify`, caller, purpose, {
            field: 'familyName',
            value: `Ofn${i}q`,
            reason: 'a guess',
          });
          answers.push(['rectify', guess.body.replaceAll(`Ofn${i}q`, '')]);
          // A form's prefill.
          const prefill = await send('POST', `/v1/customers/${id}/prefill`, caller, purpose, {
            fields: ['household_member', 'accessibility_need', 'delivery_window', 'language'],
            purpose,
          });
          answers.push(['prefill', prefill.body]);
          // An interaction the caller records for the customer: its answer is the caller's own.
          const recorded = await send('POST', '/v1/interactions', caller, purpose, {
            type: 'note',
            channel: 'phone',
            occurredAt: RECENT,
            source: 'oracle',
            externalId: `ON-${caller.role}-${pick}-${i}`,
            customer: { id },
          });
          answers.push(['record interaction', recorded.body]);
          for (const [label, body] of answers) problems.push(...check(label, body, caller, purpose, seen));
        },
      ),
      { numRuns: 60, seed: 20261203 },
    );
    // A replay of the admin's creation, after the created customer was restricted, is read through the gate.
    const request = {
      givenName: 'Orpq',
      familyName: 'Orfq',
      emails: ['oracle.replay@example.com'],
    };
    const headers = { 'idempotency-key': 'oracle-replay' };
    const first = await send('POST', '/v1/customers', admin, 'service', request, headers);
    expect(first.statusCode, first.body).toBe(201);
    const replayedId = first.json().customer.id as string;
    const flag = await send('POST', `/v1/customers/${replayedId}/privacy-flags`, admin, 'legal', {
      kind: 'restrict',
    });
    expect(flag.statusCode, flag.body).toBe(200);
    const replay = await send('POST', '/v1/customers', admin, 'service', request, headers);
    for (const value of Object.values(request).flat()) {
      if (replay.body.includes(value)) problems.push(`replay shows ${value} of a restricted customer`);
    }
    expect(problems).toEqual([]);
    // Something was compared: some answers showed planted values the caller was allowed to see.
    expect(seen.n).toBeGreaterThan(0);
  });
});
