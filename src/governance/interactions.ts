import { DEFAULT_SUBJECT, loadPrivacySubjects, setIntimacyLevel } from '../consent/index.ts';
import {
  categoryOfType,
  getInteraction,
  getTimeline,
  type IngestResult,
  type Interaction,
  type InteractionInput,
  ingestInteractions,
  type TimelineOptions,
} from '../interactions/index.ts';
import { categoryOfPropertyKey, type FieldRef, INTERACTION_FIELD_CATEGORIES } from '../policy/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { checkConsentEvent, isConsentEvent, recordIngestedConsents } from './consent-events.ts';
import { type CapturedFact, captureFactsFromIngest } from './facts.ts';
import { CustomerGate, type Withheld } from './gate.ts';
import { type AccessScope, purposeRules } from './scope.ts';

/** Interactions read under an access scope: each decided by its type and fields, every read audited. */

const SCALAR_FIELDS = ['text', 'amount', 'currency', 'lineItems', 'sentiment'] as const;

/**
 * The category of an interaction property: its key's category when the key is a known one (a health
 * note is special whatever the type), otherwise the interaction type's. Special-category properties
 * carry the purposes the customer declared them for.
 */
function propertyRef(key: string, typeCategory: string, declaredFor: readonly string[] | null): FieldRef {
  const category = categoryOfPropertyKey(key) ?? typeCategory;
  return category.startsWith('special')
    ? { category, source: 'declared', consentPurposes: declaredFor ?? [] }
    : { category };
}

/** The interaction as the gate allows it, or null when its type may not be read at all. */
export function filterInteraction(interaction: Interaction, gate: CustomerGate): Interaction | null {
  const typeCategory = categoryOfType(interaction.type);
  if (!gate.allows(`type:${interaction.type}`, typeCategory)) return null;
  const out: Interaction = { ...interaction, properties: {} };
  for (const field of SCALAR_FIELDS) {
    if (interaction[field] === null) continue;
    const category = INTERACTION_FIELD_CATEGORIES[field] ?? null;
    if (!gate.allows(field, category)) (out as unknown as Record<string, unknown>)[field] = null;
  }
  const declaredFor = interaction.declaredFor ?? null;
  for (const [key, value] of Object.entries(interaction.properties)) {
    if (gate.allows(`properties.${key}`, propertyRef(key, typeCategory, declaredFor)))
      out.properties[key] = value;
  }
  return out;
}

/** One interaction as the purpose may see it, with what was withheld. */
export async function readInteraction(
  scope: AccessScope,
  id: string,
): Promise<{ interaction: Interaction | null; withheld: Withheld[] }> {
  const interaction = await getInteraction(scope.tx, id);
  const subjects = await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [interaction.customerId]);
  const gate = new CustomerGate(scope, subjects.get(interaction.customerId) ?? DEFAULT_SUBJECT);
  const shown = filterInteraction(interaction, gate);
  if (shown) {
    scope.audit({
      action: 'interaction.read',
      purpose: scope.purpose,
      customerIds: [interaction.customerId],
      fields: [...gate.used],
    });
    scope.disclose([interaction.customerId], [...gate.used]);
  }
  return { interaction: shown, withheld: gate.withheld };
}

/**
 * A page of a customer's timeline as the purpose may see it: interactions of a type the purpose may
 * not read are left out (and named in `withheld`), other withheld fields are null.
 */
export async function readTimeline(
  scope: AccessScope,
  customerId: string,
  options: TimelineOptions,
): Promise<{ interactions: Interaction[]; nextCursor: string | null; withheld: Withheld[] }> {
  const page = await getTimeline(scope.tx, customerId, options);
  const id = customerId.toLowerCase();
  const subjects = await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [id]);
  const gate = new CustomerGate(scope, subjects.get(id) ?? DEFAULT_SUBJECT);
  if (!gate.open) {
    return {
      interactions: [],
      nextCursor: null,
      withheld: [{ field: '*', reason: gate.subjectDecision.allowed ? '' : gate.subjectDecision.reason }],
    };
  }
  const interactions: Interaction[] = [];
  for (const interaction of page.interactions) {
    const shown = filterInteraction(interaction, gate);
    if (shown) interactions.push(shown);
  }
  if (interactions.length > 0) {
    scope.audit({
      action: 'timeline.read',
      purpose: scope.purpose,
      customerIds: [id],
      fields: [...gate.used],
    });
    scope.disclose([id], [...gate.used]);
  }
  return { interactions, nextCursor: page.nextCursor, withheld: gate.withheld };
}

