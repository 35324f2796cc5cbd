import type { Kysely } from 'kysely';
import { DEFAULT_SUBJECT, loadPrivacySubjects } from '../consent/index.ts';
import { getCustomer } from '../customers/index.ts';
import type { DB } from '../db/index.ts';
import type { FieldRef } from '../policy/index.ts';
import {
  DEFAULT_TRAINING_PARAMS,
  findCandidateLists,
  mergeRecommendations,
  prepareTraining,
  type Recommendation,
  storeTraining,
  type TrainingParams,
  trainInWorker,
} from '../recommendations/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { listWorkspaces, operatorActor } from '../workspaces/index.ts';
import { CustomerGate, type Withheld } from './gate.ts';
import { type AccessScope, withAccess } from './scope.ts';

/**
 * Recommendations under the data policy (SPEC §10, §6): each kind is a use of a data category the one
 * access decision rules on — own-history suggestions `recommendation.own_history` (the purpose's
 * consent, no restriction or objection, intimacy ≥ 2), collective ones `recommendation.collective`
 * (intimacy ≥ 3) — so a customer who objected, withdrew consent or chose a lower intimacy gets what
 * the decision allows and `withheld` says why for the rest. Training reads purchases under an access
 * scope too (audited), leaves out customers who objected to personalization or restricted processing,
 * and runs its arithmetic in a worker thread between two transactions.
 */

/** The two kinds as the decision sees them: derived from purchases, never inferred or special. */
const KINDS: readonly { field: string; ref: FieldRef; kind: Recommendation['kind'] }[] = [
  {
    field: 'recommendations.ownHistory',
    ref: { category: 'recommendation.own_history', source: 'derived' },
    kind: 'own_history',
  },
  {
    field: 'recommendations.collective',
    ref: { category: 'recommendation.collective', source: 'derived' },
    kind: 'collective',
  },
];

/** What a customer may be shown. */
export interface GovernedRecommendations {
  customerId: string;
  /** When the model was trained and the day its lists were made for; null before a first training. */
  trainedAt: string | null;
  asOf: string | null;
  items: Recommendation[];
  withheld: Withheld[];
}

/**
 * A customer's recommendations under an outreach purpose (personalization, marketing): only the kinds
 * the decision allows, each item with its sentence; audited when anything is shown.
 */
export async function readRecommendations(
  scope: AccessScope,
  customerId: string,
  limit: number,
): Promise<GovernedRecommendations> {
  // Another workspace's id is not found before anything else is said about the request.
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  if (scope.taxonomy.purposes.get(scope.purpose)?.outreach !== true) {
    throw invalid(
      'RECOMMENDATION_PURPOSE_INVALID',
      `Recommendations are personalization: name an outreach purpose (personalization or marketing), not "${scope.purpose}".`,
      { purpose: scope.purpose },
    );
  }
  const subject =
    (await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [customer.id])).get(customer.id) ??
    DEFAULT_SUBJECT;
  const gate = new CustomerGate(scope, subject);
  const allowed = new Set(KINDS.filter((k) => gate.allows(k.field, k.ref)).map((k) => k.kind));
  const candidates =
    allowed.size === 0
      ? { model: undefined, own: [], collective: [] }
      : await findCandidateLists(scope.tx, scope.actor.workspaceId, customer.id);
  const items = mergeRecommendations(
    allowed.has('own_history') ? candidates.own : [],
    allowed.has('collective') ? candidates.collective : [],
    limit,
  );
  if (gate.used.size > 0) {
    scope.audit({
      action: 'recommendations.read',
      purpose: scope.purpose,
      customerIds: [customer.id],
      fields: [...gate.used],
    });
    scope.disclose([customer.id], [...gate.used]);
  }
  return {
    customerId: customer.id,
    trainedAt: candidates.model?.trainedAt.toISOString() ?? null,
    asOf: candidates.model?.asOf ?? null,
    items,
    withheld: gate.withheld,
  };
}

/** What one training did. */
export interface RecommendationTraining {
  workspaceId: string;
  asOf: string;
  customers: number;
  items: number;
  excluded: number;
  seconds: { read: number; train: number; write: number; total: number };
}

/** How to train. */
export interface TrainRecommendationsOptions {
  /** The day the lists are made for (default: today); purchases after it are not read. */
  asOf?: Date;
  params?: Partial<TrainingParams>;
  now?: Date;
}

/**
 * The recommendation job of one workspace (the scheduler's `run`): reads purchases in one transaction,
 * trains in a worker thread (the event loop stays free), stores the model and every customer's lists in
 * another. Customers who objected to personalization or restricted processing are left out, so a
 * retraining removes their influence on everyone else's lists; erased customers have nothing left to
 * read. Audited as `recommendations.train` in the storing transaction.
 */
export async function trainRecommendations(
  db: Kysely<DB>,
  workspaceId: string,
  options: TrainRecommendationsOptions = {},
): Promise<RecommendationTraining> {
  const started = performance.now();
  const actor = operatorActor(workspaceId);
  const scopeOptions = { purpose: 'analytics', requestId: null, mode: 'write' as const };
  const now = options.now ?? new Date();
  const asOf = options.asOf ?? now;
  const params: TrainingParams = { ...DEFAULT_TRAINING_PARAMS, ...options.params };
  const prepared = await withAccess(db, actor, scopeOptions, (scope) => {
    assertPermitted(scope.actor, 'recommendations.train');
    return prepareTraining(scope.tx, workspaceId, asOf);
  });
  const read = performance.now();
  const trained = await trainInWorker(prepared.input, params);
  const computed = performance.now();
  await withAccess(db, actor, scopeOptions, async (scope) => {
    await storeTraining(scope.tx, workspaceId, prepared, trained, params, now);
    scope.audit({
      action: 'recommendations.train',
      purpose: scope.purpose,
      customerIds: [],
      fields: ['recommendations'],
      details: {
        customers: trained.stats.customers,
        items: trained.stats.items,
        excluded: prepared.excluded,
        asOf: prepared.asOf,
      },
    });
  });
  const done = performance.now();
  return {
    workspaceId,
    asOf: prepared.asOf,
    customers: trained.stats.customers,
    items: trained.stats.items,
    excluded: prepared.excluded,
    seconds: {
      read: (read - started) / 1000,
      train: (computed - read) / 1000,
      write: (done - computed) / 1000,
      total: (done - started) / 1000,
    },
  };
}

/** Trains the recommendations of the named workspaces (ids or names; none: every workspace), one by one. */
export async function trainRecommendationsOfWorkspaces(
  db: Kysely<DB>,
  refs: readonly string[] = [],
  options: TrainRecommendationsOptions = {},
): Promise<(RecommendationTraining & { workspaceName: string })[]> {
  const all = await listWorkspaces(db);
  const unknown = refs.filter((ref) => !all.some((w) => w.id === ref || w.name === ref));
  if (unknown.length > 0) {
    throw notFound('WORKSPACE_NOT_FOUND', `No workspace with id or name "${unknown[0]}".`, {
      workspaces: unknown,
    });
  }
  const chosen = refs.length === 0 ? all : all.filter((w) => refs.includes(w.id) || refs.includes(w.name));
  const out: (RecommendationTraining & { workspaceName: string })[] = [];
  for (const workspace of chosen) {
    out.push({ ...(await trainRecommendations(db, workspace.id, options)), workspaceName: workspace.name });
  }
  return out;
}
