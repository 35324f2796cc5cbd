import { pruneIdempotencyReceipts } from './api/context.ts';
import type { Config } from './config.ts';
import { type Database, inWorkspace, refreshStatistics, type Tx } from './db/index.ts';
import { pruneDispatchedEvents } from './events/index.ts';
import {
  chainAllWorkspaces,
  deliverDueMomentActions,
  deriveAllFacts,
  deriveFactsForCustomers,
  handleMomentEvent,
  maintainFacts,
  recomputeRelationshipsOfWorkspaces,
  refitValueOfWorkspaces,
  refreshValueAndSegmentsForEvents,
  scanScheduledMoments,
  trainRecommendationsOfWorkspaces,
} from './governance/index.ts';
import {
  Dispatcher,
  type DispatcherOptions,
  JobRegistry,
  pruneDeadLetters,
  Runner,
  type RunnerLog,
  Scheduler,
  type Subscriber,
} from './jobs/index.ts';
import { planNotifications, syncNotificationStates } from './privacy/index.ts';
import { deliverDueWebhooks, enqueueWebhookDeliveriesForEvents, pruneWebhookLogs } from './webhooks/index.ts';
import { listWorkspaces } from './workspaces/index.ts';

/**
 * The event backbone's wiring, shared by the composition roots (server, worker, commands, tests): which
 * subscribers react to events, which jobs run on a schedule, what is pruned when. A module that reacts
 * to events adds one line here: `.subscribe(mySubscriber)`; a periodic task `.schedule({ name, everyMs,
 * run })`; something that only grows `.retain({ name, keepMs, prune })`.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Value profiles and segment memberships after ingest and merges, off the writers' transactions. */
export const valueAndSegmentsSubscriber: Subscriber = {
  name: 'value-and-segments',
  purpose: 'analytics',
  events: ['interaction_recorded', 'customers_merged', 'customer_unmerged'],
  handle(tx, event) {
    return refreshValueAndSegmentsForEvents(tx, event.workspaceId, [event], this.name);
  },
  async handleBatch(tx, events) {
    const workspaceId = events[0]?.workspaceId;
    if (workspaceId !== undefined) await refreshValueAndSegmentsForEvents(tx, workspaceId, events, this.name);
  },
};

/** Facts derived from behaviour, recomputed for the customers whose interactions arrived. */
export const factsSubscriber: Subscriber = {
  name: 'facts',
  purpose: 'analytics',
  events: ['interaction_recorded', 'customers_merged', 'customer_unmerged'],
  async handle(tx, event) {
    if (event.customerId !== null) await deriveFactsForCustomers(tx, event.workspaceId, [event.customerId]);
  },
  async handleBatch(tx, events) {
    const workspaceId = events[0]?.workspaceId;
    const ids = [...new Set(events.flatMap((e) => (e.customerId === null ? [] : [e.customerId])))];
    if (workspaceId !== undefined && ids.length > 0) await deriveFactsForCustomers(tx, workspaceId, ids);
  },
};

/** One webhook delivery per endpoint whose purposes and filter allow the event (sent by `webhook-delivery`). */
export const webhooksSubscriber: Subscriber = {
  name: 'webhooks',
  purpose: 'legal',
  events: [
    'customer_created',
    'interaction_recorded',
    'consent_changed',
    'customers_merged',
    'customer_unmerged',
    'field_rectified',
    'name_corrected',
    'fact_corrected',
    'moment_action_ready',
  ],
  async handle(tx, event) {
    await enqueueWebhookDeliveriesForEvents(tx, [event]);
  },
  async handleBatch(tx, events) {
    await enqueueWebhookDeliveriesForEvents(tx, events);
  },
};

/**
 * Corrections travel (SPEC §5.5): a rectification (through the API, the customer's portal or a privacy
 * request) and an identity merge become one notification per recipient that received the affected
 * fields — by signed webhook (sent by `webhook-delivery`) or the manual work queue.
 */
