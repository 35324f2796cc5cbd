import { parentPort, workerData } from 'node:worker_threads';
import { computeRefit, type RefitInput } from './value.service.ts';

// The worker's body: fit and score the input it was started with and post the result (or the error) back.
const { input } = workerData as { input: RefitInput };
try {
  parentPort?.postMessage({ ok: true, result: computeRefit(input) });
} catch (error) {
  parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
