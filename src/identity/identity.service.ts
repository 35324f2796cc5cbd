import type { AuditEntry } from '../audit/index.ts';
import {
  type Customer,
  type CustomerPatch,
  customerMergedError,
  GOLDEN_FIELDS,
  type GoldenField,
  getCustomer,
  updateCustomer,
} from '../customers/index.ts';
import { recordEvent } from '../events/index.ts';
import {
  type AccessScope,
  GOVERNMENT_ID_SOURCE_PREFIX,
  moveFactsOnMerge,
  returnFactsOnUnmerge,
} from '../governance/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import * as repo from './identity.repository.ts';
import type { MatchExplanation } from './matcher.ts';
import {
  type ConsentStateImage,
  combineGuardFacts,
  comparisonLevels,
  computeInteractionSide,
  computeLearnedDecisions,
  computeSurvivingValue,
  type FieldCandidate,
  findGuardConflict,
  type GuardFacts,
  isVerifyingSource,
  MERGED_FIELDS,
  mergeConsentStates,
  orderPair,
  pairKey,
  patternKey,
} from './merge.ts';
import { DEFAULT_THRESHOLDS, type ResolvedPair, resolveIdentities } from './resolve.ts';
import { customerOfRecord, toPersonRecords, toRecordLinks } from './workspace-records.ts';

/**
 * Use-cases of identity resolution in the database: resolving a workspace (automatic merges above the
 * upper threshold, the review band queued), merging and unmerging customers exactly, deciding reviews,
 * and rectifying a golden-record field with its domain event. Every use-case runs in the caller's
 * access scope (one transaction) and is audited there.
 */

