import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCustomer, listFieldHistory, resolveCustomerRefs } from '../src/customers/index.ts';
import { type Database, inWorkspace } from '../src/db/index.ts';
import { type DemoSummary, runDemo } from '../src/demo/index.ts';
import { getTimeline } from '../src/interactions/index.ts';
import { generateWorld } from '../src/synthetic/index.ts';
import { findValueProfile } from '../src/value/index.ts';
import { getWorkspace, KeyVerifier, operatorActor } from '../src/workspaces/index.ts';
import { ENGINE, openTestDatabase, testDatabaseUrl, uniqueName } from './helpers.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

const CUSTOMERS = 150;
const SEED = 'demo-test';
const BASE_URL = 'http://127.0.0.1:3999';

/** What the generator produces for the test world: the promise the demo must keep. */
function expectedWorld(): { sourceRecords: number; interactions: number } {
  const world = generateWorld({ seed: SEED, customers: CUSTOMERS });
  let sourceRecords = 0;
  for (const _ of world.sourceRecords()) sourceRecords += 1;
  let interactions = 0;
  for (const _ of world.interactions()) interactions += 1;
  return { sourceRecords, interactions };
}

/** The policy probes the generator planted: forbidden properties, and forbidden data in text. */
function plantedProbes(): { inProperties: number; inText: number } {
  const world = generateWorld({ seed: SEED, customers: CUSTOMERS });
  const probes = { inProperties: 0, inText: 0 };
  for (const { probe } of world.labelledInteractions()) {
    if (probe?.endsWith('_in_property')) probes.inProperties += 1;
    else if (probe?.endsWith('_in_text')) probes.inText += 1;
  }
  return probes;
}

