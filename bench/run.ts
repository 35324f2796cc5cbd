import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { bindAuditKeys, loadAuditKeys } from '../src/audit/index.ts';
import { type Database, inWorkspace, migrateToLatest, openDatabase } from '../src/db/index.ts';
import { planImport, runImport } from '../src/imports/index.ts';
import { newId } from '../src/shared/ids.ts';
import { generateWorld, type SyntheticInteraction } from '../src/synthetic/index.ts';
import { createApiKey, createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { benchDispatcher } from './backbone.ts';
import { benchIdentity } from './identity.ts';
import { benchDemoIdentity } from './identity-demo.ts';
import { driveLoad, peakRssMiB, percentile, ROOT, startProcess, stopProcess, timed } from './lib.ts';
import { type Figure, writeReport } from './report.ts';
import { benchSegments } from './segments.ts';
import { benchValue } from './value.ts';

/**
 * `npm run bench [-- --scale smoke|small|large] [--only import,http,timeline,identity,identity-demo,value,segments,dispatch]`: the workloads of the
 * performance targets that exist so far, each against its baseline in the same run, on the PostgreSQL
 * server named by BENCH_DATABASE_URL (default: the local server), in a database of its own.
 */

const SCALES = {
  smoke: { customers: 5_000, interactions: 50_000, httpEvents: 20_000, timelineRequests: 2_000 },
  small: { customers: 100_000, interactions: 1_000_000, httpEvents: 250_000, timelineRequests: 20_000 },
  large: { customers: 1_000_000, interactions: 10_000_000, httpEvents: 1_000_000, timelineRequests: 50_000 },
} as const;

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: 'small' },
    only: { type: 'string' },
    'keep-files': { type: 'boolean', default: false },
  },
});
const scaleName = args.scale === 'large' || args.scale === 'smoke' ? args.scale : 'small';
const scale = SCALES[scaleName];
const only = new Set(
  (args.only ?? 'import,http,timeline,identity,identity-demo,value,segments,dispatch').split(','),
);
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const workDir = join(tmpdir(), `cornerstore-bench-${process.pid}`);
mkdirSync(workDir, { recursive: true });

const figures: Figure[] = [];
function record(figure: Figure): void {
  figures.push(figure);
  const ratio =
    figure.ratio === undefined ? '' : `  ratio ${figure.ratio.toFixed(2)} (target ${figure.target})`;
  process.stdout.write(`  ${figure.workload}: ${figure.value} ${figure.unit}${ratio}\n`);
}

async function createBenchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cornerstore_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/** Streams the first `limit` interactions of a seeded world to an NDJSON file. */
async function writeInteractions(
  path: string,
  options: { seed: string; customers: number; limit: number },
): Promise<{ rows: number; references: number }> {
  const world = generateWorld({ seed: options.seed, customers: options.customers });
  const out = createWriteStream(path);
  const refs = new Set<string>();
  let rows = 0;
  let buffer = '';
  for (const interaction of world.interactions()) {
    if (rows >= options.limit) break;
    refs.add(JSON.stringify(interaction.customer));
    buffer += `${JSON.stringify(interaction)}\n`;
    rows++;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffer = '';
    }
  }
  out.end(buffer);
  await new Promise<void>((r) => out.once('finish', () => r()));
  return { rows, references: refs.size };
}

/**
 * The baseline of bulk import: read the same file, parse each line, and store the rows with plain
 * multi-row INSERTs (1,000 rows a statement) into a bare table with the same columns and a primary key,
 * without identity linking, validation, checkpoints or row-level security.
 */
