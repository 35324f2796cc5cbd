import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Kysely, sql } from 'kysely';
import type { AuditEntry } from '../audit/index.ts';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { type AccessScope, withAccess, withAdministration } from '../governance/index.ts';
import type { JobRegistry } from '../jobs/index.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, KeyVerifier } from '../workspaces/index.ts';

/** What every route can reach: the database and the key verifier. */
export interface ApiDeps {
  db: Kysely<DB>;
  keys: KeyVerifier;
  /** The backbone's registry (subscribers, scheduled jobs), for `/v1/jobs`; absent: an empty one. */
  jobs?: JobRegistry;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set by the auth hook on every `/v1` route. */
    actor?: Actor;
  }
}

/** The authenticated caller of a `/v1` request. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor)
    throw new AppError(
      'unauthenticated',
      'UNAUTHENTICATED',
      'Send an API key as "Authorization: Bearer <key>".',
    );
  return request.actor;
}

/** Runs `fn` in a transaction confined to the caller's workspace. */
export function inCallerWorkspace<T>(
  deps: ApiDeps,
  request: FastifyRequest,
  fn: (tx: Tx, actor: Actor) => Promise<T>,
): Promise<T> {
  const actor = actorOf(request);
  return inWorkspace(deps.db, actor.workspaceId, (tx) => fn(tx, actor), { deadline: request.deadline });
}

/** Runs a change of the caller's workspace configuration or access with its audit events. */
export function withCallerAdministration<T>(
  deps: ApiDeps,
  request: FastifyRequest,
  fn: (tx: Tx, actor: Actor, audit: (entry: AuditEntry) => void) => Promise<T>,
): Promise<T> {
  const actor = actorOf(request);
  return withAdministration(
    deps.db,
    actor,
    { requestId: request.id, clientRequestId: request.clientRequestId, deferChaining: true },
    (tx, audit) => fn(tx, actor, audit),
  );
}

/** A write's answer. Without a reread, `body` is what a replay answers, so it must hold no personal data. */
export interface WriteResult {
  status: number;
  body: unknown;
}

/** A write whose answer holds personal data: the answer, and the receipt a replay rereads it from. */
export interface ReceiptResult<R> extends WriteResult {
  /** Ids and statuses only: what a replay needs to read the answer again through the access gate. */
  receipt: R;
}

/**
 * How long a receipt answers repeats of its request (SPEC §11): after that, the same Idempotency-Key
 * starts a new request, and the receipt is deleted by the next write of the workspace that uses a key.
 */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError(
      'invalid',
      'IDEMPOTENCY_KEY_INVALID',
      'Idempotency-Key must be 1–255 printable ASCII characters.',
    );
  }
  return key;
}

/** The whole request as the caller sent it: method, path with its query string, purpose and body. */
function requestHashOf(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${purposeOf(request) ?? ''}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
}

type Replayable = WriteResult & { replayed: boolean };

/**
 * Claims the request's Idempotency-Key for the caller in the write's own transaction and runs the
 * write, or answers a repeat from the first request's receipt: the stored body when the route keeps
 * no personal data in it, otherwise `reread` of the receipt, under the repeat's own access scope.
 */
/**
 * Deletes the workspace's idempotency receipts written before `before` (the retention job; each keyed
 * write also prunes its workspace's expired receipts first). Answers how many went.
 */
