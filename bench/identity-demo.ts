import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  normaliseBirthDate,
  normaliseEmail,
  normaliseName,
  normalisePhone,
  normalisePostalAddress,
} from '../src/customers/index.ts';
import { migrateToLatest, openDatabase } from '../src/db/index.ts';
import { evaluateDemoIdentity, runDemo, toCustomerInput } from '../src/demo/index.ts';
import {
  type ClusteringScores,
  type CustomerForMatching,
  computeClusteringScores,
  REFERENCE_PREFIXES,
  resolveIdentities,
  type SourceRecordForMatching,
  toPersonRecords,
  toRecordLinks,
} from '../src/identity/index.ts';
import { newId } from '../src/shared/ids.ts';
import { generateWorld, SOURCE_SYSTEMS } from '../src/synthetic/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * Identity in the product path, scored against the generated world's ground truth:
 * - the demo (`cornerstore demo`: ingest-time linking, then workspace resolution) on the embedded
 *   engine, run twice on the same workspace, precision, recall, F1 and clusters mixing people after
 *   each run;
 * - a world of about 100,000 source records as a workspace presents them to the engine (one record per
 *   customer and source system, normalised by the customers domain), resolved with the workspace's
 *   evidence rules: the same scores at the size the product promises.
 */

const DEMO_PEOPLE = { smoke: 300, small: 2_000, large: 2_000 } as const;
/** The demo world has about 2.04 source records per person. */
const WORLD_PEOPLE = { smoke: 5_000, small: 49_000, large: 49_000 } as const;
const SEED = 'cornerstore-demo';

function scoreFigures(label: string, scores: ClusteringScores, detail: string): Figure[] {
  const counts =
    `${scores.records.toLocaleString('en-US')} records of ${scores.people.toLocaleString('en-US')} people in ` +
    `${scores.clusters.toLocaleString('en-US')} customers; ${scores.mixedClusters} mix people (at most ` +
    `${scores.mostPeopleInOneCluster} in one); ${detail}`;
  return [
    {
      workload: `${label}: pairwise precision`,
      value: round(scores.precision),
      unit: 'precision',
      detail: counts,
      target: '≥ 0.99',
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: `${label}: pairwise recall`,
      value: round(scores.recall),
      unit: 'recall',
      detail: counts,
      target: '≥ 0.95',
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: `${label}: pairwise F1`,
      value: round(scores.f1),
      unit: 'F1',
      detail: counts,
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: `${label}: customers mixing people`,
      value: scores.mixedClusters,
      unit: 'clusters',
      detail: counts,
      peakRssMiB: peakRssMiB(),
    },
  ];
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The demo twice on one embedded workspace, scored after each run. */
async function benchDemoRuns(people: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'cornerstore-bench-demo-'));
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    await migrateToLatest(database.db);
    for (const run of [1, 2]) {
      let identitySeconds = 0;
      const { value: summary, seconds } = await timed(() =>
        runDemo(database, {
          customers: people,
          seed: SEED,
          dataDir,
          baseUrl: 'http://127.0.0.1:3000',
          onProgress: (p) => {
            if (p.phase === 'identity') identitySeconds = p.seconds;
          },
        }),
      );
      const scores = await evaluateDemoIdentity(database.db, summary.workspace.id, {
        seed: SEED,
        customers: people,
      });
      const detail =
        `this run merged ${summary.identity.merged} and queued ${summary.identity.queued} for review ` +
        `(identity phase ${identitySeconds} s of ${seconds.toFixed(1)} s); ` +
        `${scores.interactions.onAnotherPerson} of ${scores.interactions.placed.toLocaleString('en-US')} ` +
        'interactions on a customer holding no record of their person';
      figures.push(
        ...scoreFigures(
          `demo identity (${people.toLocaleString('en-US')} people), run ${run}`,
          scores,
          detail,
        ),
      );
      process.stdout.write(`  demo run ${run}: ${seconds.toFixed(1)} s\n`);
    }
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}

