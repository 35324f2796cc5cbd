import { AppError } from '../shared/errors.ts';

/** Postgres errors carry a five-character SQLSTATE in `code`; both drivers report it there. */
function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The answer to work that ran past its time budget (`inWorkspace`'s deadline). */
export function requestTimeout(cause?: unknown): AppError {
  return new AppError(
    'unavailable',
    'REQUEST_TIMEOUT',
    'The request ran past its time budget and was stopped; nothing of it was stored. Retry it, or ask for less at once.',
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Classifies a database error by SQLSTATE into an AppError: the one place that knows SQLSTATEs.
 * Anything unrecognised becomes `internal` with the original kept as the cause.
 */
export function classifyDatabaseError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const state = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  if (state === undefined)
    return new AppError('internal', 'INTERNAL', 'Unexpected error.', undefined, { cause: error });
  if (state === '23505')
    return new AppError('conflict', 'DB_UNIQUE_VIOLATION', message, undefined, { cause: error });
  if (state === '23503')
    return new AppError('conflict', 'DB_REFERENCE_VIOLATION', message, undefined, { cause: error });
  if (state.startsWith('22') || state === '23502' || state === '23514') {
    return new AppError('invalid', 'DB_INVALID_VALUE', message, undefined, { cause: error });
  }
  if (state === '40001' || state === '40P01') {
    return new AppError('unavailable', 'DB_RETRY', 'Concurrent update; retry the request.', undefined, {
      cause: error,
    });
  }
  // A statement cancelled by statement_timeout (a request's budget, see inWorkspace).
  if (state === '57014') return requestTimeout(error);
  if (state.startsWith('08') || state === '53300' || state === '57P01' || state === '57P03') {
    return new AppError('unavailable', 'DB_UNAVAILABLE', 'The database is unavailable.', undefined, {
      cause: error,
    });
  }
  // Raised by the trigger that keeps ledgers (consent, disclosures, audit) append-only.
  if (state === 'P0001' && message.includes('append-only'))
    return new AppError('forbidden', 'LEDGER_APPEND_ONLY', message, undefined, { cause: error });
  if (state === '42501')
    return new AppError('forbidden', 'DB_PERMISSION_DENIED', message, undefined, { cause: error });
  return new AppError(
    'internal',
    'DB_ERROR',
    `Database error ${state}.`,
    { sqlState: state },
    { cause: error },
  );
}