describe(`cornerstore demo (${ENGINE})`, () => {
  let database: Database;
  let dataDir: string;
  let workspaceName: string;
  let first: DemoSummary;
  const expected = expectedWorld();

  async function stored(workspaceId: string): Promise<{ customers: number; interactions: number }> {
    return inWorkspace(database.db, workspaceId, async (tx) => {
      const customers = await tx
        .selectFrom('customers')
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow();
      const interactions = await tx
        .selectFrom('interactions')
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow();
      return { customers: customers.n, interactions: interactions.n };
    });
  }

  function demo(): Promise<DemoSummary> {
    return runDemo(database, {
      customers: CUSTOMERS,
      seed: SEED,
      dataDir,
      baseUrl: BASE_URL,
      workspaceName,
    });
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'cornerstore-demo-'));
    workspaceName = uniqueName('demo');
    first = await demo();
  }, 240_000);
  afterAll(async () => {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the workspace with every customer record and interaction the generator produced', async () => {
    expect(first.workspace).toMatchObject({ name: workspaceName, created: true });
    expect(first.created).toEqual({
      customers: expected.sourceRecords,
      interactions: expected.interactions,
    });
    expect(first.existing).toEqual({ customers: 0, interactions: 0 });
    expect(first.rejected.interactions).toBe(0);
    // The demo workspace strips what must not be stored: every planted property is dropped, every
    // planted card number or national id in a text is masked.
    const probes = plantedProbes();
    expect(probes.inProperties).toBeGreaterThan(0);
    expect(first.policy.dropped).toBe(probes.inProperties);
    expect(first.policy.masked).toBeGreaterThanOrEqual(probes.inText);
    // The world ends today (UTC), and value is scored as of now.
    const today = new Date().toISOString().slice(0, 10);
    expect(first.world).toEqual({ seed: SEED, customers: CUSTOMERS, end: today, ...expected });
    expect(first.value).toMatchObject({ status: 'fitted', reason: null });
    expect(Date.parse(first.value.asOf)).toBeGreaterThanOrEqual(Date.parse(`${today}T00:00:00Z`));
    expect(await stored(first.workspace.id)).toEqual({
      customers: expected.sourceRecords,
      interactions: expected.interactions,
    });
    expect(first.url).toBe(BASE_URL);
  });

  it("records the world's consent choices in the ledger and counts value in USD", async () => {
    const world = generateWorld({ seed: SEED, customers: CUSTOMERS });
    let consentEvents = 0;
    for (const i of world.interactions()) if (i.type === 'consent_changed') consentEvents += 1;
    expect(consentEvents).toBeGreaterThan(0);
    await inWorkspace(database.db, first.workspace.id, async (tx) => {
      const ledger = await tx
        .selectFrom('consent_records')
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow();
      expect(ledger.n).toBe(consentEvents);
      const marketing = await tx
        .selectFrom('consent_state')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('purpose', '=', 'marketing')
        .where('channel', '=', '')
        .where('status', '=', 'granted')
        .executeTakeFirstOrThrow();
      expect(marketing.n).toBeGreaterThan(0);
      const currencies = await tx.selectFrom('value_profiles').select('currency').distinct().execute();
      expect(currencies.map((c) => c.currency)).toEqual(['USD']);
    });
  });

  it('stores each source record as its system knows it, with provenance', async () => {
    const world = generateWorld({ seed: SEED, customers: CUSTOMERS });
    const records = [...world.sourceRecords({ from: 0, to: 20 })];
    const actor = operatorActor(first.workspace.id);
    await inWorkspace(database.db, first.workspace.id, async (tx) => {
      const resolved = await resolveCustomerRefs(
        tx,
        records.map((r) => ({ identity: { source: r.source, externalId: r.externalId } })),
        {
          workspaceId: first.workspace.id,
          defaultRegion: 'US',
          autoCreate: false,
          capturedBy: 'test',
          source: 'test',
        },
      );
      for (const [i, record] of records.entries()) {
        const answer = resolved[i];
        if (!answer?.ok) throw new Error(`record ${record.source}/${record.externalId} not stored`);
        // After identity resolution the customer may hold several systems' records: each keeps its
        // identity, contact points and, in the field history, its provenance.
        const customer = await getCustomer(tx, actor, answer.customerId);
        expect(customer.identities).toContainEqual({ source: record.source, externalId: record.externalId });
        if (record.email !== undefined) expect(customer.emails).toContain(record.email.toLowerCase());
        if (record.phone !== undefined) expect(customer.phones.length).toBeGreaterThanOrEqual(1);
        if (record.givenName !== undefined) {
          const history = await listFieldHistory(tx, actor, customer.id);
          expect(history.some((h) => h.field === 'givenName' && h.source === record.source)).toBe(true);
        }
      }
    });
  });

  it('writes the admin key to <dataDir>/demo-key, readable only by the owner', async () => {
    const keyFile = join(dataDir, 'demo-key');
    expect(first.keyFile).toBe(keyFile);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(first.apiKey);
    if (process.platform !== 'win32') expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const actor = await new KeyVerifier(database.db).authenticate(first.apiKey);
    expect(actor).toMatchObject({ workspaceId: first.workspace.id, role: 'admin' });
  });

  it('points its highlights at existing customers with the stated property', async () => {
    const kinds = first.highlights.map((h) => h.kind);
    expect(kinds.slice(0, 7)).toEqual([
      'same_person',
      'complaint',
      'cancellation_request',
      'prefill',
      'slipping_away',
      'recommendation',
      'recommendation_withheld',
    ]);
    // Then one customer per relationship persona the world planted and the archetypes recovered, then
    // the tasks the default playbook queued over the world's last 30 days.
    const rest = kinds.slice(7);
    expect(rest).toEqual([
      ...rest.filter((k) => k === 'relationship'),
      ...rest.filter((k) => k === 'moment'),
    ]);
    expect(first.moments.decisions).toBeGreaterThan(0);
    for (const h of first.highlights.filter((x) => x.kind === 'moment')) {
      expect(h.moment?.explanation.length).toBeGreaterThan(0);
      expect(h.moment?.nextBestActionsUrl).toBe(
        `${BASE_URL}/v1/customers/${h.customerId}/next-best-actions?purpose=service`,
      );
    }
    const world = generateWorld({ seed: SEED, customers: CUSTOMERS });
    const actor = operatorActor(first.workspace.id);

    await inWorkspace(database.db, first.workspace.id, async (tx) => {
      for (const h of first.highlights) {
        const customer = await getCustomer(tx, actor, h.customerId);
        expect(h.name.length).toBeGreaterThan(0);
        expect(h.why.length).toBeGreaterThan(0);
        expect(h.customerUrl).toBe(`${BASE_URL}/v1/customers/${customer.id}`);
        expect(h.timelineUrl).toBe(`${BASE_URL}/v1/customers/${customer.id}/timeline`);
      }
      const byKind = new Map(first.highlights.map((h) => [h.kind, h]));

      // The world's stated preferences and life events became declared facts at ingest, behaviour's
      // habits derived ones; the prefill highlight fills a form from them, each value with provenance.
      const facts = await sql<{ kind: string; n: number }>`
        SELECT source_kind AS kind, count(*)::int AS n FROM facts WHERE superseded_at IS NULL GROUP BY 1`.execute(
        tx,
      );
      const byFactKind = new Map(facts.rows.map((r) => [r.kind, r.n]));
      expect(byFactKind.get('declared') ?? 0).toBeGreaterThan(0);
      expect(byFactKind.get('derived') ?? 0).toBeGreaterThan(0);
      const prefilled = Object.values(byKind.get('prefill')?.prefill ?? {}) as { provenance: unknown }[];
      expect(prefilled.length).toBeGreaterThan(0);
      for (const value of prefilled) expect(value.provenance).toBeDefined();

      // The same person, by the generator's ground truth, in several systems: every one of their records
      // is in this one customer, and the customer holds no record of anyone else.
      const same = byKind.get('same_person');
      const records = same?.records ?? [];
      expect(first.identity.merged).toBeGreaterThan(0);
      expect(new Set(records.map((r) => r.customerId))).toEqual(new Set([same?.customerId]));
      expect(new Set(records.map((r) => r.source)).size).toBeGreaterThan(1);
      const personOf = new Map<string, string>();
      for (const record of world.sourceRecords()) {
        personOf.set(`${record.source}/${record.externalId}`, record.truePersonId);
      }
      const person = personOf.get(`${records[0]?.source}/${records[0]?.externalId}`);
      const allOfTheirs = [...personOf].filter(([, p]) => p === person).map(([key]) => key);
      expect(records.map((r) => `${r.source}/${r.externalId}`).sort()).toEqual(allOfTheirs.sort());
      const merged = await getCustomer(tx, actor, same?.customerId ?? '');
      expect(merged.identities.map((i) => personOf.get(`${i.source}/${i.externalId}`))).toEqual(
        merged.identities.map(() => person),
      );

      for (const kind of ['complaint', 'cancellation_request'] as const) {
        const id = byKind.get(kind)?.customerId ?? '';
        const page = await getTimeline(tx, id, { types: [kind], limit: 10 });
        expect(page.interactions.length).toBeGreaterThan(0);
      }

      // What the customer's value profile shows: a high spender (top fifth) the model thinks probably lost.
      const slipping = byKind.get('slipping_away');
      const profile = await findValueProfile(tx, first.workspace.id, slipping?.customerId ?? '');
      expect(profile?.pAlive).toBeLessThan(0.5);
      expect(profile?.frequency).toBeGreaterThanOrEqual(1);
      const { rows } = await sql<{ share: number }>`
        SELECT avg((total_spend > ${profile?.totalSpend ?? 0})::int)::float8 AS share FROM value_profiles`.execute(
        tx,
      );
      expect(rows[0]?.share).toBeLessThan(0.2);
      expect(slipping?.why).toContain(`P(alive) ${profile?.pAlive.toFixed(2)}`);
      expect(slipping?.why).toContain(`${profile?.purchases} purchases`);

      // Recommendations as the policy shapes them: one with its reason at intimacy 3, withheld at 1.
      const levels = async (id: string) =>
        (
          await sql<{
            intimacy_level: number;
          }>`SELECT intimacy_level FROM customers WHERE id = ${id}`.execute(tx)
        ).rows[0]?.intimacy_level;
      const shown = byKind.get('recommendation');
      const withheld = byKind.get('recommendation_withheld');
      expect(await levels(shown?.customerId ?? '')).toBe(3);
      expect(shown?.why).toMatch(/recommended ".+" \((collective|own history)\): "[A-Z].*\."/);
      expect(shown?.recommendationsUrl).toBe(`${BASE_URL}/v1/customers/${shown?.customerId}/recommendations`);
      expect(await levels(withheld?.customerId ?? '')).toBe(1);
      expect(withheld?.why).toContain('recommendations.collective INTIMACY_TOO_LOW');
    });
  });

  it('creates nothing on a second run and returns the same key', { timeout: 240_000 }, async () => {
    const second = await demo();
    expect(second.workspace).toEqual({ ...first.workspace, created: false });
    expect(second.created).toEqual({ customers: 0, interactions: 0 });
    expect(second.existing).toEqual({
      customers: expected.sourceRecords,
      interactions: expected.interactions,
    });
    expect(second.apiKey).toBe(first.apiKey);
    expect(second.highlights.map((h) => h.customerId)).toEqual(first.highlights.map((h) => h.customerId));
    expect(await stored(first.workspace.id)).toEqual({
      customers: expected.sourceRecords,
      interactions: expected.interactions,
    });
  });

  it('issues and writes a new admin key when the key file is gone', { timeout: 240_000 }, async () => {
    rmSync(join(dataDir, 'demo-key'));
    const again = await demo();
    expect(again.apiKey).not.toBe(first.apiKey);
    expect(existsSync(join(dataDir, 'demo-key'))).toBe(true);
    expect(readFileSync(join(dataDir, 'demo-key'), 'utf8').trim()).toBe(again.apiKey);
    const actor = await new KeyVerifier(database.db).authenticate(again.apiKey);
    expect(actor?.workspaceId).toBe(first.workspace.id);
    expect(again.created).toEqual({ customers: 0, interactions: 0 });
  });

  it('builds the world to end on a given day and scores value as of it', { timeout: 240_000 }, async () => {
    const name = uniqueName('demo-asof');
    const summary = await runDemo(database, {
      customers: 60,
      seed: SEED,
      dataDir,
      baseUrl: BASE_URL,
      workspaceName: name,
      asOf: '2026-01-01',
    });
    expect(summary.world.end).toBe('2026-01-01');
    const clock = '2026-01-01T00:00:00.000Z';
    expect(summary.value.asOf).toBe(clock);
    await inWorkspace(database.db, summary.workspace.id, async (tx) => {
      expect((await getWorkspace(tx, summary.workspace.id)).settings.valueAsOf).toBe(clock);
      const { rows } = await sql<{
        last: string;
      }>`SELECT max(occurred_at)::text AS last FROM interactions`.execute(tx);
      expect(Date.parse(rows[0]?.last ?? '')).toBeLessThan(Date.parse(clock));
    });
    await expect(
      runDemo(database, {
        customers: 60,
        dataDir,
        baseUrl: BASE_URL,
        workspaceName: name,
        asOf: '2999-01-01',
      }),
    ).rejects.toMatchObject({ code: 'DEMO_OPTIONS_INVALID' });
  });

  it('refuses a world size it cannot make, with a stable code', async () => {
    await expect(
      runDemo(database, { customers: 0, dataDir, baseUrl: BASE_URL, workspaceName }),
    ).rejects.toMatchObject({ code: 'DEMO_OPTIONS_INVALID' });
  });
});

