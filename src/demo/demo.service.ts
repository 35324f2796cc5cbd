import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Customer } from '../customers/index.ts';
import { resolveCustomerRefs } from '../customers/index.ts';
import { type Database, type DB, inWorkspace, refreshStatistics } from '../db/index.ts';
import {
  type AccessScope,
  createGovernedCustomers,
  deriveAllFacts,
  ingestGoverned,
  listTasksGoverned,
  prefillGoverned,
  readCustomer,
  readRecommendations,
  readTimeline,
  replayMoments,
  runRelationshipRecompute,
  runValueRefit,
  type ScopeOptions,
  setIntimacyGoverned,
  trainRecommendations,
  withAccess,
} from '../governance/index.ts';
import { resolveWorkspace } from '../identity/index.ts';
import type { Interaction } from '../interactions/index.ts';
import { AppError } from '../shared/errors.ts';
import type { SourceRecord, SyntheticCustomer, SyntheticWorld } from '../synthetic/index.ts';
import { generateWorld, RELATIONSHIP_PERSONAS } from '../synthetic/index.ts';
import type { Actor, Workspace } from '../workspaces/index.ts';
import {
  createApiKey,
  createWorkspace,
  KeyVerifier,
  listWorkspaces,
  operatorActor,
  updateSettings,
} from '../workspaces/index.ts';
import * as repo from './demo.repository.ts';
import {
  assertDemoOptions,
  computeToday,
  DEFAULT_DEMO_CUSTOMERS,
  DEFAULT_DEMO_SEED,
  DEMO_KEY_FILE,
  DEMO_WORKSPACE,
  type DemoPhase,
  type DemoProgress,
  type DemoStep,
  type DemoSummary,
  displayName,
  type Highlight,
  parseDemoAsOf,
  toCustomerInput,
} from './demo.ts';
import { type RecognisedPersona, recognisePersonas } from './relationships.service.ts';

/**
 * The demo use-case: a workspace filled with a synthetic world through the real write paths (the
 * customers domain for each source system's record, then `ingestInteractions` in batches), safe to run
 * again, and a few customers worth looking at. The caller opens the database; every transaction here
 * is opened at top level, one after another, never one inside another.
 */

/** What a demo run needs. */
export interface RunDemoOptions {
  /** People in the world (default 2,000). */
  customers?: number | undefined;
  /** The world's seed (default "cornerstore-demo"): same seed, same world. */
  seed?: string | undefined;
  /** Where the admin key file `demo-key` is kept. */
  dataDir: string;
  /** Where the server will serve the API, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** The workspace to fill (default "demo"). */
  workspaceName?: string | undefined;
  /** Source records created per transaction (default 500). */
  customerBatchSize?: number | undefined;
  /** Interactions ingested per transaction (default 5,000; at most 10,000). */
  interactionBatchSize?: number | undefined;
  /**
   * The day the world ends on (`YYYY-MM-DD`, UTC, exclusive: its last events are the day before; not after
   * today). Default: today, so the world's recent past is the real one. When given, the workspace's value
   * clock is set to it (value scored as of the world's end); otherwise the clock is now.
   */
  asOf?: string | undefined;
  /** The clock, for today's date (default: the system's). */
  now?: Date | undefined;
  /** Called as each phase finishes. */
  onProgress?: ((progress: DemoProgress) => void) | undefined;
  /** Called as a phase advances (people loaded; a single step's start and end). */
  onStep?: ((step: DemoStep) => void) | undefined;
}

const CUSTOMER_BATCH = 500;
const INTERACTION_BATCH = 5000;
/** A batch that lost an identity to a concurrent writer is rolled back and tried again this often. */
const IDENTITY_RETRIES = 3;
/** People known to several systems kept as candidates for the same-person highlight. */
const SAME_PERSON_CANDIDATES = 200;
/** Progress is reported every this many people. */
const STEP_PEOPLE = 100;
/** A valued customer slipping away: spend in the top fifth, and the model gives them less than even odds. */
const SLIPPING = { maxPAlive: 0.5, topShare: 0.2 };

