import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { measureEventQueue } from '../events/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { invalid } from '../shared/errors.ts';
import { isUuid } from '../shared/ids.ts';
import type { Actor } from '../workspaces/index.ts';
import * as repo from './job.repository.ts';
import type { JobRegistry } from './job.ts';

/** The backbone of one workspace as people and monitors see it. */
export interface JobsStatus {
  events: {
    /** Events written and not yet dispatched. */
    pending: number;
    /** Seconds since the oldest pending event was written (0 when none waits). */
    lagSeconds: number;
    /** Events kept (dispatched ones until their retention ends). */
    stored: number;
  };
  subscribers: { name: string; purpose: string; events: string[]; retrying: number; dead: number }[];
  /** Failures of subscribers no longer registered in this process. */
  unregistered: { name: string; retrying: number; dead: number }[];
  /** Scheduled jobs of the installation: who holds each, how the last run went. */
  scheduled: repo.JobLease[];
}

/** The workspace's queue, failures per subscriber, and the scheduled jobs (installation-wide). */
export async function readJobsStatus(
  db: Kysely<DB>,
  workspaceId: string,
  registry: JobRegistry,
  now: Date = new Date(),
): Promise<JobsStatus> {
  const { queue, failures } = await inWorkspace(db, workspaceId, async (tx) => ({
    queue: await measureEventQueue(tx, workspaceId),
    failures: await repo.countFailures(tx, workspaceId),
  }));
  const count = (name: string, status: 'retrying' | 'dead') =>
    failures.find((f) => f.subscriber === name && f.status === status)?.count ?? 0;
  const registered = new Set(registry.subscribers.map((s) => s.name));
  return {
    events: {
      pending: queue.pending,
      lagSeconds: queue.oldest ? Math.max(0, (now.getTime() - queue.oldest.getTime()) / 1000) : 0,
      stored: queue.total,
    },
    subscribers: registry.subscribers.map((s) => ({
      name: s.name,
      purpose: s.purpose,
      events: [...s.events],
      retrying: count(s.name, 'retrying'),
      dead: count(s.name, 'dead'),
    })),
    unregistered: [...new Set(failures.map((f) => f.subscriber))]
      .filter((name) => !registered.has(name))
      .map((name) => ({ name, retrying: count(name, 'retrying'), dead: count(name, 'dead') })),
    scheduled: await repo.listLeases(db),
  };
}

/** The workspace's failures (newest first): dead letters or retries waiting. */
export function listJobFailures(
  tx: Tx,
  actor: Actor,
  options: { status?: 'retrying' | 'dead' | undefined; limit?: number | undefined },
): Promise<repo.JobFailure[]> {
  assertPermitted(actor, 'jobs.manage');
  return repo.listFailures(tx, actor.workspaceId, { status: options.status, limit: options.limit ?? 100 });
}

/**
 * Puts dead letters back in the queue with a fresh set of tries (all, one subscriber's, or one
 * event's); the runner picks them up on its next pass. Answers how many.
 */
export async function retryDeadLetters(
  tx: Tx,
  actor: Actor,
  filter: { subscriber?: string | undefined; eventId?: string | undefined },
): Promise<{ requeued: number }> {
  assertPermitted(actor, 'jobs.manage');
  if (filter.eventId !== undefined && !isUuid(filter.eventId)) {
    throw invalid('EVENT_ID_INVALID', 'An event id is a UUID; copy it from the list of dead letters.', {
      eventId: filter.eventId,
    });
  }
  return { requeued: await repo.requeueDeadLetters(tx, actor.workspaceId, filter) };
}

/** Prunes dead letters parked before `before` (the retention job). */
export const pruneDeadLetters = repo.pruneDeadLetters;
