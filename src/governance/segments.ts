import type { Kysely } from 'kysely';
import { DEFAULT_SUBJECT, loadPrivacySubjects } from '../consent/index.ts';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import type { DomainEvent } from '../events/index.ts';
import { recomputeRelationships } from '../relationships/index.ts';
import {
  assertReadable,
  countSegmentDefinition,
  createSegment,
  deleteSegment,
  explainSegmentMember,
  getSegment,
  listConditions,
  listSegmentMembers,
  listSegments,
  type MembershipChange,
  refreshAllSegments,
  refreshSegmentsForCustomers,
  type Segment,
  type SegmentExplanation,
  type SegmentMemberRow,
  type SegmentReadAccess,
} from '../segments/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { notFound } from '../shared/errors.ts';
import {
  fitValueInWorker,
  listProfilesUpdatedAfter,
  type RefitOptions,
  type RefitReport,
  readRefitAggregates,
  readRefitInput,
  refitWorkspaceValue,
  storeRefit,
  updateProfilesForCustomers,
  writeRefitProfiles,
} from '../value/index.ts';
import type { Actor } from '../workspaces/index.ts';
import { listWorkspaces, operatorActor, type Workspace } from '../workspaces/index.ts';
import { CustomerGate, subjectWhere, type Withheld } from './gate.ts';
import { type AccessScope, type ScopeOptions, withAccess, withAccessInTransaction } from './scope.ts';

/**
 * Segments and value under an access scope. Every read is live SQL that carries the subject condition
 * (a member is only a customer the purpose may process) and the purpose's field rules (a condition on
 * a category the purpose may never read is 403 FILTER_NOT_ALLOWED; one opened only from an intimacy
 * level is unknown below it); member lists show per customer only the value fields the gate allows;
 * every read is audited. A segment keeps the purpose it was defined for; reading it for another
 * purpose is allowed when that purpose may read every category the definition uses.
 */

/** A member as the purpose may see it. */
export interface GovernedSegmentMember extends SegmentMemberRow {
  withheld: Withheld[];
}

function readAccess(scope: AccessScope): SegmentReadAccess {
  return {
    purpose: scope.purpose,
    outreach: scope.taxonomy.purposes.get(scope.purpose)?.outreach ?? true,
    now: scope.now,
    fieldRule: (ref) => scope.access.fieldRule(ref),
    where: subjectWhere(scope.access.subjectCondition),
  };
}

function fieldsOf(segment: { definition: Segment['definition'] }): string[] {
  return [
    ...new Set(
      listConditions(segment.definition).map(({ condition }) =>
        'fact' in condition
          ? `facts.${condition.fact}`
          : 'field' in condition
            ? condition.field
            : `aggregate:${condition.aggregate}:${condition.type ?? '*'}`,
      ),
    ),
  ];
}

/** Creates a segment for the scope's purpose and materialises its membership; audited. */
export async function createSegmentGoverned(
  scope: AccessScope,
  input: { name: string; description?: string | undefined; definition: unknown },
): Promise<{ segment: Segment; membership: MembershipChange }> {
  assertPermitted(scope.actor, 'segments.create');
  const created = await createSegment(
    scope.tx,
    scope.actor.workspaceId,
    { ...input, purpose: scope.purpose, createdBy: scope.actor.label },
    scope.taxonomy,
    scope.now,
  );
  scope.audit({
    action: 'segment.create',
    purpose: scope.purpose,
    customerIds: [],
    fields: fieldsOf(created.segment),
    details: { segmentId: created.segment.id, name: created.segment.name },
  });
  return created;
}

/** The workspace's segments (definitions hold no personal data). */
export function listSegmentsGoverned(scope: AccessScope): Promise<Segment[]> {
  return listSegments(scope.tx, scope.actor.workspaceId);
}

/** One segment. */
export function getSegmentGoverned(scope: AccessScope, id: string): Promise<Segment> {
  return getSegment(scope.tx, scope.actor.workspaceId, id);
}

