import type { AccessScope } from '../governance/index.ts';
import { readRelationshipGoverned } from '../governance/index.ts';
import { computePersonaRecovery, type PersonaRecovery, type Relationship } from '../relationships/index.ts';
import type { RelationshipPersona, SyntheticWorld } from '../synthetic/index.ts';
import * as repo from './demo.repository.ts';

/**
 * The relationship personas the world planted, found again in the workspace: each planted person is
 * the customer that holds most of their source records now (after identity resolution), and the
 * archetype that customer was given is compared with the persona (`PersonaRecovery`).
 */

/** A planted person as the workspace knows them. */
export interface RecognisedPersona {
  persona: RelationshipPersona;
  customerId: string;
  relationship: Relationship;
}

const KEY = (source: string, externalId: string) => `${source}\u0000${externalId}`;

/** The planted personas of `world` in the scope's workspace, with the recovery scores; reads audited. */
export async function recognisePersonas(
  scope: AccessScope,
  world: SyntheticWorld,
): Promise<{ recovery: PersonaRecovery; found: RecognisedPersona[] }> {
  const owners = await repo.listIdentityOwners(scope.tx);
  const ownerOf = new Map(owners.map((o) => [KEY(o.source, o.externalId), o.customerId]));
  const pairs: { persona: string; archetype: string }[] = [];
  const found: RecognisedPersona[] = [];
  for (const person of world.customers()) {
    if (person.persona === undefined) continue;
    const held = new Map<string, number>();
    for (const record of person.records) {
      const customerId = ownerOf.get(KEY(record.source, record.externalId));
      if (customerId !== undefined) held.set(customerId, (held.get(customerId) ?? 0) + 1);
    }
    const [customerId] = [...held].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0] ?? [];
    if (customerId === undefined) continue;
    const read = await readRelationshipGoverned(scope, customerId).catch(() => undefined);
    const relationship = read?.relationship ?? null;
    pairs.push({ persona: person.persona, archetype: relationship?.archetype ?? '(none)' });
    if (relationship !== null) found.push({ persona: person.persona, customerId, relationship });
  }
  return { recovery: computePersonaRecovery(pairs), found };
}
