import { computeDayNumber, formatDayNumber } from '../value/index.ts';
import { buildSplit, evaluateScorer, type ItemEvent, type Metrics, type Split, topK } from './evaluate.ts';
import { computeCooccurrence, itemsOf } from './matrix.ts';
import {
  computeCosineSimilarity,
  computeEaseWeights,
  computeProductScores,
  computeProfileWeight,
  computeTrend,
  easeScorer,
  itemKnnScorer,
  type ProductParams,
  popularityScorer,
  type Scorer,
  userKnnScorer,
} from './models.ts';

/**
 * The offline evaluation of `recommend evaluate`: the product model against the baselines on one
 * temporal split. The product model's settings are chosen on a validation split made of the training
 * period alone (its last stretch, as long as the test period, held out), never by looking at the test
 * period; then the model is trained on the whole training period and scored once on the test period.
 */

/** The settings tried on the validation split. */
export interface TuningGrid {
  lambdas: number[];
  halfLifeDays: number[];
  frequencyPowers: number[];
  trendDays: number[];
  trendWeights: number[];
}

/** The default grid. */
export const DEFAULT_GRID: TuningGrid = {
  lambdas: [500],
  halfLifeDays: [0, 120],
  frequencyPowers: [0, 0.5],
  trendDays: [14, 30],
  trendWeights: [0, 0.2, 0.4, 0.8],
};

function metricsOf(k: number, hits: number, precision: number, recall: number, n: number): Metrics {
  return {
    k,
    customers: n,
    hitRate: n === 0 ? 0 : hits / n,
    precision: n === 0 ? 0 : precision / n,
    recall: n === 0 ? 0 : recall / n,
  };
}

/** Evaluates the product model for every trend setting at once (the linear part is scored once). */
function evaluateProductVariants(
  split: Split,
  ease: Float64Array,
  base: Omit<ProductParams, 'trendDays' | 'trendWeight'>,
  grid: Pick<TuningGrid, 'trendDays' | 'trendWeights'>,
  k: number,
): { params: ProductParams; metrics: Metrics }[] {
  const n = split.train.items;
  const variants = grid.trendDays.flatMap((trendDays) =>
    grid.trendWeights.map((trendWeight) => ({
      params: { ...base, trendDays, trendWeight },
      trend: computeTrend(split.train, split.age, trendDays),
      hits: 0,
      precision: 0,
      recall: 0,
    })),
  );
  const linear = new Float64Array(n);
  const scores = new Float64Array(n);
  const zero = new Float64Array(n);
  for (const { user, relevant } of split.targets) {
    const own = itemsOf(split.train, user);
    const start = split.train.userPtr[user]!;
    const weights = Array.from(own, (_, p) =>
      computeProfileWeight(base as ProductParams, split.age[start + p]!, split.days[start + p]!),
    );
    computeProductScores(ease, n, own, weights, zero, 0, linear);
    for (const v of variants) {
      for (let j = 0; j < n; j++) scores[j] = linear[j]! + v.params.trendWeight * v.trend[j]!;
      let found = 0;
      for (const j of topK(scores, k, own)) if (relevant.has(j)) found++;
      if (found > 0) v.hits++;
      v.precision += found / k;
      v.recall += found / relevant.size;
    }
  }
  const count = split.targets.length;
  return variants.map((v) => ({
    params: v.params,
    metrics: metricsOf(k, v.hits, v.precision, v.recall, count),
  }));
}

/** Searches the grid on a split; the best hit rate wins (ties: the earlier, simpler setting). */
export function tuneProduct(
  split: Split,
  grid: TuningGrid,
  k: number,
): { params: ProductParams; metrics: Metrics; tried: number } {
  let best: { params: ProductParams; metrics: Metrics } | undefined;
  let tried = 0;
  const cooccurrence = computeCooccurrence(split.train);
  for (const lambda of grid.lambdas) {
    const ease = computeEaseWeights(cooccurrence.slice(), split.train.items, lambda);
    for (const halfLifeDays of grid.halfLifeDays) {
      for (const frequencyPower of grid.frequencyPowers) {
        for (const result of evaluateProductVariants(
          split,
          ease,
          { lambda, halfLifeDays, frequencyPower },
          grid,
          k,
        )) {
          tried++;
          if (!best || result.metrics.hitRate > best.metrics.hitRate) best = result;
        }
      }
    }
  }
  if (!best) throw new RangeError('the tuning grid is empty');
  return { ...best, tried };
}

/** The product model as a scorer over a split's training matrix (its ages and purchase days). */
export function productScorer(
  split: Split,
  ease: Float64Array,
  params: ProductParams,
): { scorer: Scorer; weighting: (s: Split, u: number, out: Float64Array) => void } {
  const n = split.train.items;
  const trend = computeTrend(split.train, split.age, params.trendDays);
  return {
    scorer: {
      name: 'product',
      score(items, _self, out, weights) {
        computeProductScores(
          ease,
          n,
          items,
          weights ?? new Float64Array(items.length).fill(1),
          trend,
          params.trendWeight,
          out,
        );
      },
    },
    weighting(s, u, out) {
      const start = s.train.userPtr[u]!;
      for (let p = 0; p < out.length; p++)
        out[p] = computeProfileWeight(params, s.age[start + p]!, s.days[start + p]!);
    },
  };
}

