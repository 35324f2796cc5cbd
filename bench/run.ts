import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { bindAuditKeys, loadAuditKeys } from '../src/audit/index.ts';
import { type Database, inWorkspace, migrateToLatest, openDatabase } from '../src/db/index.ts';
import { planImport, runImport } from '../src/imports/index.ts';
import { newId } from '../src/shared/ids.ts';
import { generateWorld, type SyntheticInteraction } from '../src/synthetic/index.ts';
import { createApiKey, createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { benchDispatcher } from './backbone.ts';
import { benchFacts } from './facts.ts';
import { benchIdentity } from './identity.ts';
import { benchDemoIdentity } from './identity-demo.ts';
import {
  driveLoad,
  type LoadResult,
  peakRssMiB,
  percentile,
  ROOT,
  startProcess,
  stopProcess,
  timed,
} from './lib.ts';
import { benchBacktest, benchEngine } from './moments.ts';
import { benchNatsIngest } from './nats.ts';
import { benchPrivacy } from './privacy.ts';
import { benchRecommend } from './recommend.ts';
import { benchRefitReads } from './refit-reads.ts';
import { benchRelationships } from './relationships.ts';
import { type Figure, writeReport } from './report.ts';
import { benchSegments } from './segments.ts';
import { benchValue } from './value.ts';
import { benchWebhooks } from './webhooks.ts';

/**
 * `npm run bench [-- --scale smoke|small|large] [--engine embedded] [--only import,http,nats,timeline,customer360,identity,identity-demo,value,segments,refit-reads,dispatch,webhooks,facts,relationships,recommend,privacy,moments]`: the workloads of the
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
    engine: { type: 'string', default: 'postgres' },
  },
});
const scaleName = args.scale === 'large' || args.scale === 'smoke' ? args.scale : 'small';
const scale = SCALES[scaleName];
const only = new Set(
  (
    args.only ??
    'import,http,nats,timeline,customer360,identity,identity-demo,value,segments,refit-reads,dispatch,webhooks,facts,relationships,recommend,privacy,moments'
  ).split(','),
);
/** `--engine embedded`: the product and every baseline on the embedded engine (PGlite), in a data directory. */
const embedded = args.engine === 'embedded';
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const workDir = join(tmpdir(), `cornerstore-bench-${process.pid}`);
mkdirSync(workDir, { recursive: true });

const figures: Figure[] = [];
function record(measured: Figure): void {
  const figure = embedded ? { ...measured, workload: `${measured.workload} [embedded engine]` } : measured;
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
/** Runs one statement with parameters on the baseline's engine. */
type Execute = (text: string, params: unknown[]) => Promise<unknown>;

/** The raw-INSERT baseline on a PostgreSQL server, through its own connection. */
async function rawInsertOnServer(url: string, file: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await rawInsert((text, params) => client.query(text, params), file);
  } finally {
    await client.end();
  }
}

async function rawInsert(execute: Execute, file: string): Promise<number> {
  await execute(
    `CREATE TABLE bench_raw_interactions (
      id uuid PRIMARY KEY, customer_ref text NOT NULL, type text NOT NULL, channel text NOT NULL,
      initiated_by text NOT NULL, occurred_at timestamptz NOT NULL, source text NOT NULL, external_id text NOT NULL,
      amount numeric(18, 4), currency char(3), text text, line_items jsonb, properties jsonb NOT NULL)`,
    [],
  );
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
    await execute(`INSERT INTO bench_raw_interactions VALUES ${tuples.join(',')}`, rows);
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
  return count;
}

async function benchImport(
  database: Database,
  baselineInsert: (file: string) => Promise<number>,
): Promise<string> {
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

  const baseline = await timed(() => baselineInsert(file));
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

const ENGINE_NAME = embedded ? 'embedded' : 'PostgreSQL';

/** The product's server on the bench database (a server's URL, or the embedded data directory). */
async function startServer(target: {
  url?: string;
  dataDir?: string;
}): Promise<{ base: string; stop: () => Promise<void>; pid: number }> {
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
      DATABASE_URL: target.url ?? '',
      PORT: '0',
      LOG_LEVEL: 'warn',
      CORNERSTORE_RATE_LIMIT: '100000000',
      CORNERSTORE_DATA_DIR: target.dataDir ?? join(workDir, 'server'),
    },
    /listening on (http:\/\/[^\s]+)/,
  );
  return { base: match[1] ?? '', pid: child.pid ?? 0, stop: () => stopProcess(child) };
}

