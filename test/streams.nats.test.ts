import { type ChildProcess, spawn } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { publishInteractions, runNatsIngest, type StreamLayout, subjectFor } from '../src/streams/index.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  testDatabaseUrl,
  useTestDatabase,
} from './helpers.ts';

/**
 * Streaming ingest from NATS JetStream against the server on this machine (127.0.0.1:4222, JetStream
 * on; CI has it). Where no NATS server runs (a contributor's laptop) the file is skipped, outside CI.
 */

const NATS_URL = 'nats://127.0.0.1:4222';
const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const natsUp = await reachable(4222);
if (!natsUp && process.env.CI) throw new Error('CI runs a NATS server on 127.0.0.1:4222; none answers.');

const t = useTestDatabase();
const layouts: StreamLayout[] = [];

function newLayout(): StreamLayout {
  const tag = `${process.pid}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const layout = { stream: `TEST_INGEST_${tag}`, subjectPrefix: `test.ingest.${tag}`, buckets: 4 };
  layouts.push(layout);
  return layout;
}

/** `n` purchases of `n / 3` customers named by identity, numbered from `from`. */
function purchases(n: number, tag: string, from = 0): object[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      type: 'purchase',
      channel: 'web',
      occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      source: 'stream',
      externalId: `${tag}-${i}`,
      customer: { identity: { source: 'stream', externalId: `${tag}-c${i % Math.ceil(n / 3)}` } },
      amount: 10 + (i % 7),
      currency: 'EUR',
    };
  });
}

async function storedCount(ws: TestWorkspace): Promise<{ n: number; distinct: number }> {
  const rows = await inTestWorkspace(t.database, ws, (tx) =>
    sql<{ n: number; distinct: number }>`
      SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS distinct
        FROM interactions WHERE source = 'stream'`.execute(tx),
  );
  return rows.rows[0] ?? { n: 0, distinct: 0 };
}

afterAll(async () => {
  if (!natsUp || layouts.length === 0) return;
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  for (const layout of layouts) {
    for (const name of [layout.stream, `${layout.stream}_REJECTS`])
      await jsm.streams.delete(name).catch(() => {});
  }
  await nc.close();
});

describe.skipIf(!natsUp)(`streaming ingest from NATS JetStream (${ENGINE})`, () => {
  it('stores each message once, keeps rejections with their error, and a redelivery is a duplicate', async () => {
    const ws = await createTestWorkspace(t.database);
    const layout = newLayout();
    const items = purchases(300, 'one');
    // Bucketing is by customer: a customer's interactions share a subject.
    const first = items[0] as { customer: unknown };
    expect(subjectFor(layout, { customer: first.customer })).toBe(subjectFor(layout, items[100]));
    await publishInteractions(NATS_URL, layout, [
      ...items,
      {
        type: 'purchase',
        source: 'stream',
        externalId: 'bad-1',
        customer: { identity: { source: 'stream', externalId: 'x' } },
      },
    ]);
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await js.publish(`${layout.subjectPrefix}.0`, 'not json');
    const options = {
      url: NATS_URL,
      ...layout,
      consumers: 1,
      member: 0,
      batch: 100,
      concurrency: 2,
      ackWaitSeconds: 30,
      idleMs: 1_500,
    };
    const summary = await runNatsIngest(t.database.db, operatorActor(ws.workspace.id), options);
    expect(summary).toMatchObject({ messages: 302, created: 300, duplicate: 0, rejected: 2, retried: 0 });
    expect(await storedCount(ws)).toEqual({ n: 300, distinct: 300 });
    // The rejections are kept with their error, on their own stream.
    const jsm = await jetstreamManager(nc);
    const rejects = await jsm.streams.info(`${layout.stream}_REJECTS`);
    expect(rejects.state.messages).toBe(2);
    const kept = await jsm.streams.getMessage(`${layout.stream}_REJECTS`, { seq: 1 });
    expect(kept?.json<{ error: { code: string } }>().error.code).toMatch(
      /INVALID|REQUIRED|STREAM_MESSAGE_INVALID/,
    );
    // Acknowledged messages leave the work queue; the same interactions published again are duplicates.
    expect((await jsm.streams.info(layout.stream)).state.messages).toBe(0);
    await publishInteractions(NATS_URL, layout, items.slice(0, 50));
    const again = await runNatsIngest(t.database.db, operatorActor(ws.workspace.id), options);
    expect(again).toMatchObject({ messages: 50, created: 0, duplicate: 50 });
    expect(await storedCount(ws)).toEqual({ n: 300, distinct: 300 });
    await nc.close();
  });

  it.skipIf(ENGINE !== 'postgres')(
    'two consumers, one killed with SIGKILL mid-stream and restarted: every interaction stored exactly once',
    async () => {
      const ws = await createTestWorkspace(t.database);
      const layout = newLayout();
      const total = 3_000;
      await publishInteractions(NATS_URL, layout, purchases(total, 'crash'));
      const env = {
        ...process.env,
        DATABASE_URL: testDatabaseUrl() ?? '',
        CORNERSTORE_JOBS_IN_SERVER: 'false',
      };
      const consumer = (member: number, idle: number): ChildProcess =>
        spawn(
          process.execPath,
          [
            BIN,
            'ingest',
            '--from',
            NATS_URL,
            '--workspace',
            ws.workspace.id,
            '--stream',
            layout.stream,
            '--subject',
            layout.subjectPrefix,
            '--buckets',
            String(layout.buckets),
            '--consumers',
            '2',
            '--member',
            String(member),
            '--batch',
            '100',
            '--ack-wait',
            '2',
            '--until-idle',
            String(idle),
            '--json',
          ],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
      const exited = (child: ChildProcess) =>
        new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
          (resolve) => {
            let stdout = '';
            let stderr = '';
            child.stdout?.on('data', (d) => {
              stdout += d;
            });
            child.stderr?.on('data', (d) => {
              stderr += d;
            });
            child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
          },
        );
      const victim = consumer(0, 8);
      const victimDone = exited(victim);
      const survivor = consumer(1, 8);
      const survivorDone = exited(survivor);
      // Kill member 0 once it has stored something, with batches still in flight.
      for (let i = 0; i < 600; i++) {
        const { n } = await storedCount(ws);
        if (n > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      victim.kill('SIGKILL');
      expect((await victimDone).signal).toBe('SIGKILL');
      const partial = (await storedCount(ws)).n;
      expect(partial).toBeLessThan(total);
      const restarted = await exited(consumer(0, 6));
      const survived = await survivorDone;
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(survived.code, survived.stderr).toBe(0);
      expect(await storedCount(ws)).toEqual({ n: total, distinct: total });
      const summaries = [JSON.parse(restarted.stdout), JSON.parse(survived.stdout)];
      expect(summaries.reduce((n, s) => n + s.rejected, 0)).toBe(0);
      expect(summaries.map((s) => s.buckets)).toEqual([
        [0, 2],
        [1, 3],
      ]);
    },
  );
});
