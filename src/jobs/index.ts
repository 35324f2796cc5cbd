/**
 * The backbone's workers: subscribers to committed events (idempotent by event id because their effects
 * commit with the event's dispatched mark; retried with backoff; parked as dead letters after their
 * tries, visible and retryable), scheduled jobs that run in one worker at a time (a lease), retention
 * rules, and the runner that drives them — in the server between requests, in `cornerstore worker` as
 * a polling loop with `FOR UPDATE SKIP LOCKED`. It owns `job_failures` and `job_leases`. It knows no
 * domain: the composition roots register what runs (`src/backbone.ts`).
 */

/** The dispatcher: claims, hands out, retries, parks; `drain()` settles everything pending. */
export {
  Dispatcher,
  type DispatcherOptions,
  type DispatchReport,
  type SubscriberCounters,
} from './dispatcher.ts';
/** A subscriber's failure and a scheduled job's lease as listed. */
export type { JobFailure, JobLease } from './job.repository.ts';
/** Status, dead letters and their retry (admin and owner only), dead-letter pruning. */
export {
  type JobsStatus,
  listJobFailures,
  pruneDeadLetters,
  readJobsStatus,
  retryDeadLetters,
} from './job.service.ts';
/** Subscribers, scheduled jobs, retention rules and the registry the composition root fills. */
export {
  computeBackoffMs,
  DEFAULT_MAX_ATTEMPTS,
  type JobContext,
  JobRegistry,
  type RetentionRule,
  type ScheduledJob,
  type Subscriber,
} from './job.ts';
/** The drivers: the runner (loops of dispatch and scheduling) and the scheduler. */
export { holderName, Runner, type RunnerLog, type RunnerOptions, Scheduler } from './runner.ts';
