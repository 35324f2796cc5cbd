import type { Tx } from '../db/index.ts';
import { parseTimestamp } from '../interactions/index.ts';
import type { CategoryDef, IntimacyLevel, Taxonomy } from '../policy/index.ts';
import { AppError, type FieldProblem, invalid, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { BEHAVIOURS, type DerivedFact } from './derive.ts';
import * as repo from './fact.repository.ts';
import {
  categoryOfKey,
  decideStorage,
  type FactKeyDef,
  type FactStatus,
  factKeyOf,
  normaliseFactValue,
  PURGE_GRACE_DAYS,
  READABLE_STATUSES,
  type SourceKind,
  type StorageRefusal,
  type StoredFact,
} from './fact.ts';

/** Use-cases of the facts domain: record, correct, confirm, reject, forget, derive, expire and purge. */

/** What the memory rules need besides the fact: the workspace's taxonomy and the time. */
export interface MemoryContext {
  taxonomy: Taxonomy;
  /** Categories the workspace added to its taxonomy: each is also a key of free-text facts. */
  workspaceCategories: readonly string[];
  now: Date;
}

/** Who records: what provenance keeps as "captured by". */
export interface Recorder {
  workspaceId: string;
  label: string;
}

/** A fact as a caller gives it. */
export interface FactInput {
  key: string;
  value: unknown;
  sourceKind: SourceKind;
  source: string;
  interactionId?: string | null;
  capturedAt?: string;
  validFrom?: string | null;
  expiresAt?: string | null;
  remember?: boolean;
  consentPurposes?: readonly string[];
  confidence?: number;
}

/** The outcome of recording a fact: stored (new, a new version, or the same fact again), or refused. */
export type RecordOutcome =
  | { stored: true; fact: StoredFact; outcome: 'created' | 'replaced' | 'unchanged' }
  | { stored: false; key: string; refusal: StorageRefusal };

/** A fact input checked against the catalog and its type. */
export interface CheckedFact {
  def: FactKeyDef;
  category: CategoryDef;
  value: unknown;
}

/** JSON with sorted keys: two equal values compare equal however the database ordered their keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Checks a key and value: the key is in the catalog (or a workspace category), its category is known,
 * and the value has the key's type. Problems name their JSON path under `path` (`value.day`).
 */
export function checkFact(
  key: string,
  value: unknown,
  ctx: MemoryContext,
  path = '',
): { ok: true; checked: CheckedFact } | { ok: false; code: string; problems: FieldProblem[] } {
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  const def = factKeyOf(key, ctx.taxonomy, ctx.workspaceCategories);
  if (!def) {
    return {
      ok: false,
      code: 'FACT_KEY_UNKNOWN',
      problems: [
        {
          path: at('key'),
          message: `"${key}" is not a fact key; use a key of GET /v1/facts/keys or a category the workspace added`,
        },
      ],
    };
  }
  const category = categoryOfKey(ctx.taxonomy, def);
  if (!category) {
    return {
      ok: false,
      code: 'CATEGORY_UNKNOWN',
      problems: [{ path: at('key'), message: `"${def.category}" is not a category of this workspace` }],
    };
  }
  const normal = normaliseFactValue(def, value, at('value'));
  if (!normal.ok) return { ok: false, code: 'FACT_VALUE_INVALID', problems: normal.problems };
  return { ok: true, checked: { def, category, value: normal.value } };
}

function checkTime(value: string | null | undefined, path: string, problems: FieldProblem[]): void {
  if (value === undefined || value === null) return;
  if (parseTimestamp(value) === undefined)
    problems.push({ path, message: 'must be an ISO 8601 timestamp with a zone, e.g. 2026-12-01T00:00:00Z' });
}

function throwProblems(code: string, problems: FieldProblem[]): never {
  const first = problems[0];
  throw invalid(code, first ? `${first.path} ${first.message}.` : 'The fact is invalid.', {
    errors: problems,
  });
}

/** Checks a fact input as a whole, or throws the stable code with every problem's JSON path. */
export function assertFactInput(input: FactInput, ctx: MemoryContext, path = ''): CheckedFact {
  const checked = checkFact(input.key, input.value, ctx, path);
  if (!checked.ok) throwProblems(checked.code, checked.problems);
  const problems: FieldProblem[] = [];
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  checkTime(input.expiresAt, at('expiresAt'), problems);
  checkTime(input.validFrom, at('validFrom'), problems);
  checkTime(input.capturedAt, at('capturedAt'), problems);
  (input.consentPurposes ?? []).forEach((p, i) => {
    if (!ctx.taxonomy.purposes.has(p))
      problems.push({
        path: at(`consentPurposes[${i}]`),
        message: `"${p}" is not a purpose of this workspace`,
      });
  });
  if (problems.length > 0) throwProblems('FACT_INVALID', problems);
  return checked.checked;
}

/** The refusal as the error an API answers (the ingest path reports it per item instead). */
export function refusalError(refusal: StorageRefusal, key: string): AppError {
  if (refusal.code === 'FACT_ABOVE_INTIMACY') {
    return new AppError('conflict', refusal.code, refusal.message, { key, minIntimacy: refusal.minIntimacy });
  }
  return invalid(refusal.code, refusal.message, { key, errors: [{ path: 'key', message: refusal.message }] });
}

function readable(fact: StoredFact): boolean {
  return READABLE_STATUSES.includes(fact.status);
}

function versionOf(
  fact: { factId: string; supersedes: string | null },
  checked: CheckedFact,
  input: FactInput,
  recorder: Recorder,
  customerId: string,
  minIntimacy: IntimacyLevel,
  now: Date,
  status: FactStatus,
): repo.FactRow {
  return {
    id: newId(now.getTime()),
    factId: fact.factId,
    customerId,
    key: checked.def.key,
    category: checked.def.category,
    value: checked.value,
    sourceKind: input.sourceKind,
    status,
    source: input.source,
    interactionId: input.interactionId ?? null,
    capturedBy: recorder.label,
    capturedAt: input.capturedAt ?? now.toISOString(),
    confidence: input.confidence ?? (input.sourceKind === 'declared' ? 1 : 0.8),
    evidence: null,
    consentPurposes: [...new Set(input.consentPurposes ?? [])],
    minIntimacy,
    validFrom: input.validFrom ?? null,
    expiresAt: input.expiresAt ?? null,
    remember: input.remember ?? false,
    supersedes: fact.supersedes,
  };
}

/**
 * Records a fact the memory rules allow for a customer at `intimacyLevel`. The same value said again is
 * the same fact (its remember mark and expiry follow the newer word); a new value of a single-valued key
 * from the same kind of source is a new version that supersedes the old one (kept in the history); an
 * inference is stored as a question to confirm. A refusal is returned, not thrown: ingest reports it.
 */
export async function recordFact(
  tx: Tx,
  recorder: Recorder,
  customerId: string,
  input: FactInput,
  context: { ctx: MemoryContext; intimacyLevel: IntimacyLevel; checked?: CheckedFact },
): Promise<RecordOutcome> {
  const { ctx, intimacyLevel } = context;
  const checked = context.checked ?? assertFactInput(input, ctx);
  const storage = decideStorage(
    checked.category,
    input.sourceKind,
    input.consentPurposes ?? [],
    intimacyLevel,
  );
  if (!storage.ok) return { stored: false, key: checked.def.key, refusal: storage.refusal };
  const now = ctx.now;
  const at = now.toISOString();
  const current = (
    await repo.findCurrentFacts(tx, recorder.workspaceId, [customerId], [checked.def.key])
  ).filter((f) => readable(f) && f.sourceKind === input.sourceKind);
  const value = canonicalJson(checked.value);
  const same = current.find((f) => canonicalJson(f.value) === value);
  if (same) {
    const patch = {
      ...(input.remember !== undefined && input.remember !== same.remember
        ? { remember: input.remember }
        : {}),
      ...(input.expiresAt !== undefined && input.expiresAt !== same.expiresAt
        ? { expiresAt: input.expiresAt }
        : {}),
    };
    if (Object.keys(patch).length > 0)
      await repo.updateFactState(tx, recorder.workspaceId, same.id, patch, at);
    const fact = { ...same, ...patch };
    return { stored: true, fact, outcome: 'unchanged' };
  }
  const status: FactStatus = input.sourceKind === 'inferred' ? 'to_confirm' : 'active';
  const replaced = checked.def.multiple ? undefined : current[0];
  const id = newId(now.getTime());
  const row = versionOf(
    replaced ? { factId: replaced.factId, supersedes: replaced.id } : { factId: id, supersedes: null },
    checked,
    input,
    recorder,
    customerId,
    storage.minIntimacy,
    now,
    status,
  );
  row.id = id;
  if (replaced) await repo.supersedeFacts(tx, recorder.workspaceId, [replaced.id], at);
  await repo.insertFacts(tx, recorder.workspaceId, [row]);
  const [fact] = await repo
    .findCurrentFacts(tx, recorder.workspaceId, [customerId], [checked.def.key])
    .then((all) => all.filter((f) => f.id === id));
  if (!fact) throw new AppError('internal', 'FACT_NOT_STORED', 'The fact was not stored.');
  return { stored: true, fact, outcome: replaced ? 'replaced' : 'created' };
}

/** The current version of one of the customer's facts, or 404 FACT_NOT_FOUND (forgotten ones too). */
export async function getFact(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  factId: string,
): Promise<StoredFact> {
  const fact = await repo.findCurrentFact(tx, workspaceId, customerId, factId);
  if (!fact || fact.status === 'forgotten') {
    throw notFound('FACT_NOT_FOUND', `No fact ${factId} of customer ${customerId}.`, { factId, customerId });
  }
  return fact;
}

/** What the customer (or staff on their word) may say about one fact. */
export interface FactPatch {
  /** A correction: a new version, declared by the customer. */
  value?: unknown;
  /** Confirm (an inference or derivation confirmed becomes declared) or reject. */
  status?: 'confirmed' | 'rejected';
  remember?: boolean;
  expiresAt?: string | null;
  /** Where the customer said it (portal, store, call); default "api". */
  source?: string;
}

/**
 * Applies the customer's say to one fact: a corrected value or a confirmed inference is a new version
 * declared by the customer (the old one stays in the history); a rejection, the remember mark and the
 * expiry change the current version. Answers the current version after the change.
 */
export async function changeFact(
  tx: Tx,
  recorder: Recorder,
  customerId: string,
  factId: string,
  patch: FactPatch,
  context: { ctx: MemoryContext; intimacyLevel: IntimacyLevel },
): Promise<{ fact: StoredFact; newVersion: boolean }> {
  const { ctx } = context;
  const fact = await getFact(tx, recorder.workspaceId, customerId, factId);
  const problems: FieldProblem[] = [];
  checkTime(patch.expiresAt, 'expiresAt', problems);
  if (problems.length > 0) throwProblems('FACT_INVALID', problems);
  const at = ctx.now.toISOString();
  const corrected = patch.value !== undefined;
  const confirmsGuess =
    patch.status === 'confirmed' && (fact.sourceKind === 'inferred' || fact.sourceKind === 'derived');
  if (corrected || confirmsGuess) {
    if (patch.status === 'rejected') {
      throwProblems('FACT_INVALID', [
        { path: 'status', message: 'cannot reject a value given in the same change' },
      ]);
    }
    const input: FactInput = {
      key: fact.key,
      value: corrected ? patch.value : fact.value,
      sourceKind: 'declared',
      source: patch.source ?? 'api',
      expiresAt: patch.expiresAt !== undefined ? patch.expiresAt : fact.expiresAt,
      validFrom: fact.validFrom,
      remember: patch.remember ?? fact.remember,
      consentPurposes: fact.consentPurposes,
    };
    const checked = checkFact(fact.key, input.value, ctx);
    if (!checked.ok) throwProblems(checked.code, checked.problems);
    const storage = decideStorage(
      checked.checked.category,
      'declared',
      input.consentPurposes ?? [],
      context.intimacyLevel,
    );
    if (!storage.ok) throw refusalError(storage.refusal, fact.key);
    const row = versionOf(
      { factId: fact.factId, supersedes: fact.id },
      checked.checked,
      input,
      recorder,
      customerId,
      storage.minIntimacy,
      ctx.now,
      'confirmed',
    );
    row.confidence = 1;
    row.interactionId = null;
    await repo.supersedeFacts(tx, recorder.workspaceId, [fact.id], at);
    await repo.insertFacts(tx, recorder.workspaceId, [row]);
    return { fact: await getFact(tx, recorder.workspaceId, customerId, fact.factId), newVersion: true };
  }
  await repo.updateFactState(
    tx,
    recorder.workspaceId,
    fact.id,
    {
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.remember !== undefined ? { remember: patch.remember } : {}),
      ...(patch.expiresAt !== undefined ? { expiresAt: patch.expiresAt } : {}),
    },
    at,
  );
  const after = await repo.findCurrentFact(tx, recorder.workspaceId, customerId, fact.factId);
  if (!after) throw new AppError('internal', 'FACT_NOT_STORED', 'The fact vanished while it was changed.');
  return { fact: after, newVersion: false };
}

