/**
 * The one error type of Cornerstore. Every failure a caller can act on is an `AppError` with a `kind`
 * (which decides the HTTP status and CLI exit code) and a stable `code` (which callers may switch on).
 */

export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** HTTP status and CLI exit code for each error kind: the only place this mapping lives. */
export const ERROR_KIND_TABLE: Record<ErrorKind, { status: number; exitCode: number }> = {
  invalid: { status: 400, exitCode: 2 },
  unauthenticated: { status: 401, exitCode: 3 },
  forbidden: { status: 403, exitCode: 3 },
  not_found: { status: 404, exitCode: 4 },
  conflict: { status: 409, exitCode: 5 },
  too_large: { status: 413, exitCode: 2 },
  unsupported_media_type: { status: 415, exitCode: 2 },
  rate_limited: { status: 429, exitCode: 6 },
  unavailable: { status: 503, exitCode: 7 },
  internal: { status: 500, exitCode: 1 },
};

export type ErrorDetails = Record<string, unknown> | readonly unknown[] | undefined;

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    details?: ErrorDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_KIND_TABLE[this.kind].status;
  }

  get exitCode(): number {
    return ERROR_KIND_TABLE[this.kind].exitCode;
  }

  /** The wire form: `{"error":{"code","message","details"}}`. */
  toJSON(): { error: { code: string; message: string; details?: ErrorDetails } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** One validation problem at a JSON path, as reported in `details.errors`. */
export interface FieldProblem {
  path: string;
  message: string;
}

export function invalid(code: string, message: string, details?: ErrorDetails): AppError {
  return new AppError('invalid', code, message, details);
}

export function notFound(code: string, message: string, details?: ErrorDetails): AppError {
  return new AppError('not_found', code, message, details);
}

export function conflict(code: string, message: string, details?: ErrorDetails): AppError {
  return new AppError('conflict', code, message, details);
}

export function forbidden(code: string, message: string, details?: ErrorDetails): AppError {
  return new AppError('forbidden', code, message, details);
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
