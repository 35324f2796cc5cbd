import { type Kysely, sql } from 'kysely';
import { classifyDatabaseError, type DB, inWorkspace, isServer, type Tx } from '../db/index.ts';
import { claimPendingEvents, type DomainEvent, findEvents } from '../events/index.ts';
import { AppError } from '../shared/errors.ts';
import { listWorkspaces } from '../workspaces/index.ts';
import * as repo from './job.repository.ts';
import { computeBackoffMs, DEFAULT_MAX_ATTEMPTS, type JobRegistry, type Subscriber } from './job.ts';

/** How the dispatcher batches and retries. */
export interface DispatcherOptions {
  /** Events claimed per transaction (default 1,000). */
  batchSize?: number;
  /** Tries per subscriber and event before it is parked (default 8). */
  maxAttempts?: number;
  /** First retry delay (default 1 s), doubling up to `maxBackoffMs` (default 1 h), with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The clock (tests move it to make retries due). */
  now?: () => Date;
  /**
   * Commit a batch without waiting for its WAL to reach disk (`synchronous_commit = off`, PostgreSQL
   * server only; default true). A crash may then forget the last batches dispatched — their marks and
   * their subscribers' effects together, never one without the other — so they are dispatched again:
   * at-least-once, which idempotent subscribers already absorb. Anything that later depends on them
   * (a delivery sent, a synchronous commit of any transaction) flushes the WAL up to it first.
   */
  asyncCommit?: boolean;
}

/** What one pass did. */
export interface DispatchReport {
  /** Events claimed and dispatched. */
  dispatched: number;
  /** Retries that ran (succeeded or failed again). */
  retried: number;
  /** Subscriber failures recorded (new retries and dead letters). */
  failed: number;
}

/** Counters of a process's dispatching per subscriber, for metrics. */
export interface SubscriberCounters {
  handled: number;
  failed: number;
  dead: number;
}

const MAX_ERROR_LENGTH = 500;

/**
 * The error a failure is stored with: an AppError's code and message, a database error by its class
 * (a driver's message may quote values), anything else by its name and message, bounded.
 */