/**
 * Creates the demo workspace (when absent) and its key file, loads the world's customers and
 * interactions, and picks highlights. Running it again with the same seed stores nothing new.
 */
export async function runDemo(database: Database, options: RunDemoOptions): Promise<DemoSummary> {
  const { db } = database;
  const started = performance.now();
  const customers = options.customers ?? DEFAULT_DEMO_CUSTOMERS;
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  assertDemoOptions(customers, seed);
  const now = options.now ?? new Date();
  const asOf = options.asOf === undefined ? undefined : parseDemoAsOf(options.asOf, now);
  const end = asOf ?? computeToday(now);
  const report = options.onProgress ?? (() => {});
  const step = options.onStep ?? (() => {});
  const world = generateWorld({ seed, customers, end });

  const ensured = await ensureWorkspace(db, options.workspaceName ?? DEMO_WORKSPACE);
  const { created, firstKey } = ensured;
  const workspace = await setValueClock(db, ensured.workspace, asOf ?? null);
  const key = await ensureDemoKey(db, workspace, firstKey, options.dataDir);
  report({
    phase: 'workspace',
    id: workspace.id,
    name: workspace.name,
    created,
    keyFile: key.keyFile,
    keyCreated: key.created,
  });

  const actor = operatorActor(workspace.id);
  const people = await loadCustomers(database, actor, workspace, world, {
    batchSize: options.customerBatchSize ?? CUSTOMER_BATCH,
    report,
    step,
  });
  const interactions = await loadInteractions(db, actor, world, {
    batchSize: options.interactionBatchSize ?? INTERACTION_BATCH,
    report,
    step,
  });
  // Resolution and the refit read what was just loaded: the embedded engine plans them against real sizes.
  await refreshStatistics(database);

  // The same person in several systems becomes one customer, and every customer gets a value profile.
  const resolveStarted = performance.now();
  step(single('identity', 0));
  const resolution = await withAccess(
    db,
    actor,
    { purpose: 'service', requestId: null, mode: 'write' },
    (scope) => resolveWorkspace(scope),
  );
  step(single('identity', 1));
  report({
    phase: 'identity',
    merged: resolution.merges.length,
    queued: resolution.queued,
    seconds: secondsSince(resolveStarted),
  });
  const valueStarted = performance.now();
  step(single('value', 0));
  const { refit } = await withAccess(
    db,
    actor,
    { purpose: 'analytics', requestId: null, mode: 'write' },
    (scope) => runValueRefit(scope),
  );
  const value = {
    status: refit.status,
    customers: refit.customers,
    asOf: refit.asOf,
    reason: refit.refused?.reason ?? null,
  };
  step(single('value', 1));
  report({ phase: 'value', ...value, seconds: secondsSince(valueStarted) });

  // Stated preferences and life events became facts at ingest; behaviour's facts are derived once here.
  const factsStarted = performance.now();
  step(single('facts', 0));
  const derived = await inWorkspace(db, workspace.id, (tx) => deriveAllFacts(tx, workspace.id));
  step(single('facts', 1));
  report({
    phase: 'facts',
    created: derived.created,
    replaced: derived.replaced,
    seconds: secondsSince(factsStarted),
  });

  // Relationships as of the world's end, then the planted personas found again among the customers.
  const relationshipsStarted = performance.now();
  step(single('relationships', 0));
  const recomputed = await withAccess(
    db,
    actor,
    { purpose: 'analytics', requestId: null, mode: 'write', now: new Date(world.config.endMs) },
    (scope) => runRelationshipRecompute(scope),
  );
  const personas = await withAccess(
    db,
    actor,
    { purpose: 'service', requestId: null, mode: 'read' },
    (scope) => recognisePersonas(scope, world),
  );
  const relationships = {
    customers: recomputed.recomputed,
    archetypes: recomputed.archetypes as Record<string, number>,
    recovery: personas.recovery,
  };
  step(single('relationships', 1));
  report({
    phase: 'relationships',
    customers: relationships.customers,
    planted: personas.recovery.planted,
    macroF1: personas.recovery.macroF1,
    seconds: secondsSince(relationshipsStarted),
  });

  // Small moments of the world's last 30 days through the default playbook, decided as of its end: the
  // subscriber would have raised them as the events arrived (it adds nothing when it reaches them).
  const momentsStarted = performance.now();
  step(single('moments', 0));
  const endAt = new Date(world.config.endMs);
  const moments = await replayMoments(db, workspace.id, {
    from: new Date(world.config.endMs - 30 * 86_400_000),
    to: endAt,
    now: endAt,
  });
  step(single('moments', 1));
  report({ phase: 'moments', ...moments, seconds: secondsSince(momentsStarted) });

  // Recommendations as of the world's last day, trained in a worker thread like the server's job.
  const recommendStarted = performance.now();
  step(single('recommendations', 0));
  const training = await trainRecommendations(db, workspace.id, { asOf: new Date(`${end}T00:00:00Z`), now });
  step(single('recommendations', 1));
  report({
    phase: 'recommendations',
    customers: training.customers,
    items: training.items,
    seconds: secondsSince(recommendStarted),
  });

  const highlightsStarted = performance.now();
  step(single('highlights', 0));
  const links = customerLinks(options.baseUrl);
  const highlights = [
    ...(await findHighlights(db, actor, workspace, people.candidates, links)),
    ...(await findRecommendationHighlights(db, actor, links)),
    ...(await relationshipHighlights(db, actor, personas.found, options.baseUrl, links)),
    ...(await momentHighlights(db, actor, options.baseUrl, links)),
  ];
  step(single('highlights', 1));
  report({ phase: 'highlights', count: highlights.length, seconds: secondsSince(highlightsStarted) });

  return {
    workspace: { id: workspace.id, name: workspace.name, created },
    apiKey: key.apiKey,
    keyFile: key.keyFile,
    url: options.baseUrl,
    world: {
      seed,
      customers,
      end,
      sourceRecords: people.created + people.existing,
      interactions: interactions.created + interactions.existing + interactions.rejected,
    },
    created: { customers: people.created, interactions: interactions.created },
    existing: { customers: people.existing, interactions: interactions.existing },
    rejected: { interactions: interactions.rejected, firstError: interactions.firstError },
    policy: { dropped: interactions.dropped, masked: interactions.masked },
    identity: { merged: resolution.merges.length, queued: resolution.queued },
    value,
    relationships,
    moments,
    highlights,
    seconds: secondsSince(started),
  };
}

