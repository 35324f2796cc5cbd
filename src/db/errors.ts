import { AppError } from '../shared/errors.ts';

/** Postgres errors carry a five-character SQLSTATE in `code`; both drivers report it there. */
function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The SQLSTATE the append-only ledgers raise on UPDATE, DELETE or TRUNCATE (migration 0015). */
export const APPEND_ONLY_STATE = 'UA001';

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
 * Classifies a database error by SQLSTATE into an AppError: the one place that knows SQLSTATEs. The
 * driver's message never reaches a client (it quotes values, constraint and table names): each class
 * answers a message of its own, and the original stays the `cause`, for logs that keep no details.
 * Anything unrecognised becomes `internal`.
 */
export function classifyDatabaseError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const state = sqlState(error);
  const because = { cause: error };
  if (state === undefined)
    return new AppError('internal', 'INTERNAL', 'Unexpected error.', undefined, because);
  if (state === '23505') {
    return new AppError(
      'conflict',
      'DB_UNIQUE_VIOLATION',
      'A record with the same unique value already exists.',
      undefined,
      because,
    );
  }
  if (state === '23503') {
    return new AppError(
      'conflict',
      'DB_REFERENCE_VIOLATION',
      'A referenced record does not exist.',
      undefined,
      because,
    );
  }
  if (state.startsWith('22') || state === '23502' || state === '23514') {
    return new AppError(
      'invalid',
      'DB_INVALID_VALUE',
      'A value cannot be stored (out of range, malformed or not allowed); check the values sent.',
      { sqlState: state },
      because,
    );
  }
  if (state === '40001' || state === '40P01') {
    return new AppError(
      'unavailable',
      'DB_RETRY',
      'Concurrent update; retry the request.',
      undefined,
      because,
    );
  }
  // A statement cancelled by statement_timeout (a request's budget, see inWorkspace).
  if (state === '57014') return requestTimeout(error);
  if (state.startsWith('08') || state === '53300' || state === '57P01' || state === '57P03') {
    return new AppError('unavailable', 'DB_UNAVAILABLE', 'The database is unavailable.', undefined, because);
  }
  if (state === APPEND_ONLY_STATE) {
    return new AppError(
      'forbidden',
      'LEDGER_APPEND_ONLY',
      'Ledgers are append-only: record a new entry instead of changing one.',
      undefined,
      because,
    );
  }
  if (state === '42501') {
    return new AppError(
      'forbidden',
      'DB_PERMISSION_DENIED',
      'This change is not permitted.',
      undefined,
      because,
    );
  }
  return new AppError('internal', 'DB_ERROR', `Database error ${state}.`, { sqlState: state }, because);
}