async function rawInsert(url: string, file: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`
    CREATE TABLE bench_raw_interactions (
      id uuid PRIMARY KEY, customer_ref text NOT NULL, type text NOT NULL, channel text NOT NULL,
      initiated_by text NOT NULL, occurred_at timestamptz NOT NULL, source text NOT NULL, external_id text NOT NULL,
      amount numeric(18, 4), currency char(3), text text, line_items jsonb, properties jsonb NOT NULL)`);
  const columns = 13;
  let rows: unknown[] = [];
  let count = 0;
  const flush = async () => {
    if (rows.length === 0) return;
    const n = rows.length / columns;
    const tuples: string[] = [];
    for (let i = 0; i < n; i++) {
      tuples.push(`(${Array.from({ length: columns }, (_, j) => `$${i * columns + j + 1}`).join(',')})`);
    }
    await client.query(`INSERT INTO bench_raw_interactions VALUES ${tuples.join(',')}`, rows);
    count += n;
    rows = [];
  };
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line === '') continue;
    const i = JSON.parse(line) as SyntheticInteraction;
    rows.push(
      newId(),
      JSON.stringify(i.customer),
      i.type,
      i.channel,
      i.initiatedBy,
      i.occurredAt,
      i.source,
      i.externalId,
      i.amount ?? null,
      i.currency ?? null,
      i.text ?? null,
      i.lineItems === undefined ? null : JSON.stringify(i.lineItems),
      JSON.stringify(i.properties),
    );
    if (rows.length >= 1000 * columns) await flush();
  }
  await flush();
  await client.end();
  return count;
}

async function benchImport(database: Database, url: string): Promise<string> {
  process.stdout.write(
    `bulk import: ${scale.interactions.toLocaleString()} interactions, ${scale.customers.toLocaleString()} customers\n`,
  );
  const file = join(workDir, 'interactions.ndjson');
  const generated = await timed(() =>
    writeInteractions(file, { seed: 'bench-import', customers: scale.customers, limit: scale.interactions }),
  );
  process.stdout.write(
    `  generated ${generated.value.rows.toLocaleString()} rows (${generated.value.references.toLocaleString()} distinct customer references) in ${generated.seconds.toFixed(1)} s\n`,
  );

  const baseline = await timed(() => rawInsert(url, file));
  const baselineRate = baseline.value / baseline.seconds;
  record({
    workload: 'bulk import baseline: raw multi-row INSERT into a bare table',
    value: Math.round(baselineRate),
    unit: 'rows/s',
    detail: `${baseline.value} rows in ${baseline.seconds.toFixed(1)} s`,
    peakRssMiB: peakRssMiB(),
  });

  const { workspace } = await createWorkspace(database.db, { name: 'bench-import' });
  const plan = await planImport({ kind: 'interactions', file, rejects: join(workDir, 'rejects.ndjson') });
  const imported = await timed(() => runImport(database.db, operatorActor(workspace.id), plan));
  const rate = imported.value.rows / imported.seconds;
  record({
    workload: 'bulk import (identity linking, validation, checkpoints, row-level security)',
    value: Math.round(rate),
    unit: 'rows/s',
    detail: `${imported.value.created} created, ${imported.value.duplicate} duplicate, ${imported.value.rejected} rejected in ${imported.seconds.toFixed(1)} s`,
    ratio: rate / baselineRate,
    target: '≥ 0.50 of baseline',
    peakRssMiB: peakRssMiB(),
  });
  return workspace.id;
}

async function startServer(url: string): Promise<{ base: string; stop: () => Promise<void>; pid: number }> {
  const { child, match } = await startProcess(
    process.execPath,
    // BENCH_SERVER_NODE_ARGS passes flags to the server's Node.js, e.g. --cpu-prof to profile it.
    [
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(ROOT, 'bin', 'cornerstore.js'),
      'serve',
    ],
    {
      ...process.env,
      DATABASE_URL: url,
      PORT: '0',
      LOG_LEVEL: 'warn',
      CORNERSTORE_RATE_LIMIT: '100000000',
      CORNERSTORE_DATA_DIR: join(workDir, 'server'),
    },
    /listening on (http:\/\/[^\s]+)/,
  );
  return { base: match[1] ?? '', pid: child.pid ?? 0, stop: () => stopProcess(child) };
}

