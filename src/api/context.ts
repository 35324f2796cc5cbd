import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { type AccessScope, withAccess } from '../governance/index.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, KeyVerifier } from '../workspaces/index.ts';

/** What every route can reach: the database and the key verifier. */
export interface ApiDeps {
  db: Kysely<DB>;
  keys: KeyVerifier;
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

export interface WriteResult {
  status: number;
  body: unknown;
}

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

type Replayable = WriteResult & { replayed: boolean };

/**
 * Claims the request's Idempotency-Key in the write's own transaction and runs the write, or answers
 * the stored response of the first request with the key.
 */
async function claimAndRun(
  tx: Tx,
  actor: Actor,
  request: FastifyRequest,
  key: string | undefined,
  run: () => Promise<WriteResult>,
): Promise<Replayable> {
  if (key === undefined) return { replayed: false, ...(await run()) };
  const requestHash = createHash('sha256')
    .update(
      `${request.method} ${request.routeOptions.url ?? request.url}\n${JSON.stringify(request.params)}\n`,
    )
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
  const claimed = await tx
    .insertInto('idempotency_keys')
    .values({
      workspace_id: actor.workspaceId,
      key,
      request_hash: requestHash,
      status_code: null,
      response: null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('key')
    .executeTakeFirst();
  if (!claimed) {
    const prior = await tx
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'status_code', 'response'])
      .where('workspace_id', '=', actor.workspaceId)
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
    return { replayed: true, status: prior.status_code ?? 200, body: prior.response };
  }
  const fresh = await run();
  await tx
    .updateTable('idempotency_keys')
    .set({ status_code: fresh.status, response: JSON.stringify(fresh.body) })
    .where('workspace_id', '=', actor.workspaceId)
    .where('key', '=', key)
    .execute();
  return { replayed: false, ...fresh };
}

function send(reply: FastifyReply, result: Replayable): FastifyReply {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(result.status).send(result.body);
}

/**
 * Runs a write in the caller's workspace, honouring `Idempotency-Key`: the first request with a key
 * stores its response in the same transaction as its effects; a repeat with the same body gets that
 * response again (header `Idempotent-Replayed: true`), a repeat with another body is refused. A
 * concurrent repeat waits for the first to commit. A failed request stores nothing, so it may be retried.
 * For writes of workspace configuration; personal data is written with `governedWrite`.
 */
export async function idempotentWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (tx: Tx, actor: Actor) => Promise<WriteResult>,
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  const result = await inCallerWorkspace(deps, request, (tx, actor) =>
    claimAndRun(tx, actor, request, key, () => fn(tx, actor)),
  );
  return send(reply, result);
}

/**
 * A write of personal data: like `idempotentWrite`, under an access scope whose purpose the request may
 * name (default: service, or the key's first purpose); its audit events commit with it.
 */
export async function governedWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (scope: AccessScope) => Promise<WriteResult>,
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  const result = await withCallerAccess(deps, request, 'write', (scope) =>
    claimAndRun(scope.tx, scope.actor, request, key, () => fn(scope)),
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
      mode,
      deferChaining: true,
      deadline: request.deadline,
    },
    fn,
  );
}
