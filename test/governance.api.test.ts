import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { chainAuditBacklog } from '../src/governance/index.ts';
import type { Role } from '../src/shared/access.ts';
import {
  bearer,
  createTestKey,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * The data policy end to end over HTTP: purposes on every read, consent, intimacy, restriction,
 * pseudonymisation, minimisation at ingest, disclosures, sharing and the access log.
 */

const t = useTestApp();

function keyFor(ws: TestWorkspace, role: Role, purposes?: string[]): Promise<string> {
  return createTestKey(t.database, ws, role, purposes);
}

async function request(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  url: string,
  headers: Record<string, string>,
  payload?: unknown,
) {
  return t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

async function newCustomer(ws: TestWorkspace, body: Record<string, unknown> = {}): Promise<string> {
  const response = await request('POST', '/v1/customers', bearer(ws.apiKey), {
    givenName: 'Ana',
    familyName: 'Lima',
    language: 'pt',
    emails: ['ana@example.com'],
    phones: ['+14155550100'],
    identities: [{ source: 'pos', externalId: `L-${Math.random()}` }],
    ...body,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().customer.id;
}

async function consent(ws: TestWorkspace, id: string, body: Record<string, unknown>) {
  const response = await request('POST', `/v1/customers/${id}/consents`, reader(ws.apiKey), body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function listIds(apiKey: string, purpose: string, query = ''): Promise<string[]> {
  const response = await request('GET', `/v1/customers?${query}`, reader(apiKey, purpose));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().customers.map((c: { id: string }) => c.id);
}

describe(`data policy over HTTP (${ENGINE})`, () => {
  it('every read of personal data names a purpose the key may use', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const doc = (await request('GET', '/openapi.json', {})).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const reads = Object.entries(doc.paths)
      .filter(([path, methods]) => 'get' in methods && /^\/v1\/(customers|interactions)/.test(path))
      .map(([path]) => path.replace('{id}', id));
    expect(reads.length).toBeGreaterThanOrEqual(7);
    for (const path of reads) {
      const response = await request('GET', path, bearer(ws.apiKey));
      expect(response.statusCode, path).toBe(400);
      expect(response.json().error.code, path).toBe('PURPOSE_REQUIRED');
    }
    const analyst = await keyFor(ws, 'analyst');
    const refused = await request('GET', `/v1/customers/${id}`, reader(analyst, 'marketing'));
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'PURPOSE_NOT_ALLOWED',
      details: { reason: 'PURPOSE_NOT_ALLOWED_FOR_ROLE', purpose: 'marketing', role: 'analyst' },
    });
    const unknown = await request('GET', `/v1/customers/${id}`, reader(ws.apiKey, 'gossip'));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('PURPOSE_UNKNOWN');
    const both = await request('GET', `/v1/customers/${id}?purpose=legal`, reader(ws.apiKey, 'service'));
    expect(both.json().error.code).toBe('PURPOSE_CONFLICT');
  });

  it('a marketer sees only consenting customers, and a withdrawal on the very next read', async () => {
    const ws = await createTestWorkspace(t.database);
    const marketer = await keyFor(ws, 'marketer');
    const yes = await newCustomer(ws, { givenName: 'Yes' });
    const no = await newCustomer(ws, { givenName: 'No' });
    expect(await listIds(marketer, 'marketing')).toEqual([]);
    await consent(ws, yes, { purpose: 'marketing', status: 'granted', explicit: true, noticeVersion: 'v3' });
    expect(await listIds(marketer, 'marketing')).toEqual([yes]);

    const single = await request('GET', `/v1/customers/${no}`, reader(marketer, 'marketing'));
    expect(single.statusCode).toBe(200);
    expect(single.json().customer).toMatchObject({ givenName: null, emails: [], phones: [] });
    expect(single.json().customer.withheld).toContainEqual({
      field: 'givenName',
      reason: 'CONSENT_REQUIRED',
    });

    await consent(ws, yes, { purpose: 'marketing', status: 'withdrawn', evidence: { form: 'unsubscribe' } });
    expect(await listIds(marketer, 'marketing')).toEqual([]);
    const after = await request('GET', `/v1/customers/${yes}`, reader(marketer, 'marketing'));
    expect(after.json().customer.withheld).toContainEqual({
      field: 'givenName',
      reason: 'CONSENT_WITHDRAWN',
    });

    const ledger = await request('GET', `/v1/customers/${yes}/consents`, reader(ws.apiKey, 'legal'));
    expect(ledger.json().current).toMatchObject([{ purpose: 'marketing', status: 'withdrawn' }]);
    expect(ledger.json().history.map((r: { status: string }) => r.status)).toEqual(['withdrawn', 'granted']);

    // An expired grant counts as no consent.
    const lapsed = await newCustomer(ws, { givenName: 'Lapsed' });
    await consent(ws, lapsed, {
      purpose: 'marketing',
      status: 'granted',
      effectiveFrom: '2020-01-01T00:00:00Z',
      expiresAt: '2021-01-01T00:00:00Z',
    });
    expect(await listIds(marketer, 'marketing')).toEqual([]);
  });

  it('refuses bad consent records with a code and stores nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const cases: [Record<string, unknown>, string][] = [
      [{ purpose: 'gossip', status: 'granted' }, 'PURPOSE_UNKNOWN'],
      [{ purpose: 'sale', status: 'granted' }, 'CONSENT_NOT_EXPLICIT'],
      [
        { purpose: 'marketing', status: 'granted', effectiveFrom: '2999-01-01T00:00:00Z' },
        'CONSENT_EFFECTIVE_IN_FUTURE',
      ],
      [
        { purpose: 'marketing', status: 'granted', expiresAt: '2001-01-01T00:00:00Z' },
        'CONSENT_EXPIRY_INVALID',
      ],
      [{ purpose: 'marketing', status: 'maybe' }, 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of cases) {
      const response = await request('POST', `/v1/customers/${id}/consents`, reader(ws.apiKey), body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe(code);
    }
    const marketer = await keyFor(ws, 'marketer');
    const wrongPurpose = await request(
      'POST',
      `/v1/customers/${id}/consents`,
      reader(marketer, 'marketing'),
      { purpose: 'marketing', status: 'granted' },
    );
    expect(wrongPurpose.statusCode).toBe(403);
    const ledger = await request('GET', `/v1/customers/${id}/consents`, reader(ws.apiKey, 'legal'));
    expect(ledger.json()).toEqual({ current: [], history: [] });
  });

  it('intimacy, restriction and objection take effect on the next read', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const get = async (purpose: string) =>
      (await request('GET', `/v1/customers/${id}`, reader(ws.apiKey, purpose))).json().customer;
    expect((await get('service')).language).toBe('pt');

    const lowered = await request('PUT', `/v1/customers/${id}/intimacy`, reader(ws.apiKey), { level: 0 });
    expect(lowered.json()).toMatchObject({ intimacyLevel: 0, previousLevel: 1 });
    const atZero = await get('service');
    expect(atZero.language).toBeNull();
    expect(atZero.givenName).toBe('Ana');
    expect(atZero.withheld).toContainEqual({ field: 'language', reason: 'INTIMACY_TOO_LOW' });
    await consent(ws, id, { purpose: 'personalization', status: 'granted' });
    expect((await get('personalization')).withheld).toContainEqual({
      field: 'givenName',
      reason: 'INTIMACY_TOO_LOW',
    });

    await request('POST', `/v1/customers/${id}/privacy-flags`, reader(ws.apiKey), { kind: 'restrict' });
    expect((await get('service')).withheld).toContainEqual({
      field: 'givenName',
      reason: 'PROCESSING_RESTRICTED',
    });
    expect((await get('legal')).givenName).toBe('Ana');
    await request('POST', `/v1/customers/${id}/privacy-flags`, reader(ws.apiKey), {
      kind: 'lift_restriction',
    });
    await request('POST', `/v1/customers/${id}/privacy-flags`, reader(ws.apiKey), {
      kind: 'object',
      purpose: 'analytics',
    });
    expect((await get('analytics')).withheld).toContainEqual({ field: 'language', reason: 'OBJECTED' });
    expect((await get('service')).givenName).toBe('Ana');

    const state = await request('GET', `/v1/customers/${id}/privacy`, reader(ws.apiKey, 'legal'));
    expect(state.json()).toMatchObject({ intimacyLevel: 0, restricted: false, objections: ['analytics'] });
    expect(
      state
        .json()
        .history.map((h: { kind: string }) => h.kind)
        .sort(),
    ).toEqual(['intimacy', 'lift_restriction', 'object', 'restrict']);
  });

  it('analytics is pseudonymised: no direct identifiers, no filtering by them', async () => {
    const ws = await createTestWorkspace(t.database);
    const analyst = await keyFor(ws, 'analyst');
    const id = await newCustomer(ws);
    const response = await request('GET', `/v1/customers/${id}`, reader(analyst, 'analytics'));
    const customer = response.json().customer;
    expect(customer).toMatchObject({
      givenName: null,
      familyName: null,
      emails: [],
      phones: [],
      identities: [],
    });
    expect(customer.withheld).toContainEqual({ field: 'givenName', reason: 'PSEUDONYMISED' });
    expect(customer.language).toBe('pt');
    const filtered = await request(
      'GET',
      '/v1/customers?email=ana%40example.com',
      reader(analyst, 'analytics'),
    );
    expect(filtered.statusCode).toBe(403);
    expect(filtered.json().error.code).toBe('FILTER_NOT_ALLOWED');
  });

  it('minimises ingest: card numbers masked, do-not-store fields refused or stripped, ids hashed', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const base = {
      type: 'service_request',
      channel: 'phone',
      occurredAt: '2024-05-01T10:00:00Z',
      source: 'callcentre',
      customer: { id },
    };
    const masked = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      ...base,
      externalId: 'c-1',
      text: 'Card 4111 1111 1111 1111 was declined, SSN 123-45-6789.',
      properties: { notes: ['paid with 5555555555554444'], order: '1234567812345678' },
    });
    expect(masked.statusCode, masked.body).toBe(201);
    const stored = masked.json().interaction;
    expect(stored.text).toBe('Card **** **** **** 1111 was declined, SSN ***-**-****.');
    expect(stored.properties).toEqual({ notes: ['paid with ************4444'], order: '1234567812345678' });
    expect(masked.json().masked.map((m: { path: string }) => m.path)).toEqual(
      expect.arrayContaining(['text', 'properties.notes[0]']),
    );

    for (const [properties, path] of [
      [{ card_number: '4111111111111111' }, 'properties.card_number'],
      [{ payment: { iban: 'DE89370400440532013000' } }, 'properties.payment.iban'],
      [{ forms: [{ ssn: '123-45-6789' }] }, 'properties.forms[0].ssn'],
    ] as const) {
      const refused = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
        ...base,
        externalId: `r-${path}`,
        properties,
      });
      expect(refused.statusCode, path).toBe(400);
      expect(refused.json().error.code, path).toBe('POLICY_DO_NOT_STORE');
      expect(refused.json().error.details.errors[0].path, path).toBe(path);
    }
    // A refused item creates nothing: not the customer it names, not an audit event.
    const before = await inTestWorkspace(t.database, ws, async (tx) => ({
      customers: (await tx.selectFrom('customers').select('id').execute()).length,
      // Chained and still waiting: the app links its requests' events a moment after they answer.
      events:
        (await tx.selectFrom('audit_events').select('seq').execute()).length +
        (await tx.selectFrom('audit_inbox').select('workspace_id').execute()).length,
    }));
    const newcomer = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      ...base,
      externalId: 'n-1',
      customer: { identity: { source: 'web', externalId: 'never-seen' } },
      properties: { pan: '4111111111111111' },
    });
    expect(newcomer.json().error.code).toBe('POLICY_DO_NOT_STORE');
    const after = await inTestWorkspace(t.database, ws, async (tx) => ({
      customers: (await tx.selectFrom('customers').select('id').execute()).length,
      // Chained and still waiting: the app links its requests' events a moment after they answer.
      events:
        (await tx.selectFrom('audit_events').select('seq').execute()).length +
        (await tx.selectFrom('audit_inbox').select('workspace_id').execute()).length,
    }));
    expect(after).toEqual(before);

    const batch = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      interactions: [
        { ...base, externalId: 'b-1', properties: { cvv: '123' } },
        { ...base, externalId: 'b-2' },
      ],
      atomic: true,
    });
    expect(batch.json().error.code).toBe('BATCH_REJECTED');

    await request('PATCH', '/v1/workspace', bearer(ws.apiKey), { doNotStore: 'strip' });
    const stripped = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      ...base,
      externalId: 's-1',
      properties: { card_number: '4111111111111111', reason: 'lost card' },
    });
    expect(stripped.statusCode, stripped.body).toBe(201);
    expect(stripped.json().interaction.properties).toEqual({ reason: 'lost card' });
    expect(stripped.json().dropped).toEqual([
      { path: 'properties.card_number', category: 'financial.card', reason: 'POLICY_DO_NOT_STORE' },
    ]);

    const timeline = await request('GET', `/v1/customers/${id}/timeline`, reader(ws.apiKey));
    const everything = JSON.stringify(timeline.json());
    for (const secret of [
      '4111111111111111',
      '4111 1111 1111 1111',
      '123-45-6789',
      '5555555555554444',
      'DE8937',
    ])
      expect(everything).not.toContain(secret);

    const withId = await request('POST', '/v1/customers', bearer(ws.apiKey), {
      givenName: 'Ida',
      governmentIds: [{ kind: 'national_id', value: '123-45-6789' }],
    });
    expect(withId.statusCode, withId.body).toBe(201);
    expect(JSON.stringify(withId.json())).not.toContain('6789');
    const raw = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('customer_identities')
        .select(['source', 'external_id'])
        .where('customer_id', '=', withId.json().customer.id)
        .execute(),
    );
    expect(raw).toEqual([
      {
        source: 'government_id.national_id',
        external_id: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
      },
    ]);
    const clear = await request('POST', '/v1/customers', bearer(ws.apiKey), {
      identities: [{ source: 'government_id.national_id', externalId: '123-45-6789' }],
    });
    expect(clear.json().error.code).toBe('POLICY_DO_NOT_STORE');
  });

  it('keeps special-category data only when the customer declares it with explicit consent', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const item = {
      type: 'preference_stated',
      channel: 'store',
      occurredAt: '2024-05-01T10:00:00Z',
      source: 'pos',
      customer: { id },
      properties: { key: 'access', value: 'step-free entrance', health: 'uses a wheelchair' },
    };
    const refused = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      ...item,
      externalId: 'h-1',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('POLICY_SPECIAL_CATEGORY');
    const byCompany = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      ...item,
      externalId: 'h-2',
      initiatedBy: 'company',
      explicitConsentFor: ['service'],
    });
    expect(byCompany.json().error.code).toBe('POLICY_SPECIAL_CATEGORY');
    const declared = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
      ...item,
      externalId: 'h-3',
      explicitConsentFor: ['service'],
    });
    expect(declared.statusCode, declared.body).toBe(201);

    const forService = await request('GET', `/v1/customers/${id}/timeline`, reader(ws.apiKey, 'service'));
    expect(forService.json().interactions[0].properties.health).toBe('uses a wheelchair');
    await consent(ws, id, { purpose: 'marketing', status: 'granted' });
    const forMarketing = await request('GET', `/v1/customers/${id}/timeline`, reader(ws.apiKey, 'marketing'));
    expect(forMarketing.json().interactions[0]?.properties.health).toBeUndefined();
    expect(forMarketing.json().withheld).toContainEqual({
      field: 'properties.health',
      reason: 'SPECIAL_CATEGORY',
    });
  });

  it('records disclosures for integration reads and shares, and refuses a sale without an opt-in', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const integration = await keyFor(ws, 'integration', ['service']);
    expect((await request('GET', `/v1/customers/${id}`, reader(integration))).statusCode).toBe(200);

    const partner = await request('POST', '/v1/recipients', bearer(ws.apiKey), {
      name: 'data-broker',
      kind: 'partner',
      purposes: ['sale', 'third_party_sharing'],
    });
    expect(partner.statusCode, partner.body).toBe(201);
    const refused = await request('POST', `/v1/customers/${id}/shares`, reader(ws.apiKey, 'sale'), {
      recipient: 'data-broker',
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'SHARE_REFUSED',
      details: { reason: 'EXPLICIT_OPT_IN_REQUIRED' },
    });
    const wrongPurpose = await request('POST', `/v1/customers/${id}/shares`, reader(ws.apiKey, 'service'), {
      recipient: 'data-broker',
    });
    expect(wrongPurpose.json().error.code).toBe('RECIPIENT_PURPOSE_NOT_ALLOWED');

    await consent(ws, id, {
      purpose: 'sale',
      status: 'granted',
      explicit: true,
      evidence: { checkbox: 'unticked-by-default' },
    });
    const shared = await request('POST', `/v1/customers/${id}/shares`, reader(ws.apiKey, 'sale'), {
      recipient: 'data-broker',
    });
    expect(shared.statusCode, shared.body).toBe(200);
    expect(shared.json().customer.givenName).toBe('Ana');

    const ledger = await request('GET', `/v1/customers/${id}/disclosures`, reader(ws.apiKey, 'legal'));
    const disclosures = ledger.json().disclosures as {
      recipient: { name: string; kind: string };
      purpose: string;
      fields: string[];
    }[];
    expect(disclosures.map((d) => [d.recipient.kind, d.purpose])).toEqual([
      ['partner', 'sale'],
      ['integration_key', 'service'],
    ]);
    expect(disclosures[0]?.fields).toEqual(expect.arrayContaining(['givenName', 'emails']));
  });

  it('answers "who looked at my data, and why", to the auditor who reads no content', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    const agent = await keyFor(ws, 'agent');
    await request('GET', `/v1/customers/${id}`, reader(agent, 'service'));
    await request('GET', `/v1/customers/${id}/timeline`, reader(agent, 'billing'));
    const auditor = await keyFor(ws, 'auditor');
    const log = await request('GET', `/v1/customers/${id}/access-log`, bearer(auditor));
    expect(log.statusCode, log.body).toBe(200);
    const entries = log.json().entries as { action: string; purpose: string; actor: { role: string } }[];
    expect(entries.map((e) => [e.action, e.purpose, e.actor.role])).toEqual([
      ['customer.read', 'service', 'agent'],
      ['customer.create', 'service', 'admin'],
    ]);
    const auditorReadsContent = await request('GET', `/v1/customers/${id}`, reader(auditor, 'legal'));
    expect(auditorReadsContent.statusCode).toBe(403);
    const again = await request('GET', `/v1/customers/${id}/access-log`, bearer(auditor));
    expect(again.json().entries[0]).toMatchObject({ action: 'audit.read', purpose: null });
  });

  it('the ledgers are append-only in the database', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws);
    await consent(ws, id, { purpose: 'marketing', status: 'granted' });
    await chainAuditBacklog(t.database.db);
    for (const statement of [
      sql`UPDATE consent_records SET status = 'granted'`,
      sql`DELETE FROM consent_records`,
      sql`UPDATE audit_events SET action = 'nothing'`,
      sql`DELETE FROM audit_events`,
    ]) {
      await expect(inTestWorkspace(t.database, ws, (tx) => statement.execute(tx))).rejects.toThrow();
    }
    const events = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    expect(Number(events.n)).toBeGreaterThan(0);
  });

  it('lets a workspace add categories and purposes, and weaken a rule only by an audited override', async () => {
    const ws = await createTestWorkspace(t.database);
    const weakened = await request('PUT', '/v1/workspace/policy', bearer(ws.apiKey), {
      categories: [{ name: 'financial.loyalty_card', policy: 'store' }],
    });
    expect(weakened.statusCode).toBe(400);
    expect(weakened.json().error.code).toBe('POLICY_INVALID');

    const agent = await keyFor(ws, 'agent');
    const notAdmin = await request('PUT', '/v1/workspace/policy', bearer(agent), { purposes: [] });
    expect(notAdmin.statusCode).toBe(403);

    const ok = await request('PUT', '/v1/workspace/policy', bearer(ws.apiKey), {
      categories: [{ name: 'preference.pet_name', description: 'the name of their dog' }],
      purposes: [{ name: 'warranty', lawfulBasis: 'contract', roles: ['agent'] }],
      overrides: [
        { category: 'demographic.gender', policy: 'store', reason: 'asked on the loyalty form by law' },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const id = await newCustomer(ws);
    const forWarranty = await request('GET', `/v1/customers/${id}`, reader(agent, 'warranty'));
    expect(forWarranty.statusCode, forWarranty.body).toBe(200);
    expect(forWarranty.json().customer.givenName).toBe('Ana');

    await chainAuditBacklog(t.database.db);
    const changes = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'details'])
        .where('action', '=', 'policy.change')
        .execute(),
    );
    expect(changes).toHaveLength(1);
    expect(JSON.stringify(changes[0]?.details)).toContain('asked on the loyalty form by law');
  });
});