/** Forgets a fact: no version keeps its value; a tombstone keeps that it was forgotten. */
export async function forgetFact(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  factId: string,
  now: Date,
): Promise<StoredFact> {
  const fact = await getFact(tx, workspaceId, customerId, factId);
  await repo.forgetFactVersions(tx, workspaceId, fact.factId, now.toISOString());
  return fact;
}

/** The current facts of customers (tombstones and rejected ones included; readers filter). */
export function listCurrentFacts(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  keys?: readonly string[],
): Promise<StoredFact[]> {
  return repo.findCurrentFacts(tx, workspaceId, customerIds, keys);
}

/** Every version of one fact, newest first (the customer's history of it). */
export async function listFactHistory(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  factId: string,
): Promise<StoredFact[]> {
  const fact = await getFact(tx, workspaceId, customerId, factId);
  return repo.listFactVersions(tx, workspaceId, fact.factId);
}

/** What applying derived facts changed. */
export interface DerivationOutcome {
  created: number;
  replaced: number;
  refreshed: number;
  retired: number;
  /** Customers whose derived facts changed. */
  customerIds: string[];
}

/**
 * Brings the derived facts of the customers in `scope` (null: every customer) to what behaviour now
 * supports: a new value supersedes the old version, the same value refreshes its evidence and confidence,
 * a fact behaviour no longer supports is retired (superseded without a successor). A value the customer
 * rejected is not suggested again; a customer below the memory level gets none.
 */