/** The baseline server's hand-written queries, on the same engine as the product's run. */
function startBaselineServer(target: { url?: string; dataDir?: string }, workspaceId: string) {
  return startProcess(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'baseline-server.ts')],
    {
      ...process.env,
      DATABASE_URL: target.url ?? '',
      BENCH_DATA_DIR: target.dataDir ?? '',
      BENCH_WORKSPACE_ID: workspaceId,
    },
    /listening on (http:\/\/[^\s]+)/,
  );
}

interface HttpIngest {
  apiKey: string;
  bodies: string[];
  total: number;
}

const HTTP_BATCH = 5000;

/** The workspace, key and request bodies of the HTTP ingest, made before the server starts. */
async function prepareHttpIngest(database: Database): Promise<HttpIngest> {
  const { apiKey } = await createWorkspace(database.db, { name: 'bench-http' });
  const world = generateWorld({ seed: 'bench-http', customers: Math.ceil(scale.httpEvents / 8) });
  const bodies: string[] = [];
  let batch: SyntheticInteraction[] = [];
  let total = 0;
  for (const interaction of world.interactions()) {
    if (total >= scale.httpEvents) break;
    batch.push(interaction);
    total++;
    if (batch.length === HTTP_BATCH) {
      bodies.push(JSON.stringify({ interactions: batch }));
      batch = [];
    }
  }
  if (batch.length > 0) bodies.push(JSON.stringify({ interactions: batch }));
  return { apiKey, bodies, total };
}

async function benchHttpIngest(ingest: HttpIngest, base: string, serverPid: number): Promise<number> {
  process.stdout.write(
    `HTTP batch ingest: ${scale.httpEvents.toLocaleString()} events in batches of ${HTTP_BATCH}\n`,
  );
  let rejected = 0;
  const clients = Number(process.env.BENCH_HTTP_CLIENTS ?? 4);
  const load = await driveLoad({
    concurrency: clients,
    count: ingest.bodies.length,
    maxSeconds: 600,
    send: async (i) => {
      const res = await fetch(`${base}/v1/interactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest.apiKey}`, 'content-type': 'application/json' },
        body: ingest.bodies[i] ?? '',
      });
      const body = (await res.json()) as { counts?: { rejected: number } };
      rejected += body.counts?.rejected ?? 0;
      return res.ok;
    },
  });
  const perSecond = Math.round(ingest.total / load.seconds);
  record({
    workload: `HTTP batch ingest (${clients} clients, 5,000 events a request, ${ENGINE_NAME})`,
    value: perSecond,
    unit: 'events/s',
    detail: `${ingest.total} events, ${load.requests} requests, ${load.errors} failed requests, ${rejected} rejected items, ${load.seconds.toFixed(1)} s; request p50 ${percentile(load.latenciesMs, 50).toFixed(0)} ms`,
    target: embedded ? 'reported (target on PostgreSQL)' : '≥ 25,000 events/s',
    peakRssMiB: peakRssMiB(serverPid),
  });
  return perSecond;
}

/** A read workload: the product's route against the baseline server's hand-written query of the same data. */
interface ReadWorkload {
  /** What is read, for the progress line. */
  title: string;
  cornerstorePath: (id: string) => string;
  baselinePath: (id: string) => string;
  baselineName: string;
  cornerstoreName: string;
  target: string;
}

const READS: Record<'timeline' | 'customer360', ReadWorkload> = {
  timeline: {
    title: 'timeline read',
    cornerstorePath: (id) => `/v1/customers/${id}/timeline?limit=50&purpose=service`,
    baselinePath: (id) => `/timeline/${id}`,
    baselineName: 'timeline read baseline: hand-written SQL on a bare HTTP server (32 clients)',
    cornerstoreName:
      'timeline read, last 50 interactions (API key auth, row-level security, purpose decision, audit, 32 clients)',
    target: 'p99 ≤ 2× baseline',
  },
  customer360: {
    title: 'customer 360 read',
    cornerstorePath: (id) => `/v1/customers/${id}/360?purpose=service`,
    baselinePath: (id) => `/360/${id}`,
    baselineName: 'customer 360 baseline: one hand-written SQL statement on a bare HTTP server (32 clients)',
    cornerstoreName:
      'customer 360 (profile, value, consents, 50 interactions, segments; auth, row-level security, decision, audit, 32 clients)',
    target: 'p99 ≤ 1.5× baseline',
  },
};

