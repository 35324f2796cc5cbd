import type { Kysely } from 'kysely';
import { DEFAULT_SUBJECT, loadPrivacySubjects } from '../consent/index.ts';
import { getCustomer } from '../customers/index.ts';
import type { DB } from '../db/index.ts';
import { keyedHash } from '../policy/index.ts';
import {
  type ActiveRuleTable,
  computeRelationshipMix,
  findRelationship,
  getRuleTable,
  type Reason,
  type Relationship,
  type RelationshipMix,
  recomputeWorkspaceRelationships,
  setRuleTable,
  type WorkspaceRecomputeReport,
} from '../relationships/index.ts';
import { type MembershipChange, refreshAllSegments } from '../segments/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { notFound } from '../shared/errors.ts';
import { getWorkspaceSecret, operatorActor } from '../workspaces/index.ts';
import { CustomerGate, subjectWhere, type Withheld } from './gate.ts';
import type { AccessScope } from './scope.ts';
import { withAccess } from './scope.ts';
import { chooseWorkspaces } from './segments.ts';

/**
 * Relationships under an access scope. The archetype, dimensions and reasons are derived behavioural
 * data (category `behavioral`): a purpose sees them only when the decision allows it for the customer,
 * so an outreach purpose never sees them below the intimacy level the taxonomy sets for behavioural data
 * (3 by default) and never for a customer at level 0. A pseudonymised purpose (analytics) sees the
 * customer under a keyed pseudonym and no evidence ids (they would lead back to the person). Every
 * read is audited.
 */

/** The data category of everything a relationship holds. */
const CATEGORY = 'behavioral';

/** Whether the archetype may steer outreach for this customer, and if not, why. */
export interface OutreachUse {
  allowed: boolean;
  reason: string | null;
}

/** A customer's relationship as a purpose may see it. */
export interface GovernedRelationship {
  /** The customer id, or a keyed pseudonym for a pseudonymised purpose. */
  subject: string;
  relationship: Relationship | null;
  outreach: OutreachUse;
  withheld: Withheld[];
}

/**
 * The customer's chosen intimacy level overrides anything computed: the archetype is never used for
 * outreach at level 0 ("just the transaction"), nor below the level the taxonomy opens behavioural data
 * to outreach purposes.
 */
function outreachUse(scope: AccessScope, intimacyLevel: number): OutreachUse {
  if (intimacyLevel === 0) {
    return {
      allowed: false,
      reason:
        'The customer chose intimacy level 0 (just the transaction): no archetype is used for outreach.',
    };
  }
  const level = scope.taxonomy.categories.get(CATEGORY)?.minIntimacy ?? 3;
  if (intimacyLevel < level) {
    return {
      allowed: false,
      reason: `Behavioural data is used for outreach only from intimacy level ${level}; the customer chose ${intimacyLevel}.`,
    };
  }
  return { allowed: true, reason: null };
}

const isPseudonymised = (scope: AccessScope): boolean =>
  scope.taxonomy.purposes.get(scope.purpose)?.pseudonymised === true;

async function pseudonymOf(scope: AccessScope, customerId: string): Promise<string> {
  const secret = await getWorkspaceSecret(scope.tx, scope.actor.workspaceId, 'identity_hash');
  return `p_${keyedHash(secret, 'relationship_subject', customerId).slice(-24)}`;
}

const withoutEvidence = (reasons: readonly Reason[]): Reason[] =>
  reasons.map((r) => ({ ...r, evidence: [] }));

function pseudonymise(relationship: Relationship, pseudonym: string): Relationship {
  const dimensions = Object.fromEntries(
    Object.entries(relationship.dimensions).map(([k, v]) => [k, { ...v, evidence: [] }]),
  ) as unknown as Relationship['dimensions'];
  return {
    ...relationship,
    customerId: pseudonym,
    dimensions,
    reasons: withoutEvidence(relationship.reasons),
    history: relationship.history.map((h) => ({ ...h, reasons: withoutEvidence(h.reasons) })),
  };
}

/**
 * A customer's relationship (archetype, modifiers, dimensions with confidence, reasons with evidence,
 * history) as the scope's purpose may see it; audited. 404 RELATIONSHIP_NOT_COMPUTED before the first
 * computation.
 */
export async function readRelationshipGoverned(
  scope: AccessScope,
  customerId: string,
): Promise<GovernedRelationship> {
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject =
    (await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [customer.id])).get(customer.id) ??
    DEFAULT_SUBJECT;
  const gate = new CustomerGate(scope, subject);
  const shown = gate.allows('relationship', CATEGORY);
  const pseudonymised = isPseudonymised(scope);
  const label = pseudonymised ? await pseudonymOf(scope, customer.id) : customer.id;
  let relationship: Relationship | null = null;
  if (shown) {
    const found = await findRelationship(scope.tx, scope.actor.workspaceId, customer.id);
    if (found === undefined) {
      throw notFound(
        'RELATIONSHIP_NOT_COMPUTED',
        'This customer has no relationship profile yet: run `cornerstore relationships recompute` (or wait for the job).',
        { customerId },
      );
    }
    relationship = pseudonymised ? pseudonymise(found, label) : found;
  }
  scope.audit({
    action: 'relationship.read',
    purpose: scope.purpose,
    customerIds: [customer.id],
    fields: shown ? ['relationship'] : [],
    details: { pseudonymised },
  });
  if (shown) scope.disclose([customer.id], ['relationship']);
  return {
    subject: label,
    relationship,
    outreach: outreachUse(scope, subject.intimacyLevel),
    withheld: gate.withheld,
  };
}

