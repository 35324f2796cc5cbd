import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { invalid } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { type AuditKeys, appendCheckpoint, findLatestCheckpoint } from './audit.keys.ts';
import * as repo from './audit.repository.ts';
import {
  type AuditActor,
  type AuditEntry,
  type AuditEvent,
  type ChainBreak,
  type ChainCursor,
  CURRENT_HASH_VERSION,
  checkChainSegment,
  computeEventHash,
  GENESIS_HASH,
} from './audit.ts';
import {
  type Checkpoint,
  computeKeyFingerprint,
  isCheckpointAuthentic,
  signCheckpoint,
} from './checkpoint.ts';

/** Use-cases of the audit log: append in the caller's transaction, verify the chain, the access log. */

/**
 * Records audit events for `entries` in the caller's transaction: the access and its record commit or
 * roll back together. The events go to the workspace's inbox without taking any lock, so concurrent
 * accesses never wait for each other; `chainPendingEvents` then links them into the hash chain, in
 * order, shortly after (the access path calls it after commit).
 */
export async function recordAuditEvents(
  tx: Tx,
  workspaceId: string,
  context: { actor: AuditActor; requestId: string | null },
  entries: readonly AuditEntry[],
  now: Date = new Date(),
): Promise<void> {
  if (entries.length === 0) return;
  await repo.insertPending(
    tx,
    workspaceId,
    entries.map((entry) => ({
      id: newId(now.getTime()),
      occurredAt: now.toISOString(),
      actor: context.actor,
      purpose: entry.purpose,
      action: entry.action,
      customerIds: [...new Set(entry.customerIds)],
      fields: [...new Set(entry.fields)].sort(),
      requestId: context.requestId,
      details: entry.details ?? null,
    })),
  );
}

/**
 * Links the workspace's waiting events into the hash chain, oldest first, each hashed with HMAC-SHA256
 * under the audit key, holding the chain's head until the transaction ends (appends are serialised per
 * workspace). With `wait: false` it gives way at once to a transaction already chaining and answers -1;
 * otherwise it answers how many it chained.
 */
export async function chainPendingEvents(
  tx: Tx,
  workspaceId: string,
  keys: AuditKeys,
  options: { wait: boolean; limit?: number },
): Promise<number> {
  const head = await repo.lockHead(tx, workspaceId, { skipLocked: !options.wait });
  if (!head) return -1;
  const pending = await repo.listPending(tx, workspaceId, options.limit ?? 5_000);
  let prevHash = head.hash;
  const events: AuditEvent[] = pending.map((p, index) => {
    const unhashed = {
      workspaceId,
      seq: head.seq + index + 1,
      ...p,
      prevHash,
      hashVersion: CURRENT_HASH_VERSION,
    };
    const hash = computeEventHash(unhashed, keys.hmacKey);
    prevHash = hash;
    return { ...unhashed, hash };
  });
  await repo.appendEvents(tx, events);
  return events.length;
}

/**
 * Signs the workspace's committed chain head and appends the checkpoint to the checkpoints file. Call
 * it outside the transaction that chained (a checkpoint of a head that then rolled back would later
 * read as a trimmed chain). Answers the checkpoint, or null for a chain with no event yet.
 */
export async function recordCheckpoint(
  db: Kysely<DB>,
  workspaceId: string,
  keys: AuditKeys,
  now: Date = new Date(),
): Promise<Checkpoint | null> {
  const head = await inWorkspace(db, workspaceId, (tx) => repo.findHead(tx, workspaceId));
  if (head.seq === 0) return null;
  const checkpoint = signCheckpoint({ workspaceId, ...head }, now, keys);
  appendCheckpoint(keys, checkpoint);
  return checkpoint;
}

/** The signed checkpoint a verification compared the chain with. */
export interface CheckedCheckpoint {
  seq: number;
  at: string;
}

/** The outcome of `verifyAuditChain`. */
export type ChainReport =
  | { ok: true; events: number; head: string; pending: number; checkpoint: CheckedCheckpoint | null }
  | { ok: false; events: number; break: ChainBreak; pending: number };

/**
 * Walks the workspace's whole chain in seq order, recomputing every hash with the audit key, then
 * compares it with the latest signed checkpoint (read by the caller before this transaction began, so
 * that it never counts events this snapshot cannot see), checks the head, the per-customer index and the
 * inbox against the chain; names the first broken link.
 */
