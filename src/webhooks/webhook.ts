import { createHmac, randomBytes } from 'node:crypto';
import { invalid } from '../shared/errors.ts';

/** Webhooks out: types and pure logic (signing, backoff, which events a purpose allows, URL checks). */

/** Attempts in one round (from enqueue or a replay) before a delivery is parked for a person to replay. */
export const MAX_ATTEMPTS = 15;
/** The first retry waits about this long; each next one twice as long, up to `BACKOFF_CAP_MS`. */
export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_CAP_MS = 8 * 60 * 60 * 1000;
/**
 * An endpoint is disabled when it has failed every attempt for this long and at least
 * `DISABLE_MIN_FAILURES` times in a row: one slow night does not disable it, five days of errors do.
 */
export const DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;
export const DISABLE_MIN_FAILURES = 10;
/** After a rotation, deliveries are signed with the new and the previous secret for this long. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** Finished (delivered or parked) deliveries and their attempts are kept this long, then pruned. */
export const DELIVERY_RETENTION_DAYS = 30;
/** A claimed delivery is not claimed again for this long: longer than a request may take to answer. */
export const CLAIM_LEASE_MS = 60_000;
/** A receiver has this long to answer; its answer is read up to `MAX_RESPONSE_BYTES` and discarded. */
export const REQUEST_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;
export const MAX_URL_LENGTH = 2048;

/**
 * The event as the backbone hands it to subscribers. Declared here (structurally) so this folder does
 * not depend on the event module; its payload names ids and fields, never personal values.
 */
export interface WebhookEvent {
  readonly id: string;
  readonly workspaceId: string;
  readonly type: string;
  readonly customerId: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly occurredAt: Date;
}

const ALL_PURPOSES = [
  'service',
  'billing',
  'fulfilment',
  'personalization',
  'marketing',
  'analytics',
  'third_party_sharing',
  'sale',
  'legal',
] as const;

/**
 * Which purposes may receive each event type. Corrections and the customer's privacy choices travel to
 * every recipient whatever its purpose (SPEC §5.5: whoever received the data must learn it changed);
 * other events go to the purposes that use them. A type not listed here is delivered to no one: a new
 * event type is sent out only once someone decides here who may receive it.
 */
export const WEBHOOK_EVENT_PURPOSES: Readonly<Record<string, readonly string[]>> = {
  field_rectified: ALL_PURPOSES,
  name_corrected: ALL_PURPOSES,
  fact_corrected: ALL_PURPOSES,
  customers_merged: ALL_PURPOSES,
  customer_unmerged: ALL_PURPOSES,
  consent_changed: ['service', 'marketing', 'personalization', 'legal'],
  customer_created: ['service', 'billing', 'fulfilment', 'personalization', 'marketing', 'analytics'],
  interaction_recorded: ['service', 'billing', 'fulfilment', 'personalization', 'analytics'],
  moment_action_ready: ['service', 'personalization', 'marketing'],
};

/**
 * Event types that reach every recipient whatever the customer's consents say: corrections, merges,
 * erasure and restriction are what a recipient needs to fix or stop using what it holds (SPEC §5.5).
 */
export const CORRECTION_EVENTS: ReadonlySet<string> = new Set(
  Object.entries(WEBHOOK_EVENT_PURPOSES)
    .filter(([, purposes]) => purposes === ALL_PURPOSES)
    .map(([type]) => type),
);

/**
 * The purpose under which an event goes to an endpoint: the first of the recipient's purposes (sorted)
 * that allows the type, when the endpoint's filter (if any) names it; undefined: not delivered.
 */
export function computeDeliveryPurpose(
  type: string,
  recipientPurposes: readonly string[],
  events: readonly string[] | null,
): string | undefined {
  if (events !== null && !events.includes(type)) return undefined;
  const allowed = WEBHOOK_EVENT_PURPOSES[type];
  if (!allowed) return undefined;
  return [...recipientPurposes].sort().find((p) => allowed.includes(p));
}

/** Refuses an event filter naming a type that does not exist or that none of the purposes allows. */
export function assertEventFilter(events: readonly string[], purposes: readonly string[]): void {
  const problems = events.flatMap((type, i) => {
    if (!(type in WEBHOOK_EVENT_PURPOSES)) return [{ path: `events[${i}]`, message: 'is not an event type' }];
    if (computeDeliveryPurpose(type, purposes, null) === undefined) {
      return [{ path: `events[${i}]`, message: `is not allowed for the purposes ${purposes.join(', ')}` }];
    }
    return [];
  });
  if (problems.length > 0) {
    throw invalid(
      'WEBHOOK_EVENTS_INVALID',
      `Event types must be among ${Object.keys(WEBHOOK_EVENT_PURPOSES).join(', ')} and allowed for the recipient's purposes.`,
      { errors: problems },
    );
  }
}

