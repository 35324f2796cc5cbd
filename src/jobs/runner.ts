import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { DatabaseKind, DB } from '../db/index.ts';
import type { Dispatcher, DispatchReport } from './dispatcher.ts';
import { acquireLease, releaseLease } from './job.repository.ts';
import type { JobRegistry, ScheduledJob } from './job.ts';

/** Where a runner reports what it did (the server's or worker's logger). */
export interface RunnerLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/** A name for this process in leases: host, pid and a random part (two runners of one process differ). */
export function holderName(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * Whether a job's result says it did something (a count above zero, a non-empty list, or an object
 * holding either), so a job that runs every second logs its work, not its idle passes.
 */
function didWork(result: unknown): boolean {
  if (typeof result === 'number') return result > 0;
  if (Array.isArray(result)) return result.length > 0;
  if (result !== null && typeof result === 'object') return Object.values(result).some(didWork);
  return result !== false && result !== null && result !== '';
}

/** Runs the registry's scheduled jobs that are due, each only while holding its lease. */
export class Scheduler {
  readonly #db: Kysely<DB>;
  readonly #kind: DatabaseKind;
  readonly #registry: JobRegistry;
  readonly #holder: string;
  readonly #lastLocalRun = new Map<string, number>();

  constructor(db: Kysely<DB>, kind: DatabaseKind, registry: JobRegistry, holder: string = holderName()) {
    this.#db = db;
    this.#kind = kind;
    this.#registry = registry;
    this.#holder = holder;
  }

  /** Runs one job now if its lease is free and its interval has passed; answers whether it ran. */
  async runIfDue(job: ScheduledJob, log?: RunnerLog): Promise<boolean> {
    if (job.scope === 'process') {
      const now = Date.now();
      if (now - (this.#lastLocalRun.get(job.name) ?? Number.NEGATIVE_INFINITY) < job.everyMs) return false;
      this.#lastLocalRun.set(job.name, now);
      try {
        await job.run({ db: this.#db, kind: this.#kind, now: new Date(now) });
      } catch (failure) {
        log?.warn({ job: job.name, err: failure }, 'scheduled job failed');
      }
      return false;
    }
    const leaseMs = job.leaseMs ?? Math.max(job.everyMs, 5 * 60_000);
    const got = await acquireLease(this.#db, {
      name: job.name,
      everyMs: job.everyMs,
      leaseMs,
      holder: this.#holder,
    });
    if (!got) return false;
    let error: string | null = null;
    try {
      const result = await job.run({ db: this.#db, kind: this.#kind, now: new Date() });
      if (result !== undefined && didWork(result)) log?.info({ job: job.name, result }, 'scheduled job done');
    } catch (failure) {
      error = failure instanceof Error ? `${failure.name}: ${failure.message}`.slice(0, 500) : 'failed';
      log?.warn({ job: job.name, err: failure }, 'scheduled job failed');
    }
    await releaseLease(this.#db, { name: job.name, holder: this.#holder, error });
    return true;
  }

  /** Runs every due job, one after the other; answers the names of those that ran. */
  async runDue(log?: RunnerLog): Promise<string[]> {
    const ran: string[] = [];
    for (const job of this.#registry.scheduled) if (await this.runIfDue(job, log)) ran.push(job.name);
    return ran;
  }
}

/** How a runner loops. */
export interface RunnerOptions {
  /** Pause when a pass found nothing to do (default 200 ms). */
  idleMs?: number;
  /** Dispatch loops side by side (default 1; each claims its own batches with SKIP LOCKED). */
  dispatchLoops?: number;
  /** Whether this runner runs scheduled jobs too (default true). */
  scheduled?: boolean;
  log?: RunnerLog;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * The drivers. In the server (`inProcess`), one dispatch loop and the scheduler run beside the
 * requests: each pass opens its own transactions, which on the embedded engine queue for its single
 * connection between the requests' transactions, never inside one. In `cornerstore worker` (polling),
 * several dispatch loops claim batches with `FOR UPDATE SKIP LOCKED`, so any number of workers run
 * side by side on a server. A pass that found work starts the next at once; an idle one waits `idleMs`
 * or a `nudge()`.
 */
export class Runner {
  readonly #dispatcher: Dispatcher;
  readonly #scheduler: Scheduler;
  readonly #options: Required<Omit<RunnerOptions, 'log'>> & { log: RunnerLog | undefined };
  #abort: AbortController | undefined;
  #loops: Promise<void>[] = [];
  #wake: (() => void)[] = [];
  /** The last pass's report per loop, and when it ended (for /ready and metrics). */
  lastPass: { at: Date; report: DispatchReport } | undefined;
  /** Events this runner dispatched since it started (reported when a worker stops). */
  dispatchedTotal = 0;

  constructor(dispatcher: Dispatcher, scheduler: Scheduler, options: RunnerOptions = {}) {
    this.#dispatcher = dispatcher;
    this.#scheduler = scheduler;
    this.#options = {
      idleMs: options.idleMs ?? 200,
      dispatchLoops: options.dispatchLoops ?? 1,
      scheduled: options.scheduled ?? true,
      log: options.log,
    };
  }

  get dispatcher(): Dispatcher {
    return this.#dispatcher;
  }

  /** Starts the loops; `stop()` ends them after their current pass. */
  start(): void {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    for (let i = 0; i < this.#options.dispatchLoops; i++)
      this.#loops.push(this.#loop(abort.signal, 'dispatch'));
    if (this.#options.scheduled) this.#loops.push(this.#loop(abort.signal, 'schedule'));
  }

  /** Wakes idle dispatch loops now (after a request wrote events). */
  nudge(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }

  async #loop(signal: AbortSignal, kind: 'dispatch' | 'schedule'): Promise<void> {
    while (!signal.aborted) {
      let busy = false;
      try {
        if (kind === 'dispatch') {
          const report = await this.#dispatcher.drain();
          this.lastPass = { at: new Date(), report };
          this.dispatchedTotal += report.dispatched;
          busy = report.dispatched > 0;
        } else {
          busy = (await this.#scheduler.runDue(this.#options.log)).length > 0;
        }
      } catch (error) {
        // A failed pass (the database away for a moment) is retried after the pause; nothing is lost.
        this.#options.log?.warn({ err: error, loop: kind }, 'job runner pass failed');
      }
      if (busy || signal.aborted) continue;
      await new Promise<void>((resolve) => {
        if (kind === 'dispatch') this.#wake.push(resolve);
        void sleep(this.#options.idleMs, signal).then(resolve);
      });
    }
  }

  /** Stops after the passes in flight end (their transactions commit or roll back as usual). */
  async stop(): Promise<void> {
    this.#abort?.abort();
    this.nudge();
    await Promise.all(this.#loops);
    this.#loops = [];
    this.#abort = undefined;
  }
}
