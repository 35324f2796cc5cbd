import { createBackbone, createJobRegistry } from './backbone.ts';
import type { Config } from './config.ts';
import { openMigratedDatabase } from './runtime.ts';

/**
 * The worker's composition root (`cornerstore worker`): configuration → database → the event
 * backbone's runner, with several dispatch loops claiming batches with `FOR UPDATE SKIP LOCKED` and
 * the scheduled jobs under their leases, so any number of workers run side by side on a PostgreSQL
 * server. Stops on SIGTERM or SIGINT after the passes in flight (an interrupted batch is rolled back
 * and dispatched again; kill -9 loses nothing either).
 */
export async function work(
  config: Config,
  options: { loops: number; once: boolean },
): Promise<{ stop: () => Promise<void> }> {
  const database = await openMigratedDatabase(config, { poolSize: options.loops + 2 });
  const log = {
    info: (details: Record<string, unknown>, message: string) =>
      process.stdout.write(`${JSON.stringify({ level: 'info', msg: message, ...details })}\n`),
    warn: (details: Record<string, unknown>, message: string) => {
      const { err, ...rest } = details;
      const error = err instanceof Error ? { error: `${err.name}: ${err.message}` } : {};
      process.stderr.write(`${JSON.stringify({ level: 'warn', msg: message, ...rest, ...error })}\n`);
    },
  };
  const backbone = createBackbone(database, createJobRegistry(config), { dispatchLoops: options.loops, log });
  if (options.once) {
    const report = await backbone.dispatcher.drain();
    const ran = await backbone.scheduler.runDue(log);
    log.info({ ...report, scheduled: ran }, 'worker pass done');
    await database.close();
    return { stop: async () => undefined };
  }
  backbone.runner.start();
  log.info({ database: database.location, loops: options.loops }, 'worker started');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await backbone.runner.stop();
      await database.close();
      log.info({ dispatched: backbone.runner.dispatchedTotal }, 'worker stopped');
    })();
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'worker stopping after the passes in flight');
      void stop().then(() => process.exit(0));
    });
  }
  return { stop };
}