function single(phase: DemoPhase, done: 0 | 1): DemoStep {
  return { phase, done, total: 1 };
}

function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 10) / 100;
}

/** The demo workspace, created with its first admin key when absent (also when a concurrent run won). */
async function ensureWorkspace(
  db: Kysely<DB>,
  name: string,
): Promise<{ workspace: Workspace; created: boolean; firstKey: string | undefined }> {
  const found = (await listWorkspaces(db)).find((w) => w.name === name);
  if (found) return { workspace: found, created: false, firstKey: undefined };
  try {
    const { workspace: fresh, apiKey } = await createWorkspace(db, { name });
    // The world plants card numbers and national ids where they must not be; the demo workspace drops
    // them and says so, rather than refusing the whole interaction. Its two markets pay in USD and GBP:
    // value is counted in USD, pounds at a fixed illustrative rate the workspace states.
    const workspace = await inWorkspace(db, fresh.id, (tx) =>
      updateSettings(tx, operatorActor(fresh.id), {
        doNotStore: 'strip',
        valueCurrency: 'USD',
        exchangeRates: { GBP: 1.25 },
      }),
    );
    return { workspace, created: true, firstKey: apiKey };
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'WORKSPACE_EXISTS')) throw error;
    const winner = (await listWorkspaces(db)).find((w) => w.name === name);
    if (!winner) throw error;
    return { workspace: winner, created: false, firstKey: undefined };
  }
}

/**
 * Sets the workspace's value clock: the world's end when the run was given one, so profiles are scored as
 * of it; otherwise none (now), since the world ends today.
 */
async function setValueClock(db: Kysely<DB>, workspace: Workspace, asOf: string | null): Promise<Workspace> {
  const clock = asOf === null ? null : new Date(`${asOf}T00:00:00Z`).toISOString();
  if (workspace.settings.valueAsOf === clock) return workspace;
  return inWorkspace(db, workspace.id, (tx) =>
    updateSettings(tx, operatorActor(workspace.id), { valueAsOf: clock }),
  );
}

