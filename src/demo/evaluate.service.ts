import type { Kysely } from 'kysely';
import { type DB, inWorkspace } from '../db/index.ts';
import { type ClusteringScores, computeClusteringScores } from '../identity/index.ts';
import { generateWorld } from '../synthetic/index.ts';
import * as repo from './demo.repository.ts';

/**
 * How well a workspace filled by the demo knows its people, against the world's ground truth (the
 * generator knows which source records are the same person): every source record is placed in the
 * customer that now holds its identity, and the placement is scored pairwise; every interaction is
 * checked to sit on a customer holding a record of its own person.
 */

/** The demo workspace scored against its world's truth. */
export interface DemoIdentityScores extends ClusteringScores {
  /** Source records whose identity no customer holds (none is expected). */
  unplacedRecords: number;
  interactions: {
    /** Interactions of the world found in the workspace. */
    placed: number;
    /**
     * Interactions on a customer holding no record of their person: someone else's history on a
     * customer's record (for instance an event sent by a contact point another person shares).
     */
    onAnotherPerson: number;
  };
}

const KEY = (source: string, externalId: string) => `${source}\u0000${externalId}`;

/** Scores the workspace `workspaceId` against the world of `seed` and `customers` people. */
export async function evaluateDemoIdentity(
  db: Kysely<DB>,
  workspaceId: string,
  world: { seed: string; customers: number },
): Promise<DemoIdentityScores> {
  const generated = generateWorld({ seed: world.seed, customers: world.customers });
  const { identities, interactions } = await inWorkspace(db, workspaceId, async (tx) => ({
    identities: await repo.listIdentityOwners(tx),
    interactions: await repo.listInteractionOwners(tx),
  }));
  const ownerOf = new Map(identities.map((i) => [KEY(i.source, i.externalId), i.customerId]));
  const truth: string[] = [];
  const predicted: string[] = [];
  const peopleOfCustomer = new Map<string, Set<string>>();
  let unplacedRecords = 0;
  for (const record of generated.sourceRecords()) {
    const customer = ownerOf.get(KEY(record.source, record.externalId));
    truth.push(record.truePersonId);
    if (customer === undefined) {
      unplacedRecords++;
      // Its own cluster: a record that never arrived merges with nobody.
      predicted.push(`unplaced:${record.source}:${record.externalId}`);
      continue;
    }
    predicted.push(customer);
    const people = peopleOfCustomer.get(customer) ?? new Set<string>();
    people.add(record.truePersonId);
    peopleOfCustomer.set(customer, people);
  }

  const customerOfInteraction = new Map(interactions.map((i) => [KEY(i.source, i.externalId), i.customerId]));
  let placed = 0;
  let onAnotherPerson = 0;
  for (const { truePersonId, interaction } of generated.labelledInteractions()) {
    const customer = customerOfInteraction.get(KEY(interaction.source, interaction.externalId));
    if (customer === undefined) continue;
    placed++;
    if (!peopleOfCustomer.get(customer)?.has(truePersonId)) onAnotherPerson++;
  }
  return {
    ...computeClusteringScores(truth, predicted),
    unplacedRecords,
    interactions: { placed, onAnotherPerson },
  };
}