export const privacyNoticesSubscriber: Subscriber = {
  name: 'privacy-notices',
  purpose: 'legal',
  events: ['field_rectified', 'name_corrected', 'customers_merged'],
  async handle(tx, event) {
    const payload = event.payload as { customerId?: string; field?: string; absorbedId?: string };
    const merged = event.type === 'customers_merged';
    const customerId = merged ? payload.absorbedId : (payload.customerId ?? event.customerId ?? undefined);
    if (customerId === undefined) return;
    await planNotifications(tx, {
      workspaceId: event.workspaceId,
      customerId,
      cause: merged ? 'merge' : 'rectification',
      causeId: event.id,
      requestId: null,
      fields: merged || payload.field === undefined ? 'all' : [payload.field],
      now: new Date(),
    });
  },
};

/**
 * Small moments: detection and decisions from committed events (never inside the ingest's
 * transaction), feedback sent as an interaction, and queued actions cancelled at once when a consent
 * is withdrawn. A failing decision is retried and, after its retries, parked as a dead letter.
 */
export const momentsSubscriber: Subscriber = {
  name: 'moments',
  purpose: 'service',
  events: ['interaction_recorded', 'name_corrected', 'consent_changed'],
  async handle(tx, event) {
    await handleMomentEvent(tx, event);
  },
};

/** What the backbone needs from the configuration. */
export type BackboneConfig = Pick<Config, 'valueRefitMinutes' | 'eventRetentionDays'>;

/** The installation's subscribers, scheduled jobs and retention rules. */
export function createJobRegistry(config: BackboneConfig): JobRegistry {
  const registry = new JobRegistry()
    .subscribe(valueAndSegmentsSubscriber)
    .subscribe(factsSubscriber)
    .subscribe(webhooksSubscriber)
    .subscribe(privacyNoticesSubscriber)
    .subscribe(momentsSubscriber)
    // Moments: due webhook actions announced to messaging systems; lapses and remembered dates daily.
    .schedule({
      name: 'moments-delivery',
      everyMs: 5_000,
      run: ({ db, now, workspaceIds }) =>
        deliverDueMomentActions(db, { now, ...(workspaceIds ? { workspaceIds } : {}) }),
    })
    .schedule({
      name: 'moments-scan',
      everyMs: DAY,
      leaseMs: 2 * 60 * MINUTE,
      run: ({ db, now, workspaceIds }) =>
        scanScheduledMoments(db, { now, ...(workspaceIds ? { workspaceIds } : {}) }),
    })
    // Due webhook deliveries, signed and sent with no transaction open during the requests, in batches
    // of 500 whose claims and records overlap the sending; up to 20,000 per run (one run a second).
    .schedule({
      name: 'webhook-delivery',
      everyMs: 1_000,
      run: ({ db, now, workspaceIds }) => deliverDueWebhooks(db, { now, workspaceIds, limit: 20_000 }),
    })
    // Webhook notifications of corrections follow their deliveries' states (delivered, failed).
    .schedule({
      name: 'privacy-notices',
      everyMs: MINUTE,
      run: ({ db, now, workspaceIds }) =>
        eachWorkspace(db, workspaceIds, (tx, id) => syncNotificationStates(tx, id, { now })),
    })
    .schedule({
      name: 'webhook-retention',
      everyMs: 60 * MINUTE,
      run: ({ db, now, workspaceIds }) => pruneWebhookLogs(db, { now, workspaceIds }),
    })
    // Facts: expiry and the purge of facts a lowered intimacy level hid past the grace period (hourly),
    // and the full derivation from behaviour (nightly; arrivals are handled by the subscriber).
    .schedule({
      name: 'facts-maintenance',
      everyMs: 60 * MINUTE,
      run: ({ db, now, workspaceIds }) =>
        eachWorkspace(db, workspaceIds, (tx, id) => maintainFacts(tx, id, now)),
    })
    .schedule({
      name: 'facts-derivation',
      everyMs: DAY,
      leaseMs: 2 * 60 * MINUTE,
      run: ({ db, workspaceIds }) => eachWorkspace(db, workspaceIds, (tx, id) => deriveAllFacts(tx, id)),
    })
    // Relationships move with time (decay, hysteresis by days) as well as with events: a daily full pass.
    .schedule({
      name: 'relationships',
      everyMs: DAY,
      leaseMs: 2 * 60 * MINUTE,
      run: async ({ db, now }) => (await recomputeRelationshipsOfWorkspaces(db, [], { now })).length,
    })
    // Recommendations are retrained daily (reading, then training in a worker thread, then writing).
    .schedule({
      name: 'recommendations',
      everyMs: DAY,
      leaseMs: 2 * 60 * MINUTE,
      run: async ({ db }) => (await trainRecommendationsOfWorkspaces(db)).length,
    })
    // Every workspace's waiting audit events, whoever recorded them (another process's requests, a
    // subscriber), in one worker every 10 s. The HTTP app still links its own requests' events five
    // times a second (api/app.ts): only that process knows which workspaces it deferred.
    .schedule({ name: 'audit-chain', everyMs: 10_000, run: ({ db }) => chainAllWorkspaces(db) })
    // The embedded engine runs no autovacuum: planner statistics are refreshed here.
    .schedule({
      name: 'statistics',
      everyMs: 10 * MINUTE,
      run: ({ db, kind }) => refreshStatistics({ db, kind }),
    })
    .retain({ name: 'events', keepMs: config.eventRetentionDays * DAY, prune: pruneDispatchedEvents })
    .retain({ name: 'dead letters', keepMs: 30 * DAY, prune: pruneDeadLetters })
    .retain({ name: 'idempotency receipts', keepMs: DAY, prune: pruneIdempotencyReceipts })
    .schedule({
      name: 'retention',
      everyMs: 60 * MINUTE,
      run: async ({ db, now, workspaceIds }) => {
        const pruned: Record<string, number> = {};
        for (const rule of registry.retention) {
          const before = new Date(now.getTime() - rule.keepMs);
          const byWorkspace = await eachWorkspace(db, workspaceIds, (tx, id) => rule.prune(tx, id, before));
          pruned[rule.name] = Object.values(byWorkspace).reduce((sum, n) => sum + n, 0);
        }
        return pruned;
      },
    });
  if (config.valueRefitMinutes > 0) {
    // Refit every workspace's model and profiles and refresh its segments (time windows move without
    // events). The lease outlasts the longest refit so no second worker starts one meanwhile.
    registry.schedule({
      name: 'value-refit',
      everyMs: config.valueRefitMinutes * MINUTE,
      leaseMs: Math.max(config.valueRefitMinutes * MINUTE, 2 * 60 * MINUTE),
      run: async ({ db }) => (await refitValueOfWorkspaces(db)).length,
    });
  }
  return registry;
}