function writeKeyFile(path: string, apiKey: string): void {
  const dir = join(path, '..');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  writeFileSync(path, `${apiKey}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an existing file is tightened too.
  chmodSync(path, 0o600);
}

/**
 * The workspace's admin key from `<dataDir>/demo-key`: the first key when the workspace was just
 * created; otherwise the one in the file if it still opens this workspace (not revoked, not from
 * another database); otherwise a new admin key, written there.
 */
async function ensureDemoKey(
  db: Kysely<DB>,
  workspace: Workspace,
  firstKey: string | undefined,
  dataDir: string,
): Promise<{ apiKey: string; keyFile: string; created: boolean }> {
  const keyFile = join(dataDir, DEMO_KEY_FILE);
  if (firstKey !== undefined) {
    writeKeyFile(keyFile, firstKey);
    return { apiKey: firstKey, keyFile, created: true };
  }
  if (existsSync(keyFile)) {
    const stored = readFileSync(keyFile, 'utf8').trim();
    const actor = stored === '' ? undefined : await new KeyVerifier(db).authenticate(stored);
    if (actor?.workspaceId === workspace.id) return { apiKey: stored, keyFile, created: false };
  }
  const { apiKey } = await inWorkspace(db, workspace.id, (tx) =>
    createApiKey(tx, workspace.id, { role: 'admin', name: 'demo key' }),
  );
  writeKeyFile(keyFile, apiKey);
  return { apiKey, keyFile, created: true };
}

/** A person known to several systems, by the generator's ground truth. */
interface SamePerson {
  personId: string;
  sources: number;
  records: SourceRecord[];
}

interface CustomerLoad {
  created: number;
  existing: number;
  /** People with records in the most systems (then the most records), best first. */
  candidates: SamePerson[];
}

type Reporters = {
  batchSize: number;
  report: (progress: DemoProgress) => void;
  step: (step: DemoStep) => void;
};

/** Keeps the best `SAME_PERSON_CANDIDATES` people: the most systems, then the most records, then the first. */
function keepCandidate(candidates: SamePerson[], person: SyntheticCustomer): void {
  const sources = new Set(person.records.map((r) => r.source)).size;
  if (sources < 2) return;
  const records = person.records.length;
  const last = candidates[candidates.length - 1];
  if (
    candidates.length >= SAME_PERSON_CANDIDATES &&
    last &&
    (last.sources > sources || (last.sources === sources && last.records.length >= records))
  )
    return;
  let at = candidates.findIndex(
    (c) => c.sources < sources || (c.sources === sources && c.records.length < records),
  );
  if (at < 0) at = candidates.length;
  candidates.splice(at, 0, { personId: person.personId, sources, records: person.records });
  if (candidates.length > SAME_PERSON_CANDIDATES) candidates.pop();
}

/**
 * Creates a customer for every source record whose identity is not in the workspace yet, a few hundred
 * records per transaction, each batch in a few multi-row statements. Identities are looked up first
 * (nothing created), so a rerun creates nothing; a batch that still meets IDENTITY_TAKEN (a concurrent
 * writer claimed an identity between look-up and create) is rolled back whole and tried again, when the
 * look-up finds that customer.
 */
async function loadCustomers(
  database: Database,
  actor: Actor,
  workspace: Workspace,
  world: SyntheticWorld,
  options: Reporters,
): Promise<CustomerLoad> {
  const { db } = database;
  const started = performance.now();
  const totals = { created: 0, existing: 0 };
  const candidates: SamePerson[] = [];
  let batch: { record: SourceRecord; market: string }[] = [];
  let analysed = false;
  const people = world.config.customers;

  const flush = async () => {
    if (batch.length === 0) return;
    const counts = await withIdentityRetry(() =>
      withAccess(db, actor, WRITE_SCOPE, (scope) => storeRecords(scope, workspace, batch)),
    );
    totals.created += counts.created;
    totals.existing += counts.existing;
    batch = [];
    // Once the first batch is in, the planner learns what the tables look like (see the repository).
    if (!analysed && counts.created > 0) {
      await refreshStatistics(database);
      analysed = true;
    }
  };

  options.step({ phase: 'customers', done: 0, total: people });
  let done = 0;
  for (const person of world.customers()) {
    keepCandidate(candidates, person);
    for (const record of person.records) batch.push({ record, market: person.market });
    if (batch.length >= options.batchSize) await flush();
    done += 1;
    if (done % STEP_PEOPLE === 0) options.step({ phase: 'customers', done, total: people });
  }
  await flush();
  options.step({ phase: 'customers', done: people, total: people });

  options.report({
    phase: 'customers',
    sourceRecords: totals.created + totals.existing,
    ...totals,
    seconds: secondsSince(started),
  });
  return { ...totals, candidates };
}

const WRITE_SCOPE: ScopeOptions = { purpose: undefined, requestId: null, mode: 'write' };

async function withIdentityRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'IDENTITY_TAKEN') || attempt >= IDENTITY_RETRIES)
        throw error;
    }
  }
}

/** Creates the records of one batch whose identity is unknown, all at once; the others count as existing. */
async function storeRecords(
  scope: AccessScope,
  workspace: Workspace,
  records: readonly { record: SourceRecord; market: string }[],
): Promise<{ created: number; existing: number }> {
  const { tx, actor } = scope;
  const resolved = await resolveCustomerRefs(
    tx,
    records.map(({ record }) => ({ identity: { source: record.source, externalId: record.externalId } })),
    {
      workspaceId: workspace.id,
      defaultRegion: workspace.settings.defaultRegion,
      autoCreate: false,
      capturedBy: actor.label,
      source: 'demo',
    },
  );
  const missing = records.filter((_, i) => !resolved[i]?.ok);
  await createGovernedCustomers(
    scope,
    missing.map(({ record, market }) => toCustomerInput(record, market)),
  );
  return { created: missing.length, existing: records.length - missing.length };
}

interface InteractionLoad {
  created: number;
  existing: number;
  rejected: number;
  dropped: number;
  masked: number;
  firstError: { code: string; message: string } | null;
}

/** Ingests every interaction of the world in batches, each in its own transaction. */
async function loadInteractions(
  db: Kysely<DB>,
  actor: Actor,
  world: SyntheticWorld,
  options: Reporters,
): Promise<InteractionLoad> {
  const started = performance.now();
  const load: InteractionLoad = {
    created: 0,
    existing: 0,
    rejected: 0,
    dropped: 0,
    masked: 0,
    firstError: null,
  };
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    const results = await withAccess(db, actor, WRITE_SCOPE, (scope) =>
      ingestGoverned(scope, items, { atomic: false }),
    );
    for (const result of results) {
      if (result.dropped) load.dropped += 1;
      if (result.masked) load.masked += 1;
      if (result.status === 'created') load.created += 1;
      else if (result.status === 'duplicate') load.existing += 1;
      else {
        load.rejected += 1;
        if (load.firstError === null && result.error) {
          load.firstError = { code: result.error.code, message: result.error.message };
        }
      }
    }
  };
  const people = world.config.customers;
  options.step({ phase: 'interactions', done: 0, total: people });
  for (let from = 0; from < people; from += STEP_PEOPLE) {
    const to = Math.min(people, from + STEP_PEOPLE);
    for (const interaction of world.interactions({ from, to })) {
      batch.push(interaction);
      if (batch.length >= options.batchSize) await flush();
    }
    options.step({ phase: 'interactions', done: to, total: people });
  }
  await flush();
  options.report({
    phase: 'interactions',
    interactions: load.created + load.existing + load.rejected,
    created: load.created,
    existing: load.existing,
    rejected: load.rejected,
    seconds: secondsSince(started),
  });
  return load;
}

type Links = (customerId: string) => { customerUrl: string; timelineUrl: string };

function customerLinks(baseUrl: string): Links {
  const base = baseUrl.replace(/\/+$/, '');
  return (customerId) => ({
    customerUrl: `${base}/v1/customers/${customerId}`,
    timelineUrl: `${base}/v1/customers/${customerId}/timeline`,
  });
}

function day(iso: string | Date): string {
  return (typeof iso === 'string' ? iso : iso.toISOString()).slice(0, 10);
}

function quote(text: string | null): string {
  if (text === null || text.trim() === '') return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return `: "${flat.length > 90 ? `${flat.slice(0, 89)}…` : flat}"`;
}

function money(amount: number, currency: string | null): string {
  const value = amount.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return currency === null ? value : `${value} ${currency}`;
}

/** The latest interaction of a type in a customer's timeline, through the interactions domain. */
async function latestOfType(
  scope: AccessScope,
  customerId: string,
  type: string,
): Promise<Interaction | undefined> {
  const page = await readTimeline(scope, customerId, { types: [type], limit: 1 });
  return page.interactions[0];
}

/**
 * The first candidate whose records, by the world's ground truth one person's, are all one customer now,
 * and a customer holding no other record: a merge that is right, whatever identity resolution did
 * elsewhere. Undefined when no candidate was merged that cleanly.
 */
async function findTrueMerge(
  scope: AccessScope,
  workspace: Workspace,
  candidates: readonly SamePerson[],
): Promise<{ person: SamePerson; customerId: string } | undefined> {
  for (const person of candidates) {
    const resolved = await resolveCustomerRefs(
      scope.tx,
      person.records.map((r) => ({ identity: { source: r.source, externalId: r.externalId } })),
      {
        workspaceId: workspace.id,
        defaultRegion: workspace.settings.defaultRegion,
        autoCreate: false,
        capturedBy: scope.actor.label,
        source: 'demo',
      },
    );
    const ids = new Set(resolved.map((r) => (r.ok ? r.customerId : '')));
    const [customerId] = ids;
    if (ids.size !== 1 || customerId === undefined || customerId === '') continue;
    const own = new Set(person.records.map((r) => `${r.source}/${r.externalId}`));
    const held = await repo.listIdentityKeys(scope.tx, customerId);
    if (held.every((key) => own.has(key))) return { person, customerId };
  }
  return undefined;
}

function percent(share: number): string {
  return `${Math.max(1, Math.round(share * 100))} %`;
}

/**
 * Recommendations as the policy shapes them: a consenting customer at intimacy 3 gets suggestions, each
 * with its reason; one at intimacy 1 gets `withheld` instead. Read for personalization, audited.
 */
async function findRecommendationHighlights(
  db: Kysely<DB>,
  actor: Actor,
  links: Links,
): Promise<Highlight[]> {
  // The synthetic world leaves everyone at the default intimacy (1). The demo records for one consenting
  // customer the choice of level 3 ("reach out when it matters"), as the portal would, with evidence
  // saying it was the demo; a later run finds that customer again.
  await withAccess(db, actor, { purpose: 'service', requestId: null, mode: 'write' }, async (scope) => {
    if (await repo.findConsentingCustomerWithRecommendations(scope.tx, 3)) return;
    const chosen = await repo.findConsentingCustomerWithRecommendations(scope.tx, 1);
    if (!chosen) return;
    await setIntimacyGoverned(scope, chosen.customerId, {
      level: 3,
      source: 'demo',
      evidence: {
        note: 'the demo chose intimacy 3 for this synthetic customer to show collective recommendations',
      },
    });
  });
  return withAccess(
    db,
    actor,
    { purpose: 'personalization', requestId: null, mode: 'read' },
    async (scope) => {
      const out: Highlight[] = [];
      for (const level of [3, 1]) {
        const found = await repo.findConsentingCustomerWithRecommendations(scope.tx, level);
        if (!found) continue;
        const customer = await readCustomer(scope, found.customerId);
        const served = await readRecommendations(scope, customer.id, 3);
        const first = served.items[0];
        const why =
          level === 3 && first
            ? `Intimacy 3, consented to personalization: recommended "${first.name}" (${first.kind.replace('_', ' ')}): "${first.reason}"` +
              (served.items.length > 1 ? ` — and ${served.items.length - 1} more, each with its reason.` : '')
            : `Intimacy 1, consented to personalization: recommendations withheld (${served.withheld
                .map((w) => `${w.field} ${w.reason}`)
                .join(', ')}), though the model has a list for this customer.`;
        out.push({
          kind: level === 3 ? 'recommendation' : 'recommendation_withheld',
          customerId: customer.id,
          name: displayName(customer),
          why,
          ...links(customer.id),
          recommendationsUrl: `${links(customer.id).customerUrl}/recommendations`,
        });
      }
      return out;
    },
  );
}

/** The customers worth looking at, each found by a read over the workspace; absent ones are left out. */
async function findHighlights(
  db: Kysely<DB>,
  actor: Actor,
  workspace: Workspace,
  candidates: readonly SamePerson[],
  links: Links,
): Promise<Highlight[]> {
  // Read for service, as a person at the counter would: audited like every other read.
  return withAccess(db, actor, { purpose: 'service', requestId: null, mode: 'read' }, async (scope) => {
    const { tx } = scope;
    const highlights: Highlight[] = [];
    const make = (customer: Customer, kind: Highlight['kind'], why: string): Highlight => ({
      kind,
      customerId: customer.id,
      name: displayName(customer),
      why,
      ...links(customer.id),
    });

    const merged = await findTrueMerge(scope, workspace, candidates);
    if (merged) {
      const { person, customerId } = merged;
      const customer = await readCustomer(scope, customerId);
      const systems = new Set(person.records.map((r) => r.source)).size;
      const spellings = [
        ...new Set(
          person.records.map(
            (r) =>
              `"${[r.givenName, r.familyName].filter(Boolean).join(' ') || (r.fullName ?? '')}" (${r.source})`,
          ),
        ),
      ];
      highlights.push({
        ...make(
          customer,
          'same_person',
          `One person known to ${systems} systems as ${spellings.join(', ')}: identity resolution joined all ${person.records.length} records into this customer, which holds no one else's (checked against the synthetic world's ground truth).`,
        ),
        records: person.records.map((r) => ({ source: r.source, externalId: r.externalId, customerId })),
      });
    }

    const complaining = await repo.findMostComplainingCustomer(tx);
    if (complaining) {
      const customer = await readCustomer(scope, complaining.customerId);
      const latest = await latestOfType(scope, customer.id, 'complaint');
      const count = complaining.complaints === 1 ? 'A complaint' : `${complaining.complaints} complaints`;
      highlights.push(
        make(
          customer,
          'complaint',
          latest
            ? `${count}, the latest on ${day(latest.occurredAt)} by ${latest.channel}${quote(latest.text)}`
            : count,
        ),
      );
    }

    const cancelling = await repo.findLatestCancellationCustomer(tx);
    if (cancelling) {
      const customer = await readCustomer(scope, cancelling.customerId);
      const latest = await latestOfType(scope, customer.id, 'cancellation_request');
      highlights.push(
        make(
          customer,
          'cancellation_request',
          latest
            ? `Asked to cancel on ${day(latest.occurredAt)} by ${latest.channel}${quote(latest.text)}`
            : 'Asked to cancel',
        ),
      );
    }

    const remembered = await repo.findCustomerWithFacts(tx);
    if (remembered) {
      const customer = await readCustomer(scope, remembered.customerId);
      const form = [
        'givenName',
        'address',
        'language',
        'receipt',
        'channel',
        'delivery_window',
        'payment_method',
      ];
      const { values } = await prefillGoverned(scope, customer.id, form);
      const said = Object.entries(values).map(([field, v]) => {
        const evidence =
          v.provenance.sourceKind === 'derived' ? ' from behaviour' : ` (${v.provenance.source})`;
        return `${field} ${typeof v.value === 'string' ? v.value : 'known'}${evidence}`;
      });
      highlights.push({
        ...make(
          customer,
          'prefill',
          `A service form prefilled without asking again: ${said.join(', ')}; each value with its provenance and freshness (POST /v1/customers/${customer.id}/prefill).`,
        ),
        prefill: values,
      });
    }

    const slipping = await repo.findValuedCustomerSlippingAway(tx, SLIPPING);
    if (slipping) {
      const customer = await readCustomer(scope, slipping.customerId);
      const purchases = `${slipping.purchases} purchase${slipping.purchases === 1 ? '' : 's'}`;
      highlights.push(
        make(
          customer,
          'slipping_away',
          `A valued customer slipping away: ${money(slipping.totalSpend, slipping.currency)} over ${purchases} (top ${percent(1 - slipping.spendRank)} by spend), none since ${day(slipping.lastPurchaseAt)}; the value model gives P(alive) ${slipping.pAlive.toFixed(2)} as of ${day(slipping.asOf)} (the customer's value profile).`,
        ),
      );
    }
    return highlights;
  });
}

