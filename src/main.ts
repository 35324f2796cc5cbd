import { fileURLToPath } from 'node:url';
import type { Config } from './config.ts';
import { refreshStatistics } from './db/index.ts';
import { refitValueOfWorkspaces } from './governance/index.ts';
import { ensureDefaultWorkspace, openMigratedDatabase, VERSION } from './runtime.ts';
import { KeyVerifier } from './workspaces/index.ts';

const STATISTICS_EVERY_MS = 10 * 60 * 1000;

/** The web pages built by `npm run build:web` (run by `npm install`), beside src/ (and dist/). */
const WEB_ROOT = fileURLToPath(new URL('../web/dist', import.meta.url));

/**
 * The HTTP server's composition root: configuration → database → application. Shuts down gracefully:
 * on SIGTERM or SIGINT it stops accepting connections, finishes in-flight requests, then closes the
 * database.
 */
export async function serve(config: Config): Promise<{ url: string; stop: () => Promise<void> }> {
  // The HTTP layer (framework, routes, schemas) loads while the database opens.
  const loadingApp = import('./api/app.ts');
  loadingApp.catch(() => {});
  const database = await openMigratedDatabase(config);
  const keyFile = await ensureDefaultWorkspace(database, config.dataDir);
  const { buildApp } = await loadingApp;
  const app = await buildApp(
    { db: database.db, keys: new KeyVerifier(database.db) },
    {
      bodyLimit: config.bodyLimit,
      rateLimitPerMinute: config.rateLimitPerMinute,
      authFailuresPerMinute: config.authFailuresPerMinute,
      logger: { level: config.logLevel },
      version: VERSION,
      sharedRateLimits: database.kind === 'postgres',
      budget: { requestMs: config.requestTimeoutMs, longRunningMs: config.longRequestTimeoutMs },
      webRoot: WEB_ROOT,
    },
  );
  const url = await app.listen({ host: config.host, port: config.port });
  const where = database.kind === 'pglite' ? `embedded database in ${database.location}` : database.location;
  process.stdout.write(`Cornerstore ${VERSION} listening on ${url} (${where})\n`);
  process.stdout.write(`API documentation: ${url}/docs, OpenAPI document: ${url}/openapi.json\n`);
  process.stdout.write(`Web: ${url}/ (staff sign-in; create users with \`cornerstore user create\`)\n`);
  if (keyFile) {
    process.stdout.write(
      `Created workspace "default"; its admin API key is in ${keyFile} (readable only by you).\n`,
    );
  }

  // The embedded engine has no autovacuum: refresh planner statistics now and then while serving.
  const maintenance =
    database.kind === 'pglite'
      ? setInterval(() => {
          refreshStatistics(database).catch((error: unknown) =>
            app.log.warn({ err: error }, 'ANALYZE failed'),
          );
        }, STATISTICS_EVERY_MS)
      : undefined;
  maintenance?.unref();

  // The value job: refit every workspace's model and profiles and refresh its segments (time windows
  // move without events). One run at a time; a failure is logged and the next run tries again.
  let refitting = false;
  const valueJob =
    config.valueRefitMinutes > 0
      ? setInterval(() => {
          if (refitting) return;
          refitting = true;
          refitValueOfWorkspaces(database.db)
            .then((runs) => app.log.info({ workspaces: runs.length }, 'value refit done'))
            .catch((error: unknown) => app.log.warn({ err: error }, 'value refit failed'))
            .finally(() => {
              refitting = false;
            });
        }, config.valueRefitMinutes * 60_000)
      : undefined;
  valueJob?.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const timer = setTimeout(() => {
        app.log.error('graceful shutdown timed out; exiting');
        process.exit(1);
      }, config.shutdownGraceMs);
      timer.unref();
      clearInterval(maintenance);
      clearInterval(valueJob);
      await app.close();
      await database.close();
      clearTimeout(timer);
    })();
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      void stop().then(() => process.exit(0));
    });
  }
  return { url, stop };
}
