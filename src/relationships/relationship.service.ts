import type { RawBuilder } from 'kysely';
import type { Tx } from '../db/index.ts';
import { notFound } from '../shared/errors.ts';
import { computeDimensions, DEFAULT_INTENSITY_NORM, type Dimensions, type Modifiers } from './dimensions.ts';
import * as repo from './relationship.repository.ts';
import {
  ARCHETYPE_GUIDANCE,
  ARCHETYPES,
  type Archetype,
  applyHysteresis,
  assertRuleTable,
  computeArchetype,
  computeRuleReasons,
  DEFAULT_RULE_TABLE,
  type LabelState,
  type Reason,
  type RuleTable,
} from './rules.ts';

/** The rule table in force: its version (0: the built-in default) and who set it when. */
export interface ActiveRuleTable {
  version: number;
  table: RuleTable;
  createdBy: string | null;
  createdAt: string | null;
}

/** The workspace's active rule table (the built-in default, version 0, until one is set). */
export async function getRuleTable(tx: Tx, workspaceId: string): Promise<ActiveRuleTable> {
  return activeOf(await repo.findActiveRuleTable(tx, workspaceId));
}

function activeOf(
  row: { version: number; rule_table: unknown; created_by: string; created_at: Date } | undefined,
): ActiveRuleTable {
  if (row === undefined) return { version: 0, table: DEFAULT_RULE_TABLE, createdBy: null, createdAt: null };
  return {
    version: row.version,
    // Stored tables were validated when set; validating again keeps a hand-edited row from running.
    table: assertRuleTable(row.rule_table),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Validates a rule table whole and stores it as the next version, which becomes active. An invalid
 * table throws RELATIONSHIP_RULES_INVALID with every problem at its JSON path and stores nothing, so
 * the previous version stays active. Profiles follow at their next recomputation.
 */
export async function setRuleTable(
  tx: Tx,
  workspaceId: string,
  input: unknown,
  createdBy: string,
): Promise<ActiveRuleTable> {
  const table = assertRuleTable(input);
  const row = await repo.insertRuleTable(tx, workspaceId, table, createdBy);
  return { version: row.version, table, createdBy, createdAt: row.created_at.toISOString() };
}

/** What one recomputation did. */
export interface RecomputeReport {
  recomputed: number;
  /** Customers whose archetype changed (a first label included). */
  changed: number;
  /** Profiles removed: customers merged into another or gone. */
  removed: number;
  ruleVersion: number;
}

const isArchetype = (v: string | null): v is Archetype =>
  v !== null && (ARCHETYPES as readonly string[]).includes(v);

function stateOf(row: repo.ProfileStateRow | undefined): LabelState {
  if (row === undefined || !isArchetype(row.archetype)) {
    return { archetype: null, since: null, candidate: null, candidateCount: 0, candidateSince: null };
  }
  return {
    archetype: row.archetype,
    since: row.archetype_since,
    candidate: isArchetype(row.candidate) ? row.candidate : null,
    candidateCount: row.candidate_count,
    candidateSince: row.candidate_since,
  };
}

interface Context {
  rules: ActiveRuleTable;
  norm: number;
}

async function recomputeBatch(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  now: Date,
  ctx: Context,
  /** The id range of a full recomputation's page (its reads scan that range, not a list of ids). */
  range?: { after: string | null; last: string },
): Promise<RecomputeReport> {
  const ids = [...new Set(customerIds.map((id) => id.toLowerCase()))];
  const states = await repo.listActiveWithStates(tx, workspaceId, ids);
  const gone = ids.filter((id) => !states.has(id));
  const removed = await repo.deleteProfiles(tx, workspaceId, gone);
  const live = ids.filter((id) => states.has(id));
  const signals = await repo.listSignals(tx, workspaceId, range ?? live, now);
  const disclosures = await repo.declaredDisclosures(tx, workspaceId, range ?? live, now);
  const { table, version } = ctx.rules;
  const profiles: repo.ProfileWrite[] = [];
  const changes: repo.ChangeWrite[] = [];
  for (const customerId of live) {
    const { dimensions, modifiers } = computeDimensions(
      signals.get(customerId) ?? [],
      disclosures.get(customerId) ?? [],
      { now, intensityNorm: ctx.norm },
      table.highDemand,
    );
    const proposal = computeArchetype(table, dimensions);
    const step = applyHysteresis(stateOf(states.get(customerId)), proposal.archetype, now, table.hysteresis);
    const held = step.state.archetype ?? proposal.archetype;
    // The reasons shown are those of the held label: the proposal's when it matches, else the held
    // label's own rule evaluated as it stands (its conditions may have weakened during hysteresis).
    const reasons = held === proposal.archetype ? proposal.reasons : reasonsFor(table, held, dimensions);
    profiles.push({
      customerId,
      archetype: held,
      archetypeSince: step.state.since ?? now,
      proposed: proposal.archetype,
      candidate: step.state.candidate,
      candidateCount: step.state.candidateCount,
      candidateSince: step.state.candidateSince,
      ruleVersion: version,
      dimensions,
      // The evidence of a reason is its dimension's, stored once (findRelationship puts it back).
      reasons: reasons.map((r) => ({ ...r, evidence: [] })),
      highDemand: modifiers.highDemand,
      discretion: modifiers.discretion,
    });
    if (step.changed) {
      changes.push({ customerId, from: step.previous, to: held, ruleVersion: version, reasons });
    }
  }
  // Two statements whatever the batch size, so they are not worth running concurrently on one connection.
  await repo.upsertProfiles(tx, workspaceId, profiles, now);
  await repo.insertChanges(tx, workspaceId, changes, now);
  return { recomputed: profiles.length, changed: changes.length, removed, ruleVersion: version };
}

/** The reasons of the first rule for an archetype, as the dimensions stand now. */
function reasonsFor(table: RuleTable, archetype: Archetype, dimensions: Dimensions): Reason[] {
  const rule = table.rules.find((r) => r.archetype === archetype);
  return rule === undefined ? [] : computeRuleReasons(rule, dimensions);
}

async function contextOf(tx: Tx, workspaceId: string): Promise<Context> {
  const { rules, norm } = await repo.findRecomputeContext(tx, workspaceId);
  return { rules: activeOf(rules), norm: norm ?? DEFAULT_INTENSITY_NORM };
}

/**
 * Incremental recomputation: the given customers' dimensions, archetype (with hysteresis) and modifiers
 * as of `now`, with the workspace's active rule table and stored intensity norm; a change of archetype
 * is recorded with its reasons. A merged or unknown customer's profile is removed. For the event
 * subscriber (customers whose events arrived) and for merges and unmerges. The caller owns the transaction.
 */
export async function recomputeRelationships(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  now: Date,
): Promise<RecomputeReport> {
  const ctx = await contextOf(tx, workspaceId);
  let total: RecomputeReport = { recomputed: 0, changed: 0, removed: 0, ruleVersion: ctx.rules.version };
  for (let i = 0; i < customerIds.length; i += BATCH) {
    const report = await recomputeBatch(tx, workspaceId, customerIds.slice(i, i + BATCH), now, ctx);
    total = add(total, report);
  }
  return total;
}

const BATCH = 2000;

const add = (a: RecomputeReport, b: RecomputeReport): RecomputeReport => ({
  recomputed: a.recomputed + b.recomputed,
  changed: a.changed + b.changed,
  removed: a.removed + b.removed,
  ruleVersion: b.ruleVersion,
});

/** What a full recomputation did. */
export interface WorkspaceRecomputeReport extends RecomputeReport {
  intensityNorm: number;
  /** Customers per archetype after the recomputation. */
  archetypes: Partial<Record<Archetype, number>>;
  seconds: number;
}

/**
 * Full recomputation of a workspace (the scheduled job): the intensity norm is recomputed and stored,
 * then every active customer is recomputed in pages of customers. The caller owns the transaction.
 */
export async function recomputeWorkspaceRelationships(
  tx: Tx,
  workspaceId: string,
  now: Date,
): Promise<WorkspaceRecomputeReport> {
  const started = performance.now();
  const rules = await getRuleTable(tx, workspaceId);
  const { norm } = await repo.refreshIntensityNorm(tx, workspaceId, now, DEFAULT_INTENSITY_NORM);
  const ctx: Context = { rules, norm };
  let total: RecomputeReport = { recomputed: 0, changed: 0, removed: 0, ruleVersion: rules.version };
  let after: string | null = null;
  for (;;) {
    const page = await repo.listActiveCustomerIds(tx, workspaceId, after, BATCH);
    if (page.length === 0) break;
    const last = page[page.length - 1] as string;
    total = add(total, await recomputeBatch(tx, workspaceId, page, now, ctx, { after, last }));
    after = last;
  }
  const mix = await repo.listMix(tx, workspaceId, [], null);
  const archetypes: Partial<Record<Archetype, number>> = {};
  for (const row of mix) if (isArchetype(row.archetype)) archetypes[row.archetype] = row.customers;
  return {
    ...total,
    intensityNorm: norm,
    archetypes,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}

/** A customer's relationship as stored, with guidance and history. */
export interface Relationship {
  customerId: string;
  archetype: Archetype;
  since: string;
  /** What staff should and should not do (SPEC §7). */
  guidance: { do: string; dont: string };
  modifiers: Modifiers;
  dimensions: Dimensions;
  /** The conditions of the rule that assigned the archetype, most decisive first, with evidence. */
  reasons: Reason[];
  /** A different archetype the rules now propose, held back by hysteresis. */
  pending: { archetype: Archetype; since: string; recomputations: number } | null;
  ruleVersion: number;
  computedAt: string;
  history: {
    at: string;
    from: Archetype | null;
    to: Archetype;
    ruleVersion: number;
    reasons: Reason[];
  }[];
}

/** A customer's stored relationship, or undefined before its first computation. */
export async function findRelationship(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  options: { history?: number } = {},
): Promise<Relationship | undefined> {
  const row = await repo.findProfile(tx, workspaceId, customerId);
  if (row === undefined || !isArchetype(row.archetype)) return undefined;
  const history = await repo.listChanges(tx, workspaceId, customerId, options.history ?? 20);
  const dimensions = row.dimensions as unknown as Dimensions;
  return {
    customerId: row.customer_id,
    archetype: row.archetype,
    since: row.archetype_since.toISOString(),
    guidance: ARCHETYPE_GUIDANCE[row.archetype],
    modifiers: { highDemand: row.high_demand, discretion: row.discretion },
    dimensions,
    reasons: (row.reasons as Reason[]).map((r) => ({
      ...r,
      evidence: dimensions[r.dimension]?.evidence ?? [],
    })),
    pending:
      isArchetype(row.candidate) && row.candidate_since !== null
        ? {
            archetype: row.candidate,
            since: row.candidate_since.toISOString(),
            recomputations: row.candidate_count,
          }
        : null,
    ruleVersion: row.rule_version,
    computedAt: row.computed_at.toISOString(),
    history: history.map((h) => ({
      at: h.changed_at.toISOString(),
      from: isArchetype(h.from_archetype) ? h.from_archetype : null,
      to: h.to_archetype as Archetype,
      ruleVersion: h.rule_version,
      reasons: h.reasons as Reason[],
    })),
  };
}

/** A customer's stored relationship; throws 404 RELATIONSHIP_NOT_COMPUTED before its first computation. */
export async function getRelationship(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<Relationship> {
  const found = await findRelationship(tx, workspaceId, customerId);
  if (found === undefined) {
    throw notFound(
      'RELATIONSHIP_NOT_COMPUTED',
      'This customer has no relationship profile yet: run `cornerstore relationships recompute` (or wait for the job).',
      { customerId },
    );
  }
  return found;
}

/** The relationship mix of a workspace. */
export interface RelationshipMix {
  /** The currency value figures are in (the one most value profiles are in); null without value. */
  currency: string | null;
  archetypes: {
    archetype: Archetype;
    customers: number;
    highDemand: number;
    discretion: number;
    /** Customers with a value profile in `currency`, and the sums of their CLV and spend. */
    valued: number;
    totalClv: number | null;
    totalSpend: number | null;
    guidance: { do: string; dont: string };
  }[];
  /** Changes of archetype since `since`: customers moved from one to another. */
  movements: { from: Archetype; to: Archetype; customers: number }[];
  since: string;
  total: number;
}

/**
 * Counts per archetype, value per archetype and movements between archetypes since `since`, over the
 * customers `where` (SQL conditions on `c`, the reading purpose's subject condition) lets through.
 */
export async function computeRelationshipMix(
  tx: Tx,
  workspaceId: string,
  options: { since: Date; where: readonly RawBuilder<unknown>[] },
): Promise<RelationshipMix> {
  const currency = await repo.findValueCurrency(tx, workspaceId);
  const [rows, moves] = [
    await repo.listMix(tx, workspaceId, options.where, currency),
    await repo.listMovements(tx, workspaceId, options.where, options.since),
  ];
  const archetypes = rows
    .filter((r) => isArchetype(r.archetype))
    .map((r) => ({
      archetype: r.archetype as Archetype,
      customers: r.customers,
      highDemand: r.high_demand,
      discretion: r.discretion,
      valued: r.valued,
      totalClv: r.total_clv,
      totalSpend: r.total_spend,
      guidance: ARCHETYPE_GUIDANCE[r.archetype as Archetype],
    }))
    .sort((a, b) => ARCHETYPES.indexOf(a.archetype) - ARCHETYPES.indexOf(b.archetype));
  return {
    currency,
    archetypes,
    movements: moves
      .filter((m) => isArchetype(m.from_archetype) && isArchetype(m.to_archetype))
      .map((m) => ({
        from: m.from_archetype as Archetype,
        to: m.to_archetype as Archetype,
        customers: m.customers,
      })),
    since: options.since.toISOString(),
    total: archetypes.reduce((n, a) => n + a.customers, 0),
  };
}