async function benchHttpIngest(database: Database, base: string, serverPid: number): Promise<void> {
  const batchSize = 5000;
  process.stdout.write(
    `HTTP batch ingest: ${scale.httpEvents.toLocaleString()} events in batches of ${batchSize}\n`,
  );
  const { workspace, apiKey } = await createWorkspace(database.db, { name: 'bench-http' });
  void workspace;
  const world = generateWorld({ seed: 'bench-http', customers: Math.ceil(scale.httpEvents / 8) });
  const bodies: string[] = [];
  let batch: SyntheticInteraction[] = [];
  let total = 0;
  for (const interaction of world.interactions()) {
    if (total >= scale.httpEvents) break;
    batch.push(interaction);
    total++;
    if (batch.length === batchSize) {
      bodies.push(JSON.stringify({ interactions: batch }));
      batch = [];
    }
  }
  if (batch.length > 0) bodies.push(JSON.stringify({ interactions: batch }));
  let rejected = 0;
  const clients = Number(process.env.BENCH_HTTP_CLIENTS ?? 4);
  const load = await driveLoad({
    concurrency: clients,
    count: bodies.length,
    maxSeconds: 600,
    send: async (i) => {
      const res = await fetch(`${base}/v1/interactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: bodies[i] ?? '',
      });
      const body = (await res.json()) as { counts?: { rejected: number } };
      rejected += body.counts?.rejected ?? 0;
      return res.ok;
    },
  });
  record({
    workload: `HTTP batch ingest (${clients} clients, 5,000 events a request, PostgreSQL)`,
    value: Math.round(total / load.seconds),
    unit: 'events/s',
    detail: `${total} events, ${load.requests} requests, ${load.errors} failed requests, ${rejected} rejected items, ${load.seconds.toFixed(1)} s; request p50 ${percentile(load.latenciesMs, 50).toFixed(0)} ms`,
    target: '≥ 25,000 events/s',
    peakRssMiB: peakRssMiB(serverPid),
  });
}

async function benchTimeline(
  database: Database,
  url: string,
  workspaceId: string,
  cornerstore: { base: string; pid: number },
): Promise<void> {
  process.stdout.write(
    `timeline read: ${scale.timelineRequests.toLocaleString()} requests, 32 concurrent clients\n`,
  );
  const customerIds = await inWorkspace(database.db, workspaceId, async (tx) =>
    (
      await sql<{
        id: string;
      }>`SELECT id FROM customers WHERE workspace_id = ${workspaceId} ORDER BY random() LIMIT 5000`.execute(
        tx,
      )
    ).rows.map((r) => r.id),
  );
  const { apiKey } = await inWorkspace(database.db, workspaceId, (tx) =>
    createApiKey(tx, workspaceId, { role: 'agent', name: 'bench' }),
  );
  const baseline = await startProcess(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'baseline-server.ts')],
    { ...process.env, DATABASE_URL: url, BENCH_WORKSPACE_ID: workspaceId },
    /listening on (http:\/\/[^\s]+)/,
  );
  const baselineBase = baseline.match[1] ?? '';
  const pick = (i: number) => customerIds[(i * 7919) % customerIds.length] ?? '';
  const run = (path: (id: string) => string, headers: Record<string, string>) =>
    driveLoad({
      concurrency: 32,
      count: scale.timelineRequests,
      maxSeconds: 180,
      send: async (i) => {
        const res = await fetch(path(pick(i)), { headers });
        await res.arrayBuffer();
        return res.ok;
      },
    });
  try {
    const viaCornerstore = (id: string) =>
      `${cornerstore.base}/v1/customers/${id}/timeline?limit=50&purpose=service`;
    const viaSql = (id: string) => `${baselineBase}/timeline/${id}`;
    const auth = { authorization: `Bearer ${apiKey}` };
    await driveLoad({
      concurrency: 32,
      count: 2000,
      maxSeconds: 60,
      send: async (i) => (await fetch(viaSql(pick(i)))).ok,
    });
    await driveLoad({
      concurrency: 32,
      count: 2000,
      maxSeconds: 60,
      send: async (i) => (await fetch(viaCornerstore(pick(i)), { headers: auth })).ok,
    });
    const base = await run(viaSql, {});
    const cs = await run(viaCornerstore, auth);
    const baseP99 = percentile(base.latenciesMs, 99);
    record({
      workload: 'timeline read baseline: hand-written SQL on a bare HTTP server (32 clients)',
      value: Number(baseP99.toFixed(2)),
      unit: 'ms p99',
      detail: `p50 ${percentile(base.latenciesMs, 50).toFixed(2)} ms, ${Math.round(base.requests / base.seconds)} req/s, ${base.errors} errors`,
      peakRssMiB: peakRssMiB(baseline.child.pid ?? 0),
    });
    const csP99 = percentile(cs.latenciesMs, 99);
    record({
      workload:
        'timeline read, last 50 interactions (API key auth, row-level security, purpose decision, audit, 32 clients)',
      value: Number(csP99.toFixed(2)),
      unit: 'ms p99',
      detail: `p50 ${percentile(cs.latenciesMs, 50).toFixed(2)} ms, ${Math.round(cs.requests / cs.seconds)} req/s, ${cs.errors} errors`,
      ratio: csP99 / baseP99,
      target: 'p99 ≤ 2× baseline',
      peakRssMiB: peakRssMiB(cornerstore.pid),
    });
  } finally {
    await stopProcess(baseline.child);
  }
}

async function main(): Promise<void> {
  const started = new Date();
  process.stdout.write(`Cornerstore benchmarks, scale ${scaleName}, ${started.toISOString()}\n`);
  const bench = await createBenchDatabase();
  const database = await openDatabase({ databaseUrl: bench.url, poolSize: 4 });
  // The in-process import chains its audit events like any command: it needs the audit keys.
  bindAuditKeys(database.db, loadAuditKeys(join(workDir, 'audit-keys')));
  try {
    if (only.has('identity')) {
      process.stdout.write('identity resolution: generated people records, corrupted as real systems do\n');
      for (const figure of await benchIdentity(scaleName)) record(figure);
    }
    if (only.has('identity-demo')) {
      for (const figure of await benchDemoIdentity(scaleName)) record(figure);
    }
    if (only.has('value')) {
      process.stdout.write('customer value: BG/NBD and Gamma-Gamma fits on simulated customers\n');
      for (const figure of await benchValue(scaleName)) record(figure);
    }
    await migrateToLatest(database.db);
    if (only.has('dispatch')) {
      process.stdout.write('event backbone: dispatcher throughput with a no-op subscriber\n');
      for (const figure of await benchDispatcher(database, scaleName)) record(figure);
    }
    if (only.has('segments')) {
      process.stdout.write('segment count: a saved filter against hand-written SQL of the same filter\n');
      for (const figure of await benchSegments(database, bench.url, scaleName)) record(figure);
    }
    let importWorkspace: string | undefined;
    if (only.has('import') || only.has('timeline')) importWorkspace = await benchImport(database, bench.url);
    if (only.has('http') || only.has('timeline')) {
      const server = await startServer(bench.url);
      try {
        if (only.has('http')) await benchHttpIngest(database, server.base, server.pid);
        if (only.has('timeline') && importWorkspace)
          await benchTimeline(database, bench.url, importWorkspace, server);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await database.close();
    await bench.drop();
    if (!args['keep-files']) rmSync(workDir, { recursive: true, force: true });
  }
  const complete = args.only === undefined;
  const path = writeReport(
    { started, scale: scaleName, scaleDetail: scale, figures },
    { markdown: complete },
  );
  process.stdout.write(
    `results written to ${path}${complete ? ' and BENCHMARKS.md' : ' (partial run: BENCHMARKS.md unchanged)'}\n`,
  );
}

await main();
