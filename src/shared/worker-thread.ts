import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Runs a module of its own in a worker thread and answers the one message it posts back
 * (`{ ok: true, result }` or `{ ok: false, error }`), so CPU-heavy arithmetic (a model fit, training)
 * leaves the event loop of the process that asks free. The worker module is the sibling `name` of the
 * caller's module, with the caller's own extension: the compiled build (dist/) rewrites import
 * specifiers to .js but not this URL. Under the development loader (TypeScript sources) the worker
 * registers the same loader before importing it.
 */

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.url);
})();
`;

/** The development loader's URL when the worker is a TypeScript source, else null. */
function loaderUrl(workerUrl: URL): string | null {
  if (!workerUrl.pathname.endsWith('.ts')) return null;
  // The loader's module build (its CommonJS build registers hooks that cannot find their own files).
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  const commonJs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(commonJs.replace(/\.cjs$/, '.mjs')).href;
}

/**
 * Starts `./<name>` beside `callerUrl` (pass `import.meta.url`) with `data` as its `workerData`
 * (beside `url` and `loader`), and resolves with its result; rejects with its error, or when it stops
 * without answering (`what` names it in that message).
 */
export function runInWorker<T>(
  callerUrl: string,
  name: string,
  data: Record<string, unknown>,
  what: string,
): Promise<T> {
  const url = new URL(`./${name}${callerUrl.endsWith('.js') ? '.js' : '.ts'}`, callerUrl);
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { ...data, url: url.href, loader: loaderUrl(url) },
    });
    let settled = false;
    worker.once('message', (message: { ok: true; result: T } | { ok: false; error: string }) => {
      settled = true;
      if (message.ok) resolve(message.result);
      else reject(new Error(message.error));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`${what} stopped with code ${code}`));
      settled = true;
    });
  });
}