/** The reasons of an archetype in words: `friction 0.93 ≥ 0.6 (5 interactions)`. */
function describeReasons(found: RecognisedPersona): string {
  return found.relationship.reasons
    .map((r) => {
      const evidence = r.evidence.length === 0 ? '' : ` (${r.evidence.length} interactions as evidence)`;
      return `${r.dimension} ${r.value.toFixed(2)} ${r.op === 'gte' ? '≥' : '≤'} ${r.threshold}${evidence}`;
    })
    .join(', ');
}

/** Up to three tasks the default playbook queued, care first: the action, its explanation and script. */
async function momentHighlights(
  db: Kysely<DB>,
  actor: Actor,
  baseUrl: string,
  links: Links,
): Promise<Highlight[]> {
  const base = baseUrl.replace(/\/+$/, '');
  return withAccess(db, actor, { purpose: 'service', requestId: null, mode: 'read' }, async (scope) => {
    const tasks = await listTasksGoverned(scope, { limit: 200 });
    const rank = (purpose: string) => (purpose === 'care' ? 0 : 1);
    const chosen: typeof tasks = [];
    for (const task of [...tasks].sort((a, b) => rank(a.purpose) - rank(b.purpose))) {
      if (chosen.length >= 3) break;
      if (!chosen.some((c) => c.action === task.action)) chosen.push(task);
    }
    const out: Highlight[] = [];
    for (const task of chosen) {
      const customer = await readCustomer(scope, task.customerId);
      out.push({
        kind: 'moment',
        customerId: customer.id,
        name: displayName(customer),
        why: `The default playbook queued "${task.action}" (${task.purpose}) for an agent. The customer would read: "${task.explanation}"`,
        ...links(customer.id),
        moment: {
          action: task.action,
          explanation: task.explanation,
          script: task.script,
          nextBestActionsUrl: `${base}/v1/customers/${customer.id}/next-best-actions?purpose=service`,
          decisionUrl: `${base}/v1/decisions/${task.decisionId}?purpose=service`,
        },
      });
    }
    return out;
  });
}

