import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RefitComputation, RefitInput } from './value.service.ts';

/**
 * Runs a refit's arithmetic (`computeRefit`: the maximum-likelihood fits and every profile's scoring,
 * seconds of CPU at the benchmark scale) in a worker thread, so the event loop of the process that
 * asks (the embedded server's scheduled job, the worker) keeps answering. The worker is a module of its
 * own (`refit.worker.ts`); under the development loader (TypeScript sources) it registers the same
 * loader before importing it.
 */

// The compiled build (dist/) rewrites import specifiers to .js but not this URL: follow this module's own
// extension, so the worker is the sibling of the file that is running.
const WORKER_URL = new URL(
  `./refit.worker${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`,
  import.meta.url,
);

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.url);
})();
`;

/** The development loader's URL when this module runs from TypeScript sources, else null. */
function loaderUrl(): string | null {
  if (!WORKER_URL.pathname.endsWith('.ts')) return null;
  // The loader's module build (its CommonJS build registers hooks that cannot find their own files).
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  const commonJs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(commonJs.replace(/\.cjs$/, '.mjs')).href;
}

/** Fits and scores in a worker thread; rejects with the worker's error. */
export function fitValueInWorker(input: RefitInput): Promise<RefitComputation> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { url: WORKER_URL.href, loader: loaderUrl(), input },
    });
    let settled = false;
    worker.once(
      'message',
      (message: { ok: true; result: RefitComputation } | { ok: false; error: string }) => {
        settled = true;
        if (message.ok) resolve(message.result);
        else reject(new Error(message.error));
        void worker.terminate();
      },
    );
    worker.once('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the value refit worker stopped with code ${code}`));
      settled = true;
    });
  });
}
