/**
 * Recommendations (SPEC §10): the models over implicit feedback — own history (repeats, replenishment
 * on a cadence), item–item and user–user neighbourhoods, the linear item model with a closed form
 * (EASE) and popularity for cold starts —, the offline evaluation protocol on a temporal split, the
 * worker thread that trains, the one-sentence reasons, and over the database the workspace's stored
 * model and per-customer lists. It owns `recommendation_models` and `recommendation_lists`. It knows
 * nothing of purposes or consent: `governance/recommendations.ts` decides which kinds a customer may
 * be shown and which customers training may read. The models never touch the database or the clock.
 */

export {
  /** Builds the temporal split of the evaluation protocol. */
  buildSplit,
  /** Hit rate, precision and recall at k of one model on a split. */
  evaluateScorer,
  /** One purchase of an item, as the evaluation reads it. */
  type ItemEvent,
  /** Hit rate, precision and recall at k. */
  type Metrics,
  /** Weights of a customer's own items when a model scores. */
  type ProfileWeighting,
  /** A split: training matrix and evaluated customers. */
  type Split,
  /** The k best items outside a set. */
  topK,
} from './evaluate.ts';
export {
  /** Item purchases as training input. */
  buildTrainingInput,
} from './events.ts';
export {
  /** The sentence of a suggestion. */
  explainSuggestion,
} from './explain.ts';
export {
  /** Builds the binary customer × item matrix. */
  buildImplicitMatrix,
  /** XᵀX, dense. */
  computeCooccurrence,
  /** A binary customer × item matrix. */
  type ImplicitMatrix,
} from './matrix.ts';
export {
  /** Cosine item–item similarity. */
  computeCosineSimilarity,
  /** The EASE weights. */
  computeEaseWeights,
  /** The linear item model as a scorer. */
  easeScorer,
  /** Item-kNN baseline. */
  itemKnnScorer,
  /** Popularity baseline. */
  popularityScorer,
  /** A model that scores items for a customer. */
  type Scorer,
  /** User-kNN baseline. */
  userKnnScorer,
} from './models.ts';
export {
  /** Repeat and replenishment suggestions from a customer's own history. */
  computeOwnSuggestions,
  /** A cadence in words. */
  describeCadence,
} from './own-history.ts';
export {
  /** Deletes the customers' stored recommendation lists (erasure). */
  eraseRecommendationLists,
} from './recommendation.erasure.ts';
export {
  /** A customer's candidate recommendations, each with its sentence. */
  findCandidateLists,
  /** Own-history and collective candidates merged into the shown list. */
  mergeRecommendations,
  /** What training reads of a workspace. */
  type PreparedTraining,
  /** Reads a workspace's training data. */
  prepareTraining,
  /** One recommendation as served. */
  type Recommendation,
  /** Stores a trained model and its lists. */
  storeTraining,
} from './recommendation.service.ts';
export {
  /** The product model's default settings. */
  DEFAULT_TRAINING_PARAMS,
  /** The product model's settings. */
  type TrainingParams,
  /** Trains the model and makes every customer's lists (pure). */
  trainRecommendationModel,
} from './train.ts';
export {
  /** The default tuning grid of the evaluation. */
  DEFAULT_GRID,
  /** The models `recommend evaluate` knows. */
  EVALUATED_MODELS,
  /** One model `recommend evaluate` knows. */
  type EvaluatedModel,
  /** What `recommend evaluate` reports. */
  type EvaluationReport,
  /** Runs the evaluation protocol: validation tuning, then the product model and the baselines. */
  runEvaluation,
  /** The settings tried on the validation split. */
  type TuningGrid,
} from './tune.ts';
export {
  /** Trains in a worker thread. */
  trainInWorker,
} from './worker.ts';