function describeError(error: unknown): string {
  let text: string;
  if (error instanceof AppError) text = `${error.code}: ${error.message}`;
  else {
    const classified = classifyDatabaseError(error);
    text =
      classified.code === 'INTERNAL' && error instanceof Error
        ? `${error.name}: ${error.message}`
        : `${classified.code}: ${classified.message}`;
  }
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

let savepoints = 0;

/** Runs `fn` under a savepoint of `tx`: a throw undoes only what `fn` did, and is rethrown. */
async function underSavepoint(tx: Tx, fn: () => Promise<void>): Promise<void> {
  savepoints = (savepoints + 1) % 1_000_000;
  const name = sql.id(`subscriber_${savepoints}`);
  await sql`SAVEPOINT ${name}`.execute(tx);
  try {
    await fn();
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT ${name}`.execute(tx);
    await sql`RELEASE SAVEPOINT ${name}`.execute(tx);
    throw error;
  }
  await sql`RELEASE SAVEPOINT ${name}`.execute(tx);
}

/**
 * The dispatcher: claims committed events per workspace in batches (`FOR UPDATE SKIP LOCKED`, so any
 * number of dispatchers run side by side, and marks them dispatched in the same transaction), hands
 * each subscriber the events it asked for, and records a subscriber's failure as a retry with backoff —
 * parked as a dead letter after `maxAttempts`. A subscriber's effects and the event's dispatched mark
 * commit together, so a crash (kill -9) mid-batch leaves the batch pending and nothing half-handled.
 * Never call it inside a transaction: it opens its own, one at a time.
 */
export class Dispatcher {
  readonly #db: Kysely<DB>;
  readonly #registry: JobRegistry;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #now: () => Date;
  readonly #asyncCommit: boolean;
  /** Per subscriber: events handled, failures, dead letters, since the process started. */
  readonly counters = new Map<string, SubscriberCounters>();

  constructor(db: Kysely<DB>, registry: JobRegistry, options: DispatcherOptions = {}) {
    this.#db = db;
    this.#registry = registry;
    this.#batchSize = options.batchSize ?? 1000;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#backoff = { baseMs: options.backoffMs ?? 1000, maxMs: options.maxBackoffMs ?? 3_600_000 };
    this.#now = options.now ?? (() => new Date());
    this.#asyncCommit = (options.asyncCommit ?? true) && isServer(db);
  }

  #count(subscriber: string): SubscriberCounters {
    let counters = this.counters.get(subscriber);
    if (!counters) {
      counters = { handled: 0, failed: 0, dead: 0 };
      this.counters.set(subscriber, counters);
    }
    return counters;
  }

  async #fail(tx: Tx, workspaceId: string, subscriber: Subscriber, event: DomainEvent, error: unknown) {
    const now = this.#now();
    const status = await repo.recordFailure(tx, workspaceId, {
      subscriber: subscriber.name,
      eventId: event.id,
      error: describeError(error),
      now,
      nextAttemptAt: (attempts) =>
        attempts >= this.#maxAttempts
          ? null
          : new Date(now.getTime() + computeBackoffMs(attempts, this.#backoff)),
    });
    const counters = this.#count(subscriber.name);
    counters.failed += 1;
    if (status === 'dead') counters.dead += 1;
  }

  /** One subscriber over its events of a batch: all at once, and one by one when that throws. */
  async #deliver(tx: Tx, workspaceId: string, subscriber: Subscriber, events: readonly DomainEvent[]) {
    let failed = 0;
    try {
      await underSavepoint(tx, async () => {
        if (subscriber.handleBatch) await subscriber.handleBatch(tx, events);
        else for (const event of events) await subscriber.handle(tx, event);
      });
      this.#count(subscriber.name).handled += events.length;
      return 0;
    } catch (error) {
      if (events.length === 1) {
        await this.#fail(tx, workspaceId, subscriber, events[0] as DomainEvent, error);
        return 1;
      }
    }
    for (const event of events) {
      try {
        await underSavepoint(tx, () => subscriber.handle(tx, event));
        this.#count(subscriber.name).handled += 1;
      } catch (error) {
        await this.#fail(tx, workspaceId, subscriber, event, error);
        failed += 1;
      }
    }
    return failed;
  }

  /** Dispatches one batch of the workspace's pending events; answers what it did. */
  async dispatchBatch(workspaceId: string): Promise<{ dispatched: number; failed: number }> {
    return inWorkspace(this.#db, workspaceId, async (tx) => {
      if (this.#asyncCommit) await sql`SET LOCAL synchronous_commit = off`.execute(tx);
      const events = await claimPendingEvents(tx, workspaceId, this.#batchSize);
      let failed = 0;
      for (const subscriber of this.#registry.subscribers) {
        const mine = events.filter((e) => subscriber.events.includes(e.type));
        if (mine.length > 0) failed += await this.#deliver(tx, workspaceId, subscriber, mine);
      }
      return { dispatched: events.length, failed };
    });
  }

  /** Runs the workspace's retries that are due, one batch; answers how many ran and how many failed again. */
  async retryBatch(workspaceId: string): Promise<{ retried: number; failed: number }> {
    return inWorkspace(this.#db, workspaceId, async (tx) => {
      const due = await repo.claimDueRetries(tx, workspaceId, this.#now(), this.#batchSize);
      const events = new Map(
        (await findEvents(tx, workspaceId, [...new Set(due.map((d) => d.eventId))])).map((e) => [e.id, e]),
      );
      let retried = 0;
      let failed = 0;
      for (const { subscriber: name, eventId } of due) {
        const subscriber = this.#registry.subscriber(name);
        const event = events.get(eventId);
        // A subscriber no longer registered in this process waits for one that has it.
        if (!subscriber || !event) continue;
        retried += 1;
        try {
          await underSavepoint(tx, () => subscriber.handle(tx, event));
          await repo.deleteFailure(tx, workspaceId, name, eventId);
          this.#count(name).handled += 1;
        } catch (error) {
          await this.#fail(tx, workspaceId, subscriber, event, error);
          failed += 1;
        }
      }
      return { retried, failed };
    });
  }

  /**
   * Dispatches until nothing is pending and no retry is due, in every workspace (or the given ones).
   * The in-process driver calls it between requests; the test fixture calls it to settle.
   */
  async drain(workspaceIds?: readonly string[]): Promise<DispatchReport> {
    const ids = workspaceIds ?? (await listWorkspaces(this.#db)).map((w) => w.id);
    const report: DispatchReport = { dispatched: 0, retried: 0, failed: 0 };
    for (const workspaceId of ids) {
      for (;;) {
        const batch = await this.dispatchBatch(workspaceId);
        report.dispatched += batch.dispatched;
        report.failed += batch.failed;
        if (batch.dispatched < this.#batchSize) break;
      }
      for (;;) {
        const batch = await this.retryBatch(workspaceId);
        report.retried += batch.retried;
        report.failed += batch.failed;
        if (batch.retried < this.#batchSize) break;
      }
    }
    return report;
  }
}
