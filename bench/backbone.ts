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
 * a no-op subscriber): N `interaction_recorded` events are recorded through `recordEvents` (in chunks,
 * as ingest does), then one dispatcher drains them — claim with `FOR UPDATE SKIP LOCKED` and mark in one
 * statement per batch of 1,000, the subscriber under a savepoint — timed from the first claim to the
 * empty queue.
 */

const EVENTS = { smoke: 20_000, small: 200_000, large: 1_000_000 } as const;
const CHUNK = 10_000;

export async function benchDispatcher(database: Database, scale: keyof typeof EVENTS): Promise<Figure[]> {
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-dispatch-${Date.now().toString(36)}`,
  });
  const total = EVENTS[scale];
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
      await inWorkspace(database.db, workspace.id, (tx) => recordEvents(tx, events));
    }
  });
  let handled = 0;
  const registry = new JobRegistry().subscribe({
    name: 'no-op',
    purpose: 'analytics',
    events: ['interaction_recorded'],
    async handle() {
      handled += 1;
    },
  });
  const dispatcher = new Dispatcher(database.db, registry, { batchSize: 1000 });
  const drained = await timed(() => dispatcher.drain([workspace.id]));
  if (drained.value.dispatched !== total || handled !== total) {
    throw new Error(`dispatched ${drained.value.dispatched} and handled ${handled} of ${total} events`);
  }
  const rate = Math.round(total / drained.seconds);
  return [
    {
      workload: 'dispatcher throughput (one worker, no-op subscriber)',
      value: rate,
      unit: 'events/s',
      detail: `${total.toLocaleString('en')} events drained in ${drained.seconds.toFixed(2)} s (batches of 1,000); recording them took ${recorded.seconds.toFixed(2)} s (${Math.round(total / recorded.seconds).toLocaleString('en')} events/s in chunks of 10,000)`,
      ratio: rate / 20_000,
      target: '≥ 1 (20,000 events/s)',
      peakRssMiB: peakRssMiB(),
    },
  ];
}