/** Deletes a segment; audited. */
export async function deleteSegmentGoverned(scope: AccessScope, id: string): Promise<void> {
  assertPermitted(scope.actor, 'segments.delete');
  const segment = await getSegment(scope.tx, scope.actor.workspaceId, id);
  await deleteSegment(scope.tx, scope.actor.workspaceId, segment.id);
  scope.audit({
    action: 'segment.delete',
    purpose: scope.purpose,
    customerIds: [],
    fields: [],
    details: { segmentId: segment.id, name: segment.name },
  });
}

async function countGoverned(scope: AccessScope, definition: unknown, segmentId: string | null) {
  const access = readAccess(scope);
  const node = assertReadable(definition, access);
  const count = await countSegmentDefinition(scope.tx, scope.actor.workspaceId, node, access);
  scope.audit({
    action: 'segment.count',
    purpose: scope.purpose,
    customerIds: [],
    fields: fieldsOf({ definition: node }),
    details: { segmentId, count },
  });
  return count;
}

/** How many customers the purpose may process are in a segment now; audited. */
export async function countSegmentGoverned(scope: AccessScope, id: string): Promise<{ count: number }> {
  const segment = await getSegment(scope.tx, scope.actor.workspaceId, id);
  return { count: await countGoverned(scope, segment.definition, segment.id) };
}

/** The count of an unsaved definition; audited. */
export async function previewSegmentGoverned(
  scope: AccessScope,
  definition: unknown,
): Promise<{ count: number }> {
  return { count: await countGoverned(scope, definition, null) };
}

const VALUE_FIELDS = [
  ['rfmSegment', 'behavioral'],
  ['clv', 'behavioral'],
  ['pAlive', 'behavioral'],
  ['purchases', 'transaction'],
  ['totalSpend', 'transaction'],
] as const;

/**
 * A page of a segment's members the purpose may process: ids, when they entered, and the value
 * fields the gate allows for each; audited with the page's customers (and disclosed to an
 * integration key).
 */
export async function listSegmentMembersGoverned(
  scope: AccessScope,
  id: string,
  page: { cursor?: string | undefined; limit?: number | undefined },
): Promise<{ members: GovernedSegmentMember[]; nextCursor: string | null }> {
  const segment = await getSegment(scope.tx, scope.actor.workspaceId, id);
  const access = readAccess(scope);
  const node = assertReadable(segment.definition, access);
  const result = await listSegmentMembers(scope.tx, scope.actor.workspaceId, node, access, {
    segmentId: segment.id,
    cursor: page.cursor,
    limit: page.limit,
  });
  const ids = result.members.map((m) => m.customerId);
  const subjects = await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, ids);
  const used = new Set<string>(['customerId']);
  const members = result.members.map((member): GovernedSegmentMember => {
    const gate = new CustomerGate(scope, subjects.get(member.customerId) ?? DEFAULT_SUBJECT);
    if (!member.value) return { ...member, withheld: [] };
    const value = { ...member.value };
    for (const [field, category] of VALUE_FIELDS) {
      if (value[field] !== null && !gate.allows(`value.${field}`, category)) value[field] = null;
    }
    for (const field of gate.used) used.add(field);
    return { ...member, value, withheld: gate.withheld };
  });
  if (ids.length > 0) {
    scope.audit({
      action: 'segment.members',
      purpose: scope.purpose,
      customerIds: ids,
      fields: [...used],
      details: { segmentId: segment.id },
    });
    scope.disclose(ids, [...used]);
  }
  return { members, nextCursor: result.nextCursor };
}

/** Why a customer is (or is not) in a segment, as the purpose may see it; audited. */
export async function explainSegmentMemberGoverned(
  scope: AccessScope,
  id: string,
  customerId: string,
): Promise<SegmentExplanation> {
  const segment = await getSegment(scope.tx, scope.actor.workspaceId, id);
  const access = readAccess(scope);
  const node = assertReadable(segment.definition, access);
  const explanation = await explainSegmentMember(scope.tx, scope.actor.workspaceId, node, access, customerId);
  scope.audit({
    action: 'segment.why',
    purpose: scope.purpose,
    customerIds: [explanation.customerId],
    fields: fieldsOf({ definition: node }),
    details: { segmentId: segment.id, member: explanation.member },
  });
  scope.disclose([explanation.customerId], fieldsOf({ definition: node }));
  return explanation;
}