/** The customers read and the agent key reading them, made before the servers start. */
async function prepareReads(
  database: Database,
  workspaceId: string,
): Promise<{ ids: string[]; apiKey: string }> {
  const ids = await inWorkspace(database.db, workspaceId, async (tx) =>
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
  return { ids, apiKey };
}

/** Drives 32 clients at one server after a warm-up; the latencies of the counted requests. */
async function measureRead(
  ids: readonly string[],
  url: (id: string) => string,
  headers: Record<string, string>,
): Promise<LoadResult> {
  const pick = (i: number) => ids[(i * 7919) % ids.length] ?? '';
  const send = async (i: number) => {
    const res = await fetch(url(pick(i)), { headers });
    await res.arrayBuffer();
    return res.ok;
  };
  await driveLoad({ concurrency: 32, count: 2000, maxSeconds: 60, send });
  return driveLoad({ concurrency: 32, count: scale.timelineRequests, maxSeconds: 180, send });
}

function recordRead(
  workload: ReadWorkload,
  base: { load: LoadResult; pid: number },
  cs: { load: LoadResult; pid: number },
): void {
  const baseP99 = percentile(base.load.latenciesMs, 99);
  const detail = (load: LoadResult) =>
    `p50 ${percentile(load.latenciesMs, 50).toFixed(2)} ms, ${Math.round(load.requests / load.seconds)} req/s, ${load.errors} errors`;
  record({
    workload: workload.baselineName,
    value: Number(baseP99.toFixed(2)),
    unit: 'ms p99',
    detail: detail(base.load),
    peakRssMiB: peakRssMiB(base.pid),
  });
  const csP99 = percentile(cs.load.latenciesMs, 99);
  record({
    workload: workload.cornerstoreName,
    value: Number(csP99.toFixed(2)),
    unit: 'ms p99',
    detail: detail(cs.load),
    ratio: csP99 / baseP99,
    target: workload.target,
    peakRssMiB: peakRssMiB(cs.pid),
  });
}

/** On a server both run at once: the baseline first, then the product, each against the same database. */
async function benchRead(
  database: Database,
  url: string,
  workspaceId: string,
  cornerstore: { base: string; pid: number },
  workload: ReadWorkload,
): Promise<void> {
  process.stdout.write(
    `${workload.title}: ${scale.timelineRequests.toLocaleString()} requests, 32 concurrent clients\n`,
  );
  const { ids, apiKey } = await prepareReads(database, workspaceId);
  const baseline = await startBaselineServer({ url }, workspaceId);
  try {
    const baselineBase = baseline.match[1] ?? '';
    const base = await measureRead(ids, (id) => `${baselineBase}${workload.baselinePath(id)}`, {});
    const cs = await measureRead(ids, (id) => `${cornerstore.base}${workload.cornerstorePath(id)}`, {
      authorization: `Bearer ${apiKey}`,
    });
    recordRead(workload, { load: base, pid: baseline.child.pid ?? 0 }, { load: cs, pid: cornerstore.pid });
  } finally {
    await stopProcess(baseline.child);
  }
}

/**
 * `--engine embedded`: the embedded engine holds its data directory in one process at a time, so the
 * bench prepares everything, closes its database, then runs the product's server and, after it, the
 * baseline server on the same directory.
 */
async function mainEmbedded(reads: readonly ('timeline' | 'customer360')[]): Promise<void> {
  const dataDir = join(workDir, 'embedded');
  const database = await openDatabase({ dataDir });
  let importWorkspace: string | undefined;
  let ingest: HttpIngest | undefined;
  let readers: { ids: string[]; apiKey: string } | undefined;
  try {
    bindAuditKeys(database.db, loadAuditKeys(dataDir));
    await migrateToLatest(database.db);
    if (only.has('import') || reads.length > 0) {
      importWorkspace = await benchImport(database, (file) =>
        rawInsert((text, params) => database.db.executeQuery(CompiledQuery.raw(text, params)), file),
      );
    }
    if (only.has('http')) ingest = await prepareHttpIngest(database);
    if (importWorkspace && reads.length > 0) readers = await prepareReads(database, importWorkspace);
  } finally {
    await database.close();
  }
  const results = new Map<string, { load: LoadResult; pid: number }>();
  if (ingest || readers) {
    const server = await startServer({ dataDir });
    try {
      if (ingest) await benchHttpIngest(ingest, server.base, server.pid);
      for (const name of reads) {
        if (!readers) break;
        process.stdout.write(
          `${READS[name].title}: ${scale.timelineRequests.toLocaleString()} requests, 32 clients\n`,
        );
        const load = await measureRead(
          readers.ids,
          (id) => `${server.base}${READS[name].cornerstorePath(id)}`,
          {
            authorization: `Bearer ${readers.apiKey}`,
          },
        );
        results.set(name, { load, pid: server.pid });
      }
    } finally {
      await server.stop();
    }
  }
  if (readers && importWorkspace && reads.length > 0) {
    const baseline = await startBaselineServer({ dataDir }, importWorkspace);
    try {
      const baselineBase = baseline.match[1] ?? '';
      for (const name of reads) {
        const load = await measureRead(
          readers.ids,
          (id) => `${baselineBase}${READS[name].baselinePath(id)}`,
          {},
        );
        const cs = results.get(name);
        if (cs) recordRead(READS[name], { load, pid: baseline.child.pid ?? 0 }, cs);
      }
    } finally {
      await stopProcess(baseline.child);
    }
  }
}

async function main(): Promise<void> {
  const started = new Date();
  process.stdout.write(
    `Cornerstore benchmarks, scale ${scaleName}, ${ENGINE_NAME}, ${started.toISOString()}\n`,
  );
  const reads = (['timeline', 'customer360'] as const).filter((name) => only.has(name));
  if (only.has('refit-reads')) {
    // The embedded engine whatever --engine says: it is the one whose server runs the refit itself.
    process.stdout.write('reads during a value refit: the embedded server reading while it refits\n');
    for (const figure of await benchRefitReads(workDir, scaleName)) figures.push(figure);
  }
  if (embedded) {
    try {
      await mainEmbedded(reads);
    } finally {
      if (!args['keep-files']) rmSync(workDir, { recursive: true, force: true });
    }
  } else {
    await mainOnServer(reads);
  }
  // A run on the embedded engine never replaces the server's figures in BENCHMARKS.md.
  const complete = args.only === undefined && !embedded;
  const path = writeReport(
    { started, scale: scaleName, scaleDetail: scale, figures },
    { markdown: complete },
  );
  process.stdout.write(
    `results written to ${path}${complete ? ' and BENCHMARKS.md' : ' (partial or embedded run: BENCHMARKS.md unchanged)'}\n`,
  );
}

async function mainOnServer(reads: readonly ('timeline' | 'customer360')[]): Promise<void> {
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
    if (only.has('recommend')) {
      process.stdout.write('recommend: training (development file, synthetic world) and serving\n');
      for (const figure of await benchRecommend(database, scaleName, ROOT)) record(figure);
    }
    if (only.has('dispatch')) {
      process.stdout.write('event backbone: dispatcher throughput with a no-op subscriber\n');
      for (const figure of await benchDispatcher(database, scaleName)) record(figure);
    }
    if (only.has('segments')) {
      process.stdout.write('segment count: a saved filter against hand-written SQL of the same filter\n');
      for (const figure of await benchSegments(database, bench.url, scaleName)) record(figure);
    }
    if (only.has('webhooks')) {
      process.stdout.write('webhook delivery: signed POSTs to a local receiver, logged and disclosed\n');
      for (const figure of await benchWebhooks(database, scaleName, join(workDir, 'audit-keys')))
        record(figure);
    }
    if (only.has('privacy')) {
      process.stdout.write(
        'privacy: erasure and access archive of a customer, one rectification to 1,000 webhooks\n',
      );
      for (const figure of await benchPrivacy(database, scaleName)) record(figure);
    }
    if (only.has('facts')) {
      process.stdout.write(
        'facts: derivation over every interaction, and prefill against hand-written SQL\n',
      );
      const server = await startServer({ url: bench.url });
      try {
        for (const figure of await benchFacts(database, bench.url, scaleName, server)) record(figure);
      } finally {
        await server.stop();
      }
    }
    if (only.has('relationships')) {
      process.stdout.write('relationships: full recomputation and one customer after an event\n');
      for (const figure of await benchRelationships(database, scaleName)) record(figure);
    }
    if (only.has('moments')) {
      process.stdout.write('moments: the engine against bare indexed closures, and the backtest\n');
      for (const figure of benchEngine(scaleName)) record(figure);
      for (const figure of await benchBacktest(database, scaleName)) record(figure);
    }
    let importWorkspace: string | undefined;
    if (only.has('import') || reads.length > 0) {
      importWorkspace = await benchImport(database, (file) => rawInsertOnServer(bench.url, file));
    }
    if (only.has('http') || only.has('nats') || reads.length > 0) {
      // The NATS ingest is measured against the HTTP batch ingest of the same run.
      const ingest = only.has('http') || only.has('nats') ? await prepareHttpIngest(database) : undefined;
      const server = await startServer({ url: bench.url });
      let httpPerSecond: number | undefined;
      try {
        if (ingest) httpPerSecond = await benchHttpIngest(ingest, server.base, server.pid);
        for (const name of reads) {
          if (importWorkspace) await benchRead(database, bench.url, importWorkspace, server, READS[name]);
        }
      } finally {
        await server.stop();
      }
      if (only.has('nats')) {
        process.stdout.write(
          `NATS JetStream ingest: ${scale.httpEvents.toLocaleString()} events, two consumers\n`,
        );
        for (const figure of await benchNatsIngest(database, bench.url, scale.httpEvents, httpPerSecond)) {
          record(figure);
        }
      }
    }
  } finally {
    await database.close();
    await bench.drop();
    if (!args['keep-files']) rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
