import type { PrivacySubject } from '../consent/index.ts';
import { factKeyOf, isStale, type MemoryContext, memoryHold, type StoredFact } from '../facts/index.ts';
import type { Taxonomy } from '../policy/index.ts';
import type { Workspace } from '../workspaces/index.ts';
import type { CustomerGate } from './gate.ts';
import type { AccessScope } from './scope.ts';

/** The memory rules and the access decision applied to facts: what a read of facts may show. */

/** A fact as a purpose may see it. */
export interface GovernedFact {
  id: string;
  versionId: string;
  key: string;
  category: string;
  value: unknown;
  sourceKind: string;
  status: string;
  stale: boolean;
  remember: boolean;
  provenance: StoredFact['provenance'];
  consentPurposes: string[];
  minIntimacy: number;
  validFrom: string | null;
  expiresAt: string | null;
  supersedes: string | null;
}

export function workspaceCategories(workspace: Workspace): string[] {
  return workspace.policy.categories.flatMap((c) =>
    typeof c === 'object' && c !== null && typeof (c as { name?: unknown }).name === 'string'
      ? [(c as { name: string }).name]
      : [],
  );
}

export function memoryOf(workspace: Workspace, taxonomy: Taxonomy, now: Date): MemoryContext {
  return { taxonomy, workspaceCategories: workspaceCategories(workspace), now };
}

/** The memory context of a scope. */
export function memoryContext(scope: AccessScope): MemoryContext {
  return memoryOf(scope.workspace, scope.taxonomy, scope.now);
}

export function view(fact: StoredFact, now: Date): GovernedFact {
  return {
    id: fact.factId,
    versionId: fact.id,
    key: fact.key,
    category: fact.category,
    value: fact.value,
    sourceKind: fact.sourceKind,
    status: fact.status,
    stale: isStale(fact, now),
    remember: fact.remember,
    provenance: fact.provenance,
    consentPurposes: fact.consentPurposes,
    minIntimacy: fact.minIntimacy,
    validFrom: fact.validFrom,
    expiresAt: fact.expiresAt,
    supersedes: fact.supersedes,
  };
}

/** The field name a fact is decided, audited and withheld under. */
export function factField(key: string): string {
  return `facts.${key}`;
}

/**
 * The facts a purpose may see of one customer: forgotten and rejected facts never; a fact above the
 * customer's current intimacy level (lowered since) is hidden at once; a stale one is not used for
 * outreach; a key serves only its purposes; then the access decision on the fact's category, source
 * kind and consent purposes. What is held back is listed in the gate's `withheld`.
 */
export function filterFacts(
  scope: AccessScope,
  gate: CustomerGate,
  subject: PrivacySubject,
  facts: readonly StoredFact[],
): GovernedFact[] {
  const purpose = scope.taxonomy.purposes.get(scope.purpose);
  const ctx = memoryContext(scope);
  const out: GovernedFact[] = [];
  for (const fact of facts) {
    const def = factKeyOf(fact.key, ctx.taxonomy, ctx.workspaceCategories);
    const hold = memoryHold(
      fact,
      def,
      subject.intimacyLevel,
      { name: scope.purpose, outreach: purpose?.outreach ?? true },
      scope.now,
    );
    const field = factField(fact.key);
    if (hold === 'FACT_STATUS') continue;
    if (hold !== null) {
      if (!gate.withheld.some((w) => w.field === field)) gate.withheld.push({ field, reason: hold });
      continue;
    }
    const ref = { category: fact.category, source: fact.sourceKind, consentPurposes: fact.consentPurposes };
    if (gate.allows(field, ref)) out.push(view(fact, scope.now));
  }
  return out;
}
