import type { Database } from '../src/db/index.ts';
import { inWorkspace } from '../src/db/index.ts';
import { type NewEvent, recordEvents } from '../src/events/index.ts';
import { Dispatcher, JobRegistry } from '../src/jobs/index.ts';
import { newId } from '../src/shared/ids.ts';
import { createWorkspace } from '../src/workspaces/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * Dispatcher throughput (issue 12's target: at least 20,000 events/s on PostgreSQL with one worker and
 * a no-op subscriber): `interaction_recorded` events are recorded through `recordEvents` (in chunks, as
 * ingest does), then one dispatcher drains them — claim with `FOR UPDATE SKIP LOCKED` and mark in one
 * statement per batch of 1,000, the subscriber under one savepoint per batch — timed from the first
 * claim to the empty queue, with each batch's commit synchronous (before) and asynchronous (after).
 */

const EVENTS = { smoke: 20_000, small: 200_000, large: 1_000_000 } as const;
const CHUNK = 10_000;

async function record(database: Database, workspaceId: string, total: number): Promise<number> {
  const recorded = await timed(async () => {
    for (let done = 0; done < total; done += CHUNK) {
      const events: NewEvent[] = [];
      for (let i = 0; i < Math.min(CHUNK, total - done); i++) {
        const customerId = newId();
        events.push({
          type: 'interaction_recorded',
          customerId,
          payload: { interactionId: newId(), customerId, interactionType: 'purchase', source: 'bench' },
        });
      }
      await inWorkspace(database.db, workspaceId, (tx) => recordEvents(tx, events));
    }
  });
  return recorded.seconds;
}

/**
 * Drains `total` freshly recorded events with one dispatcher configured as given; answers the rate and
 * the CPU seconds this process spent (the rest of the time is the database's).
 */
async function drainOnce(
  database: Database,
  workspaceId: string,
  total: number,
  options: { asyncCommit: boolean },
): Promise<{ rate: number; seconds: number; cpuSeconds: number; recordSeconds: number }> {
  const recordSeconds = await record(database, workspaceId, total);
  let handled = 0;
  const registry = new JobRegistry().subscribe({
    name: 'no-op',
    purpose: 'analytics',
    events: ['interaction_recorded'],
    async handle() {
      handled += 1;
    },
  });
  const dispatcher = new Dispatcher(database.db, registry, { batchSize: 1000, ...options });
  const cpu = process.cpuUsage();
  const drained = await timed(() => dispatcher.drain([workspaceId]));
  const used = process.cpuUsage(cpu);
  if (drained.value.dispatched !== total || handled !== total) {
    throw new Error(`dispatched ${drained.value.dispatched} and handled ${handled} of ${total} events`);
  }
  return {
    rate: total / drained.seconds,
    seconds: drained.seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    recordSeconds,
  };
}

/**
 * Before and after in the same run, alternating (before, after, after, before) on equal queues: before
 * waits for each batch's commit to reach disk (`synchronous_commit` on), after commits asynchronously
 * (the dispatcher's default on the server). Each configuration's figure is its total over both rounds.
 */
export async function benchDispatcher(database: Database, scale: keyof typeof EVENTS): Promise<Figure[]> {
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-dispatch-${Date.now().toString(36)}`,
  });
  const total = EVENTS[scale] / 2;
  const runs: {
    asyncCommit: boolean;
    rate: number;
    seconds: number;
    cpuSeconds: number;
    recordSeconds: number;
  }[] = [];
  for (const asyncCommit of [false, true, true, false]) {
    const run = await drainOnce(database, workspace.id, total, { asyncCommit });
    process.stdout.write(
      `  ${asyncCommit ? 'async commit' : 'synchronous commit'}: ${Math.round(run.rate).toLocaleString('en')} events/s (${run.cpuSeconds.toFixed(2)} s CPU in this process)\n`,
    );
    runs.push({ asyncCommit, ...run });
  }
  const sum = (asyncCommit: boolean) => {
    const mine = runs.filter((r) => r.asyncCommit === asyncCommit);
    const seconds = mine.reduce((t, r) => t + r.seconds, 0);
    const cpuSeconds = mine.reduce((t, r) => t + r.cpuSeconds, 0);
    return { rate: (2 * total) / seconds, seconds, cpuSeconds };
  };
  const before = sum(false);
  const after = sum(true);
  const recorded = runs.reduce((t, r) => t + r.recordSeconds, 0);
  const common = `${(2 * total).toLocaleString('en')} events per configuration in two rounds (alternating), batches of 1,000; recording took ${Math.round((4 * total) / recorded).toLocaleString('en')} events/s in chunks of 10,000`;
  return [
    {
      workload: 'dispatcher throughput (one worker, no-op subscriber), synchronous commit per batch (before)',
      value: Math.round(before.rate),
      unit: 'events/s',
      detail: `${common}; ${before.seconds.toFixed(2)} s, ${before.cpuSeconds.toFixed(2)} s CPU in the dispatcher's process`,
      ratio: before.rate / 20_000,
      target: '≥ 1 (20,000 events/s)',
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: 'dispatcher throughput (one worker, no-op subscriber)',
      value: Math.round(after.rate),
      unit: 'events/s',
      detail: `${common}; asynchronous commit of each batch; ${after.seconds.toFixed(2)} s, ${after.cpuSeconds.toFixed(2)} s CPU in the dispatcher's process; ${(after.rate / before.rate).toFixed(2)}× the synchronous commit`,
      ratio: after.rate / 20_000,
      target: '≥ 1 (20,000 events/s)',
      peakRssMiB: peakRssMiB(),
    },
  ];
}