describe(`cornerstore demo command (${ENGINE})`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-demo-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON summary and writes the key file with mode 0600', { timeout: 240_000 }, async () => {
    const env = {
      ...process.env,
      CORNERSTORE_DATA_DIR: dir,
      DATABASE_URL: testDatabaseUrl() ?? '',
      PORT: '3123',
      HOST: '127.0.0.1',
    };
    const { stdout, stderr } = await run(process.execPath, [BIN, 'demo', '--customers', '50', '--json'], {
      env,
      timeout: 200_000,
    });
    const body = JSON.parse(stdout);
    expect(body).toMatchObject({
      workspace: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'demo' },
      apiKey: expect.stringMatching(/^cs_/),
      url: 'http://127.0.0.1:3123',
      created: { customers: expect.any(Number), interactions: expect.any(Number) },
      existing: { customers: expect.any(Number), interactions: expect.any(Number) },
    });
    expect(body.created.customers + body.existing.customers).toBeGreaterThan(50);
    expect(body.created.interactions + body.existing.interactions).toBeGreaterThan(0);
    expect(body.highlights.length).toBeGreaterThan(0);
    for (const h of body.highlights) {
      expect(h).toMatchObject({
        kind: expect.any(String),
        customerId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: expect.any(String),
        why: expect.any(String),
      });
    }
    expect(stderr).toMatch(/Customers: \d+ source records/);
    const keyFile = join(dir, 'demo-key');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(body.apiKey);
    if (process.platform !== 'win32') expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('rejects a bad --customers or --as-of value with a stable code and exit code 2', {
    timeout: 120_000,
  }, async () => {
    const env = { ...process.env, CORNERSTORE_DATA_DIR: dir, DATABASE_URL: testDatabaseUrl() ?? '' };
    const failure = await run(process.execPath, [BIN, 'demo', '--customers', 'lots', '--json'], {
      env,
      timeout: 100_000,
    }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(JSON.parse(failure?.stderr ?? '{}').error.code).toBe('DEMO_OPTIONS_INVALID');
    const badDay = await run(process.execPath, [BIN, 'demo', '--as-of', '2025-02-30', '--json'], {
      env,
      timeout: 100_000,
    }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(badDay?.code).toBe(2);
    expect(
      JSON.parse(badDay?.stderr?.split('\n').find((l) => l.startsWith('{')) ?? '{}').error,
    ).toMatchObject({
      code: 'DEMO_OPTIONS_INVALID',
      details: { errors: [{ path: 'asOf' }] },
    });
  });
});
