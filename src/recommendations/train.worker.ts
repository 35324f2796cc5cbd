import { parentPort, workerData } from 'node:worker_threads';
import { type TrainingInput, type TrainingParams, trainRecommendationModel } from './train.ts';

// The worker's body: train on the input it was started with and post the result (or the error) back.
const { input, params } = workerData as { input: TrainingInput; params: TrainingParams };
try {
  parentPort?.postMessage({ ok: true, result: trainRecommendationModel(input, params) });
} catch (error) {
  parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