/**
 * Applies the `intimacy_chosen` interactions just stored: each sets its customer's intimacy level (with
 * the interaction as evidence), in the ingest's transaction and in the batch's order. Audited.
 */
async function applyIngestedIntimacyChoices(
  scope: AccessScope,
  items: readonly unknown[],
  results: readonly IngestResult[],
): Promise<void> {
  const changed = new Set<string>();
  for (const r of results) {
    if (r.status !== 'created' || !r.customerId || !r.id) continue;
    const item = items[r.index] as { type?: unknown; source?: unknown; properties?: { level?: unknown } };
    if (item?.type !== 'intimacy_chosen' || typeof item.properties?.level !== 'number') continue;
    await setIntimacyLevel(scope.tx, scope.actor, r.customerId, {
      level: item.properties.level,
      source: typeof item.source === 'string' ? item.source : 'ingest',
      evidence: { interactionId: r.id },
    });
    changed.add(r.customerId);
  }
  if (changed.size > 0) {
    scope.audit({
      action: 'customer.intimacy',
      purpose: scope.purpose,
      customerIds: [...changed],
      fields: ['intimacyLevel'],
    });
  }
}

/**
 * Ingests interactions under the scope: the workspace's storage policy is applied to every item before
 * anything is stored, and what was stored is audited (one event for the call, naming every customer).
 * A `consent_changed` interaction is also a consent: checked by the ledger's rules first, recorded in
 * the ledger in the same transaction (consent-events.ts).
 */
export async function ingestGoverned(
  scope: AccessScope,
  items: readonly unknown[],
  options: { atomic: boolean; pathPrefix?: string },
): Promise<(IngestResult & { fact?: CapturedFact })[]> {
  assertPermitted(scope.actor, 'interactions.record');
  // Consent interactions are held to the consent ledger's rules before anything is stored.
  const rules = purposeRules(scope.taxonomy);
  const consents = new Map<number, InteractionInput>();
  const results = await ingestInteractions(scope.tx, scope.actor, items, {
    ...options,
    policy: { taxonomy: scope.taxonomy, mode: scope.workspace.settings.doNotStore },
    settings: scope.workspace.settings,
    check: (input, index, path) => {
      if (!isConsentEvent(input)) return undefined;
      const refused = checkConsentEvent(input, path, { rules, now: scope.now });
      if (!refused) consents.set(index, input);
      return refused;
    },
  });
  const customers = new Set<string>();
  for (const r of results) if (r.status === 'created' && r.customerId) customers.add(r.customerId);
  if (customers.size > 0) {
    scope.audit({
      action: 'interaction.create',
      purpose: scope.purpose,
      customerIds: [...customers],
      fields: ['interactions'],
      details: { created: results.filter((r) => r.status === 'created').length },
    });
  }
  await recordIngestedConsents(scope, consents, results, rules);
  // A customer's intimacy choice said where it was said sets their level before the batch's facts are kept.
  await applyIngestedIntimacyChoices(scope, items, results);
  // Stated preferences, declared life events and staff notes become facts in the same transaction.
  const facts = await captureFactsFromIngest(scope, items, results);
  const withFacts: (IngestResult & { fact?: CapturedFact })[] =
    facts.size === 0
      ? results
      : results.map((r) => {
          const fact = facts.get(r.index);
          return fact ? { ...r, fact } : r;
        });
  // A pseudonymised purpose reads no direct identifier, so its answer must not link the email, phone or
  // external id an item named its customer by to that customer's id.
  if (scope.taxonomy.purposes.get(scope.purpose)?.pseudonymised) {
    return withFacts.map(({ customerId: _customerId, ...result }) => result);
  }
  return withFacts;
}
