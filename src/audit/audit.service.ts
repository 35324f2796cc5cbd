import type { Tx } from '../db/index.ts';
import { invalid } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import * as repo from './audit.repository.ts';
import {
  type AuditActor,
  type AuditEntry,
  type AuditEvent,
  type ChainBreak,
  checkChainSegment,
  computeEventHash,
  GENESIS_HASH,
} from './audit.ts';

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
 * Links the workspace's waiting events into the hash chain, oldest first, holding the chain's head
 * until the transaction ends (appends are serialised per workspace). With `wait: false` it gives way at
 * once to a transaction already chaining and answers -1; otherwise it answers how many it chained.
 */
export async function chainPendingEvents(
  tx: Tx,
  workspaceId: string,
  options: { wait: boolean; limit?: number },
): Promise<number> {
  const head = await repo.lockHead(tx, workspaceId, { skipLocked: !options.wait });
  if (!head) return -1;
  const pending = await repo.listPending(tx, workspaceId, options.limit ?? 5_000);
  let prevHash = head.hash;
  const events: AuditEvent[] = pending.map((p, index) => {
    const unhashed = { workspaceId, seq: head.seq + index + 1, ...p, prevHash };
    const hash = computeEventHash(unhashed);
    prevHash = hash;
    return { ...unhashed, hash };
  });
  await repo.appendEvents(tx, events);
  return events.length;
}

/** The outcome of `verifyAuditChain`. */
export type ChainReport =
  | { ok: true; events: number; head: string; pending: number }
  | { ok: false; events: number; break: ChainBreak; pending: number };

/**
 * Walks the workspace's whole chain in seq order, recomputing every hash, then checks the head and the
 * per-customer index; names the first broken link.
 */
export async function verifyAuditChain(tx: Tx, workspaceId: string, pageSize = 2_000): Promise<ChainReport> {
  const pending = await repo.countPending(tx, workspaceId);
  let cursor = { seq: 0, hash: GENESIS_HASH };
  for (;;) {
    const page = await repo.listEventsAfter(tx, workspaceId, cursor.seq, pageSize);
    if (page.length === 0) break;
    const checked = checkChainSegment(cursor, page);
    // Every event before the broken one verified (seqs are dense), not only those of earlier pages.
    if (!checked.ok) return { ok: false, events: checked.break.seq - 1, break: checked.break, pending };
    cursor = checked.cursor;
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
  return { ok: true, events: cursor.seq, head: cursor.hash, pending };
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