/** The models `recommend evaluate` knows. */
export const EVALUATED_MODELS = ['product', 'popularity', 'item-knn', 'user-knn', 'ease'] as const;
/** One of them. */
export type EvaluatedModel = (typeof EVALUATED_MODELS)[number];

/** The ridge of the plain linear baseline (the value the literature and the figures use). */
const BASELINE_LAMBDA = 500;

/** What `recommend evaluate` reports. */
export interface EvaluationReport {
  split: { trainBefore: string; testFrom: string; testTo: string | null };
  /** Absent when the product model was not evaluated. */
  validation?: {
    trainBefore: string;
    testFrom: string;
    testTo: string;
    customers: number;
    chosen: ProductParams;
    hitRate: number;
    tried: number;
  };
  customers: number;
  items: number;
  evaluated: number;
  models: Record<string, Metrics>;
  seconds: Record<string, number>;
}

/** Runs the whole protocol: validation tuning, then every model on the test period. */
export function runEvaluation(
  events: readonly ItemEvent[],
  options: {
    splitDate: string;
    endDate?: string | undefined;
    k: number;
    grid?: TuningGrid;
    /** Which models to evaluate (default: all). */
    models?: readonly EvaluatedModel[];
  },
): EvaluationReport {
  const wanted = new Set<EvaluatedModel>(options.models ?? EVALUATED_MODELS);
  const seconds: Record<string, number> = {};
  const time = <T>(name: string, f: () => T): T => {
    const t = performance.now();
    const result = f();
    seconds[name] = Number(((performance.now() - t) / 1000).toFixed(2));
    return result;
  };
  const split = time('split', () => buildSplit(events, options.splitDate, options.endDate));
  const splitDay = computeDayNumber(options.splitDate);
  let lastDay = splitDay;
  if (options.endDate !== undefined) lastDay = computeDayNumber(options.endDate);
  else for (const e of events) lastDay = Math.max(lastDay, computeDayNumber(e.date));
  const length = lastDay - splitDay + 1;
  const validationFrom = formatDayNumber(splitDay - length);
  const validationTo = formatDayNumber(splitDay - 1);
  const models: Record<string, Metrics> = {};
  const n = split.train.items;
  const cooccurrence = time('cooccurrence', () => computeCooccurrence(split.train));
  let tuned: (ReturnType<typeof tuneProduct> & { customers: number }) | undefined;
  let ease: Float64Array | undefined;
  if (wanted.has('product')) {
    tuned = time('validation', () => {
      const validation = buildSplit(
        events.filter((e) => e.date < options.splitDate),
        validationFrom,
        validationTo,
      );
      return {
        ...tuneProduct(validation, options.grid ?? DEFAULT_GRID, options.k),
        customers: validation.targets.length,
      };
    });
    const lambda = tuned.params.lambda;
    ease = time('product_train', () => computeEaseWeights(cooccurrence.slice(), n, lambda));
    const product = productScorer(split, ease, tuned.params);
    models.product = time('product_eval', () =>
      evaluateScorer(split, product.scorer, options.k, product.weighting),
    );
  }
  if (wanted.has('popularity')) {
    models.popularity = time('popularity', () =>
      evaluateScorer(split, popularityScorer(split.train), options.k),
    );
  }
  if (wanted.has('item-knn')) {
    const similarity = time('item_knn_train', () => computeCosineSimilarity(cooccurrence, n));
    models.itemKnn = time('item_knn', () =>
      evaluateScorer(split, itemKnnScorer(split.train, similarity), options.k),
    );
  }
  if (wanted.has('user-knn')) {
    models.userKnn = time('user_knn', () => evaluateScorer(split, userKnnScorer(split.train, 50), options.k));
  }
  if (wanted.has('ease')) {
    const plain =
      tuned?.params.lambda === BASELINE_LAMBDA && ease
        ? ease
        : time('ease_train', () => computeEaseWeights(cooccurrence.slice(), n, BASELINE_LAMBDA));
    models.ease = time('ease', () => evaluateScorer(split, easeScorer(plain, n), options.k));
  }
  return {
    split: { trainBefore: options.splitDate, testFrom: options.splitDate, testTo: options.endDate ?? null },
    ...(tuned
      ? {
          validation: {
            trainBefore: validationFrom,
            testFrom: validationFrom,
            testTo: validationTo,
            customers: tuned.customers,
            chosen: tuned.params,
            hitRate: tuned.metrics.hitRate,
            tried: tuned.tried,
          },
        }
      : {}),
    customers: split.train.users,
    items: n,
    evaluated: split.targets.length,
    models,
    seconds,
  };
}
