import { sql } from 'kysely';
import pg from 'pg';
import { type Database, migrateToLatest } from '../src/db/index.ts';
import { previewSegmentGoverned, refitValueOfWorkspaces, withAccess } from '../src/governance/index.ts';
import { createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * The segment count target of SPEC §13: a segment count over N customers (1M for small and large,
 * 50,000 for a smoke run) through the product — definition validated and compiled, run in a workspace
 * transaction under an access scope (row-level security, the purpose's subject condition, the audit
 * event) — against the same filter written by hand and sent on a plain connection, median of several
 * alternating runs each. Customers, value profiles and purchases are made directly by SQL
 * (generate_series): this is benchmark setup, not the product's ingest path. The value refit over the
 * same workspace is timed as a second figure.
 */

const CUSTOMERS = { smoke: 50_000, small: 1_000_000, large: 1_000_000 } as const;
const RUNS = 7;
const SEGMENTS = [
  'champions',
  'loyal',
  'potential loyalists',
  'new customers',
  'promising',
  'need attention',
  'about to sleep',
  'at risk',
  "can't lose them",
  'hibernating',
];

/** Champions, loyal or at risk, worth more than 50, with a web or store purchase in the last 90 days. */
const DEFINITION = {
  all: [
    { field: 'rfm.segment', op: 'in', value: ['champions', 'loyal', 'at risk'] },
    { field: 'clv', op: 'gt', value: 50 },
    { aggregate: 'count', type: 'purchase', within: 'P90D', op: 'gte', value: 1 },
  ],
};

const HAND_WRITTEN = `
  SELECT count(*) AS n
  FROM customers c
  JOIN value_profiles vp ON vp.workspace_id = c.workspace_id AND vp.customer_id = c.id
  WHERE c.workspace_id = $1
    AND vp.rfm_segment IN ('champions', 'loyal', 'at risk')
    AND vp.clv > 50
    AND EXISTS (
      SELECT 1 FROM interactions i
      WHERE i.workspace_id = c.workspace_id AND i.customer_id = c.id AND i.type = 'purchase'
        AND i.occurred_at > now() - interval '90 days')`;

async function seed(database: Database, workspaceId: string, customers: number): Promise<number> {
  const db = database.db;
  // Deterministic pseudo-random numbers in [0, 1) from the row number.
  const rand = (salt: number) => sql.raw(`(((g::bigint * ${2_654_435_761 + salt}) % 1000003) / 1000003.0)`);
  await sql`
    INSERT INTO customers (workspace_id, id, language, birth_date, intimacy_level, created_at)
    SELECT ${workspaceId}::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
           (ARRAY['en', 'fr', 'de', 'es', 'pt'])[1 + g % 5], DATE '1950-01-01' + (g % 20000),
           g % 5, now() - make_interval(days => g % 700)
    FROM generate_series(1, ${customers}) g`.execute(db);
  await sql`
    INSERT INTO value_profiles (workspace_id, customer_id, frequency, recency, t, monetary, purchases, total_spend,
      first_purchase_at, last_purchase_at, p_alive, expected_purchases, expected_spend, clv, rfm_r, rfm_f, rfm_m,
      rfm_segment, as_of, updated_at)
    SELECT ${workspaceId}::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
           g % 4, (g % 4) * 3.0, 60.0, 40.0, 1 + g % 4, 40.0 * (1 + g % 4),
           now() - interval '400 days', now() - make_interval(days => g % 300),
           ${rand(1)}, ${rand(2)} * 5, 40.0, ${rand(3)} * 400, 1 + g % 5, 1 + (g / 5) % 5, 1 + (g / 25) % 5,
           (${SEGMENTS}::text[])[1 + (g * 7) % 10], now(), now()
    FROM generate_series(1, ${customers}) g`.execute(db);
  // Purchases for two customers in three, one to four each, over the last 300 days.
  const inserted = await sql`
    INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source,
      external_id, amount, currency)
    SELECT ${workspaceId}::uuid, gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
           'purchase', (ARRAY['web', 'store'])[1 + (g + k) % 2], 'customer',
           now() - make_interval(days => ((g * 31 + k * 97) % 300)::int), 'bench', g || '-' || k, 10 + (g + k) % 90, 'EUR'
    FROM generate_series(1, ${customers}) g, generate_series(0, 3) k
    WHERE g % 3 <> 0 AND k <= g % 4`.execute(db);
  await sql`ANALYZE customers`.execute(db);
  await sql`ANALYZE value_profiles`.execute(db);
  await sql`ANALYZE interactions`.execute(db);
  return Number(inserted.numAffectedRows ?? 0);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Times the product's segment count against the hand-written query, then the value refit. */
export async function benchSegments(
  database: Database,
  serverUrlForBenchDb: string,
  scale: 'smoke' | 'small' | 'large',
): Promise<Figure[]> {
  const customers = CUSTOMERS[scale];
  process.stdout.write(`segment count: ${customers.toLocaleString('en-US')} customers with value profiles\n`);
  await migrateToLatest(database.db);
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-segments-${Date.now().toString(36)}`,
  });
  const seeded = await timed(() => seed(database, workspace.id, customers));
  process.stdout.write(
    `  seeded ${seeded.value.toLocaleString('en-US')} purchases in ${seeded.seconds.toFixed(1)} s\n`,
  );

  const actor = operatorActor(workspace.id);
  const product = () =>
    withAccess(database.db, actor, { purpose: 'analytics', requestId: null, mode: 'read' }, (scope) =>
      previewSegmentGoverned(scope, DEFINITION),
    );
  const client = new pg.Client({ connectionString: serverUrlForBenchDb });
  await client.connect();
  const handWritten = async () => Number((await client.query(HAND_WRITTEN, [workspace.id])).rows[0]?.n);
  const productTimes: number[] = [];
  const baselineTimes: number[] = [];
  let counts: { product: number; baseline: number } = { product: 0, baseline: 0 };
  try {
    // Warm both (plans, buffers), then alternate so neither always runs on a warmer cache.
    counts = { product: (await product()).count, baseline: await handWritten() };
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 === 0 ? ['product', 'baseline'] : ['baseline', 'product'];
      for (const which of order) {
        if (which === 'product') productTimes.push((await timed(product)).seconds);
        else baselineTimes.push((await timed(handWritten)).seconds);
      }
    }
  } finally {
    await client.end();
  }
  const productMs = median(productTimes) * 1000;
  const baselineMs = median(baselineTimes) * 1000;
  const figures: Figure[] = [
    {
      workload: 'segment count baseline: hand-written SQL',
      value: Number(baselineMs.toFixed(1)),
      unit: 'ms',
      detail: `median of ${RUNS}; ${counts.baseline.toLocaleString('en-US')} of ${customers.toLocaleString('en-US')} customers`,
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: 'segment count (compiled filter under an access scope)',
      value: Number(productMs.toFixed(1)),
      unit: 'ms',
      ratio: productMs / baselineMs,
      target: '≤ 1.5× baseline',
      detail:
        `median of ${RUNS}; ${counts.product.toLocaleString('en-US')} customers (same filter; the product also ` +
        'checks merges and the analytics subject condition, runs under row-level security and appends its audit event)',
      peakRssMiB: peakRssMiB(),
    },
  ];
  if (counts.product !== counts.baseline) {
    throw new Error(`segment count differs: product ${counts.product}, hand-written ${counts.baseline}`);
  }

  const refit = await timed(() => refitValueOfWorkspaces(database.db, [workspace.id]));
  const report = refit.value[0]?.refit;
  figures.push({
    workload: 'value refit (aggregate, fit, score, write profiles)',
    value: Number(refit.seconds.toFixed(2)),
    unit: 's',
    detail:
      `${report?.status ?? 'no report'}: ` +
      `${(report?.customers ?? 0).toLocaleString('en-US')} customers with ${seeded.value.toLocaleString('en-US')} purchases; ` +
      `aggregate ${report?.seconds.aggregate} s, fit ${report?.seconds.fit} s, score ${report?.seconds.score} s, ` +
      `write ${report?.seconds.write} s`,
    peakRssMiB: peakRssMiB(),
  });
  return figures;
}
