/**
 * The audit log (SPEC §5.6): every read and write of personal data appends an event (actor, purpose,
 * customers, fields, action, request id, time) in the same transaction as the access it records; a
 * chainer then links it into the workspace's hash chain. Owns `audit_events`, `audit_subjects` and `audit_heads`; the database refuses
 * updates and deletes of events. It must not decide access (that is policy/) or read customer content.
 */

export {
  /** One entry of a customer's access log. */
  type AccessLogEntry,
  /** A page of a customer's access log. */
  type AccessLogPage,
  /** The outcome of a chain verification. */
  type ChainReport,
  /** Links waiting events into the hash chain, in order. */
  chainPendingEvents,
  /** "Who looked at my data, and why": a customer's audit events, newest first. */
  listAccessLog,
  /** Records audit events in the caller's transaction, without locking. */
  recordAuditEvents,
  /** Walks the chain and names the first broken link. */
  verifyAuditChain,
} from './audit.service.ts';
export {
  /** A stored link of the chain. */
  type AuditActor,
  /** One access or change to record. */
  type AuditEntry,
  /** Where and why a chain is broken. */
  type ChainBreak,
  /** Canonical JSON: sorted keys, no whitespace. */
  canonicalJson,
} from './audit.ts';
