import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.ts';
import { chainAuditBacklog, ingestGoverned, type ScopeOptions, withAccess } from '../governance/index.ts';
import { AppError, invalid } from '../shared/errors.ts';
import type { Actor } from '../workspaces/index.ts';
import { bucketOf, type StreamLayout } from './layout.ts';

/**
 * Streaming ingest from NATS JetStream. Producers publish one interaction (the JSON body of
 * `POST /v1/interactions`) per message on `<prefix>.<bucket>`, the bucket a hash of the customer's key
 * (`subjectFor`), so one customer's interactions stay in order on one subject. Each bucket has a durable
 * pull consumer; a Cornerstore consumer process is member k of K and takes the buckets b with
 * b mod K = k. A batch of messages is ingested through the governed ingest path in one transaction and
 * acknowledged only after it commits: a crash before the acknowledgements redelivers the batch, and the
 * interactions' idempotency on (source, externalId) answers those `duplicate`. A message the ingest
 * rejects is acknowledged after its rejection is published, with the error, on `<prefix>.rejects.<k>`
 * (its own stream), so nothing acknowledged is lost.
 */

export interface NatsIngestOptions extends StreamLayout {
  /** `nats://host:port`. */
  url: string;
  /** Consumer processes in all, and which one this is (0-based). */
  consumers: number;
  member: number;
  /** Messages per transaction. */
  batch: number;
  /** Batches in flight at once (each from buckets no other in-flight batch holds). */
  concurrency: number;
  /** Seconds a delivered message may wait for its acknowledgement before it is delivered again. */
  ackWaitSeconds: number;
  /** Stop once no message has arrived for this long (ms); run until stopped when absent. */
  idleMs?: number;
  /** Stops the consumer after the batch in hand is committed and acknowledged. */
  signal?: AbortSignal;
  /** Called after each committed batch. */
  onBatch?: (report: NatsBatchReport) => void;
}

export interface NatsBatchReport {
  messages: number;
  created: number;
  duplicate: number;
  rejected: number;
}

export interface NatsIngestSummary extends NatsBatchReport {
  batches: number;
  buckets: number[];
  /** When the first message arrived and the last batch was acknowledged (ISO 8601; null when none). */
  firstArrivalAt: string | null;
  lastCommitAt: string | null;
  /** Batches whose transaction failed and were handed back for redelivery. */
  retried: number;
}

const WRITE_SCOPE: ScopeOptions = { purpose: undefined, requestId: null, mode: 'write', deferChaining: true };

function rejectsSubject(layout: StreamLayout, member: number): string {
  return `${layout.subjectPrefix}.rejects.${member}`;
}

/** The subject a producer publishes an interaction on: its customer's bucket. */
export function subjectFor(layout: StreamLayout, interaction: unknown): string {
  return `${layout.subjectPrefix}.${bucketOf(customerKey(interaction), layout.buckets)}`;
}

/** What names the customer of an interaction, for bucketing: an id, an identity or a contact point. */
function customerKey(interaction: unknown): string {
  const item = (interaction ?? {}) as {
    customer?: {
      id?: unknown;
      identity?: { source?: unknown; externalId?: unknown };
      email?: unknown;
      phone?: unknown;
    };
    source?: unknown;
    externalId?: unknown;
  };
  const c = item.customer ?? {};
  if (typeof c.id === 'string') return `id:${c.id}`;
  if (typeof c.identity?.source === 'string' && typeof c.identity.externalId === 'string') {
    return `identity:${c.identity.source}:${c.identity.externalId}`;
  }
  if (typeof c.email === 'string') return `email:${c.email.trim().toLowerCase()}`;
  if (typeof c.phone === 'string') return `phone:${c.phone.replace(/[^\d+]/g, '')}`;
  return `item:${String(item.source)}:${String(item.externalId)}`;
}

async function connectTo(url: string): Promise<NatsConnection> {
  const parsed = /^nats:\/\/([^/\s]+)\/?$/.exec(url);
  if (!parsed) {
    throw invalid('STREAM_URL_INVALID', `Expected nats://host:port, got "${url}".`, { url });
  }
  try {
    return await connect({
      servers: parsed[1] as string,
      name: 'cornerstore-ingest',
      maxReconnectAttempts: -1,
    });
  } catch (error) {
    throw new AppError(
      'unavailable',
      'STREAM_UNREACHABLE',
      `Could not connect to ${url}: ${(error as Error).message}. Is the NATS server running with JetStream?`,
      { url },
      { cause: error },
    );
  }
}

