import { fileURLToPath } from 'node:url';
import { createBackbone, createJobRegistry } from './backbone.ts';
import type { Config } from './config.ts';
import { ensureDefaultWorkspace, openMigratedDatabase, VERSION } from './runtime.ts';
import { KeyVerifier } from './workspaces/index.ts';

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
  const registry = createJobRegistry(config);
  const app = await buildApp(
    { db: database.db, keys: new KeyVerifier(database.db), jobs: registry },
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
  const backbone = createBackbone(database, registry, { log: app.log });
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

  // The event backbone: dispatch, the value refit, ANALYZE, the audit sweep and retention run beside
  // the requests (their transactions queue between the requests' on the embedded engine), unless a
  // server deployment leaves them to `cornerstore worker` processes.
  const runsJobs = database.kind === 'pglite' || config.jobsInServer;
  if (runsJobs) backbone.runner.start();
  else app.log.info('event backbone left to `cornerstore worker` (CORNERSTORE_JOBS_IN_SERVER=false)');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const timer = setTimeout(() => {
        app.log.error('graceful shutdown timed out; exiting');
        process.exit(1);
      }, config.shutdownGraceMs);
      timer.unref();
      await app.close();
      await backbone.runner.stop();
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
