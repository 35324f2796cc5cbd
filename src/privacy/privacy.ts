/** Privacy rights and corrections that travel: types and pure logic (deadlines, which recipients to tell). */

/** The rights a customer exercises as a request (SPEC §5.4). */
export const PRIVACY_REQUEST_KINDS = [
  'access',
  'rectification',
  'erasure',
  'restriction',
  'portability',
  'objection',
  'do_not_sell',
] as const;
export type PrivacyRequestKind = (typeof PRIVACY_REQUEST_KINDS)[number];

/** Who made the request: staff on the customer's behalf, the customer (the portal), or a GPC signal. */
export type PrivacyRequestSource = 'staff' | 'customer' | 'gpc';
export type PrivacyRequestStatus = 'open' | 'completed' | 'rejected';
export type VerificationStatus = 'pending' | 'verified' | 'not_required';

/** The purposes a do-not-sell/share request (and a `Sec-GPC: 1` signal) objects to (SPEC §4). */
export const DO_NOT_SELL_PURPOSES = ['sale', 'third_party_sharing'] as const;

/** One field correction a rectification request asks for. */
export interface RequestedChange {
  field: string;
  value: string | null;
}

/** A privacy request as read. */
export interface PrivacyRequest {
  id: string;
  customerId: string;
  kind: PrivacyRequestKind;
  source: PrivacyRequestSource;
  status: PrivacyRequestStatus;
  verification: {
    status: VerificationStatus;
    method: string | null;
    by: string | null;
    at: string | null;
  };
  assignee: string | null;
  /** What the request asks for: a rectification's changes, an objection's purposes, a note. */
  details: Record<string, unknown>;
  /** What was done, when completed: the evidence of completion. */
  evidence: Record<string, unknown> | null;
  receivedAt: string;
  /** The last day (YYYY-MM-DD, UTC) it may be answered on. */
  dueOn: string;
  /** Days left until the deadline (negative: overdue); null once finished. */
  daysLeft: number | null;
  overdue: boolean;
  createdBy: string;
  completedBy: string | null;
  completedAt: string | null;
}

/** What causes recipients to be told. */
export type NotificationCause = 'rectification' | 'erasure' | 'restriction' | 'merge';
export type NotificationChannel = 'webhook' | 'manual';
export type NotificationStatus = 'pending' | 'delivered' | 'acknowledged' | 'failed' | 'exempt';

/** One recipient told of a correction, erasure or restriction. */
export interface PrivacyNotification {
  id: string;
  recipient: { id: string; name: string; kind: string };
  customerId: string;
  cause: NotificationCause;
  causeId: string;
  requestId: string | null;
  /** The affected fields this recipient received. */
  fields: string[];
  channel: NotificationChannel;
  status: NotificationStatus;
  /** Why it is exempt or failed. */
  reason: string | null;
  /** The webhook delivery carrying it; its id is the receiver's idempotency key. */
  deliveryId: string | null;
  createdAt: string;
  deliveredAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

const DAY_MS = 86_400_000;

/**
 * The last day a request received at `receivedAt` may be answered on: the UTC day of receipt plus
 * `days` calendar days. Counting in days of the calendar (not 24-hour steps from the instant) makes
 * month ends, leap days and daylight-saving changes no special case: 31 January + 30 days is 2 March
 * (1 March in a leap year).
 */
export function computeDueOn(receivedAt: Date, days: number): string {
  const start = Date.UTC(receivedAt.getUTCFullYear(), receivedAt.getUTCMonth(), receivedAt.getUTCDate());
  return new Date(start + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `now`'s UTC day to the due day: 0 on the last day, negative once overdue. */
export function computeDaysLeft(dueOn: string, now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((Date.parse(`${dueOn}T00:00:00Z`) - today) / DAY_MS);
}

/** Disclosed field names that stand for the whole record (a backup, a whole-record export). */
const WHOLE_RECORD_FIELDS = new Set(['backup', 'customer', '*']);

/**
 * The affected fields a recipient received: those of `disclosed` among `affected` (a field name, or a
 * whole-record disclosure, which holds every field); with `affected` 'all' (an erasure, a restriction,
 * a merge), everything it received. Empty: the recipient holds none of them and is not told.
 */
export function computeAffectedFields(
  disclosed: readonly string[],
  affected: readonly string[] | 'all',
): string[] {
  if (affected === 'all') return [...new Set(disclosed)].sort();
  const wanted = new Set(affected);
  const whole = disclosed.some((f) => WHOLE_RECORD_FIELDS.has(f));
  const hit = whole ? [...wanted] : disclosed.filter((f) => wanted.has(f));
  return [...new Set(hit)].sort();
}

/**
 * The body of a notification's webhook delivery (Standard Webhooks' `type`, `timestamp`, `data`): what
 * happened to which customer's which fields, and where to acknowledge it — ids and field names only,
 * never a value: the receiver reads the corrected record (or learns it is gone) through its own access.
 */
export function computeNoticeBody(notice: {
  id: string;
  workspaceId: string;
  customerId: string;
  cause: NotificationCause;
  fields: readonly string[];
  requestId: string | null;
  at: Date;
}): string {
  return JSON.stringify({
    type: `privacy.${notice.cause}`,
    timestamp: notice.at.toISOString(),
    data: {
      notificationId: notice.id,
      workspaceId: notice.workspaceId,
      customerId: notice.customerId,
      cause: notice.cause,
      fields: notice.fields,
      requestId: notice.requestId,
      action: NOTICE_ACTIONS[notice.cause],
      acknowledge: `/v1/privacy-notifications/${notice.id}/acknowledge`,
    },
  });
}

/** What a recipient is asked to do, per cause (SPEC §5.5). */
export const NOTICE_ACTIONS: Readonly<Record<NotificationCause, string>> = {
  rectification: 'replace the listed fields with the corrected values',
  merge: 'the customer was merged into another record: update the listed fields and the id',
  erasure: 'erase everything you hold about this customer',
  restriction: 'stop processing this customer’s data except to store it',
};
