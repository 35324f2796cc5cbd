/**
 * The audit log (SPEC §5.6): every read and write of personal data appends an event (actor, purpose,
 * customers, fields, action, request id, time) in the same transaction as the access it records; a
 * chainer then links it into the workspace's hash chain (HMAC-SHA256 under a key kept outside the
 * database) and signed checkpoints of the chain's head go to a file the database cannot rewrite. Owns
 * `audit_inbox`, `audit_events`, `audit_subjects` and `audit_heads`, the audit keys and the checkpoints
 * file; the database refuses updates and deletes of events. It must not decide access (that is policy/)
 * or read customer content.
 */

export {
  /** File names of the audit key, the signing key and the checkpoints in the key directory. */
  AUDIT_CHECKPOINTS_FILE,
  AUDIT_KEY_FILE,
  AUDIT_SIGNING_KEY_FILE,
  /** The installation's audit keys and checkpoints file. */
  type AuditKeys,
  /** Ties the audit keys to a database handle (composition roots). */
  bindAuditKeys,
  /** Which HMAC key chains are hashed with, without revealing it. */
  computeAuditKeyFingerprint,
  /** The latest signed checkpoint of a workspace's chain in the checkpoints file. */
  findLatestCheckpoint,
  /** The audit keys tied to a database handle. */
  getAuditKeys,
  /** Loads (and on first use creates, 0600) the audit keys of a directory. */
  loadAuditKeys,
} from './audit.keys.ts';
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
  /** Signs the committed chain head and appends the checkpoint to the checkpoints file. */
  recordCheckpoint,
  /** Walks the chain with the audit key, compares it with a signed checkpoint, names the first broken link. */
  verifyAuditChain,
  /** `audit verify`: chains what waits, verifies against the latest checkpoint, signs a new one. */
  verifyWorkspaceAuditChain,
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
/** A signed checkpoint of a chain head. */
export type { Checkpoint } from './checkpoint.ts';
export {
  /** Reads a checkpoint written as JSON; null for anything else. */
  parseCheckpoint,
  /** Signs a chain head (a backup signs the head it holds). */
  signCheckpoint,
} from './checkpoint.ts';
