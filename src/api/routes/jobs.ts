import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Gauge, Registry as MetricsRegistry } from 'prom-client';
import {
  JobRegistry,
  type JobsStatus,
  listJobFailures,
  readJobsStatus,
  retryDeadLetters,
} from '../../jobs/index.ts';
import { assertPermitted } from '../../shared/access.ts';
import { type ApiDeps, actorOf, idempotentWrite, inCallerWorkspace } from '../context.ts';
import { errorResponses } from '../schemas.ts';

const ADMIN_NOTE = ' Owners and admins only (permission jobs.manage).';

const FailureSchema = Type.Object({
  subscriber: Type.String(),
  eventId: Type.String({ format: 'uuid' }),
  eventType: Type.String(),
  attempts: Type.Integer(),
  status: Type.Union([Type.Literal('retrying'), Type.Literal('dead')]),
  error: Type.String({ description: "The last try's error: a code and message, never a driver's text." }),
  firstFailedAt: Type.String({ format: 'date-time' }),
  lastFailedAt: Type.String({ format: 'date-time' }),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const StatusSchema = Type.Object({
  events: Type.Object({
    pending: Type.Integer({ description: 'Events written and not yet dispatched.' }),
    lagSeconds: Type.Number({ description: 'Age of the oldest pending event (0 when none waits).' }),
    stored: Type.Integer({ description: 'Events kept, dispatched ones until their retention ends.' }),
  }),
  subscribers: Type.Array(
    Type.Object({
      name: Type.String(),
      purpose: Type.String(),
      events: Type.Array(Type.String()),
      retrying: Type.Integer(),
      dead: Type.Integer(),
    }),
  ),
  unregistered: Type.Array(
    Type.Object({ name: Type.String(), retrying: Type.Integer(), dead: Type.Integer() }),
  ),
  scheduled: Type.Array(Type.Object({}, { additionalProperties: true })),
});

const FailuresQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('retrying'), Type.Literal('dead')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

const RetryBody = Type.Object(
  {
    subscriber: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    eventId: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
);

/** The status in the Prometheus text format (one registry per scrape: nothing kept between scrapes). */
async function prometheusText(status: JobsStatus): Promise<{ type: string; text: string }> {
  const registry = new MetricsRegistry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  gauge('cornerstore_events_pending', 'Events written and not yet dispatched.').set(status.events.pending);
  gauge('cornerstore_events_lag_seconds', 'Age of the oldest pending event.').set(status.events.lagSeconds);
  gauge('cornerstore_events_stored', 'Events kept (dispatched ones until their retention ends).').set(
    status.events.stored,
  );
  const failures = gauge('cornerstore_subscriber_failures', 'Subscriber failures by status.', [
    'subscriber',
    'status',
  ]);
  for (const s of [...status.subscribers, ...status.unregistered]) {
    failures.set({ subscriber: s.name, status: 'retrying' }, s.retrying);
    failures.set({ subscriber: s.name, status: 'dead' }, s.dead);
  }
  const failed = gauge(
    'cornerstore_scheduled_job_failed',
    'Whether the last run of a scheduled job failed.',
    ['job'],
  );
  for (const job of status.scheduled) failed.set({ job: job.name }, job.lastStatus === 'failed' ? 1 : 0);
  return { type: registry.contentType, text: await registry.metrics() };
}

/** The event backbone seen from outside: status, metrics, dead letters and their retry. */
export function jobRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const registry = deps.jobs ?? new JobRegistry();
  const status = (request: Parameters<typeof actorOf>[0]) => {
    const actor = actorOf(request);
    assertPermitted(actor, 'jobs.manage');
    return readJobsStatus(deps.db, actor.workspaceId, registry);
  };
  return async (app) => {
    app.get(
      '/jobs',
      {
        schema: {
          operationId: 'getJobStatus',
          tags: ['jobs'],
          summary: "The event backbone's queue, failures per subscriber and scheduled jobs.",
          description:
            'Pending events of the workspace and the age of the oldest (lag), retries waiting and dead letters per ' +
            'subscriber, and every scheduled job of the installation (who holds it, how its last run went).' +
            ADMIN_NOTE,
          response: { 200: StatusSchema, ...errorResponses() },
        },
      },
      async (request) => status(request),
    );

    app.get(
      '/jobs/metrics',
      {
        schema: {
          operationId: 'getJobMetrics',
          tags: ['jobs'],
          summary: 'The same status in the Prometheus text format, for a scraper with an admin key.',
          description: `Gauges: cornerstore_events_pending, cornerstore_events_lag_seconds, cornerstore_events_stored, cornerstore_subscriber_failures{subscriber,status}, cornerstore_scheduled_job_failed{job}.${ADMIN_NOTE}`,
          response: {
            200: {
              description: 'The Prometheus text exposition format.',
              content: { 'text/plain': { schema: Type.String() } },
            },
            ...errorResponses(),
          },
        },
      },
      async (request, reply) => {
        const { type, text } = await prometheusText(await status(request));
        return reply.type(type).send(text);
      },
    );

    app.get(
      '/jobs/failures',
      {
        schema: {
          operationId: 'listJobFailures',
          tags: ['jobs'],
          summary: 'Subscriber failures, newest first: retries waiting and dead letters.',
          description: `Each names the subscriber, the event (id and type), the tries so far, the last error and when the next try is due (null for a dead letter).${ADMIN_NOTE}`,
          querystring: FailuresQuery,
          response: { 200: Type.Object({ failures: Type.Array(FailureSchema) }), ...errorResponses() },
        },
      },
      async (request) => ({
        failures: await inCallerWorkspace(deps, request, (tx, actor) =>
          listJobFailures(tx, actor, { status: request.query.status, limit: request.query.limit }),
        ),
      }),
    );

    app.post(
      '/jobs/failures/retry',
      {
        schema: {
          operationId: 'retryJobFailures',
          tags: ['jobs'],
          summary: 'Put dead letters back in the queue with a fresh set of tries.',
          description:
            "All of the workspace's dead letters, or only a subscriber's (`subscriber`) or an event's (`eventId`); the " +
            `next pass of a worker retries them. Audited; honours Idempotency-Key.${ADMIN_NOTE}`,
          body: Type.Optional(RetryBody),
          response: { 200: Type.Object({ requeued: Type.Integer() }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        idempotentWrite(deps, request, reply, async (tx, actor, audit) => {
          const filter = { subscriber: request.body?.subscriber, eventId: request.body?.eventId };
          const result = await retryDeadLetters(tx, actor, filter);
          audit({
            action: 'jobs.retry',
            purpose: null,
            customerIds: [],
            fields: [],
            details: { ...filter, requeued: result.requeued },
          });
          return { status: 200, body: result };
        }),
    );
  };
}
