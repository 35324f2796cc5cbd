import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
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
  return inWorkspace(deps.db, actor.workspaceId, (tx) => fn(tx, actor));
}

export interface WriteResult {
  status: number;
  body: unknown;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Runs a write in the caller's workspace, honouring `Idempotency-Key`: the first request with a key
 * stores its response in the same transaction as its effects; a repeat with the same body gets that
 * response again (header `Idempotent-Replayed: true`), a repeat with another body is refused. A
 * concurrent repeat waits for the first to commit. A failed request stores nothing, so it may be retried.
 */
export async function idempotentWrite(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (tx: Tx, actor: Actor) => Promise<WriteResult>,
): Promise<FastifyReply> {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError(
      'invalid',
      'IDEMPOTENCY_KEY_INVALID',
      'Idempotency-Key must be 1–255 printable ASCII characters.',
    );
  }
  const result = await inCallerWorkspace(deps, request, async (tx, actor) => {
    if (key === undefined) return { replayed: false, ...(await fn(tx, actor)) };
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
    const fresh = await fn(tx, actor);
    await tx
      .updateTable('idempotency_keys')
      .set({ status_code: fresh.status, response: JSON.stringify(fresh.body) })
      .where('workspace_id', '=', actor.workspaceId)
      .where('key', '=', key)
      .execute();
    return { replayed: false, ...fresh };
  });
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(result.status).send(result.body);
}
