/**
 * Privacy rights and corrections that travel (SPEC §5.4, §5.5): privacy requests with their legal
 * deadlines, verification, assignee and evidence; the notifications that tell every recipient of a
 * customer's data about a rectification, merge, erasure or restriction (by signed webhook or the manual
 * work queue, each with its state); complete erasure with the suppression list; the access and
 * portability archive. Owns `privacy_requests` and `privacy_notifications`. A flow on the floor of
 * webhooks/: it composes governance/, the domains' own erasure functions, disclosures/ and webhooks/, and
 * nothing imports it but the adapters and the backbone. It writes no other folder's table.
 */

export {
  /** The access and portability archive of one customer (zip of data.json and CSV files). */
  type AccessArchive,
  /** Builds the archive of everything held on the person, tables found from the catalog. */
  buildAccessArchive,
} from './access.service.ts';
export {
  /** What an erasure did, in counts. */
  type ErasureReport,
  /** Erases a customer completely, telling every recipient first. */
  eraseCustomer,
} from './erasure.service.ts';
export {
  /** The recipient confirms it applied a correction. */
  acknowledgeNotification,
  /** A party holding the customer's data, with the corrections sent to it. */
  type CustomerRecipient,
  /** Marks a notification exempt, with its reason. */
  exemptNotification,
  /** The manual queue: a person sent the notification. */
  markNotificationSent,
  /** What a cause (rectification, merge, erasure, restriction) tells the recipients. */
  type NoticeCause,
  /** One notification per recipient that received the affected fields, in the caller's transaction. */
  planNotifications,
  /** Every party holding the customer's data and the state of each correction. */
  readCustomerRecipients,
  /** The workspace's notifications (the privacy office's view and the manual work queue). */
  readNotifications,
  /** Sends a failed notification again (same id and body). */
  retryNotification,
  /** Brings webhook notifications up to their deliveries' states. */
  syncNotificationStates,
} from './notice.service.ts';
export {
  /** Request, notification and recipient schemas of the API. */
  CreatePrivacyRequestBody,
  CustomerRecipientSchema,
  PrivacyNotificationSchema,
  PrivacyRequestSchema,
} from './privacy.schema.ts';
export {
  /** Deadlines, kinds, notice bodies: types and pure logic. */
  computeAffectedFields,
  computeDaysLeft,
  computeDueOn,
  DO_NOT_SELL_PURPOSES,
  type NotificationCause,
  type NotificationChannel,
  type NotificationStatus,
  PRIVACY_REQUEST_KINDS,
  type PrivacyNotification,
  type PrivacyRequest,
  type PrivacyRequestKind,
} from './privacy.ts';
export {
  /** Tells the recipients and stops queued work after a restriction. */
  applyRestriction,
  /** Gives a request to someone of the privacy office. */
  assignPrivacyRequest,
  /** What completing a request did. */
  type Completion,
  /** What creating a request takes. */
  type CreateRequestInput,
  /** Carries a request out and records its evidence. */
  completePrivacyRequest,
  /** Records a privacy request with its deadline. */
  createPrivacyRequest,
  /** The privacy office's queue by deadline. */
  listPrivacyRequests,
  /** One request with its notifications. */
  readPrivacyRequest,
  /** A `Sec-GPC: 1` signal: a do-not-sell/share request completed at once. */
  recordGpcSignal,
  /** Refuses a request with its reason. */
  rejectPrivacyRequest,
  /** Records how the requester's identity was verified. */
  verifyPrivacyRequest,
} from './request.service.ts';