/** A generated world's source records as a workspace presents them to the engine, resolved and scored. */
async function benchWorldRecords(people: number): Promise<Figure[]> {
  const world = generateWorld({ seed: SEED, customers: people });
  const customers: CustomerForMatching[] = [];
  const sourced: SourceRecordForMatching[] = [];
  const truth: string[] = [];
  const records: { source: string; externalId: string }[] = [];
  for (const person of world.customers()) {
    for (const record of person.records) {
      records.push(record);
      const input = toCustomerInput(record, person.market);
      const id = newId();
      const email = typeof input.emails?.[0] === 'string' ? normaliseEmail(input.emails[0]) : undefined;
      const phone =
        typeof input.phones?.[0] === 'string' ? normalisePhone(input.phones[0], person.market) : undefined;
      const address =
        input.addresses?.[0] === undefined ? undefined : normalisePostalAddress(input.addresses[0]);
      const birth = input.birthDate ? normaliseBirthDate(input.birthDate) : undefined;
      const given = input.givenName ? normaliseName(input.givenName) : null;
      const family = input.familyName ? normaliseName(input.familyName) : null;
      customers.push({
        id,
        givenName: given,
        familyName: family,
        birthDate: birth?.ok ? birth.value : null,
        birthDateSource: record.source,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        emails: [],
        phones: [],
        governmentIds: [],
      });
      sourced.push({
        customerId: id,
        source: record.source,
        givenName: given,
        familyName: family,
        birthDate: birth?.ok ? birth.value : null,
        emails: email?.ok ? [email.value] : [],
        phones: phone?.ok ? [phone.value] : [],
        addresses: address?.ok ? [address.value] : [],
      });
      truth.push(record.truePersonId);
    }
  }
  // What the workspace reads from interactions: one naming another (an order and its shipment) links
  // their customers. Each record is its own customer here, as the demo creates them.
  const customerOf = new Map<string, string>();
  sourced.forEach((r, i) => {
    const record = records[i];
    if (record) customerOf.set(`${record.source}\u0000${record.externalId}`, r.customerId);
  });
  const ownerOf = new Map<string, string>();
  const byExternalId = new Map<string, number>();
  const interactions = [...world.interactions()];
  for (const interaction of interactions) {
    const ref = interaction.customer;
    if (!('identity' in ref)) continue;
    const customer = customerOf.get(`${ref.identity.source}\u0000${ref.identity.externalId}`);
    if (customer === undefined) continue;
    ownerOf.set(`${interaction.source}\u0000${interaction.externalId}`, customer);
    byExternalId.set(interaction.externalId, (byExternalId.get(interaction.externalId) ?? 0) + 1);
  }
  const accountHolder = (externalId: string): string | undefined => {
    const holders = SOURCE_SYSTEMS.map((source) => customerOf.get(`${source}\u0000${externalId}`)).filter(
      (c) => c !== undefined,
    );
    return holders.length === 1 ? holders[0] : undefined;
  };
  const links = new Set<string>();
  for (const interaction of interactions) {
    const ref = interaction.customer;
    if (!('identity' in ref)) continue;
    const from = customerOf.get(`${ref.identity.source}\u0000${ref.identity.externalId}`);
    // An account it names (a membership cancelled by telephone names the billing account).
    const account = interaction.properties.accountId;
    const holder = typeof account === 'string' ? accountHolder(account) : undefined;
    if (from !== undefined && holder !== undefined && holder !== from)
      links.add([from, holder].sort().join('|'));
    for (const prefix of REFERENCE_PREFIXES) {
      const ext = interaction.properties[`${prefix}ExternalId`];
      const src = interaction.properties[`${prefix}Source`];
      if (typeof ext !== 'string' || from === undefined) continue;
      let to: string | undefined;
      if (typeof src === 'string') to = ownerOf.get(`${src}\u0000${ext}`);
      else if (byExternalId.get(ext) === 1) {
        for (const source of SOURCE_SYSTEMS) to ??= ownerOf.get(`${source}\u0000${ext}`);
      }
      if (to !== undefined && to !== from) links.add([from, to].sort().join('|'));
    }
  }
  const engine = toPersonRecords(customers, sourced);
  const { value: result, seconds } = await timed(async () =>
    resolveIdentities(engine.records, {
      groups: engine.groups,
      links: toRecordLinks(
        engine.records,
        [...links].map((l) => l.split('|') as [string, string]),
      ),
    }),
  );
  const scores = computeClusteringScores(truth, Array.from(result.clusterOf));
  const stats = result.stats;
  const detail =
    `resolved in ${seconds.toFixed(1)} s; ${stats.candidatePairs.toLocaleString('en-US')} candidate pairs, ` +
    `${stats.heldByEvidence.toLocaleString('en-US')} held for review by the evidence rules, ` +
    `${stats.refusedByGuard.toLocaleString('en-US')} refused by the clustering guard`;
  return scoreFigures(
    `identity, product records of a generated world (${truth.length.toLocaleString('en-US')} records)`,
    scores,
    detail,
  );
}

/** Runs the product-path identity workload at a scale and returns its figures. */
export async function benchDemoIdentity(scale: 'smoke' | 'small' | 'large'): Promise<Figure[]> {
  process.stdout.write(
    `identity in the product path: the demo twice, and ${WORLD_PEOPLE[scale].toLocaleString('en-US')} people's records\n`,
  );
  return [...(await benchDemoRuns(DEMO_PEOPLE[scale])), ...(await benchWorldRecords(WORLD_PEOPLE[scale]))];
}
