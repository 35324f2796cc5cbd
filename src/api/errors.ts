import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classifyDatabaseError } from '../db/index.ts';
import { AppError, type FieldProblem } from '../shared/errors.ts';
import { pointerToPath } from '../shared/json-path.ts';

/** The values a union of constants allows, by the union's instance and schema path. */
function allowedConstants(
  errors: readonly { keyword: string; instancePath: string; schemaPath: string; params: unknown }[],
) {
  const allowed = new Map<string, unknown[]>();
  for (const v of errors) {
    const union = v.keyword === 'const' ? /^(.*\/anyOf)\/\d+\/const$/.exec(v.schemaPath)?.[1] : undefined;
    if (union === undefined) continue;
    const key = `${v.instancePath}|${union}`;
    allowed.set(key, [...(allowed.get(key) ?? []), (v.params as { allowedValue?: unknown }).allowedValue]);
  }
  return allowed;
}

/** `week, day` for a message: strings as they are, anything else as JSON. */
function listValues(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/**
 * Turns Fastify's schema-validation errors into field problems with JSON paths. A union of constants
 * (an enum) is one problem naming the allowed values, not one "must be equal to constant" per value.
 */
function validationProblems(error: FastifyError): FieldProblem[] {
  const context = error.validationContext ?? 'body';
  const errors = error.validation ?? [];
  const allowed = allowedConstants(errors);
  const problems: FieldProblem[] = [];
  for (const v of errors) {
    const params = v.params as Record<string, unknown>;
    const union = allowed.get(`${v.instancePath}|${v.schemaPath}`);
    if (v.keyword === 'const' && /\/anyOf\/\d+\/const$/.test(v.schemaPath)) continue;
    const extra =
      v.keyword === 'additionalProperties'
        ? `/${String(params.additionalProperty)}`
        : v.keyword === 'required'
          ? `/${String(params.missingProperty)}`
          : '';
    const path = pointerToPath(`${v.instancePath}${extra}`, context === 'body' ? '' : context);
    const message =
      v.keyword === 'additionalProperties'
        ? 'is not a known field'
        : v.keyword === 'required'
          ? 'is required'
          : v.keyword === 'anyOf' && union
            ? `must be one of: ${listValues(union)}`
            : v.keyword === 'enum'
              ? `must be one of: ${listValues(params.allowedValues as unknown[])}`
              : v.keyword === 'const'
                ? `must be ${listValues([params.allowedValue])}`
                : (v.message ?? 'is invalid');
    if (!problems.some((p) => p.path === path && p.message === message)) problems.push({ path, message });
  }
  return problems;
}

/** Maps any thrown value to an AppError: the one place HTTP errors are decided. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fe = error as Partial<FastifyError> & { statusCode?: number };
  if (fe.validation) {
    const problems = validationProblems(fe as FastifyError);
    const first = problems[0];
    return new AppError(
      'invalid',
      'VALIDATION_FAILED',
      first ? `${first.path} ${first.message}.` : 'The request is invalid.',
      { errors: problems },
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid', 'MALFORMED_JSON', 'The request body is not valid JSON.', {
        reason: fe.message,
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(
        'too_large',
        'BODY_TOO_LARGE',
        'The request body is larger than the server accepts.',
        {
          reason: fe.message,
        },
      );
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid', 'URL_INVALID', 'The URL is not valid: check its percent-encoding.', {
        reason: fe.message,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'unsupported_media_type',
        'UNSUPPORTED_MEDIA_TYPE',
        'Send the body as JSON, with the header Content-Type: application/json.',
        { reason: fe.message },
      );
  }
  if (error instanceof SyntaxError && fe.statusCode === 400) {
    return new AppError('invalid', 'MALFORMED_JSON', 'The request body is not valid JSON.', {
      reason: error.message,
    });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('invalid', 'BAD_REQUEST', fe.message ?? 'Bad request.');
  }
  return classifyDatabaseError(error);
}

/** Fastify's error handler: every error leaves as `{"error":{"code","message","details"}}`. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = toAppError(error);
  if (appError.kind === 'internal' || appError.kind === 'unavailable') {
    request.log.error({ err: error, code: appError.code }, 'request failed');
  } else {
    // The code only: messages quote the values they refuse (an email, a phone), which stay out of logs.
    request.log.info({ code: appError.code }, 'request refused');
  }
  return reply.status(appError.status).type('application/json').send(appError.toJSON());
}