export async function verifyAuditChain(
  tx: Tx,
  workspaceId: string,
  keys: AuditKeys,
  options: { checkpoint?: Checkpoint | null; pageSize?: number } = {},
): Promise<ChainReport> {
  const pending = await repo.countPending(tx, workspaceId);
  const checkpoint = options.checkpoint ?? null;
  if (checkpoint && !isCheckpointAuthentic(checkpoint, keys.publicKey)) {
    const other = checkpoint.key !== computeKeyFingerprint(keys.publicKey);
    return {
      ok: false,
      events: 0,
      pending,
      break: {
        seq: checkpoint.seq,
        problem: 'checkpoint_invalid',
        detail: other
          ? `the latest checkpoint (${checkpoint.at}) is signed by another key (${checkpoint.key}) than this installation's`
          : `the signature of the latest checkpoint (${checkpoint.at}) does not match it: the checkpoint was altered`,
      },
    };
  }
  let cursor: ChainCursor = { seq: 0, hash: GENESIS_HASH };
  let atCheckpoint: string | undefined;
  for (;;) {
    const page = await repo.listEventsAfter(tx, workspaceId, cursor.seq, options.pageSize ?? 2_000);
    if (page.length === 0) break;
    const checked = checkChainSegment(cursor, page, keys.hmacKey);
    // Every event before the broken one verified (seqs are dense), not only those of earlier pages.
    if (!checked.ok) return { ok: false, events: checked.break.seq - 1, break: checked.break, pending };
    if (checkpoint) atCheckpoint ??= page.find((e) => e.seq === checkpoint.seq)?.hash;
    cursor = checked.cursor;
  }
  if (checkpoint && cursor.seq < checkpoint.seq) {
    return {
      ok: false,
      events: cursor.seq,
      pending,
      break: {
        seq: cursor.seq + 1,
        problem: 'chain_trimmed',
        detail: `the chain ends at event ${cursor.seq} but the checkpoint signed ${checkpoint.at} counted ${checkpoint.seq}: its last events were removed`,
      },
    };
  }
  if (checkpoint && atCheckpoint !== checkpoint.hash) {
    return {
      ok: false,
      events: checkpoint.seq - 1,
      pending,
      break: {
        seq: checkpoint.seq,
        problem: 'checkpoint_mismatch',
        detail: `event ${checkpoint.seq} is not the one the checkpoint signed ${checkpoint.at} names: the chain was rewritten`,
      },
    };
  }
  const head = await repo.findHead(tx, workspaceId);
  if (head.seq !== cursor.seq || head.hash !== cursor.hash) {
    return {
      ok: false,
      events: cursor.seq,
      pending,
      break: {
        seq: cursor.seq + 1,
        problem: head.seq > cursor.seq ? 'missing_event' : 'head_mismatch',
        detail:
          head.seq > cursor.seq
            ? `the chain ends at event ${cursor.seq} but ${head.seq} were written: the last events were removed`
            : `the chain's head (event ${head.seq}) does not match its last event (${cursor.seq})`,
      },
    };
  }
  const mismatch = await repo.findSubjectMismatch(tx, workspaceId);
  if (mismatch !== null) {
    return {
      ok: false,
      events: cursor.seq,
      pending,
      break: {
        seq: mismatch,
        problem: 'subjects_mismatch',
        detail: `the customers indexed for event ${mismatch} differ from the customers it records`,
      },
    };
  }
  const unchained = await repo.findInboxChainMismatch(tx, workspaceId);
  if (unchained !== null) {
    return {
      ok: false,
      events: unchained - 1,
      pending,
      break: {
        seq: unchained,
        problem: 'inbox_mismatch',
        detail: `event ${unchained} differs from the access recorded for it in the inbox`,
      },
    };
  }
  return {
    ok: true,
    events: cursor.seq,
    head: cursor.hash,
    pending,
    checkpoint: checkpoint ? { seq: checkpoint.seq, at: checkpoint.at } : null,
  };
}

/**
 * `audit verify` for one workspace: chains what waits in the inbox, reads the latest signed checkpoint,
 * walks the chain in one snapshot, and, when it holds, signs a new checkpoint of the verified head.
 */
export async function verifyWorkspaceAuditChain(
  db: Kysely<DB>,
  workspaceId: string,
  keys: AuditKeys,
  options: { checkpoint?: Checkpoint } = {},
): Promise<ChainReport> {
  await inWorkspace(db, workspaceId, (tx) =>
    chainPendingEvents(tx, workspaceId, keys, { wait: true, limit: 1_000_000 }),
  );
  // The latest signed checkpoint, unless the caller holds the one to compare with (a restored backup's).
  const checkpoint = options.checkpoint ?? findLatestCheckpoint(keys, workspaceId);
  const report = await inWorkspace(
    db,
    workspaceId,
    (tx) => verifyAuditChain(tx, workspaceId, keys, { checkpoint }),
    { isolation: 'repeatable read' },
  );
  if (report.ok && report.events > 0 && (checkpoint === null || checkpoint.seq < report.events)) {
    appendCheckpoint(
      keys,
      signCheckpoint({ workspaceId, seq: report.events, hash: report.head }, new Date(), keys),
    );
  }
  return report;
}

/** One entry of a customer's access log: who touched the data, how, why and when. */
export interface AccessLogEntry {
  /** The event's place in the chain; null while it waits to be chained. */
  seq: number | null;
  at: string;
  actor: AuditActor;
  action: string;
  purpose: string | null;
  fields: string[];
  requestId: string | null;
}

/** A page of a customer's access log, newest first. */
export interface AccessLogPage {
  entries: AccessLogEntry[];
  nextCursor: string | null;
}

function decodeSeqCursor(cursor: string | undefined): number | null {
  if (cursor === undefined) return null;
  const seq = Number(cursor);
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw invalid('CURSOR_INVALID', 'The cursor is not one this endpoint returned: start again without it.', {
      cursor,
    });
  }
  return seq;
}

/** "Who looked at my data, and why": the customer's audit events, newest first. */
export async function listAccessLog(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<AccessLogPage> {
  const limit = options.limit ?? 50;
  const beforeSeq = decodeSeqCursor(options.cursor);
  // The first page starts with what is not chained yet: an access is visible here at once.
  const pending =
    beforeSeq === null ? await repo.listCustomerPending(tx, workspaceId, customerId, limit) : [];
  const events = await repo.listCustomerEvents(tx, workspaceId, customerId, {
    limit: limit + 1,
    beforeSeq,
  });
  const page = events.slice(0, limit);
  const last = page[page.length - 1];
  return {
    entries: [
      ...pending.map((e) => ({
        seq: null,
        at: e.occurredAt,
        actor: e.actor,
        action: e.action,
        purpose: e.purpose,
        fields: e.fields,
        requestId: e.requestId,
      })),
      ...page.map((e) => ({
        seq: e.seq,
        at: e.occurredAt,
        actor: e.actor,
        action: e.action,
        purpose: e.purpose,
        fields: e.fields,
        requestId: e.requestId,
      })),
    ],
    nextCursor: events.length > limit && last ? String(last.seq) : null,
  };
}