export async function applyDerivedFacts(
  tx: Tx,
  recorder: Recorder,
  derived: readonly DerivedFact[],
  context: {
    ctx: MemoryContext;
    scope: readonly string[] | null;
    intimacyOf: (customerId: string) => IntimacyLevel;
  },
): Promise<DerivationOutcome> {
  const { ctx } = context;
  const at = ctx.now.toISOString();
  const current = await repo.findCurrentFactsOfKind(
    tx,
    recorder.workspaceId,
    'derived',
    BEHAVIOURS,
    context.scope,
  );
  const byKey = new Map<string, StoredFact>();
  const rejected = new Set<string>();
  for (const f of current) {
    const id = `${f.customerId}\u0000${f.key}`;
    if (f.status === 'rejected') rejected.add(`${id}\u0000${canonicalJson(f.value)}`);
    else if (readable(f)) byKey.set(id, f);
  }
  const outcome: DerivationOutcome = { created: 0, replaced: 0, refreshed: 0, retired: 0, customerIds: [] };
  const changed = new Set<string>();
  const rows: repo.FactRow[] = [];
  const supersede: string[] = [];
  const refreshes: { id: string; confidence: number; evidence: unknown }[] = [];
  const seen = new Set<string>();
  for (const d of derived) {
    const id = `${d.customerId}\u0000${d.key}`;
    const checked = checkFact(d.key, d.value, ctx);
    if (!checked.ok) continue;
    if (rejected.has(`${id}\u0000${canonicalJson(checked.checked.value)}`)) continue;
    const storage = decideStorage(checked.checked.category, 'derived', [], context.intimacyOf(d.customerId));
    if (!storage.ok) continue;
    seen.add(id);
    const existing = byKey.get(id);
    if (existing && canonicalJson(existing.value) === canonicalJson(checked.checked.value)) {
      if (
        existing.provenance.confidence !== d.confidence ||
        canonicalJson(existing.provenance.evidence) !== canonicalJson(d.evidence)
      ) {
        refreshes.push({ id: existing.id, confidence: d.confidence, evidence: d.evidence });
        outcome.refreshed++;
      }
      continue;
    }
    const newIdValue = newId(ctx.now.getTime());
    const row = versionOf(
      existing
        ? { factId: existing.factId, supersedes: existing.id }
        : { factId: newIdValue, supersedes: null },
      checked.checked,
      {
        key: d.key,
        value: checked.checked.value,
        sourceKind: 'derived',
        source: 'derivation',
        confidence: d.confidence,
      },
      recorder,
      d.customerId,
      storage.minIntimacy,
      ctx.now,
      'active',
    );
    row.id = newIdValue;
    row.evidence = d.evidence;
    rows.push(row);
    if (existing) {
      supersede.push(existing.id);
      outcome.replaced++;
    } else outcome.created++;
    changed.add(d.customerId);
  }
  for (const [id, fact] of byKey) {
    if (seen.has(id)) continue;
    supersede.push(fact.id);
    outcome.retired++;
    changed.add(fact.customerId);
  }
  // Every write in a few statements whatever the number of customers: refreshed evidence in one
  // statement per 5,000 facts (one round trip per fact made the nightly rerun grow with the customers).
  await repo.refreshFactEvidence(tx, recorder.workspaceId, refreshes, at);
  for (let i = 0; i < supersede.length; i += 5000)
    await repo.supersedeFacts(tx, recorder.workspaceId, supersede.slice(i, i + 5000), at);
  await repo.insertFacts(tx, recorder.workspaceId, rows);
  outcome.customerIds = [...changed];
  return outcome;
}