function customerId(id: string, path: string): string {
  if (!isUuid(id)) {
    throw notFound('CUSTOMER_NOT_FOUND', `No customer with id ${id} in this workspace.`, { id, path });
  }
  return id.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------------------

/** What a merge did. */
export interface MergeSummary {
  id: string;
  survivorId: string;
  absorbedId: string;
  origin: 'manual' | 'automatic' | 'review';
  mergedAt: string;
  mergedBy: string;
  /** Golden-record fields whose value changed on the survivor, with the source that won. */
  fieldsChanged: { field: string; source: string }[];
  moved: { identities: number; contactPoints: number; interactions: number; fieldValues: number };
  /** Consent states of the survivor that the merge made (more) restrictive or added. */
  consentsChanged: { purpose: string; channel: string | null; status: string }[];
}

/** The before-image of a merge: everything an exact unmerge puts back. */
interface BeforeImage {
  version: 1;
  survivor: repo.CustomerImage;
  absorbed: repo.CustomerImage;
  survivorFieldValues: { id: string; supersededAt: string | null }[];
  absorbedFieldValues: { id: string; supersededAt: string | null }[];
  survivorIdentities: { source: string; externalId: string }[];
  absorbedIdentities: { source: string; externalId: string }[];
  survivorContactPoints: { id: string; verified: boolean }[];
  absorbedContactPoints: repo.ContactPointImage[];
  survivorConsentState: ConsentStateImage[];
  absorbedConsentState: ConsentStateImage[];
  movedInteractionIds: string[];
  /** The facts the merge moved and the versions its conflicts superseded (absent in older merges). */
  facts?: { moved: string[]; superseded: string[] };
}

interface MergeOptions {
  origin: 'manual' | 'automatic' | 'review';
  reason: string | null;
  reviewId: string | null;
  probability: number | null;
  /** False when the caller audits the merge itself (a resolution audits all its merges as one event). */
  audit?: boolean;
}

function guardFactsOf(
  customer: string,
  identities: readonly repo.IdentityImage[],
  values: readonly repo.FieldValueImage[],
): GuardFacts {
  const governmentIds = new Map<string, string[]>();
  for (const i of identities) {
    if (i.customerId !== customer || !i.source.startsWith(GOVERNMENT_ID_SOURCE_PREFIX)) continue;
    const kind = i.source.slice(GOVERNMENT_ID_SOURCE_PREFIX.length);
    governmentIds.set(kind, [...(governmentIds.get(kind) ?? []), i.externalId]);
  }
  const birth = values.find(
    (v) => v.customerId === customer && v.field === 'birthDate' && v.supersededAt === null,
  );
  const verifiedBirthDates =
    birth?.value && isVerifyingSource(birth.source) ? [birth.value.slice(0, 10)] : [];
  return { governmentIds, verifiedBirthDates };
}

function guardRefusal(survivor: string, absorbed: string, reason: string, details: object) {
  return conflict(
    'MERGE_REFUSED',
    reason === 'GOVERNMENT_ID_DIFFERS'
      ? 'The two customers hold different government ids of the same kind: they are two people and are never merged.'
      : 'The two customers hold different verified birth dates: they are two people and are never merged.',
    { survivorId: survivor, absorbedId: absorbed, reason, ...details },
  );
}

/**
 * The survivorship of one field: which current row survives (or the survivor's value without
 * provenance), which other current rows are superseded, and the survivor's resulting value.
 */
function surviveField(
  field: (typeof MERGED_FIELDS)[number],
  survivor: repo.CustomerImage,
  absorbed: repo.CustomerImage,
  values: readonly repo.FieldValueImage[],
  trust: readonly string[],
): { value: string | null; source: string | null; supersede: string[] } {
  const current = values.filter((v) => v.field === field && v.supersededAt === null);
  const candidates: FieldCandidate[] = [];
  for (const [side, image] of [
    ['survivor', survivor],
    ['absorbed', absorbed],
  ] as const) {
    const golden = image[field];
    if (golden === null) continue;
    const row = current.find((v) => v.customerId === image.id && v.value !== null);
    candidates.push(
      row
        ? {
            side,
            rowId: row.id,
            value: golden,
            source: row.source,
            capturedAt: row.capturedAt,
            recordedAt: row.recordedAt,
          }
        : // A value without provenance (restored or written before provenance) ranks as an unknown source.
          { side, rowId: null, value: golden, source: '', capturedAt: '', recordedAt: '' },
    );
  }
  const winner = computeSurvivingValue(candidates, trust);
  // At most one current row per field remains: the winner's, else the survivor's, else the absorbed's.
  const keep =
    winner?.rowId ??
    (winner?.side === 'absorbed' ? undefined : current.find((v) => v.customerId === survivor.id)?.id) ??
    (winner === undefined ? current.find((v) => v.customerId === absorbed.id)?.id : undefined);
  return {
    value: winner?.value ?? survivor[field],
    source: winner?.rowId ? (winner.source ?? null) : null,
    supersede: current.filter((v) => v.id !== keep).map((v) => v.id),
  };
}

function mergeAuditEntry(
  scope: AccessScope,
  customerIds: readonly string[],
  fieldsChanged: readonly { field: string }[],
  consents: boolean,
  details: Record<string, unknown>,
): AuditEntry {
  return {
    action: 'identity.merge',
    purpose: scope.purpose,
    customerIds,
    fields: [
      ...new Set(fieldsChanged.map((f) => f.field)),
      'identities',
      'contactPoints',
      'interactions',
      ...(consents ? ['consents'] : []),
    ],
    details,
  };
}

async function performMerge(
  scope: AccessScope,
  survivorId: string,
  absorbedId: string,
  options: MergeOptions,
): Promise<MergeSummary> {
  const { tx } = scope;
  const ws = scope.actor.workspaceId;
  if (survivorId === absorbedId) {
    throw invalid('MERGE_SAME_CUSTOMER', 'A customer cannot be merged into itself.', { survivorId });
  }
  const images = await repo.lockCustomerImages(tx, ws, [survivorId, absorbedId]);
  const survivor = images.get(survivorId);
  const absorbed = images.get(absorbedId);
  for (const [id, image] of [
    [survivorId, survivor],
    [absorbedId, absorbed],
  ] as const) {
    if (!image) throw notFound('CUSTOMER_NOT_FOUND', `No customer with id ${id} in this workspace.`, { id });
    if (image.mergedInto !== null) {
      const last = (await repo.findSurvivors(tx, ws, [id])).get(id) ?? image.mergedInto;
      throw customerMergedError(id, last);
    }
  }
  if (!survivor || !absorbed) throw new Error('unreachable');

  const values = await repo.listFieldValueImages(tx, ws, [survivorId, absorbedId]);
  const identities = await repo.listIdentityImages(tx, ws, [survivorId, absorbedId]);
  const refusal = findGuardConflict(
    guardFactsOf(survivorId, identities, values),
    guardFactsOf(absorbedId, identities, values),
  );
  if (refusal) throw guardRefusal(survivorId, absorbedId, refusal.reason, refusal);
  const contacts = await repo.listContactPointImages(tx, ws, [survivorId, absorbedId]);
  const consents = await repo.listConsentStateImagesOf(tx, ws, [survivorId, absorbedId]);
  const survivorConsent = consents.get(survivorId) ?? [];
  const absorbedConsent = consents.get(absorbedId) ?? [];

  // Survivorship, field by field.
  const trust = scope.workspace.settings.sourceTrust;
  const after: repo.CustomerImage = {
    ...survivor,
    intimacyLevel: Math.min(survivor.intimacyLevel, absorbed.intimacyLevel),
    restricted: survivor.restricted || absorbed.restricted,
    objections: [...new Set([...survivor.objections, ...absorbed.objections])].sort(),
    updatedAt: scope.now.toISOString(),
  };
  const supersede: string[] = [];
  const fieldsChanged: MergeSummary['fieldsChanged'] = [];
  for (const field of MERGED_FIELDS) {
    const outcome = surviveField(field, survivor, absorbed, values, trust);
    supersede.push(...outcome.supersede);
    if (outcome.value !== survivor[field]) {
      after[field] = outcome.value;
      fieldsChanged.push({ field, source: outcome.source ?? '' });
    }
  }

  const before: BeforeImage = {
    version: 1,
    survivor,
    absorbed,
    survivorFieldValues: values
      .filter((v) => v.customerId === survivorId)
      .map((v) => ({ id: v.id, supersededAt: v.supersededAt })),
    absorbedFieldValues: values
      .filter((v) => v.customerId === absorbedId)
      .map((v) => ({ id: v.id, supersededAt: v.supersededAt })),
    survivorIdentities: identities
      .filter((i) => i.customerId === survivorId)
      .map((i) => ({ source: i.source, externalId: i.externalId })),
    absorbedIdentities: identities
      .filter((i) => i.customerId === absorbedId)
      .map((i) => ({ source: i.source, externalId: i.externalId })),
    survivorContactPoints: contacts
      .filter((c) => c.customerId === survivorId)
      .map((c) => ({ id: c.id, verified: c.verified })),
    absorbedContactPoints: contacts.filter((c) => c.customerId === absorbedId),
    survivorConsentState: survivorConsent,
    absorbedConsentState: absorbedConsent,
    movedInteractionIds: [],
  };

  before.movedInteractionIds = await repo.moveCustomerRows(tx, ws, absorbedId, survivorId);
  before.facts = await moveFactsOnMerge(scope, survivorId, absorbedId);
  await repo.supersedeFieldValues(tx, ws, supersede);

  // Contact points: a value both hold stays once, on the survivor, verified when either was.
  const own = new Map(
    contacts.filter((c) => c.customerId === survivorId).map((c) => [`${c.kind}:${c.value}`, c]),
  );
  const duplicates: string[] = [];
  const verify: { id: string; verified: boolean }[] = [];
  const move: string[] = [];
  for (const c of before.absorbedContactPoints) {
    const mine = own.get(`${c.kind}:${c.value}`);
    if (mine === undefined) move.push(c.id);
    else {
      duplicates.push(c.id);
      if (c.verified && !mine.verified) verify.push({ id: mine.id, verified: true });
    }
  }
  await repo.deleteContactPointsById(tx, ws, duplicates);
  await repo.moveContactPoints(tx, ws, move, survivorId);
  await repo.setContactPointsVerified(tx, ws, verify);

  const consentsChanged = mergeConsentStates(survivorConsent, absorbedConsent);
  await repo.upsertConsentStates(tx, ws, survivorId, consentsChanged);

  await repo.writeCustomerImages(tx, ws, [
    after,
    { ...absorbed, mergedInto: survivorId, updatedAt: scope.now.toISOString() },
  ]);

  const id = newId();
  const mergedAt = await repo.insertMerge(tx, ws, {
    id,
    survivorId,
    absorbedId,
    origin: options.origin,
    reason: options.reason,
    reviewId: options.reviewId,
    probability: options.probability,
    beforeImage: before as unknown as Record<string, unknown>,
    mergedBy: scope.actor.label,
  });
  await recordEvent(tx, {
    type: 'customers_merged',
    customerId: survivorId,
    payload: { mergeId: id, survivorId, absorbedId, origin: options.origin },
  });
  if (options.audit !== false) {
    scope.audit(
      mergeAuditEntry(scope, [survivorId, absorbedId], fieldsChanged, consentsChanged.length > 0, {
        mergeId: id,
        origin: options.origin,
      }),
    );
  }
  return {
    id,
    survivorId,
    absorbedId,
    origin: options.origin,
    mergedAt,
    mergedBy: scope.actor.label,
    fieldsChanged,
    moved: {
      identities: before.absorbedIdentities.length,
      contactPoints: move.length,
      interactions: before.movedInteractionIds.length,
      fieldValues: before.absorbedFieldValues.length,
    },
    consentsChanged: consentsChanged.map((c) => ({
      purpose: c.purpose,
      channel: c.channel === '' ? null : c.channel,
      status: c.status,
    })),
  };
}

/**
 * Merges `absorbedId` into `survivorId` by hand: survivorship per field (most trusted source, then the
 * most recent verified or captured value), provenance kept, identities, contact points and interactions
 * moved, consent merged most-restrictive-wins; recorded for an exact unmerge and as a `match` label.
 * 409 MERGE_REFUSED when the guard forbids it, 404 CUSTOMER_MERGED (with `mergedInto`) when either was
 * merged already.
 */
export async function mergeCustomers(
  scope: AccessScope,
  survivorId: string,
  absorbedId: string,
  reason: string | null = null,
): Promise<MergeSummary> {
  assertPermitted(scope.actor, 'customers.merge');
  const s = customerId(survivorId, 'id');
  const a = customerId(absorbedId, 'absorbedId');
  const summary = await performMerge(scope, s, a, {
    origin: 'manual',
    reason,
    reviewId: null,
    probability: null,
  });
  await recordLabel(scope, s, a, 'match', { origin: 'merge', mergeId: summary.id });
  return summary;
}

async function recordLabel(
  scope: AccessScope,
  x: string,
  y: string,
  label: 'match' | 'non_match',
  context: {
    origin: 'review' | 'merge' | 'unmerge';
    mergeId?: string | null;
    reviewId?: string | null;
    levels?: Record<string, string> | null;
    probability?: number | null;
  },
): Promise<void> {
  const [customerA, customerB] = orderPair(x, y);
  await repo.insertDecision(scope.tx, scope.actor.workspaceId, {
    id: newId(),
    customerA,
    customerB,
    label,
    origin: context.origin,
    reviewId: context.reviewId ?? null,
    mergeId: context.mergeId ?? null,
    levels: context.levels ?? null,
    probability: context.probability ?? null,
    decidedBy: scope.actor.label,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Unmerge
// ---------------------------------------------------------------------------------------------------------

/** What an unmerge did. */
export interface UnmergeSummary {
  mergeId: string;
  survivorId: string;
  absorbedId: string;
  unmergedAt: string;
  unmergedBy: string;
  restored: { identities: number; contactPoints: number; interactions: number; fieldValues: number };
  /** Interactions that arrived while merged: how many went to the absorbed side by the source rule. */
  arrivedDuringMerge: { total: number; toAbsorbed: number };
}

function parseBeforeImage(raw: Record<string, unknown>, mergeId: string): BeforeImage {
  if (raw.version !== 1) {
    throw conflict(
      'MERGE_IMAGE_UNKNOWN',
      `Merge ${mergeId} was recorded in a form this version cannot undo.`,
      {
        mergeId,
      },
    );
  }
  return raw as unknown as BeforeImage;
}

/**
 * Undoes a merge exactly: both customers get back their golden fields, privacy columns, field values,
 * identities, contact points and consent projection as they were, and the absorbed customer its
 * interactions. What happened while they were merged is kept: interactions that arrived go to the side
 * `computeInteractionSide` names, values and identities added to the survivor stay with it, the
 * survivor's own later consent records and privacy choices stand. Merges undo in reverse order
 * (409 UNMERGE_ORDER names the later ones); the unmerge is recorded as a `non_match` label.
 */
export async function unmergeCustomers(scope: AccessScope, mergeId: string): Promise<UnmergeSummary> {
  assertPermitted(scope.actor, 'customers.merge');
  const { tx } = scope;
  const ws = scope.actor.workspaceId;
  const merge = isUuid(mergeId) ? await repo.findMergeForUpdate(tx, ws, mergeId.toLowerCase()) : undefined;
  if (!merge)
    throw notFound('MERGE_NOT_FOUND', `No merge with id ${mergeId} in this workspace.`, { mergeId });
  if (merge.unmergedAt !== null) {
    throw conflict('MERGE_ALREADY_UNDONE', `Merge ${merge.id} was undone at ${merge.unmergedAt}.`, {
      mergeId: merge.id,
      unmergedAt: merge.unmergedAt,
    });
  }
  const { survivorId, absorbedId, mergedAt } = merge;
  const later = await repo.listLaterActiveMerges(tx, ws, [survivorId, absorbedId], merge.id, mergedAt);
  if (later.length > 0) {
    throw conflict(
      'UNMERGE_ORDER',
      `Later merges involve these customers; unmerge them first, newest first (${later.map((m) => m.id).join(', ')}).`,
      { mergeId: merge.id, later },
    );
  }
  const before = parseBeforeImage(merge.beforeImage, merge.id);
  const current = await repo.lockCustomerImages(tx, ws, [survivorId, absorbedId]);

  // Interactions: those the merge moved go back; those that arrived meanwhile follow their source.
  const interactionsBack = await repo.moveInteractions(
    tx,
    ws,
    before.movedInteractionIds,
    survivorId,
    absorbedId,
  );
  const arrived = await repo.listInteractionsReceivedAfter(
    tx,
    ws,
    survivorId,
    mergedAt,
    before.movedInteractionIds,
  );
  const survivorSources = new Set(before.survivorIdentities.map((i) => i.source));
  const absorbedSources = new Set(before.absorbedIdentities.map((i) => i.source));
  const toAbsorbed = arrived
    .filter((i) => computeInteractionSide(i.source, survivorSources, absorbedSources) === 'absorbed')
    .map((i) => i.id);
  await repo.moveInteractions(tx, ws, toAbsorbed, survivorId, absorbedId);

  const identitiesBack = await repo.moveIdentities(tx, ws, before.absorbedIdentities, survivorId, absorbedId);
  await repo.deleteContactPointsById(
    tx,
    ws,
    before.absorbedContactPoints.map((c) => c.id),
  );
  await repo.insertContactPointImages(tx, ws, before.absorbedContactPoints);
  await repo.setContactPointsVerified(tx, ws, before.survivorContactPoints);

  if (before.facts) await returnFactsOnUnmerge(scope, survivorId, absorbedId, before.facts);
  await repo.restoreFieldValues(tx, ws, absorbedId, before.absorbedFieldValues);
  await repo.restoreFieldValues(tx, ws, survivorId, before.survivorFieldValues);
  // A value recorded on the survivor while merged (a correction) stays its current value.
  const known = new Set([...before.survivorFieldValues, ...before.absorbedFieldValues].map((v) => v.id));
  const survivorValues = await repo.listFieldValueImages(tx, ws, [survivorId]);
  const survivorImage: repo.CustomerImage = { ...before.survivor };
  const resupersede: { id: string; supersededAt: string | null }[] = [];
  for (const field of MERGED_FIELDS) {
    const newer = survivorValues.find(
      (v) => v.field === field && v.supersededAt === null && !known.has(v.id),
    );
    if (!newer) continue;
    survivorImage[field] = newer.value;
    for (const v of survivorValues) {
      if (v.field === field && v.supersededAt === null && v.id !== newer.id) {
        resupersede.push({ id: v.id, supersededAt: newer.recordedAt });
      }
    }
  }
  await repo.restoreFieldValues(tx, ws, survivorId, resupersede);

  // The customer's own privacy choices made while merged stand.
  const nowSurvivor = current.get(survivorId);
  if (nowSurvivor && (await repo.hasPrivacyChangesAfter(tx, ws, survivorId, mergedAt))) {
    survivorImage.intimacyLevel = nowSurvivor.intimacyLevel;
    survivorImage.restricted = nowSurvivor.restricted;
    survivorImage.objections = nowSurvivor.objections;
  }
  await repo.writeCustomerImages(tx, ws, [survivorImage, before.absorbed]);

  // Each side's own consent: the survivor's projection as it was, moved on by its own later records.
  await repo.replaceConsentStates(tx, ws, survivorId, before.survivorConsentState);
  await repo.applyConsentRecordsAfter(tx, ws, survivorId, mergedAt);

  const report = {
    interactionsBack,
    arrivedDuringMerge: arrived.length,
    arrivedToAbsorbed: toAbsorbed.length,
    identitiesBack,
    rule: 'source-of-identity',
  };
  const unmergedAt = await repo.markUnmerged(tx, ws, merge.id, scope.actor.label, report);
  await recordLabel(scope, survivorId, absorbedId, 'non_match', { origin: 'unmerge', mergeId: merge.id });
  await recordEvent(tx, {
    type: 'customer_unmerged',
    customerId: survivorId,
    payload: { mergeId: merge.id, survivorId, absorbedId },
  });
  scope.audit({
    action: 'identity.unmerge',
    purpose: scope.purpose,
    customerIds: [survivorId, absorbedId],
    fields: ['identities', 'contactPoints', 'interactions', 'consents', 'facts', ...MERGED_FIELDS],
    details: { mergeId: merge.id },
  });
  return {
    mergeId: merge.id,
    survivorId,
    absorbedId,
    unmergedAt,
    unmergedBy: scope.actor.label,
    restored: {
      identities: identitiesBack,
      contactPoints: before.absorbedContactPoints.length,
      interactions: interactionsBack + toAbsorbed.length,
      fieldValues: before.absorbedFieldValues.length,
    },
    arrivedDuringMerge: { total: arrived.length, toAbsorbed: toAbsorbed.length },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Resolving a workspace
// ---------------------------------------------------------------------------------------------------------

/** How a workspace resolution runs. */
export interface ResolveWorkspaceOptions {
  /** Merge automatically at or above this match probability (default 0.5). */
  autoThreshold?: number | undefined;
  /** Queue for review from this probability up to the automatic threshold (default 0.1). */
  reviewThreshold?: number | undefined;
  /** Seed of the random pairs the model starts from. */
  seed?: number | undefined;
}

/** What a workspace resolution did. */
export interface ResolveWorkspaceSummary {
  customers: number;
  candidatePairs: number;
  merges: { mergeId: string; survivorId: string; absorbedId: string; probability: number | null }[];
  queued: number;
  skipped: {
    /** Pairs a recorded decision settled (rejected pairs are never merged or asked again). */
    decided: number;
    /** Pairs already in the queue (pending or decided). */
    alreadyQueued: number;
    /** Review-band pairs whose comparison pattern people always rejected. */
    learnedNonMatch: number;
    /**
     * Pairs of customers both unchanged since the last resolution with the same thresholds: that run
     * decided them already, so a rerun over unchanged data merges and asks nothing new.
     */
    settled: number;
  };
  /** Review-band pairs merged because people always accepted their comparison pattern. */
  learnedMatch: number;
  /**
   * Pairs the guard refused: automatic ones (queued for review instead, a mistyped identifier being
   * likely) and review-band ones (not queued: different identifiers of one kind settle it).
   */
  refusedByGuard: number;
  model: { emIterations: number; emConverged: boolean; expectedMatches: number };
  milliseconds: { loading: number; resolving: number; writing: number; total: number };
}

function factsOfCandidate(c: repo.CustomerForMatching): GuardFacts {
  const governmentIds = new Map<string, string[]>();
  for (const g of c.governmentIds) governmentIds.set(g.kind, [...(governmentIds.get(g.kind) ?? []), g.hash]);
  return {
    governmentIds,
    verifiedBirthDates: c.birthDate !== null && isVerifyingSource(c.birthDateSource) ? [c.birthDate] : [],
  };
}

interface Edge {
  a: string;
  b: string;
  probability: number | null;
  /** Forced by a recorded `match` decision (never queued when refused). */
  decided: boolean;
  pair: ResolvedPair | null;
}

/**
 * Resolves the workspace's active customers: runs the engine over what each source system holds of
 * them (names, birth date, emails, phones, postal addresses, government-id hashes), merges every cluster
 * above the automatic threshold whose evidence may decide (`evidence.ts`) into its oldest customer, and
 * queues the review band and the held pairs. An interaction of one customer naming an interaction of
 * another (an order and its shipment) counts as evidence beside the names. Recorded decisions override the model: a pair decided
 * `non_match` is never merged (nor joined through a third customer) and never asked again, a pair
 * decided `match` is merged; a comparison pattern people decided the same way every time (at least
 * three times) decides new pairs with that pattern. A pair already queued is not queued again, and a
 * pair of customers both unchanged since the last resolution with the same thresholds is left as that
 * run left it: a rerun over unchanged data merges and asks nothing new. Every run is recorded
 * (`identity_resolutions`).
 */
export async function resolveWorkspace(
  scope: AccessScope,
  options: ResolveWorkspaceOptions = {},
): Promise<ResolveWorkspaceSummary> {
  assertPermitted(scope.actor, 'identity.resolve');
  const autoThreshold = options.autoThreshold ?? DEFAULT_THRESHOLDS.auto;
  const reviewThreshold = options.reviewThreshold ?? Math.min(DEFAULT_THRESHOLDS.review, autoThreshold);
  if (!(autoThreshold > 0 && autoThreshold < 1 && reviewThreshold > 0 && reviewThreshold <= autoThreshold)) {
    throw invalid(
      'THRESHOLDS_INVALID',
      'Thresholds are probabilities between 0 and 1, the review threshold not above the automatic one.',
      { autoThreshold, reviewThreshold },
    );
  }
  const { tx } = scope;
  const ws = scope.actor.workspaceId;
  const started = performance.now();
  const customers = await repo.listCustomersForMatching(tx, ws, GOVERNMENT_ID_SOURCE_PREFIX);
  const sourced = await repo.listSourceRecordsForMatching(tx, ws);
  const links = await repo.listInteractionLinks(tx, ws);
  const labels = computeLearnedDecisions(await repo.listDecisionLabels(tx, ws));
  const queuedBefore = await repo.listQueuedPairKeys(tx, ws);
  const last = await repo.findLastResolution(tx, ws);
  // Customers unchanged since the last run with these thresholds were resolved by it.
  const settledSince =
    last !== undefined && last.autoThreshold === autoThreshold && last.reviewThreshold === reviewThreshold
      ? last.asOf
      : null;
  const settled = new Set(
    settledSince === null ? [] : customers.filter((c) => c.updatedAt <= settledSince).map((c) => c.id),
  );
  const loaded = performance.now();

  const summary: ResolveWorkspaceSummary = {
    customers: customers.length,
    candidatePairs: 0,
    merges: [],
    queued: 0,
    skipped: { decided: 0, alreadyQueued: 0, learnedNonMatch: 0, settled: 0 },
    learnedMatch: 0,
    refusedByGuard: 0,
    model: { emIterations: 0, emConverged: true, expectedMatches: 0 },
    milliseconds: { loading: Math.round(loaded - started), resolving: 0, writing: 0, total: 0 },
  };
  const engine = toPersonRecords(customers, sourced);
  const result =
    customers.length >= 2
      ? resolveIdentities(engine.records, {
          autoThreshold,
          reviewThreshold,
          seed: options.seed ?? 1,
          groups: engine.groups,
          links: toRecordLinks(engine.records, links),
        })
      : null;
  const resolved = performance.now();
  summary.milliseconds.resolving = Math.round(resolved - loaded);
  if (result) {
    summary.candidatePairs = result.stats.candidatePairs;
    summary.refusedByGuard = result.stats.refusedByGuard;
    summary.model = {
      emIterations: result.stats.emIterations,
      emConverged: result.stats.emConverged,
      expectedMatches: Math.round(result.stats.expectedMatches * 10) / 10,
    };
  }

  const byId = new Map(customers.map((c, i) => [c.id, { customer: c, order: i }]));
  const edges: Edge[] = [];
  const toReview: { pair: ResolvedPair; reason: 'band' | 'guard' }[] = [];
  for (const recordPair of result?.pairs ?? []) {
    // The engine pairs records; a resolution merges and asks about customers.
    const pair = { ...recordPair, a: customerOfRecord(recordPair.a), b: customerOfRecord(recordPair.b) };
    if (pair.a === pair.b) continue;
    const decided = labels.pairs.get(pairKey(pair.a, pair.b));
    if (decided === 'non_match') {
      summary.skipped.decided++;
      continue;
    }
    const probability = pair.explanation.probability;
    if (decided !== 'match' && settled.has(pair.a) && settled.has(pair.b)) {
      summary.skipped.settled++;
      continue;
    }
    if (decided === 'match' || pair.decision === 'merged') {
      edges.push({ a: pair.a, b: pair.b, probability, decided: decided === 'match', pair });
      continue;
    }
    const learned = labels.patterns.get(patternKey(comparisonLevels(pair.explanation)));
    if (learned === 'match') {
      summary.learnedMatch++;
      edges.push({ a: pair.a, b: pair.b, probability, decided: false, pair });
    } else if (learned === 'non_match') summary.skipped.learnedNonMatch++;
    else toReview.push({ pair, reason: pair.reason ?? 'band' });
  }
  // Pairs people accepted that the model did not even propose are merged all the same.
  const proposed = new Set(edges.map((e) => pairKey(e.a, e.b)));
  const cannotLink = new Map<string, Set<string>>();
  for (const [key, label] of labels.pairs) {
    const [a = '', b = ''] = key.split(':');
    if (!byId.has(a) || !byId.has(b)) continue;
    if (label === 'match' && !proposed.has(key))
      edges.push({ a, b, probability: null, decided: true, pair: null });
    if (label === 'non_match') {
      cannotLink.set(a, (cannotLink.get(a) ?? new Set()).add(b));
      cannotLink.set(b, (cannotLink.get(b) ?? new Set()).add(a));
    }
  }
  edges.sort((x, y) => Number(y.decided) - Number(x.decided) || (y.probability ?? 1) - (x.probability ?? 1));

  // Union–find over the edges, strongest first, under the guard and the recorded non-matches.
  const parent = new Map<string, string>();
  const members = new Map<string, string[]>();
  const facts = new Map<string, GuardFacts>();
  const find = (x: string): string => {
    let root = x;
    while ((parent.get(root) ?? root) !== root) root = parent.get(root) ?? root;
    parent.set(x, root);
    return root;
  };
  const factsOf = (root: string): GuardFacts => {
    const known = facts.get(root);
    if (known) return known;
    const entry = byId.get(root);
    const fresh = entry
      ? factsOfCandidate(entry.customer)
      : { governmentIds: new Map(), verifiedBirthDates: [] };
    facts.set(root, fresh);
    return fresh;
  };
  const bestProbability = new Map<string, number>();
  for (const edge of edges) {
    if (!byId.has(edge.a) || !byId.has(edge.b)) continue;
    const ra = find(edge.a);
    const rb = find(edge.b);
    if (ra === rb) continue;
    const ma = members.get(ra) ?? [ra];
    const mb = members.get(rb) ?? [rb];
    const blocked =
      findGuardConflict(factsOf(ra), factsOf(rb)) !== null ||
      ma.some((x) => mb.some((y) => cannotLink.get(x)?.has(y)));
    if (blocked) {
      summary.refusedByGuard++;
      if (edge.pair && !edge.decided) toReview.push({ pair: edge.pair, reason: 'guard' });
      continue;
    }
    // The oldest customer of the cluster is its root, and so the survivor.
    const [keep, gone] = (byId.get(ra)?.order ?? 0) <= (byId.get(rb)?.order ?? 0) ? [ra, rb] : [rb, ra];
    parent.set(gone, keep);
    members.set(keep, [...(members.get(keep) ?? [keep]), ...(members.get(gone) ?? [gone])]);
    members.delete(gone);
    facts.set(keep, combineGuardFacts(factsOf(keep), factsOf(gone)));
    for (const id of [edge.a, edge.b]) {
      if (edge.probability !== null)
        bestProbability.set(id, Math.max(bestProbability.get(id) ?? 0, edge.probability));
    }
  }

  const touched: string[] = [];
  const fieldsTouched: { field: string }[] = [];
  let consentsTouched = false;
  for (const [root, ids] of members) {
    const absorbed = ids
      .filter((id) => id !== root)
      .sort((x, y) => (byId.get(x)?.order ?? 0) - (byId.get(y)?.order ?? 0));
    for (const id of absorbed) {
      const merged = await performMerge(scope, root, id, {
        origin: 'automatic',
        reason: 'resolve-workspace',
        reviewId: null,
        probability: bestProbability.get(id) ?? null,
        audit: false,
      });
      touched.push(root, id);
      fieldsTouched.push(...merged.fieldsChanged);
      consentsTouched ||= merged.consentsChanged.length > 0;
      summary.merges.push({
        mergeId: merged.id,
        survivorId: root,
        absorbedId: id,
        probability: bestProbability.get(id) ?? null,
      });
    }
  }

  // One audit event for the whole resolution: every customer it merged is a subject of it.
  if (summary.merges.length > 0) {
    scope.audit(
      mergeAuditEntry(scope, [...new Set(touched)], fieldsTouched, consentsTouched, {
        origin: 'automatic',
        mergeIds: summary.merges.map((m) => m.mergeId),
      }),
    );
  }

  const rows: Parameters<typeof repo.insertReviews>[2][number][] = [];
  const seen = new Set<string>();
  for (const { pair, reason } of toReview) {
    const a = find(pair.a);
    const b = find(pair.b);
    if (a === b) continue;
    const key = pairKey(a, b);
    if (seen.has(key)) continue;
    seen.add(key);
    if (labels.pairs.has(key)) {
      summary.skipped.decided++;
      continue;
    }
    if (queuedBefore.has(key)) {
      summary.skipped.alreadyQueued++;
      continue;
    }
    // A weak pair the guard rules out (different ids of a kind) is no question; a strong one the guard
    // refused is asked, since one of its identifiers is probably mistyped.
    if (reason === 'band' && findGuardConflict(factsOf(a), factsOf(b)) !== null) {
      summary.refusedByGuard++;
      continue;
    }
    const [customerA, customerB] = orderPair(a, b);
    rows.push({
      id: newId(),
      customerA,
      customerB,
      score: pair.explanation.score,
      probability: pair.explanation.probability,
      reason,
      explanation: pair.explanation,
    });
  }
  summary.queued = await repo.insertReviews(tx, ws, rows);
  await repo.insertResolution(tx, ws, {
    id: newId(),
    asOf: scope.now.toISOString(),
    autoThreshold,
    reviewThreshold,
    customers: customers.length,
    merges: summary.merges.length,
    queued: summary.queued,
    resolvedBy: scope.actor.label,
  });
  const finished = performance.now();
  summary.milliseconds.writing = Math.round(finished - resolved);
  summary.milliseconds.total = Math.round(finished - started);
  return summary;
}

// ---------------------------------------------------------------------------------------------------------
// Review queue
// ---------------------------------------------------------------------------------------------------------

/** A candidate pair in the review queue, as shown to a reviewer. */
export type Review = repo.ReviewRow;

/** A page of reviews. */
export interface ReviewPage {
  reviews: Review[];
  nextCursor: string | null;
}

/** The review queue of the scope's workspace (pending by default), oldest first. */
export async function listReviewQueue(
  scope: AccessScope,
  query: {
    status?: Review['status'] | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  } = {},
): Promise<ReviewPage> {
  assertPermitted(scope.actor, 'customers.merge');
  if (query.cursor !== undefined && !isUuid(query.cursor)) {
    throw invalid(
      'CURSOR_INVALID',
      'The cursor is not one this API returned; start again without a cursor.',
      {
        errors: [{ path: 'cursor', message: 'is not a valid cursor' }],
      },
    );
  }
  const limit = query.limit ?? 50;
  const rows = await repo.listReviews(scope.tx, scope.actor.workspaceId, {
    status: query.status ?? 'pending',
    after: query.cursor?.toLowerCase() ?? null,
    limit: limit + 1,
  });
  const reviews = rows.slice(0, limit);
  if (reviews.length > 0) {
    scope.audit({
      action: 'identity.review.list',
      purpose: scope.purpose,
      customerIds: reviews.flatMap((r) => [r.customerA, r.customerB]),
      fields: ['identityMatch'],
    });
  }
  return {
    reviews,
    nextCursor: rows.length > limit ? (reviews[reviews.length - 1]?.id ?? null) : null,
  };
}

/** The outcome of a review decision. */
export interface ReviewDecision {
  review: Review;
  /** The merge an acceptance made; null on rejection or when the two were already one customer. */
  merge: MergeSummary | null;
}

/**
 * Accepts (merges the pair, the older customer surviving) or rejects a pending review; either way the
 * decision is recorded as a label the next resolution obeys and learns from. 404 REVIEW_NOT_FOUND,
 * 409 REVIEW_DECIDED when it was decided already, 409 MERGE_REFUSED when the guard forbids the merge.
 */
export async function decideReview(
  scope: AccessScope,
  reviewId: string,
  decision: 'accept' | 'reject',
): Promise<ReviewDecision> {
  assertPermitted(scope.actor, 'customers.merge');
  const { tx } = scope;
  const ws = scope.actor.workspaceId;
  const review = isUuid(reviewId)
    ? await repo.findReviewForUpdate(tx, ws, reviewId.toLowerCase())
    : undefined;
  if (!review)
    throw notFound('REVIEW_NOT_FOUND', `No review with id ${reviewId} in this workspace.`, { reviewId });
  if (review.status !== 'pending') {
    throw conflict('REVIEW_DECIDED', `Review ${review.id} was ${review.status} by ${review.decidedBy}.`, {
      reviewId: review.id,
      status: review.status,
      decidedAt: review.decidedAt,
    });
  }
  const explanation: MatchExplanation | null = review.explanation ?? null;
  let merge: MergeSummary | null = null;
  if (decision === 'accept') {
    const survivors = await repo.findSurvivors(tx, ws, [review.customerA, review.customerB]);
    const a = survivors.get(review.customerA) ?? review.customerA;
    const b = survivors.get(review.customerB) ?? review.customerB;
    if (a !== b) {
      const images = await repo.lockCustomerImages(tx, ws, [a, b]);
      const older = (x: string, y: string) => {
        const cx = images.get(x)?.createdAt ?? '';
        const cy = images.get(y)?.createdAt ?? '';
        return cx < cy || (cx === cy && x < y);
      };
      const [survivor, absorbed] = older(a, b) ? [a, b] : [b, a];
      merge = await performMerge(scope, survivor, absorbed, {
        origin: 'review',
        reason: 'review accepted',
        reviewId: review.id,
        probability: review.probability,
      });
    }
  }
  await recordLabel(
    scope,
    review.customerA,
    review.customerB,
    decision === 'accept' ? 'match' : 'non_match',
    {
      origin: 'review',
      reviewId: review.id,
      mergeId: merge?.id ?? null,
      levels: Array.isArray(explanation?.fields) ? comparisonLevels(explanation) : null,
      probability: review.probability,
    },
  );
  const decided = await repo.markReviewDecided(tx, ws, review.id, {
    status: decision === 'accept' ? 'accepted' : 'rejected',
    by: scope.actor.label,
    mergeId: merge?.id ?? null,
  });
  scope.audit({
    action: 'identity.review.decide',
    purpose: scope.purpose,
    customerIds: [review.customerA, review.customerB],
    fields: ['identityMatch'],
    details: { reviewId: review.id, decision },
  });
  return { review: decided, merge };
}

// ---------------------------------------------------------------------------------------------------------
// Rectification
// ---------------------------------------------------------------------------------------------------------

const NAME_FIELDS: ReadonlySet<GoldenField> = new Set(['givenName', 'familyName', 'preferredName']);

/** The outcome of a rectification. */
export type Rectification =
  | {
      outcome: 'rectified';
      customerId: string;
      field: GoldenField;
      value: string | null;
      provenance: Customer['provenance'][GoldenField] | null;
      event: { id: string; type: 'name_corrected' | 'field_rectified' };
    }
  | { outcome: 'unchanged'; customerId: string; field: GoldenField; value: string | null; event: null };

/** True for a golden-record field a rectification may correct. */
export function isRectifiableField(field: string): field is GoldenField {
  return (GOLDEN_FIELDS as readonly string[]).includes(field);
}

/**
 * Corrects one golden-record field (SPEC §5.4, §5.5): the value is written through the customers
 * domain with provenance (source `rectification`, captured by the actor) and a `name_corrected` (name
 * fields) or `field_rectified` event is recorded (events/) in the same transaction, for the
 * recipients of the field to be told. The event names the field and the reason, not the value: its
 * dispatcher reads the current value, so an erasure in between sends nothing stale. A value equal to
 * the current one changes nothing and emits nothing.
 */
export async function rectifyField(
  scope: AccessScope,
  id: string,
  field: string,
  value: string | null,
  reason: string,
): Promise<Rectification> {
  if (!isRectifiableField(field)) {
    throw invalid('FIELD_NOT_RECTIFIABLE', `"${field}" is not a golden-record field.`, {
      errors: [{ path: 'field', message: `must be one of ${GOLDEN_FIELDS.join(', ')}` }],
    });
  }
  assertPermitted(scope.actor, 'customers.rectify');
  const trimmed = reason.trim();
  if (trimmed.length === 0) {
    throw invalid('REASON_REQUIRED', 'Say why the value is corrected.', {
      errors: [{ path: 'reason', message: 'must not be empty' }],
    });
  }
  const { tx, actor } = scope;
  const before = await getCustomer(tx, actor, id);
  const patch: CustomerPatch = { source: 'rectification' };
  patch[field] = value;
  const after = await updateCustomer(tx, actor, before.id, patch);
  if (after[field] === before[field]) {
    return { outcome: 'unchanged', customerId: after.id, field, value: after[field], event: null };
  }
  const type = NAME_FIELDS.has(field) ? ('name_corrected' as const) : ('field_rectified' as const);
  // The reason is free text a person wrote: it stays in the provenance and the audit, not in the event.
  const eventId = await recordEvent(tx, {
    type,
    customerId: after.id,
    payload: {
      customerId: after.id,
      field,
      source: 'rectification',
      rectifiedBy: actor.label,
      rectifiedAt: scope.now.toISOString(),
    },
  });
  const event = { id: eventId, type };
  scope.audit({
    action: 'customer.rectify',
    purpose: scope.purpose,
    customerIds: [after.id],
    fields: [field],
    details: { eventId: event.id, eventType: event.type },
  });
  return {
    outcome: 'rectified',
    customerId: after.id,
    field,
    value: after[field],
    provenance: after.provenance[field] ?? null,
    event,
  };
}