/** The relationship in a customer read: archetype, guidance, modifiers and the top reasons. */
export interface RelationshipSummary {
  archetype: Relationship['archetype'];
  since: string;
  guidance: Relationship['guidance'];
  modifiers: Relationship['modifiers'];
  reasons: Reason[];
  outreach: OutreachUse;
}

/**
 * The relationship summary a customer read carries, when the gate lets the purpose see behavioural
 * data for this customer (otherwise `relationship` is listed as withheld), or undefined before the
 * first computation.
 */
export async function summariseRelationship(
  scope: AccessScope,
  gate: CustomerGate,
  customerId: string,
  intimacyLevel: number,
): Promise<RelationshipSummary | undefined> {
  if (!gate.open || !gate.allows('relationship', CATEGORY)) return undefined;
  const found = await findRelationship(scope.tx, scope.actor.workspaceId, customerId, { history: 0 });
  if (found === undefined) return undefined;
  const reasons = found.reasons.slice(0, 3);
  return {
    archetype: found.archetype,
    since: found.since,
    guidance: found.guidance,
    modifiers: found.modifiers,
    reasons: isPseudonymised(scope) ? withoutEvidence(reasons) : reasons,
    outreach: outreachUse(scope, intimacyLevel),
  };
}

/**
 * The relationship mix among the customers the purpose may process: counts, value and movements per
 * archetype. Aggregates only (no customer is named); audited.
 */
export async function readRelationshipMixGoverned(
  scope: AccessScope,
  options: { since?: Date | undefined } = {},
): Promise<RelationshipMix> {
  const since = options.since ?? new Date(scope.now.getTime() - 90 * 86_400_000);
  const mix = await computeRelationshipMix(scope.tx, scope.actor.workspaceId, {
    since,
    where: subjectWhere(scope.access.subjectCondition),
  });
  scope.audit({
    action: 'relationship.mix',
    purpose: scope.purpose,
    customerIds: [],
    fields: ['relationship'],
    details: { total: mix.total, since: mix.since },
  });
  return mix;
}

/** The workspace's active relationship rule table (configuration, no personal data). */
export function readRelationshipRulesGoverned(scope: AccessScope): Promise<ActiveRuleTable> {
  return getRuleTable(scope.tx, scope.actor.workspaceId);
}

/**
 * Replaces the workspace's relationship rule table with a new version; an invalid table is refused
 * whole (RELATIONSHIP_RULES_INVALID with JSON paths) and the previous version stays. Owners and
 * admins only; audited with the version.
 */
export async function setRelationshipRulesGoverned(
  scope: AccessScope,
  input: unknown,
): Promise<ActiveRuleTable> {
  assertPermitted(scope.actor, 'relationships.configure');
  const active = await setRuleTable(scope.tx, scope.actor.workspaceId, input, scope.actor.label);
  scope.audit({
    action: 'relationship.rules.set',
    purpose: scope.purpose,
    customerIds: [],
    fields: [],
    details: { version: active.version },
  });
  return active;
}

/**
 * Full recomputation of the scope's workspace (the job), then every segment re-materialised (they may
 * filter on archetypes and dimensions); owners and admins only; audited.
 */
export async function runRelationshipRecompute(
  scope: AccessScope,
): Promise<WorkspaceRecomputeReport & { segments: Record<string, MembershipChange> }> {
  assertPermitted(scope.actor, 'relationships.configure');
  const recomputed = await recomputeWorkspaceRelationships(scope.tx, scope.actor.workspaceId, scope.now);
  const segments = await refreshAllSegments(scope.tx, scope.actor.workspaceId, scope.taxonomy, scope.now);
  const report = { ...recomputed, segments };
  scope.audit({
    action: 'relationship.recompute',
    purpose: scope.purpose,
    customerIds: [],
    fields: ['relationship'],
    details: { customers: report.recomputed, changed: report.changed, ruleVersion: report.ruleVersion },
  });
  return report;
}

/** One workspace's full recomputation, as the job and the command line run it. */
export interface WorkspaceRelationshipRun {
  workspaceId: string;
  workspaceName: string;
  report: WorkspaceRecomputeReport & { segments: Record<string, MembershipChange> };
}

/**
 * Full recomputation of the named workspaces (id or name; all when none are named), each in its own
 * transaction as the operator for analytics: what the scheduled job runs.
 */
export async function recomputeRelationshipsOfWorkspaces(
  db: Kysely<DB>,
  refs: readonly string[] = [],
  options: { now?: Date } = {},
): Promise<WorkspaceRelationshipRun[]> {
  const chosen = await chooseWorkspaces(db, refs);
  const out: WorkspaceRelationshipRun[] = [];
  for (const workspace of chosen) {
    const report = await withAccess(
      db,
      operatorActor(workspace.id),
      {
        purpose: 'analytics',
        requestId: null,
        mode: 'write',
        ...(options.now === undefined ? {} : { now: options.now }),
      },
      (scope) => runRelationshipRecompute(scope),
    );
    out.push({ workspaceId: workspace.id, workspaceName: workspace.name, report });
  }
  return out;
}
