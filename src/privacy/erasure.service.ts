import {
  eraseCustomerRecords,
  getCustomer,
  listCustomerIdentifiers,
  suppressIdentifiers,
} from '../customers/index.ts';
import { eraseFactsOfCustomers } from '../facts/index.ts';
import type { AccessScope } from '../governance/index.ts';
import { eraseIdentityTraces } from '../identity/index.ts';
import { eraseInteractionsOfCustomers } from '../interactions/index.ts';
import { momentRepository } from '../moments/index.ts';
import { eraseRecommendationLists } from '../recommendations/index.ts';
import { eraseRelationshipsOfCustomers } from '../relationships/index.ts';
import { eraseSegmentMemberships } from '../segments/index.ts';
import { eraseValueProfiles } from '../value/index.ts';
import { withdrawPendingDeliveries } from '../webhooks/index.ts';
import { planNotifications } from './notice.service.ts';
import * as repo from './privacy.repository.ts';

/**
 * Complete erasure (SPEC §5.4), in one transaction: the person is the customer and every customer merged
 * into it. Every recipient that ever received their data is told first (the disclosure ledger stays, so
 * the notifications can name whom to tell); the identifiers go to the suppression list as keyed hashes;
 * then each domain erases its own rows through its own function — the golden record (a tombstone row
 * stays for the ledgers' ids), contact points, identities, field values and provenance, interactions
 * (or, with a legal basis for the books, all but type, time and amount), facts, value profiles (derived
 * scores), segment memberships, relationship profiles and history, recommendation lists, merge images
 * and review explanations, queued webhook deliveries, and the personal details of privacy requests.
 * Erasing an erased customer finds nothing more to erase: the second run is a no-op with the same shape.
 *
 * What stays, by design: the append-only ledgers (consents, privacy flags, intimacy changes,
 * disclosures, identity decisions) and the audit chain keep the customer's id, purposes, field names and
 * the evidence recorded with them; the audit chain also keeps each event's details as recorded.
 */

/** What an erasure did: counts per kind of data, never a value. */
export interface ErasureReport {
  customerIds: string[];
  recipientsTold: number;
  suppressed: number;
  contactPoints: number;
  identities: number;
  fieldValues: number;
  interactionsDeleted: number;
  interactionsKeptForBooks: number;
  facts: number;
  segmentMemberships: number;
  relationshipRows: number;
  recommendationLists: number;
  /** Moments, decisions with their traces, actions and feedback about the customer. */
  momentRows: number;
  mergeImages: number;
  reviewExplanations: number;
  queuedDeliveriesStopped: number;
  privacyRequestsCleared: number;
}

/** Erases the customer completely; see the module comment. */
export async function eraseCustomer(
  scope: AccessScope,
  customerId: string,
  options: { requestId: string | null; retainForBooks?: boolean },
): Promise<ErasureReport> {
  const { tx } = scope;
  const workspaceId = scope.actor.workspaceId;
  const id = (await getCustomer(tx, scope.actor, customerId)).id;
  const ids = await repo.findPersonIds(tx, workspaceId, id);
  let recipientsTold = 0;
  for (const person of ids) {
    const told = await planNotifications(tx, {
      workspaceId,
      customerId: person,
      cause: 'erasure',
      causeId: options.requestId ?? id,
      requestId: options.requestId,
      fields: 'all',
      now: scope.now,
    });
    recipientsTold += told.length;
  }
  const suppressed = await suppressIdentifiers(
    tx,
    workspaceId,
    await listCustomerIdentifiers(tx, workspaceId, ids),
    {
      requestId: options.requestId,
      now: scope.now,
    },
  );
  const records = await eraseCustomerRecords(tx, workspaceId, ids);
  const interactions = await eraseInteractionsOfCustomers(tx, workspaceId, ids, {
    retainForBooks: options.retainForBooks === true,
  });
  const facts = await eraseFactsOfCustomers(tx, workspaceId, ids);
  await eraseValueProfiles(tx, workspaceId, ids);
  const segmentMemberships = await eraseSegmentMemberships(tx, workspaceId, ids);
  const relationshipRows = await eraseRelationshipsOfCustomers(tx, workspaceId, ids);
  const recommendationLists = await eraseRecommendationLists(tx, workspaceId, ids);
  const identity = await eraseIdentityTraces(tx, workspaceId, ids);
  const momentRows = await momentRepository.eraseMomentsOfCustomers(tx, workspaceId, ids);
  const queuedDeliveriesStopped = await withdrawPendingDeliveries(
    tx,
    workspaceId,
    ids,
    'withdrawn: the customer was erased',
  );
  let privacyRequestsCleared = 0;
  for (const person of ids) privacyRequestsCleared += await repo.clearRequestDetails(tx, workspaceId, person);
  const report: ErasureReport = {
    customerIds: ids,
    recipientsTold,
    suppressed,
    ...records,
    interactionsDeleted: interactions.deleted,
    interactionsKeptForBooks: interactions.stripped,
    facts,
    segmentMemberships,
    relationshipRows,
    recommendationLists,
    momentRows,
    mergeImages: identity.merges,
    reviewExplanations: identity.reviews,
    queuedDeliveriesStopped,
    privacyRequestsCleared,
  };
  scope.audit({
    action: 'privacy.erase',
    purpose: scope.purpose,
    customerIds: ids,
    fields: ['*'],
    details: { requestId: options.requestId, retainForBooks: options.retainForBooks === true },
  });
  return report;
}
