import { createBackbone, createJobRegistry } from '../backbone.ts';
import { type Config, loadConfig } from '../config.ts';
import type { Database } from '../db/index.ts';
import { classifyDatabaseError } from '../db/index.ts';
import { openMigratedDatabase } from '../runtime.ts';
import { AppError } from '../shared/errors.ts';

/** Output and error conventions shared by every command. */

export interface GlobalOptions {
  json?: boolean;
}

/** Prints a result: the JSON value with `--json`, otherwise the human text. */
export function emit(options: GlobalOptions, value: unknown, human: string | (() => string)): void {
  if (options.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  else process.stdout.write(`${typeof human === 'string' ? human : human()}\n`);
}

/** Prints an error the way the caller asked for and sets the exit code from the error kind. */
export function reportError(options: GlobalOptions, error: unknown): void {
  const appError = error instanceof AppError ? error : classifyDatabaseError(error);
  if (options.json) process.stderr.write(`${JSON.stringify(appError.toJSON())}\n`);
  else {
    process.stderr.write(`error ${appError.code}: ${appError.message}\n`);
    if (appError.details !== undefined)
      process.stderr.write(`details: ${JSON.stringify(appError.details)}\n`);
    if (appError.kind === 'internal' && appError.cause) process.stderr.write(`${String(appError.cause)}\n`);
  }
  process.exitCode = appError.exitCode;
}

/** Runs a command body with the configuration and a migrated database, closing it afterwards. */
export async function withDatabase<T>(fn: (database: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openMigratedDatabase(config);
  try {
    const result = await fn(database, config);
    await settleBackbone(database, config);
    return result;
  } finally {
    await database.close();
  }
}

/**
 * On the embedded database, dispatches the events a command wrote before it exits: no other process
 * could while the command holds the data directory. On a server they are left to the server's runner or
 * `cornerstore worker` (so derived data follows within their polling interval). A failure here loses
 * nothing: the events wait for the next server, worker or command.
 */
async function settleBackbone(database: Database, config: Config): Promise<void> {
  if (database.kind !== 'pglite') return;
  try {
    await createBackbone(database, createJobRegistry(config)).dispatcher.drain();
  } catch (error) {
    process.stderr.write(
      `Warning: events were left for the worker (${error instanceof Error ? error.message : String(error)}).\n`,
    );
  }
}

/** Wraps a command action so every failure is reported with a clear message and exit code. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as { optsWithGlobals?: () => GlobalOptions } | undefined;
    const options = command?.optsWithGlobals?.() ?? {};
    try {
      await fn(...args);
    } catch (error) {
      reportError(options, error);
    }
  };
}

/** Splits a comma-separated option value. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