export async function pruneIdempotencyReceipts(tx: Tx, workspaceId: string, before: Date): Promise<number> {
  const result = await tx
    .deleteFrom('idempotency_keys')
    .where('workspace_id', '=', workspaceId)
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

async function claimAndRun(
  tx: Tx,
  actor: Actor,
  request: FastifyRequest,
  run: () => Promise<WriteResult & { receipt?: unknown }>,
  reread: ((receipt: unknown) => Promise<unknown>) | undefined,
): Promise<Replayable> {
  const key = idempotencyKeyOf(request);
  if (key === undefined) return { replayed: false, ...(await run()) };
  const requestHash = requestHashOf(request);
  await tx
    .deleteFrom('idempotency_keys')
    .where('workspace_id', '=', actor.workspaceId)
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})`)
    .execute();
  const claimed = await tx
    .insertInto('idempotency_keys')
    .values({
      workspace_id: actor.workspaceId,
      caller: actor.label,
      key,
      request_hash: requestHash,
      status_code: null,
      receipt: null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('key')
    .executeTakeFirst();
  if (!claimed) {
    const prior = await tx
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'status_code', 'receipt'])
      .where('workspace_id', '=', actor.workspaceId)
      .where('caller', '=', actor.label)
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    if (prior.request_hash !== requestHash) {
      throw new AppError(
        'conflict',
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was used for a different request; use a new key for a new request.',
        { idempotencyKey: key },
      );
    }
    const body = reread ? await reread(prior.receipt) : prior.receipt;
    return { replayed: true, status: prior.status_code ?? 200, body };
  }
  const fresh = await run();
  if (reread && fresh.receipt === undefined) {
    throw new AppError('internal', 'RECEIPT_MISSING', 'The write gave no receipt for its replay.');
  }
  await tx
    .updateTable('idempotency_keys')
    .set({ status_code: fresh.status, receipt: JSON.stringify(reread ? fresh.receipt : fresh.body) })
    .where('workspace_id', '=', actor.workspaceId)
    .where('caller', '=', actor.label)
    .where('key', '=', key)
    .execute();
  return { replayed: false, status: fresh.status, body: fresh.body };
}

function send(reply: FastifyReply, result: Replayable): FastifyReply {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(result.status).send(result.body);
}

/**
 * Runs a write of workspace configuration or access in the caller's workspace, under
 * `withCallerAdministration` (its audit events commit with it), honouring `Idempotency-Key` (see
 * `governedWrite`). With `reread`, the stored receipt is what the write returned as `receipt` and a
 * replay answers `reread(receipt)` — for answers that must not be kept, such as a key's secret.
 */
export async function idempotentWrite<R>(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (tx: Tx, actor: Actor, audit: (entry: AuditEntry) => void) => Promise<ReceiptResult<R>>,
  reread: (tx: Tx, receipt: R) => Promise<unknown>,
): Promise<FastifyReply>;
export async function idempotentWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (tx: Tx, actor: Actor, audit: (entry: AuditEntry) => void) => Promise<WriteResult>,
): Promise<FastifyReply>;
export async function idempotentWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (
    tx: Tx,
    actor: Actor,
    audit: (entry: AuditEntry) => void,
  ) => Promise<WriteResult & { receipt?: unknown }>,
  reread?: (tx: Tx, receipt: never) => Promise<unknown>,
): Promise<FastifyReply> {
  const result = await withCallerAdministration(deps, request, (tx, actor, audit) =>
    claimAndRun(
      tx,
      actor,
      request,
      () => write(tx, actor, audit),
      reread && ((receipt) => reread(tx, receipt as never)),
    ),
  );
  return send(reply, result);
}

/**
 * A write of personal data under an access scope whose purpose the request may name (default: service,
 * or the key's first purpose); its audit events commit with it. Honours `Idempotency-Key`, per caller:
 * the first request with a key stores a receipt in the same transaction as its effects; a repeat of the
 * same request (method, path and query, purpose, body) within the retention gets the same status and an
 * answer read again through the gate (header `Idempotent-Replayed: true`) — so a customer restricted
 * since is withheld on the replay too; a repeat with another request is refused; a concurrent repeat
 * waits for the first to commit. A failed request stores nothing, so it may be retried.
 *
 * A write whose answer holds personal data passes `reread` and returns a `receipt` (ids only); one
 * without `reread` has its body stored as the receipt, so its body must hold none.
 */
export async function governedWrite<R>(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (scope: AccessScope) => Promise<ReceiptResult<R>>,
  reread: (scope: AccessScope, receipt: R) => Promise<unknown>,
): Promise<FastifyReply>;
export async function governedWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (scope: AccessScope) => Promise<WriteResult>,
): Promise<FastifyReply>;
export async function governedWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (scope: AccessScope) => Promise<WriteResult & { receipt?: unknown }>,
  reread?: (scope: AccessScope, receipt: never) => Promise<unknown>,
): Promise<FastifyReply> {
  const result = await withCallerAccess(deps, request, 'write', (scope) =>
    claimAndRun(
      scope.tx,
      scope.actor,
      request,
      () => write(scope),
      reread && ((receipt) => reread(scope, receipt as never)),
    ),
  );
  return send(reply, result);
}

/**
 * The purpose a request names: the `purpose` query parameter or the `Cornerstore-Purpose` header; both
 * must agree when both are sent.
 */
export function purposeOf(request: FastifyRequest): string | undefined {
  const query = (request.query as { purpose?: unknown } | undefined)?.purpose;
  const header = request.headers['cornerstore-purpose'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const fromQuery = typeof query === 'string' ? query : undefined;
  if (fromQuery !== undefined && fromHeader !== undefined && fromQuery !== fromHeader.trim()) {
    throw new AppError(
      'invalid',
      'PURPOSE_CONFLICT',
      'The purpose query parameter and the Cornerstore-Purpose header differ: send one purpose.',
      { query: fromQuery, header: fromHeader },
    );
  }
  return fromQuery ?? fromHeader?.trim();
}

/** Runs `fn` under an access scope of the caller, for the purpose the request names. */
export function withCallerAccess<T>(
  deps: ApiDeps,
  request: FastifyRequest,
  mode: 'read' | 'write',
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  return withAccess(
    deps.db,
    actorOf(request),
    {
      purpose: purposeOf(request),
      requestId: request.id,
      clientRequestId: request.clientRequestId,
      mode,
      deferChaining: true,
      deadline: request.deadline,
    },
    fn,
  );
}
