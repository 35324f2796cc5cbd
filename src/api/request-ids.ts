import type { FastifyInstance } from 'fastify';

/**
 * Request ids are the server's own (a UUIDv7 per request, in every log line, in the `x-request-id`
 * response header and in the audit events of the request). A client's `x-request-id` is kept beside
 * it, as `clientRequestId`, only when it is short and plain (1–128 characters of letters, digits and
 * `._:-`): anything else is dropped, so a client can neither choose the server's id nor store
 * arbitrary text in the audit log.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's own request id, when it sent a well-formed one. */
    clientRequestId?: string;
  }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client's request id header as kept, or undefined when absent or not well formed. */
export function clientRequestIdOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CLIENT_REQUEST_ID.test(value) ? value : undefined;
}

/**
 * Keeps a well-formed client request id on the request and in its log lines (a binding of the
 * request's logger, so the framework's own request lines carry it too). Register before the routes.
 */
export function registerClientRequestIds(app: FastifyInstance): void {
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    const id = clientRequestIdOf(raw.headers['x-request-id']);
    return logger.child(id === undefined ? bindings : { ...bindings, clientRequestId: id }, options);
  });
  app.addHook('onRequest', async (request) => {
    const id = clientRequestIdOf(request.headers['x-request-id']);
    if (id !== undefined) request.clientRequestId = id;
  });
}