/** Creates the ingest stream, its rejects stream and one durable consumer per bucket, where missing. */
export async function ensureIngestStream(
  jsm: JetStreamManager,
  layout: StreamLayout,
  ackWaitSeconds: number,
): Promise<void> {
  const streams = [
    { name: layout.stream, subjects: [`${layout.subjectPrefix}.*`], retention: RetentionPolicy.Workqueue },
    {
      name: `${layout.stream}_REJECTS`,
      subjects: [`${layout.subjectPrefix}.rejects.*`],
      retention: RetentionPolicy.Limits,
    },
  ];
  for (const stream of streams) {
    try {
      await jsm.streams.info(stream.name);
    } catch {
      await jsm.streams.add({ ...stream, storage: StorageType.File });
    }
  }
  for (let bucket = 0; bucket < layout.buckets; bucket++) {
    const config = {
      durable_name: `${layout.stream}-b${bucket}`,
      filter_subject: `${layout.subjectPrefix}.${bucket}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitSeconds * 1000),
      max_deliver: -1,
    };
    try {
      const info = await jsm.consumers.info(layout.stream, config.durable_name);
      if (info.config.ack_wait !== config.ack_wait) {
        await jsm.consumers.update(layout.stream, config.durable_name, { ack_wait: config.ack_wait });
      }
    } catch {
      await jsm.consumers.add(layout.stream, config);
    }
  }
}

/** Publishes interactions to their buckets and waits for the stream to store each. */
export async function publishInteractions(
  url: string,
  layout: StreamLayout,
  interactions: readonly unknown[],
): Promise<number> {
  const nc = await connectTo(url);
  try {
    const jsm = await jetstreamManager(nc);
    await ensureIngestStream(jsm, layout, 30);
    const js = jetstream(nc);
    const window = 500;
    for (let i = 0; i < interactions.length; i += window) {
      await Promise.all(
        interactions
          .slice(i, i + window)
          .map((item) => js.publish(subjectFor(layout, item), JSON.stringify(item))),
      );
    }
    return interactions.length;
  } finally {
    await nc.drain();
  }
}

/**
 * Delivered messages by bucket, fed by the bucket consumers. A batch takes from buckets that have no
 * batch in flight, so one customer's messages (one bucket) are stored in order even with several
 * batches in flight.
 */
class Inbox {
  private readonly queues = new Map<number, JsMsg[]>();
  private readonly busy = new Set<number>();
  private wake: (() => void) | undefined;
  private queued = 0;
  lastArrival = Date.now();
  firstArrival = 0;

  push(bucket: number, msg: JsMsg): void {
    const queue = this.queues.get(bucket) ?? [];
    queue.push(msg);
    this.queues.set(bucket, queue);
    this.queued++;
    this.lastArrival = Date.now();
    if (this.firstArrival === 0) this.firstArrival = this.lastArrival;
    this.wake?.();
  }

  /** Up to `max` messages from buckets with nothing in flight, and the buckets now in flight. */
  take(max: number): { msgs: JsMsg[]; buckets: number[] } | undefined {
    const msgs: JsMsg[] = [];
    const buckets: number[] = [];
    for (const [bucket, queue] of this.queues) {
      if (msgs.length >= max) break;
      if (this.busy.has(bucket) || queue.length === 0) continue;
      msgs.push(...queue.splice(0, max - msgs.length));
      buckets.push(bucket);
      this.busy.add(bucket);
    }
    if (msgs.length === 0) return undefined;
    this.queued -= msgs.length;
    return { msgs, buckets };
  }

  release(buckets: readonly number[]): void {
    for (const bucket of buckets) this.busy.delete(bucket);
    this.wake?.();
  }

  get size(): number {
    return this.queued;
  }

  /** Resolves when a message arrives, a batch ends, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

function parse(msg: JsMsg): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(msg.data)) };
  } catch (error) {
    return {
      ok: false,
      error: {
        code: 'STREAM_MESSAGE_INVALID',
        message: `The message is not JSON: ${(error as Error).message}. Publish one interaction as a JSON object per message.`,
      },
    };
  }
}

/**
 * Consumes this member's buckets until stopped (or idle): each batch ingested in one transaction as
 * `actor`, then its rejections published and its messages acknowledged.
 */
export async function runNatsIngest(
  db: Kysely<DB>,
  actor: Actor,
  options: NatsIngestOptions,
): Promise<NatsIngestSummary> {
  if (!Number.isInteger(options.consumers) || options.consumers < 1) {
    throw invalid('STREAM_OPTION_INVALID', '--consumers is a whole number of at least 1.');
  }
  if (!Number.isInteger(options.member) || options.member < 0 || options.member >= options.consumers) {
    throw invalid('STREAM_OPTION_INVALID', `--member is a whole number from 0 to ${options.consumers - 1}.`);
  }
  const buckets = [...Array(options.buckets).keys()].filter((b) => b % options.consumers === options.member);
  if (buckets.length === 0) {
    throw invalid(
      'STREAM_OPTION_INVALID',
      `With ${options.buckets} buckets, member ${options.member} of ${options.consumers} has none: use at most as many consumers as buckets.`,
    );
  }
  const nc = await connectTo(options.url);
  const summary: NatsIngestSummary = {
    batches: 0,
    messages: 0,
    created: 0,
    duplicate: 0,
    rejected: 0,
    retried: 0,
    buckets,
    firstArrivalAt: null,
    lastCommitAt: null,
  };
  const feeds: ConsumerMessages[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await ensureIngestStream(jsm, options, options.ackWaitSeconds);
    const js = jetstream(nc);
    const inbox = new Inbox();
    for (const bucket of buckets) {
      const consumer = await js.consumers.get(options.stream, `${options.stream}-b${bucket}`);
      const feed = await consumer.consume({ max_messages: options.batch });
      feeds.push(feed);
      void (async () => {
        for await (const msg of feed) inbox.push(bucket, msg);
      })();
    }
    const context: BatchContext = { db, actor, js, nc, options, summary };
    const inFlight = new Set<Promise<void>>();
    // Batches defer linking their audit events into the chain; it is done every few seconds and at the end.
    let chainedAt = Date.now();
    while (!options.signal?.aborted) {
      while (inFlight.size < options.concurrency) {
        const taken = inbox.take(options.batch);
        if (!taken) break;
        summary.firstArrivalAt ??= new Date(inbox.firstArrival).toISOString();
        const running: Promise<void> = ingestBatch(context, taken.msgs)
          .then((report) => {
            if (report) options.onBatch?.(report);
          })
          .finally(() => {
            inFlight.delete(running);
            inbox.release(taken.buckets);
          });
        inFlight.add(running);
      }
      await inbox.wait(250);
      if (Date.now() - chainedAt > 5_000) {
        await chainAuditBacklog(db);
        chainedAt = Date.now();
      }
      const idle = inFlight.size === 0 && inbox.size === 0;
      if (idle && options.idleMs !== undefined && Date.now() - inbox.lastArrival >= options.idleMs) break;
    }
    await Promise.all(inFlight);
    await chainAuditBacklog(db);
    return summary;
  } finally {
    for (const feed of feeds) feed.stop();
    await nc.drain().catch(() => nc.close());
  }
}

interface BatchContext {
  db: Kysely<DB>;
  actor: Actor;
  js: JetStreamClient;
  nc: NatsConnection;
  options: NatsIngestOptions;
  summary: NatsIngestSummary;
}

/**
 * Ingests one batch in one transaction, then publishes its rejections and acknowledges its messages. A
 * transaction that fails hands every message back for redelivery; nothing is acknowledged unstored.
 */
async function ingestBatch(context: BatchContext, msgs: JsMsg[]): Promise<NatsBatchReport | undefined> {
  const { db, actor, js, nc, options, summary } = context;
  const parsed = msgs.map(parse);
  const items: unknown[] = [];
  const at: number[] = [];
  for (const [i, p] of parsed.entries()) {
    if (p.ok) {
      items.push(p.value);
      at.push(i);
    }
  }
  let results: Awaited<ReturnType<typeof ingestGoverned>>;
  try {
    results =
      items.length === 0
        ? []
        : await withAccess(db, actor, WRITE_SCOPE, (scope) =>
            ingestGoverned(scope, items, { atomic: false }),
          );
  } catch (error) {
    // Nothing was stored: hand the batch back for redelivery after a pause, and keep consuming.
    for (const msg of msgs) msg.nak(2_000);
    summary.retried++;
    process.emitWarning(`Stream ingest batch failed and will be redelivered: ${(error as Error).message}`);
    return undefined;
  }
  const report: NatsBatchReport = { messages: msgs.length, created: 0, duplicate: 0, rejected: 0 };
  const rejections: { msg: JsMsg; error: unknown }[] = [];
  for (const [i, p] of parsed.entries())
    if (!p.ok) rejections.push({ msg: msgs[i] as JsMsg, error: p.error });
  for (const result of results) {
    if (result.status === 'created') report.created++;
    else if (result.status === 'duplicate') report.duplicate++;
    else rejections.push({ msg: msgs[at[result.index] as number] as JsMsg, error: result.error });
  }
  report.rejected = rejections.length;
  // A rejection is kept, with its message, before the message is acknowledged.
  const subject = rejectsSubject(options, options.member);
  await Promise.all(
    rejections.map(({ msg, error }) =>
      js.publish(
        subject,
        JSON.stringify({
          subject: msg.subject,
          sequence: msg.seq,
          message: new TextDecoder().decode(msg.data),
          error,
          rejectedAt: new Date().toISOString(),
        }),
      ),
    ),
  );
  // Acknowledged without waiting for each confirmation: one lost is a redelivery, which is a duplicate.
  for (const msg of msgs) msg.ack();
  await nc.flush();
  summary.batches++;
  summary.lastCommitAt = new Date().toISOString();
  summary.messages += report.messages;
  summary.created += report.created;
  summary.duplicate += report.duplicate;
  summary.rejected += report.rejected;
  return report;
}
