import {
  type ConsentEvent,
  type ConsentProblem,
  checkConsent,
  type PurposeRules,
  recordConsentEvents,
} from '../consent/index.ts';
import {
  type IngestResult,
  type InteractionInput,
  type ItemError,
  parseTimestamp,
} from '../interactions/index.ts';
import type { AccessScope } from './scope.ts';

/**
 * Consent reported by source systems: a `consent_changed` interaction is a consent, recorded in the
 * ledger in the transaction of its ingest. Before anything is stored, each is held to the ledger's
 * rules (a purpose of the workspace, not in the future, an expiry after its start, an explicit opt-in
 * where the purpose needs one) and refused with the path of its field; once stored, the created ones
 * are appended to the ledger together and the projection follows the latest effective choice.
 *
 * How the interaction maps: `properties.purpose` and `status`; `occurredAt` is when the choice took
 * effect; `properties.channel` the one channel it covers (absent: every channel), while the
 * interaction's own channel (where it was captured: web, store, phone) goes into the evidence with the
 * interaction's id and `properties.evidence` as given; `properties.explicit`, `noticeVersion` and
 * `expiresAt` as they are; the interaction's `source` is the record's source.
 */

const CONSENT_TYPE = 'consent_changed';

interface ConsentProperties {
  purpose: string;
  status: ConsentEvent['status'];
  channel?: string;
  explicit?: boolean;
  noticeVersion?: string;
  evidence?: unknown;
  expiresAt?: string;
}

/** Where each field of the ledger's rules lives in the interaction. */
const FIELD_PATHS: Record<ConsentProblem['field'], string> = {
  purpose: 'properties.purpose',
  effectiveFrom: 'occurredAt',
  expiresAt: 'properties.expiresAt',
  explicit: 'properties.explicit',
};

/** A validated timestamp (any zone form the interaction schema accepts) as a Date. */
function timeOf(text: string): Date {
  return new Date(parseTimestamp(text) ?? Number.NaN);
}

function propertiesOf(input: InteractionInput): ConsentProperties {
  // The interaction schema has checked their types (interactions/interaction.schema.ts).
  return input.properties as unknown as ConsentProperties;
}

/** True for an interaction that is a consent. */
export function isConsentEvent(input: InteractionInput): boolean {
  return input.type === CONSENT_TYPE;
}

/** The ledger's verdict on a consent interaction before it is stored: an item error with paths, or undefined. */
export function checkConsentEvent(
  input: InteractionInput,
  path: string,
  context: { rules: PurposeRules; now: Date },
): ItemError | undefined {
  const properties = propertiesOf(input);
  const problem = checkConsent(
    {
      purpose: properties.purpose,
      status: properties.status,
      explicit: properties.explicit ?? false,
      effectiveFrom: timeOf(input.occurredAt),
      expiresAt: properties.expiresAt === undefined ? null : timeOf(properties.expiresAt),
    },
    context.rules,
    context.now,
  );
  if (!problem) return undefined;
  const field = path === '' ? FIELD_PATHS[problem.field] : `${path}.${FIELD_PATHS[problem.field]}`;
  return {
    code: problem.code,
    message: `${field} ${problem.problem}: ${problem.message}`,
    details: { errors: [{ path: field, message: problem.problem }] },
  };
}

/** The ledger entry of a stored consent interaction. */
function consentEventOf(input: InteractionInput, result: IngestResult): ConsentEvent {
  const properties = propertiesOf(input);
  return {
    customerId: result.customerId as string,
    purpose: properties.purpose,
    status: properties.status,
    channel: properties.channel ?? null,
    explicit: properties.explicit ?? false,
    noticeVersion: properties.noticeVersion ?? null,
    evidence: { interactionId: result.id, capturedVia: input.channel, detail: properties.evidence ?? null },
    source: input.source,
    effectiveFrom: timeOf(input.occurredAt).toISOString(),
    expiresAt: properties.expiresAt === undefined ? null : timeOf(properties.expiresAt).toISOString(),
  };
}

/**
 * Appends the consents of the consent interactions an ingest created (a duplicate was recorded when it
 * was first stored), audited per customer. `inputs` are the checked inputs by item index.
 */
export async function recordIngestedConsents(
  scope: AccessScope,
  inputs: ReadonlyMap<number, InteractionInput>,
  results: readonly IngestResult[],
  rules: PurposeRules,
): Promise<number> {
  const events: ConsentEvent[] = [];
  for (const [index, input] of inputs) {
    const result = results[index];
    if (result?.status === 'created' && result.customerId) events.push(consentEventOf(input, result));
  }
  if (events.length === 0) return 0;
  await recordConsentEvents(scope.tx, scope.actor, events, rules, scope.now);
  scope.audit({
    action: 'consent.record',
    purpose: scope.purpose,
    customerIds: [...new Set(events.map((e) => e.customerId))],
    fields: [...new Set(events.map((e) => `consents.${e.purpose}`))],
    details: { from: 'interactions', records: events.length },
  });
  return events.length;
}
