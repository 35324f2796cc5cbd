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
  /** Milliseconds a graceful shutdown waits for in-flight requests. */
  shutdownGraceMs: number;
  /** How long a request may take, in milliseconds (its transactions end by then). */
  requestTimeoutMs: number;
  /** The same for whole-workspace requests (value refit, identity resolution). */
  longRequestTimeoutMs: number;
  /** Minutes between value refits (model, profiles, segments) of every workspace while serving; 0: never. */
  valueRefitMinutes: number;
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
  return {
    databaseUrl,
    dataDir: resolve(cwd, env.CORNERSTORE_DATA_DIR?.trim() || '.cornerstore'),
    host: env.HOST?.trim() || '127.0.0.1',
    port: readInt(env, 'PORT', 3000, 0),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    bodyLimit: readInt(env, 'CORNERSTORE_BODY_LIMIT', 16 * 1024 * 1024, 1024),
    rateLimitPerMinute: readInt(env, 'CORNERSTORE_RATE_LIMIT', 60_000, 1),
    shutdownGraceMs: readInt(env, 'CORNERSTORE_SHUTDOWN_GRACE_MS', 10_000, 0),
    requestTimeoutMs: readInt(env, 'CORNERSTORE_REQUEST_TIMEOUT_MS', 30_000, 100),
    longRequestTimeoutMs: readInt(env, 'CORNERSTORE_LONG_REQUEST_TIMEOUT_MS', 600_000, 100),
    valueRefitMinutes: readInt(env, 'CORNERSTORE_VALUE_REFIT_MINUTES', 360, 0),
  };
}
