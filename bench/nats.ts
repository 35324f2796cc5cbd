import { spawn } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Database } from '../src/db/index.ts';
import { publishInteractions } from '../src/streams/index.ts';
import { generateWorld } from '../src/synthetic/index.ts';
import { createWorkspace } from '../src/workspaces/index.ts';
import { peakRssMiB } from './lib.ts';
import type { Figure } from './report.ts';

const NATS_URL = 'nats://127.0.0.1:4222';
const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

function natsReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port: 4222 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface ConsumerSummary {
  messages: number;
  created: number;
  rejected: number;
  firstArrivalAt: string | null;
  lastCommitAt: string | null;
}

/**
 * Streaming ingest from NATS JetStream with two consumer processes (`cornerstore ingest --from`), the
 * same synthetic world and count as the HTTP batch ingest, against that workload's throughput measured
 * in the same run. Publishing is not timed; the figure runs from the first message a consumer received
 * to the last batch acknowledged.
 */
export async function benchNatsIngest(
  database: Database,
  databaseUrl: string,
  events: number,
  httpEventsPerSecond: number | undefined,
): Promise<Figure[]> {
  if (!(await natsReachable())) {
    process.stdout.write('  NATS ingest: skipped, no NATS server on 127.0.0.1:4222\n');
    return [];
  }
  const workspace = await createWorkspace(database.db, { name: 'bench-nats' });
  const world = generateWorld({ seed: 'bench-nats', customers: Math.ceil(events / 8) });
  const items: object[] = [];
  for (const interaction of world.interactions()) {
    if (items.length >= events) break;
    items.push(interaction);
  }
  const tag = Date.now().toString(36);
  const layout = { stream: `BENCH_INGEST_${tag}`, subjectPrefix: `bench.ingest.${tag}`, buckets: 8 };
  await publishInteractions(NATS_URL, layout, items);
  let peak = 0;
  const consumer = (member: number) =>
    new Promise<ConsumerSummary>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'ingest',
          '--from',
          NATS_URL,
          '--workspace',
          workspace.workspace.id,
          '--stream',
          layout.stream,
          '--subject',
          layout.subjectPrefix,
          '--buckets',
          '8',
          '--consumers',
          '2',
          '--member',
          String(member),
          '--batch',
          '5000',
          '--until-idle',
          '3',
          '--json',
        ],
        {
          env: { ...process.env, DATABASE_URL: databaseUrl, CORNERSTORE_JOBS_IN_SERVER: 'false' },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      // The consumer's peak memory, read while it runs (its /proc entry goes with it).
      const watch = setInterval(() => {
        const rss = peakRssMiB(child.pid ?? 0);
        if (Number.isFinite(rss)) peak = Math.max(peak, rss);
      }, 250);
      child.once('exit', () => clearInterval(watch));
      child.once('exit', (code) =>
        code === 0
          ? resolve(JSON.parse(out) as ConsumerSummary)
          : reject(new Error(`consumer exited ${code}`)),
      );
    });
  try {
    const summaries = await Promise.all([consumer(0), consumer(1)]);
    const first = Math.min(...summaries.map((s) => Date.parse(s.firstArrivalAt ?? '')));
    const last = Math.max(...summaries.map((s) => Date.parse(s.lastCommitAt ?? '')));
    const seconds = (last - first) / 1000;
    const stored = summaries.reduce((n, s) => n + s.created, 0);
    const rejected = summaries.reduce((n, s) => n + s.rejected, 0);
    const value = Math.round(stored / seconds);
    return [
      {
        workload:
          'NATS JetStream ingest (2 consumer processes, 8 buckets, 5,000 messages a transaction, PostgreSQL)',
        value,
        unit: 'events/s',
        ...(httpEventsPerSecond ? { ratio: value / httpEventsPerSecond } : {}),
        target: '≥ 0.8× the HTTP batch ingest of the same run',
        peakRssMiB: peak,
        detail: `${stored} stored, ${rejected} rejected of ${items.length} published, ${seconds.toFixed(1)} s from the first message to the last acknowledgement${httpEventsPerSecond ? `; HTTP batch ingest ${httpEventsPerSecond} events/s` : ''}`,
      },
    ];
  } finally {
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    for (const name of [layout.stream, `${layout.stream}_REJECTS`])
      await jsm.streams.delete(name).catch(() => {});
    await nc.close();
  }
}