/** Marks facts whose expiry passed as `expired` (they were already treated as stale on every read). */
export { expireFacts } from './fact.repository.ts';

/**
 * Purges the facts a lowered intimacy level has hidden for longer than the grace period
 * (PURGE_GRACE_DAYS): raised again in time, they come back; otherwise they are deleted, every version.
 */
export function purgeHiddenFacts(
  tx: Tx,
  workspaceId: string,
  now: Date,
  graceDays: number = PURGE_GRACE_DAYS,
): Promise<number> {
  return repo.purgeHiddenFacts(
    tx,
    workspaceId,
    new Date(now.getTime() - graceDays * 86_400_000).toISOString(),
  );
}

/** Deletes every fact of the customers (erasure). */
export const eraseFactsOfCustomers = repo.deleteFactsOfCustomers;

// ---------------------------------------------------------------------------------------------------
// Merges and unmerges of customers

/** What a merge did to facts, kept by the merge so its unmerge can give them back. */
export interface FactMerge {
  /** The fact ids (every version) that came from the absorbed customer. */
  moved: string[];
  /** Versions the merge superseded because the other customer's fact won the conflict. */
  superseded: string[];
}

/**
 * Which facts lose when two customers' facts meet in a merge (pure). Facts of one key and one source
 * kind conflict when they came from both sides and the key holds one value (or, for a key with several
 * values, when they hold the same value): the newer capture wins, as a newer statement supersedes an
 * older one of the same kind (ties: the later version id). Facts of different source kinds never
 * supersede each other: they stand side by side as they do on one customer, and every reader puts the
 * customer's own word first (`SOURCE_RANK`), so a derived fact never beats a declared one. Only
 * readable facts take part; tombstones and rejections move along untouched (they keep a forgotten or
 * rejected value from coming back). Answers the version ids that lose.
 */
