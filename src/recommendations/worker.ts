import { runInWorker } from '../shared/worker-thread.ts';
import type { TrainedRecommendations, TrainingInput, TrainingParams } from './train.ts';

/**
 * Runs training in a worker thread (`train.worker.ts`), so the HTTP event loop of the process that asks
 * (the server's scheduled job) keeps answering: the dense item model takes seconds of CPU.
 */
export function trainInWorker(input: TrainingInput, params: TrainingParams): Promise<TrainedRecommendations> {
  return runInWorker(import.meta.url, 'train.worker', { input, params }, 'the training worker');
}
