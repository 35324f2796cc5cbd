import type { Kysely } from 'kysely';
import type { DatabaseKind, DB, Tx } from '../db/index.ts';
import type { DomainEvent, EventType } from '../events/index.ts';
import type { Purpose } from '../shared/access.ts';

/**
 * A subscriber reacts to committed events. It runs in a workspace transaction of the dispatcher (the
 * event's workspace, the tenant role), which also marks the event dispatched: its effects commit if and
 * only if the event counts as handled, so it is idempotent by event id without bookkeeping of its own.
 * A throw rolls back only this subscriber's work on that event (a savepoint) and schedules a retry.
 */
export interface Subscriber {
  /** Stable name: failures and dead letters are kept under it. */
  name: string;
  /** The purpose its processing serves (its governed scope reads under it). */
  purpose: Purpose;
  /** The event types it receives. */
  events: readonly EventType[];
  /** Handles one event. */
  handle(tx: Tx, event: DomainEvent): Promise<void>;
  /**
   * Handles the events of one batch at once (one workspace, position order); must mean the same as
   * calling `handle` on each. When it throws, the batch is handled again one event at a time, so only
   * the failing events are retried.
   */
  handleBatch?(tx: Tx, events: readonly DomainEvent[]): Promise<void>;
}

/** What a scheduled job gets: the database, its engine, and when it started. */
export interface JobContext {
  db: Kysely<DB>;
  kind: DatabaseKind;
  now: Date;
  /**
   * The workspaces a run is limited to; every workspace when absent (the scheduler never sets it). A
   * caller that shares the database with others, as a test does, names its own.
   */
  workspaceIds?: readonly string[];
}

/**
 * A job that runs every `everyMs` in one worker at a time (a lease in `job_leases`); a run longer than
 * `leaseMs` (default: max(everyMs, 5 minutes)) may be started again by another worker. It must not be
 * called inside a transaction: it opens its own.
 */
export interface ScheduledJob {
  name: string;
  everyMs: number;
  leaseMs?: number;
  /**
   * `process`: every process runs it on its own clock, without a lease (work only this process knows
   * of, such as chaining the audit events its own requests deferred). Default: `installation`.
   */
  scope?: 'installation' | 'process';
  /** Runs once; what it answers is logged. */
  run(context: JobContext): Promise<unknown>;
}

/**
 * What only grows gets pruned: a rule deletes, in one workspace transaction, what is older than
 * `keepMs` (the retention job runs every rule for every workspace).
 */
export interface RetentionRule {
  /** What it prunes, for logs and documentation (`events`, `idempotency receipts`…). */
  name: string;
  keepMs: number;
  prune(tx: Tx, workspaceId: string, before: Date): Promise<number>;
}

/**
 * The subscribers, scheduled jobs and retention rules of one process, filled by the composition root:
 * `registry.subscribe(s)`, `registry.schedule(j)`, `registry.retain(r)`.
 */
export class JobRegistry {
  readonly #subscribers = new Map<string, Subscriber>();
  readonly #scheduled = new Map<string, ScheduledJob>();
  readonly #retention: RetentionRule[] = [];

  /** Registers a subscriber; names are unique. */
  subscribe(subscriber: Subscriber): this {
    if (this.#subscribers.has(subscriber.name))
      throw new Error(`subscriber ${subscriber.name} registered twice`);
    this.#subscribers.set(subscriber.name, subscriber);
    return this;
  }

  /** Registers a scheduled job; names are unique. */
  schedule(job: ScheduledJob): this {
    if (this.#scheduled.has(job.name)) throw new Error(`scheduled job ${job.name} registered twice`);
    if (!(job.everyMs > 0)) throw new Error(`scheduled job ${job.name} needs everyMs > 0`);
    this.#scheduled.set(job.name, job);
    return this;
  }

  /** Registers a retention rule (run by the `retention` job). */
  retain(rule: RetentionRule): this {
    this.#retention.push(rule);
    return this;
  }

  get subscribers(): readonly Subscriber[] {
    return [...this.#subscribers.values()];
  }

  subscriber(name: string): Subscriber | undefined {
    return this.#subscribers.get(name);
  }

  get scheduled(): readonly ScheduledJob[] {
    return [...this.#scheduled.values()];
  }

  get retention(): readonly RetentionRule[] {
    return [...this.#retention];
  }
}

/** How many tries a subscriber gets on one event before it is parked as a dead letter. */
export const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * The delay before retry `attempt` (1: after the first failure): exponential from `baseMs`, capped at
 * `maxMs`, with full jitter in its upper half so failures of one moment do not retry in step.
 */
export function computeBackoffMs(
  attempt: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + 0.5 * random()));
}