/**
 * One customer per planted persona whose archetype recovered it, in the order of the personas: what the
 * world planted, the archetype with its reasons, and the do and don't that go with it.
 */
async function relationshipHighlights(
  db: Kysely<DB>,
  actor: Actor,
  found: readonly RecognisedPersona[],
  baseUrl: string,
  links: Links,
): Promise<Highlight[]> {
  const chosen = RELATIONSHIP_PERSONAS.map((persona) =>
    found.find((f) => f.persona === persona && f.relationship.archetype === persona),
  ).filter((f): f is RecognisedPersona => f !== undefined);
  if (chosen.length === 0) return [];
  return withAccess(db, actor, { purpose: 'service', requestId: null, mode: 'read' }, async (scope) => {
    const out: Highlight[] = [];
    for (const f of chosen) {
      const customer = await readCustomer(scope, f.customerId);
      const { guidance } = f.relationship;
      out.push({
        kind: 'relationship',
        customerId: customer.id,
        name: displayName(customer),
        why: `Planted in the synthetic world as a ${f.persona.replaceAll('_', ' ')}; given the archetype ${f.relationship.archetype.replaceAll('_', ' ')} because ${describeReasons(f)}. Do: ${guidance.do}. Don't: ${guidance.dont}.`,
        ...links(customer.id),
        relationship: {
          persona: f.persona,
          archetype: f.relationship.archetype,
          relationshipUrl: `${baseUrl}/v1/customers/${customer.id}/relationship`,
        },
      });
    }
    return out;
  });
}
