import type { FastifyServerOptions } from 'fastify';

/**
 * Request logs without personal data. A query string carries search terms (`?q=Ana Lima`,
 * `?email=…`, `?phone=…`) and error messages quote the values they refuse, so a request line logs the
 * path only, an error its stable code only, and an unexpected error its type, SQLSTATE, message and
 * stack — never a driver's `detail` (which quotes the row's values).
 */

type LoggerOption = NonNullable<FastifyServerOptions['logger']>;

/** The path of a request target, without its query string or fragment. */
export function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
}

function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? pathOf(request.url) : undefined,
    remoteAddress: request.ip,
  };
}

function serializeError(error: Error): { type: string; message: string; stack: string; code?: string } {
  if (!(error instanceof Error)) return { type: typeof error, message: 'not an Error', stack: '' };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: error.message,
    stack: error.stack ?? '',
  };
}

/** The app's logger options with the request and error serializers above; `false` stays silent. */
export function privateLogging(logger: LoggerOption): LoggerOption {
  if (logger === false) return false;
  const base = logger === true ? {} : logger;
  return {
    ...base,
    serializers: { ...base.serializers, req: serializeRequest, err: serializeError },
  };
}