/** The workspace's value clock: its fixed `valueAsOf` when set, otherwise the scope's now. */
function valueClockOf(scope: AccessScope): Date {
  const fixed = scope.workspace.settings.valueAsOf;
  return fixed === null ? scope.now : new Date(fixed);
}

/**
 * The value job: full refit of the workspace's value model and profiles as of its value clock, then every
 * segment re-materialised (value fields and time windows moved). A refused fit (not converged, at the
 * boundary) keeps the previous model and profiles and says why. Owners and admins only; audited.
 */
export async function runValueRefit(
  scope: AccessScope,
  options: RefitOptions = {},
): Promise<{ refit: RefitReport; segments: Record<string, MembershipChange> }> {
  assertPermitted(scope.actor, 'value.refit');
  const { valueCurrency, exchangeRates } = scope.workspace.settings;
  const refit = await refitWorkspaceValue(scope.tx, scope.actor.workspaceId, {
    now: scope.now,
    asOf: valueClockOf(scope),
    valueCurrency,
    exchangeRates,
    ...options,
  });
  const segments = await refreshAllSegments(scope.tx, scope.actor.workspaceId, scope.taxonomy, scope.now);
  scope.audit({
    action: 'value.refit',
    purpose: scope.purpose,
    customerIds: [],
    fields: ['value'],
    details: { customers: refit.customers, status: refit.status, asOf: refit.asOf },
  });
  return { refit, segments };
}

/** Customers per short read transaction, and profiles per short write transaction, of a refit off the loop. */
const REFIT_READ_BATCH = 2_000;
const REFIT_WRITE_BATCH = 1_000;

/**
 * The value job without a long transaction and off the event loop (the scheduled refit, the command
 * line): purchases read in short transactions (the currencies, then ranges of `REFIT_READ_BATCH`
 * customers); the fit and every profile's scoring in a worker
 * thread, with no transaction open; the profiles written in short transactions of `REFIT_WRITE_BATCH`;
 * then one short transaction stores the model, removes the profiles of customers without purchases,
 * rescores with the new model the customers whose profiles events rewrote meanwhile (the batches leave
 * those alone: they carry newer purchases), re-materialises every segment and audits. Between the
 * batches a reader may see some profiles already rescored and the others not yet: value is eventually
 * consistent, behind by at most the duration of one refit. Owners and admins (the operator) only.
 */
export async function runValueRefitOffLoop(
  db: Kysely<DB>,
  actor: Actor,
  scopeOptions: ScopeOptions,
  options: RefitOptions = {},
): Promise<{ refit: RefitReport; segments: Record<string, MembershipChange> }> {
  const started = performance.now();
  const workspaceId = actor.workspaceId;
  const input = await withAccess(db, actor, scopeOptions, (scope) => {
    assertPermitted(scope.actor, 'value.refit');
    const { valueCurrency, exchangeRates } = scope.workspace.settings;
    return readRefitInput(
      scope.tx,
      workspaceId,
      { now: scope.now, asOf: valueClockOf(scope), valueCurrency, exchangeRates, ...options },
      { aggregates: false },
    );
  });
  // The purchases by ranges of customers, each in a short transaction of its own (on the embedded
  // engine a statement holds the one connection, and the event loop, for as long as it runs).
  let after: string | null = null;
  do {
    const from: string | null = after;
    after = await inWorkspace(db, workspaceId, (tx) =>
      readRefitAggregates(tx, workspaceId, input, from, REFIT_READ_BATCH),
    );
  } while (after !== null);
  const computed = await fitValueInWorker(input);
  let written: { seconds: number } | undefined;
  if (computed.verdict === 'fitted') {
    const writeStarted = performance.now();
    for (let start = 0; start < computed.profiles.length; start += REFIT_WRITE_BATCH) {
      const part = computed.profiles.slice(start, start + REFIT_WRITE_BATCH);
      await inWorkspace(db, workspaceId, (tx) => writeRefitProfiles(tx, workspaceId, input, part));
    }
    written = { seconds: (performance.now() - writeStarted) / 1000 };
  }
  return withAccess(db, actor, scopeOptions, async (scope) => {
    const refit = await storeRefit(scope.tx, workspaceId, input, computed, {
      started,
      ...(written === undefined ? {} : { profilesWritten: written }),
    });
    if (refit.status === 'fitted') {
      const rewritten = await listProfilesUpdatedAfter(scope.tx, workspaceId, input.now);
      await updateProfilesForCustomers(scope.tx, workspaceId, rewritten, valueClockOf(scope));
    }
    const segments = await refreshAllSegments(scope.tx, workspaceId, scope.taxonomy, scope.now);
    scope.audit({
      action: 'value.refit',
      purpose: scope.purpose,
      customerIds: [],
      fields: ['value'],
      details: { customers: refit.customers, status: refit.status, asOf: refit.asOf },
    });
    return { refit, segments };
  });
}

