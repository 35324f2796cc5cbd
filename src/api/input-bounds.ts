import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.ts';
import { findJsonBoundsProblem, MAX_JSON_DEPTH } from '../shared/json-bounds.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route checks the text of each item of its body itself (a batch rejects only the item with
     * a NUL), so the request-wide text check leaves its body alone; depth is still checked here.
     */
    textCheckedPerItem?: boolean;
  }
}

function refuse(
  where: 'body' | 'query' | 'params',
  problem: NonNullable<ReturnType<typeof findJsonBoundsProblem>>,
) {
  const path =
    where === 'body' ? problem.path || '(root)' : problem.path ? `${where}.${problem.path}` : where;
  return new AppError('invalid', problem.code, `${path} ${problem.message}.`, {
    errors: [{ path, message: problem.message }],
  });
}

function checkRequest(request: FastifyRequest): void {
  const perItem = request.routeOptions.config.textCheckedPerItem === true;
  const body = findJsonBoundsProblem(request.body, { maxDepth: MAX_JSON_DEPTH, text: !perItem });
  if (body) throw refuse('body', body);
  const query = findJsonBoundsProblem(request.query);
  if (query) throw refuse('query', query);
  const params = findJsonBoundsProblem(request.params);
  if (params) throw refuse('params', params);
}

/**
 * Bounds every request's input before it is validated or walked by anything recursive: a JSON body
 * nests at most MAX_JSON_DEPTH levels (400 JSON_TOO_DEEP), and no string of the body, query or path
 * holds NUL or an unpaired surrogate (400 TEXT_INVALID_CHARACTER, with its JSON path). The JSON
 * parser itself is iterative, so parsing a deep body is safe; this runs right after it. A body that
 * is not sent as application/json is 415 UNSUPPORTED_MEDIA_TYPE.
 */
export function registerInputBounds(app: FastifyInstance): void {
  // Bodies are JSON only: text/plain (which the framework parses by default) is 415 like any other type.
  app.removeContentTypeParser('text/plain');
  app.addHook('preValidation', async (request) => {
    checkRequest(request);
  });
}
