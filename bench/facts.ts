import { join } from 'node:path';
import { sql } from 'kysely';
import { type Database, inWorkspace } from '../src/db/index.ts';
import { deriveAllFacts } from '../src/governance/index.ts';
import { createApiKey, createWorkspace } from '../src/workspaces/index.ts';
import { driveLoad, peakRssMiB, percentile, ROOT, startProcess, stopProcess, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * The facts targets of issue 13. (1) Deriving behavioural facts (receipt, payment method, store,
 * weekday, delivery window, channel) over every interaction of a workspace in one scan, timed through
 * `deriveAllFacts` — counting, the pure derivation, the memory rules per customer, the bulk write and
 * its audit event. (2) Prefill of a billing form through the API (auth, row-level security, the purpose
 * decision on every field and fact, audit) against the same values read by hand-written SQL on a bare
 * HTTP server, 32 clients, p99 of each in the same run. Customers, addresses, interactions and a
 * declared language fact per customer are made directly by SQL (benchmark setup, not the ingest path).
 */

const INTERACTIONS = { smoke: 100_000, small: 1_000_000, large: 1_000_000 } as const;
const PER_CUSTOMER = 10;
const PREFILL_REQUESTS = { smoke: 2_000, small: 20_000, large: 20_000 } as const;
const FIELDS = ['givenName', 'familyName', 'address', 'language', 'birthday'];

export async function seedForProfile(
  database: Database,
  workspaceId: string,
  interactions: number,
): Promise<number> {
  const db = database.db;
  const customers = Math.ceil(interactions / PER_CUSTOMER);
  const id = sql.raw(`('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid`);
  await sql`
    INSERT INTO customers (workspace_id, id, given_name, family_name, language, birth_date, intimacy_level)
    SELECT ${workspaceId}::uuid, ${id}, 'Given' || g, 'Family' || g, (ARRAY['en', 'es', 'pt', 'fr'])[1 + g % 4],
           DATE '1950-01-01' + (g % 20000), 1 + g % 4
    FROM generate_series(1, ${customers}) g`.execute(db);
  await sql`
    INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, verified, source)
    SELECT ${workspaceId}::uuid, gen_random_uuid(), ${id}, 'address',
           jsonb_build_object('line1', g || ' High Street', 'city', 'Leeds', 'postcode', 'LS1 ' || (g % 9) || 'AB',
                              'country', 'GB')::text, g % 2 = 0, 'bench'
    FROM generate_series(1, ${customers}) g`.execute(db);
  await sql`
    INSERT INTO facts (workspace_id, id, customer_id, fact_id, key, category, value, source_kind, status, source,
                       captured_by, captured_at, confidence, min_intimacy)
    SELECT ${workspaceId}::uuid, f, ${id}, f, 'language', 'preference.language',
           to_jsonb((ARRAY['es', 'pt', 'de'])[1 + g % 3]), 'declared', 'active', 'atm', 'bench', now(), 1, 1
    FROM (SELECT g, gen_random_uuid() AS f FROM generate_series(1, ${customers}) g) x`.execute(db);
  // Per customer: 7 purchases (receipt and payment habits held 9 times in 10), 2 shipments, 1 call.
  const inserted = await sql`
    INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source,
      external_id, amount, currency, properties)
    SELECT ${workspaceId}::uuid, gen_random_uuid(), ${id},
           CASE WHEN k < 7 THEN 'purchase' WHEN k < 9 THEN 'shipment' ELSE 'call' END,
           CASE WHEN k < 7 THEN (ARRAY['store', 'web'])[1 + (g / 3) % 2] WHEN k < 9 THEN 'delivery' ELSE 'phone' END,
           CASE WHEN k IN (7, 8) THEN 'company' ELSE 'customer' END,
           now() - make_interval(days => ((g * 31 + k * 97) % 300)::int, hours => ((g + k) % 12)::int),
           'bench', g || '-' || k,
           CASE WHEN k < 7 THEN 10 + (g + k) % 90 END, CASE WHEN k < 7 THEN 'EUR' END,
           CASE WHEN k < 7 THEN jsonb_build_object(
             'receipt', CASE WHEN (g + k) % 10 = 0 THEN 'email' ELSE (ARRAY['paper', 'email', 'none'])[1 + g % 3] END,
             'paymentMethod', (ARRAY['card', 'cash', 'mobile'])[1 + (g / 7) % 3],
             'storeId', 'S-' || (g % 40)) ELSE '{}'::jsonb END
    FROM generate_series(1, ${customers}) g, generate_series(0, ${PER_CUSTOMER - 1}) k`.execute(db);
  for (const table of ['customers', 'contact_points', 'facts', 'interactions']) {
    await sql`ANALYZE ${sql.table(table)}`.execute(db);
  }
  return Number(inserted.numAffectedRows ?? 0);
}

const BASELINE_SQL = `
  SELECT c.given_name, c.family_name, c.language,
         (SELECT cp.value FROM contact_points cp
           WHERE cp.workspace_id = c.workspace_id AND cp.customer_id = c.id AND cp.kind = 'address'
           ORDER BY cp.created_at LIMIT 1) AS address,
         (SELECT f.value FROM facts f
           WHERE f.workspace_id = c.workspace_id AND f.customer_id = c.id AND f.key = 'language'
             AND f.superseded_at IS NULL AND f.status IN ('active', 'confirmed')
           ORDER BY f.created_at DESC LIMIT 1) AS language_fact
  FROM customers c WHERE c.workspace_id = $1 AND c.id = $2`;

/** Derivation over the workspace, then prefill p99 through the API against hand-written SQL. */
export async function benchFacts(
  database: Database,
  url: string,
  scaleName: 'smoke' | 'small' | 'large',
  server: { base: string; pid: number },
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const { workspace } = await createWorkspace(database.db, { name: 'bench-facts' });
  const stored = await seedForProfile(database, workspace.id, INTERACTIONS[scaleName]);
  const customers = Math.ceil(INTERACTIONS[scaleName] / PER_CUSTOMER);
  const derived = await timed(() =>
    inWorkspace(database.db, workspace.id, (tx) => deriveAllFacts(tx, workspace.id)),
  );
  figures.push({
    workload: `derive behavioural facts over ${stored.toLocaleString()} interactions of ${customers.toLocaleString()} customers (one scan, memory rules, bulk write, audit)`,
    value: Number(derived.seconds.toFixed(1)),
    unit: 's',
    detail: `${derived.value.created.toLocaleString()} facts derived, ${derived.value.customerIds.length.toLocaleString()} customers changed`,
    target: '< 60 s for 1M interactions',
    peakRssMiB: peakRssMiB(),
  });

  const { apiKey } = await inWorkspace(database.db, workspace.id, (tx) =>
    createApiKey(tx, workspace.id, { role: 'agent', name: 'bench' }),
  );
  const baseline = await startProcess(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'baseline-server.ts')],
    { ...process.env, DATABASE_URL: url, BENCH_WORKSPACE_ID: workspace.id, BENCH_PREFILL_SQL: BASELINE_SQL },
    /listening on (http:\/\/[^\s]+)/,
  );
  const baselineBase = baseline.match[1] ?? '';
  const idOf = (i: number) =>
    `00000000-0000-4000-8000-${(1 + ((i * 7919) % customers)).toString(16).padStart(12, '0')}`;
  const body = JSON.stringify({ fields: FIELDS, purpose: 'billing' });
  const viaApi = (i: number) =>
    fetch(`${server.base}/v1/customers/${idOf(i)}/prefill`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body,
    });
  const viaSql = (i: number) => fetch(`${baselineBase}/prefill/${idOf(i)}`);
  const run = (send: (i: number) => Promise<Response>, count: number) =>
    driveLoad({
      concurrency: 32,
      count,
      maxSeconds: 300,
      send: async (i) => {
        const res = await send(i);
        await res.arrayBuffer();
        return res.ok;
      },
    });
  try {
    await run(viaSql, 1000);
    await run(viaApi, 1000);
    const requests = PREFILL_REQUESTS[scaleName];
    const base = await run(viaSql, requests);
    const api = await run(viaApi, requests);
    const baseP99 = percentile(base.latenciesMs, 99);
    const apiP99 = percentile(api.latenciesMs, 99);
    figures.push({
      workload: 'prefill baseline: the same values by hand-written SQL on a bare HTTP server (32 clients)',
      value: Number(baseP99.toFixed(2)),
      unit: 'ms p99',
      detail: `p50 ${percentile(base.latenciesMs, 50).toFixed(2)} ms, ${Math.round(base.requests / base.seconds)} req/s, ${base.errors} errors`,
      peakRssMiB: peakRssMiB(baseline.child.pid ?? 0),
    });
    figures.push({
      workload:
        'prefill of a billing form (name, address, language, birthday withheld) through the API (auth, row-level security, decision per field and fact, audit, 32 clients)',
      value: Number(apiP99.toFixed(2)),
      unit: 'ms p99',
      detail: `p50 ${percentile(api.latenciesMs, 50).toFixed(2)} ms, ${Math.round(api.requests / api.seconds)} req/s, ${api.errors} errors`,
      ratio: apiP99 / baseP99,
      target: 'p99 ≤ 1.5× baseline',
      peakRssMiB: peakRssMiB(server.pid),
    });
  } finally {
    await stopProcess(baseline.child);
  }
  return figures;
}