/**
 * The value and segment subscriber's work on a batch of committed events (after ingest and merges, off
 * their transactions): the value profiles of customers who got a purchase or a return, and of both
 * sides of a merge or unmerge, are recomputed with the stored model (no refit); every customer an
 * event names is re-evaluated for the segments events can change (merged customers leave them). Runs
 * under an analytics scope in the dispatcher's transaction. Recomputing from the current rows, it
 * yields the same state however often it runs on the same events.
 */
export async function refreshValueAndSegmentsForEvents(
  tx: Tx,
  workspaceId: string,
  events: readonly DomainEvent[],
  subscriber: string,
): Promise<void> {
  const purchasers = new Set<string>();
  const touched = new Set<string>();
  for (const event of events) {
    const p = event.payload;
    if (event.type === 'interaction_recorded' && typeof p.customerId === 'string') {
      touched.add(p.customerId);
      if (p.interactionType === 'purchase' || p.interactionType === 'return') purchasers.add(p.customerId);
    } else if (event.type === 'customers_merged' || event.type === 'customer_unmerged') {
      for (const id of [p.survivorId, p.absorbedId]) {
        if (typeof id !== 'string') continue;
        touched.add(id);
        purchasers.add(id);
      }
    }
  }
  if (touched.size === 0) return;
  const actor = { ...operatorActor(workspaceId), label: `job:${subscriber}` };
  await withAccessInTransaction(tx, actor, { purpose: 'analytics' }, async (scope) => {
    if (purchasers.size > 0)
      await updateProfilesForCustomers(tx, workspaceId, [...purchasers], valueClockOf(scope));
    // Before segments, which may filter on the archetype; a merged-away customer's profile is removed.
    await recomputeRelationships(tx, workspaceId, [...touched], scope.now);
    await refreshSegmentsForCustomers(tx, workspaceId, [...touched], scope.taxonomy, scope.now);
  });
}

/** One workspace's value job, as the scheduler and the command line run it. */
export interface WorkspaceRefit {
  workspaceId: string;
  workspaceName: string;
  refit: RefitReport;
  segments: Record<string, MembershipChange>;
}

/**
 * The workspaces named by id or name (all when none are named); 404 WORKSPACE_NOT_FOUND for a name
 * that matches none.
 */
export async function chooseWorkspaces(db: Kysely<DB>, refs: readonly string[]): Promise<Workspace[]> {
  const all = await listWorkspaces(db);
  const unknown = refs.filter((ref) => !all.some((w) => w.id === ref || w.name === ref));
  if (unknown.length > 0) {
    throw notFound('WORKSPACE_NOT_FOUND', `No workspace with id or name "${unknown[0]}".`, {
      workspaces: unknown,
    });
  }
  return refs.length === 0 ? all : all.filter((w) => refs.includes(w.id) || refs.includes(w.name));
}

/**
 * Runs the value job for the named workspaces (id or name; all when none are named) as the operator for
 * analytics, one after the other, each off the event loop in short transactions (`runValueRefitOffLoop`).
 */
export async function refitValueOfWorkspaces(
  db: Kysely<DB>,
  refs: readonly string[] = [],
  options: RefitOptions = {},
): Promise<WorkspaceRefit[]> {
  const chosen = await chooseWorkspaces(db, refs);
  const out: WorkspaceRefit[] = [];
  for (const workspace of chosen) {
    const result = await runValueRefitOffLoop(
      db,
      operatorActor(workspace.id),
      { purpose: 'analytics', requestId: null, mode: 'write' },
      options,
    );
    out.push({ workspaceId: workspace.id, workspaceName: workspace.name, ...result });
  }
  return out;
}
