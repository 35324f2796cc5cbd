import {
  type ConsentStateEntry,
  DEFAULT_SUBJECT,
  getCurrentConsents,
  loadPrivacySubjects,
} from '../consent/index.ts';
import { getCustomer } from '../customers/index.ts';
import { getTimeline, type Interaction } from '../interactions/index.ts';
import { listSegmentsOfCustomer } from '../segments/index.ts';
import { findValueProfile } from '../value/index.ts';
import { addFactsAndRelationship, filterCustomer, filterValue, type GovernedCustomer } from './customers.ts';
import { CustomerGate, type Withheld } from './gate.ts';
import { filterInteraction } from './interactions.ts';
import { PRIVACY_PURPOSES } from './privacy.ts';
import type { AccessScope } from './scope.ts';

/** How many of the newest interactions the 360 carries; older ones are paged through the timeline. */
export const CUSTOMER_360_INTERACTIONS = 50;

/** The customer's own choices as the 360 shows them (service and legal only). */
export interface Customer360Privacy {
  intimacyLevel: number;
  restricted: boolean;
  objections: string[];
  consents: (ConsentStateEntry & { expired: boolean })[];
}

/** Everything of the agent's screen in one governed read. */
export interface Customer360 {
  /**
   * The customer as `readCustomer` gives it (profile, contact points, identities, value, allowed facts with
   * provenance, relationship), filtered.
   */
  customer: GovernedCustomer;
  /** Consents, intimacy level, restriction and objections; null outside service and legal. */
  privacy: Customer360Privacy | null;
  /** The newest interactions the purpose may read, newest first. */
  interactions: Interaction[];
  /** Where the timeline continues (`GET /v1/customers/{id}/timeline?cursor=`); null when nothing is older. */
  interactionsCursor: string | null;
  /** The segments saved for the same purpose whose membership holds the customer. */
  segments: { id: string; name: string; since: string }[];
  /** Every field or section left out, with the reason: the customer's, the interactions' and sections'. */
  withheld: Withheld[];
}

/**
 * The customer 360 under one access scope: one privacy subject and one gate decide every part, each
 * part is read by one statement (customer, subject, value profile, newest interactions, consents,
 * segment memberships), and one audit event names every field shown. A customer the purpose may not
 * process comes back with every personal field withheld and empty sections, as a single read does.
 */
export async function readCustomer360(scope: AccessScope, customerId: string): Promise<Customer360> {
  const workspaceId = scope.actor.workspaceId;
  const found = await getCustomer(scope.tx, scope.actor, customerId);
  const id = found.id;
  const subject = (await loadPrivacySubjects(scope.tx, workspaceId, [id])).get(id) ?? DEFAULT_SUBJECT;
  const gate = new CustomerGate(scope, subject);
  const customer = filterCustomer(found, gate);
  const empty: Customer360 = {
    customer,
    privacy: null,
    interactions: [],
    interactionsCursor: null,
    segments: [],
    withheld: gate.withheld,
  };
  if (!gate.open) {
    audit360(scope, id, gate);
    return empty;
  }

  const profile = await findValueProfile(scope.tx, workspaceId, id);
  if (profile) customer.value = filterValue(profile, gate);
  await addFactsAndRelationship(scope, gate, subject, customer);

  const page = await getTimeline(scope.tx, id, { limit: CUSTOMER_360_INTERACTIONS });
  const interactions: Interaction[] = [];
  for (const interaction of page.interactions) {
    const shown = filterInteraction(interaction, gate);
    if (shown) interactions.push(shown);
  }

  const sections: Withheld[] = [];
  let privacy: Customer360Privacy | null = null;
  if ((PRIVACY_PURPOSES as readonly string[]).includes(scope.purpose)) {
    privacy = {
      intimacyLevel: subject.intimacyLevel,
      restricted: subject.restricted,
      objections: [...subject.objections].sort(),
      consents: await getCurrentConsents(scope.tx, workspaceId, id, scope.now),
    };
    gate.used.add('privacy');
    gate.used.add('consents');
  } else {
    sections.push({ field: 'privacy', reason: 'PURPOSE_NOT_ALLOWED_HERE' });
  }

  const segments = await listSegmentsOfCustomer(scope.tx, workspaceId, id, scope.purpose);
  if (segments.length > 0) gate.used.add('segments');

  audit360(scope, id, gate);
  return {
    ...empty,
    privacy,
    interactions,
    interactionsCursor: page.nextCursor,
    segments,
    withheld: [...gate.withheld, ...sections],
  };
}

function audit360(scope: AccessScope, id: string, gate: CustomerGate): void {
  const fields = [...gate.used];
  scope.audit({ action: 'customer.360', purpose: scope.purpose, customerIds: [id], fields });
  scope.disclose([id], fields);
}