export function resolveMergedFacts(
  facts: readonly StoredFact[],
  fromAbsorbed: ReadonlySet<string>,
  multiple: (key: string) => boolean,
): string[] {
  const groups = new Map<string, StoredFact[]>();
  for (const f of facts) {
    if (!READABLE_STATUSES.includes(f.status)) continue;
    const id = multiple(f.key)
      ? `${f.key}\u0000${f.sourceKind}\u0000${canonicalJson(f.value)}`
      : `${f.key}\u0000${f.sourceKind}`;
    const group = groups.get(id);
    if (group) group.push(f);
    else groups.set(id, [f]);
  }
  const losers: string[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const sides = new Set(group.map((f) => fromAbsorbed.has(f.factId)));
    if (sides.size < 2) continue;
    // Newest capture first; the same instant: the later version.
    const sorted = [...group].sort((a, b) => {
      const x = Date.parse(a.provenance.capturedAt);
      const y = Date.parse(b.provenance.capturedAt);
      return x === y ? (a.id < b.id ? 1 : -1) : y - x;
    });
    for (const loser of sorted.slice(1)) losers.push(loser.id);
  }
  return losers.sort();
}

/**
 * Carries the absorbed customer's facts to the survivor in the merge's transaction: every version
 * moves with its provenance, and a conflict is settled by `resolveMergedFacts` (the loser is superseded,
 * kept in its history). What is above the survivor's (merged) intimacy level is hidden by the memory
 * rules at once, as after any lowering. Answers what the unmerge needs.
 */