/**
 * Runs `fn` in each workspace's own transaction (those named, or every workspace); answers what each
 * returned, by workspace id.
 */
async function eachWorkspace<T>(
  db: Database['db'],
  workspaceIds: readonly string[] | undefined,
  fn: (tx: Tx, workspaceId: string) => Promise<T>,
): Promise<Record<string, T>> {
  const out: Record<string, T> = {};
  for (const id of workspaceIds ?? (await listWorkspaces(db)).map((w) => w.id)) {
    out[id] = await inWorkspace(db, id, (tx) => fn(tx, id));
  }
  return out;
}

/** A running backbone: its registry, dispatcher, scheduler and runner. */
export interface Backbone {
  registry: JobRegistry;
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  runner: Runner;
}

/**
 * Builds the backbone over a database (not started): `runner.start()` runs it, `dispatcher.drain()`
 * settles it synchronously (tests, commands).
 */
export function createBackbone(
  database: Database,
  registry: JobRegistry,
  options: {
    dispatchLoops?: number;
    scheduled?: boolean;
    log?: RunnerLog;
    dispatcher?: DispatcherOptions;
  } = {},
): Backbone {
  const dispatcher = new Dispatcher(database.db, registry, options.dispatcher);
  const scheduler = new Scheduler(database.db, database.kind, registry);
  const runner = new Runner(dispatcher, scheduler, {
    ...(options.dispatchLoops === undefined ? {} : { dispatchLoops: options.dispatchLoops }),
    ...(options.scheduled === undefined ? {} : { scheduled: options.scheduled }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  return { registry, dispatcher, scheduler, runner };
}