/**
 * Refuses a URL a delivery must not go to: only http and https (no file:, data:, gopher: or other
 * schemes a URL parser accepts), no user name or password in it (they would travel in logs), at most
 * `MAX_URL_LENGTH` characters. Deliveries never follow redirects. Private and loopback addresses are
 * allowed (an installation delivers to its own services); restrict egress at the network where the
 * people registering webhooks are not trusted with it.
 */
export function assertWebhookUrl(raw: string): string {
  const refuse = (message: string) => invalid('WEBHOOK_URL_INVALID', message, { url: raw.slice(0, 200) });
  if (raw.length > MAX_URL_LENGTH) throw refuse(`A webhook URL has at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('Not a URL: give an absolute http:// or https:// URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse('A webhook URL must be http:// or https://.');
  }
  if (url.username !== '' || url.password !== '') {
    throw refuse('A webhook URL may not hold a user name or password: authenticate by the signature.');
  }
  if (url.hash !== '') throw refuse('A webhook URL has no #fragment.');
  return url.toString();
}

/** A new signing secret: 32 random bytes, shown as `whsec_` and their base64 (Standard Webhooks). */
export function generateSecret(): { bytes: Buffer; text: string } {
  const bytes = randomBytes(32);
  return { bytes, text: formatSecret(bytes) };
}

/** A secret's bytes as the receiver configures them. */
export function formatSecret(bytes: Uint8Array): string {
  return `whsec_${Buffer.from(bytes).toString('base64')}`;
}

/**
 * Signed with node:crypto: the same bytes as the `standardwebhooks` package (the tests check both against
 * the specification's reference vector and verify with the package), at several times its speed, whose
 * pure-JavaScript HMAC was a measurable part of a delivery's CPU.
 *
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under each secret,
 * separated by spaces (the current secret first; during a rotation also the previous one, so a
 * receiver that still holds the old secret verifies too).
 */
export function computeSignatureHeader(
  id: string,
  timestamp: Date,
  body: string,
  secrets: readonly Uint8Array[],
): string {
  const signed = `${id}.${Math.floor(timestamp.getTime() / 1000)}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', secret).update(signed).digest('base64')}`)
    .join(' ');
}

/** The body of a delivery (Standard Webhooks' `type`, `timestamp`, `data`): ids and field names only. */
export function computeDeliveryBody(event: WebhookEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurredAt.toISOString(),
    data: {
      ...event.payload,
      eventId: event.id,
      workspaceId: event.workspaceId,
      customerId: event.customerId,
    },
  });
}

/**
 * How long to wait after the `attempt`-th failed attempt of a round (1-based): exponential from
 * `BACKOFF_BASE_MS`, capped at `BACKOFF_CAP_MS`, with jitter of ±25% (`random` in [0, 1)) so receivers
 * that came back are not hit by every sender at the same second. Below the cap each wait is longer
 * than the one before whatever the jitter (2 × 0.75 > 1.25).
 */
export function computeBackoffMs(attempt: number, random: number): number {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.75 + 0.5 * random));
}

/** An endpoint's record of failures. */
export interface EndpointHealth {
  consecutiveFailures: number;
  failingSince: Date | null;
}

/** True when an endpoint has failed long and often enough to be disabled. */
export function computeShouldDisable(health: EndpointHealth, now: Date): boolean {
  return (
    health.failingSince !== null &&
    health.consecutiveFailures >= DISABLE_MIN_FAILURES &&
    now.getTime() - health.failingSince.getTime() >= DISABLE_AFTER_MS
  );
}

/** What one attempt came to. */
export interface AttemptOutcome {
  /** The receiver's status, when it answered. */
  status: number | null;
  /** Why the attempt failed, when it did: `timeout`, `unreachable`, `http_<status>` or a short reason. */
  error: string | null;
  /** False only when the request surely never left (connection refused, name not found). */
  sent: boolean;
  latencyMs: number;
}

/** True for an answer that acknowledges the delivery (2xx). */
export function isAcknowledged(outcome: AttemptOutcome): boolean {
  return outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
}

/** A webhook endpoint as shown on its recipient. */
export interface WebhookEndpoint {
  url: string;
  /** The event types asked for; null: every type its purposes allow. */
  events: string[] | null;
  status: 'active' | 'disabled';
  consecutiveFailures: number;
  failingSince: string | null;
  disabledAt: string | null;
  /** The notice given when the endpoint was disabled. */
  disabledReason: string | null;
  /** When the previous secret stops being signed with, after a rotation. */
  previousSecretUntil: string | null;
}

/** One attempt in the delivery log. */
export interface WebhookAttempt {
  attempt: number;
  url: string;
  request: Record<string, unknown>;
  startedAt: string;
  latencyMs: number;
  responseStatus: number | null;
  error: string | null;
}

/** A delivery as the log shows it. */
export interface WebhookDelivery {
  id: string;
  recipientId: string;
  eventId: string;
  eventType: string;
  customerId: string | null;
  purpose: string;
  status: 'pending' | 'delivered' | 'parked';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  log: WebhookAttempt[];
}