export async function mergeFacts(
  tx: Tx,
  workspaceId: string,
  survivorId: string,
  absorbedId: string,
  ctx: MemoryContext,
): Promise<FactMerge> {
  const at = ctx.now.toISOString();
  const moved = await repo.moveAllFacts(tx, workspaceId, absorbedId, survivorId, at);
  if (moved.length === 0) return { moved, superseded: [] };
  const current = await repo.findCurrentFacts(tx, workspaceId, [survivorId]);
  const superseded = resolveMergedFacts(
    current,
    new Set(moved),
    (key) => factKeyOf(key, ctx.taxonomy, ctx.workspaceCategories)?.multiple ?? false,
  );
  await repo.supersedeFacts(tx, workspaceId, superseded, at);
  return { moved, superseded };
}

/**
 * Gives an unmerged customer its facts back: every version of the facts the merge moved (with what was
 * said about them while merged: a correction follows the fact it corrects), and the versions the merge's
 * conflicts superseded become current again unless a newer version of their fact has come since.
 */
export async function unmergeFacts(
  tx: Tx,
  workspaceId: string,
  survivorId: string,
  absorbedId: string,
  merge: FactMerge,
  now: Date,
): Promise<{ returned: number; restored: number }> {
  const at = now.toISOString();
  const returned = await repo.moveFactsById(tx, workspaceId, merge.moved, survivorId, absorbedId, at);
  const restored = await repo.restoreSupersededFacts(tx, workspaceId, merge.superseded, at);
  return { returned, restored };
}
