import { resolve } from 'node:path';
import { AppError } from './shared/errors.ts';

/**
 * The only module that reads `process.env`. Configuration is validated once at start and passed down.
 */
export interface Config {
  /** `postgres://…` when set; otherwise the embedded database in `dataDir`. */
  databaseUrl: string | undefined;
  /** Where the embedded database and the first admin key live. */
  dataDir: string;
  host: string;
  port: number;
  logLevel: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Requests per minute allowed to one API key. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute allowed per client address and per key id. */
  authFailuresPerMinute: number;
  /** Milliseconds a graceful shutdown waits for in-flight requests. */
  shutdownGraceMs: number;
  /** How long a request may take, in milliseconds (its transactions end by then). */
  requestTimeoutMs: number;
  /** The same for whole-workspace requests (value refit, identity resolution). */
  longRequestTimeoutMs: number;
  /** Minutes between value refits (model, profiles, segments) of every workspace while serving; 0: never. */
  valueRefitMinutes: number;
  /**
   * The audit chain's HMAC key in hex (CORNERSTORE_AUDIT_KEY); when unset, `<dataDir>/audit-key`,
   * created on first start. Either way it lives outside the database.
   */
  auditKey: string | undefined;
  /**
   * Whether the HTTP server also runs the event backbone's dispatcher and scheduled jobs
   * (CORNERSTORE_JOBS_IN_SERVER, default true). The embedded engine always does (one process per data
   * directory); on a server, set it to false when `cornerstore worker` processes run them.
   */
  jobsInServer: boolean;
  /** Days dispatched events are kept (CORNERSTORE_EVENT_RETENTION_DAYS, default 7). */
  eventRetentionDays: number;
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new AppError('invalid', 'CONFIG_INVALID', `${name} must be an integer ≥ ${min}, got "${raw}".`, {
      variable: name,
    });
  }
  return value;
}

/** Reads and validates the configuration from an environment (by default the process's). */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new AppError(
      'invalid',
      'CONFIG_INVALID',
      'DATABASE_URL must start with postgres:// or postgresql://.',
      {
        variable: 'DATABASE_URL',
      },
    );
  }
  const auditKey = env.CORNERSTORE_AUDIT_KEY?.trim() || undefined;
  if (auditKey !== undefined && !/^([0-9a-fA-F]{2}){32,}$/.test(auditKey)) {
    throw new AppError(
      'invalid',
      'CONFIG_INVALID',
      'CORNERSTORE_AUDIT_KEY must be at least 32 bytes in hex (64 hex digits), e.g. from `openssl rand -hex 32`.',
      { variable: 'CORNERSTORE_AUDIT_KEY' },
    );
  }
  return {
    databaseUrl,
    dataDir: resolve(cwd, env.CORNERSTORE_DATA_DIR?.trim() || '.cornerstore'),
    host: env.HOST?.trim() || '127.0.0.1',
    port: readInt(env, 'PORT', 3000, 0),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    bodyLimit: readInt(env, 'CORNERSTORE_BODY_LIMIT', 16 * 1024 * 1024, 1024),
    rateLimitPerMinute: readInt(env, 'CORNERSTORE_RATE_LIMIT', 60_000, 1),
    authFailuresPerMinute: readInt(env, 'CORNERSTORE_AUTH_FAILURES_PER_MINUTE', 20, 1),
    shutdownGraceMs: readInt(env, 'CORNERSTORE_SHUTDOWN_GRACE_MS', 10_000, 0),
    requestTimeoutMs: readInt(env, 'CORNERSTORE_REQUEST_TIMEOUT_MS', 30_000, 100),
    longRequestTimeoutMs: readInt(env, 'CORNERSTORE_LONG_REQUEST_TIMEOUT_MS', 600_000, 100),
    valueRefitMinutes: readInt(env, 'CORNERSTORE_VALUE_REFIT_MINUTES', 360, 0),
    auditKey,
    jobsInServer: !/^(0|false|no|off)$/i.test(env.CORNERSTORE_JOBS_IN_SERVER?.trim() ?? ''),
    eventRetentionDays: readInt(env, 'CORNERSTORE_EVENT_RETENTION_DAYS', 7, 1),
  };
}
