import { runInWorker } from '../shared/worker-thread.ts';
import type { RefitComputation, RefitInput } from './value.service.ts';

/**
 * Runs a refit's arithmetic (`computeRefit`: the maximum-likelihood fits and every profile's scoring,
 * seconds of CPU at the benchmark scale) in a worker thread (`refit.worker.ts`), so the event loop of
 * the process that asks (the embedded server's scheduled job, the worker) keeps answering.
 */
export function fitValueInWorker(input: RefitInput): Promise<RefitComputation> {
  return runInWorker(import.meta.url, 'refit.worker', { input }, 'the value refit worker');
}
