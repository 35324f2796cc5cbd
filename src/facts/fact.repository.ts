import { type Selectable, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { FactsTable } from '../db/schema.ts';
import type { IntimacyLevel } from '../policy/index.ts';
import type { FactStatus, SourceKind, StoredFact } from './fact.ts';

/** All SQL of the facts domain. Every function takes the caller's transaction and workspace. */

/** A fact version to insert. */
export interface FactRow {
  id: string;
  factId: string;
  customerId: string;
  key: string;
  category: string;
  value: unknown;
  sourceKind: SourceKind;
  status: FactStatus;
  source: string;
  interactionId: string | null;
  capturedBy: string;
  capturedAt: string;
  confidence: number;
  evidence: unknown;
  consentPurposes: readonly string[];
  minIntimacy: IntimacyLevel;
  validFrom: string | null;
  expiresAt: string | null;
  remember: boolean;
  supersedes: string | null;
}

const iso = (value: Date | string | null): string | null =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

function toFact(row: Selectable<FactsTable>): StoredFact {
  return {
    id: row.id,
    factId: row.fact_id,
    customerId: row.customer_id,
    key: row.key,
    category: row.category,
    value: row.value,
    sourceKind: row.source_kind as SourceKind,
    status: row.status as FactStatus,
    provenance: {
      source: row.source,
      interactionId: row.interaction_id,
      capturedBy: row.captured_by,
      capturedAt: iso(row.captured_at) ?? '',
      confidence: row.confidence,
      evidence: row.evidence ?? null,
    },
    consentPurposes: row.consent_purposes,
    minIntimacy: row.min_intimacy as IntimacyLevel,
    validFrom: iso(row.valid_from),
    expiresAt: iso(row.expires_at),
    remember: row.remember,
    supersedes: row.supersedes,
    createdAt: iso(row.created_at) ?? '',
    updatedAt: iso(row.updated_at) ?? '',
  };
}

/**
 * Inserts fact versions: one statement per 5,000 rows, the rows passed as one JSON document and read by
 * `jsonb_to_recordset` (a multi-row VALUES of 21 parameters a row was several times slower in bulk).
 */
export async function insertFacts(tx: Tx, workspaceId: string, rows: readonly FactRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000).map((r) => ({
      id: r.id,
      customer_id: r.customerId,
      fact_id: r.factId,
      key: r.key,
      category: r.category,
      value: r.value ?? null,
      source_kind: r.sourceKind,
      status: r.status,
      source: r.source,
      interaction_id: r.interactionId,
      captured_by: r.capturedBy,
      captured_at: r.capturedAt,
      confidence: r.confidence,
      evidence: r.evidence ?? null,
      consent_purposes: [...r.consentPurposes],
      min_intimacy: r.minIntimacy,
      valid_from: r.validFrom,
      expires_at: r.expiresAt,
      remember: r.remember,
      supersedes: r.supersedes,
    }));
    await sql`
      INSERT INTO facts (workspace_id, id, customer_id, fact_id, key, category, value, source_kind, status, source,
        interaction_id, captured_by, captured_at, confidence, evidence, consent_purposes, min_intimacy, valid_from,
        expires_at, remember, supersedes)
      SELECT ${workspaceId}::uuid, r.id, r.customer_id, r.fact_id, r.key, r.category, r.value, r.source_kind, r.status,
        r.source, r.interaction_id, r.captured_by, r.captured_at, r.confidence, r.evidence,
        ARRAY(SELECT jsonb_array_elements_text(r.consent_purposes)), r.min_intimacy, r.valid_from, r.expires_at,
        r.remember, r.supersedes
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS r (
        id uuid, customer_id uuid, fact_id uuid, key text, category text, value jsonb, source_kind text, status text,
        source text, interaction_id uuid, captured_by text, captured_at timestamptz, confidence real, evidence jsonb,
        consent_purposes jsonb, min_intimacy smallint, valid_from timestamptz, expires_at timestamptz,
        remember boolean, supersedes uuid)`.execute(tx);
  }
}

/**
 * The current version of every fact of the customers (forgotten ones included: they are tombstones
 * the caller filters), oldest first; `keys` narrows to some keys.
 */
export async function findCurrentFacts(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  keys?: readonly string[],
): Promise<StoredFact[]> {
  if (customerIds.length === 0) return [];
  let query = tx
    .selectFrom('facts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', sql<string>`ANY(${[...customerIds]}::uuid[])`)
    .where('superseded_at', 'is', null);
  if (keys && keys.length > 0) query = query.where('key', 'in', [...keys]);
  const rows = await query.orderBy('created_at').orderBy('id').execute();
  return rows.map(toFact);
}

/** The current version of one fact of a customer (by its fact id or any version's id), or undefined. */
export async function findCurrentFact(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  factId: string,
): Promise<StoredFact | undefined> {
  const row = await tx
    .selectFrom('facts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .where('superseded_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('fact_id', '=', factId),
        eb(
          'fact_id',
          '=',
          eb
            .selectFrom('facts as v')
            .select('v.fact_id')
            .where('v.workspace_id', '=', workspaceId)
            .where('v.id', '=', factId),
        ),
      ]),
    )
    .executeTakeFirst();
  return row ? toFact(row) : undefined;
}

/** Every version of one fact, newest first. */
export async function listFactVersions(tx: Tx, workspaceId: string, factId: string): Promise<StoredFact[]> {
  const rows = await tx
    .selectFrom('facts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('fact_id', '=', factId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toFact);
}

/** Marks versions as replaced at `at` (a newer version names them in `supersedes`). */
export async function supersedeFacts(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
  at: string,
): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('facts')
    .set({ superseded_at: at, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', sql<string>`ANY(${[...ids]}::uuid[])`)
    .execute();
}

/** Changes what is not the value of a current version: status, the remember mark, expiry, evidence. */
export async function updateFactState(
  tx: Tx,
  workspaceId: string,
  id: string,
  patch: {
    status?: FactStatus;
    remember?: boolean;
    expiresAt?: string | null;
    confidence?: number;
    evidence?: unknown;
  },
  at: string,
): Promise<void> {
  await tx
    .updateTable('facts')
    .set({
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.remember !== undefined ? { remember: patch.remember } : {}),
      ...(patch.expiresAt !== undefined ? { expires_at: patch.expiresAt } : {}),
      ...(patch.confidence !== undefined ? { confidence: patch.confidence } : {}),
      ...(patch.evidence !== undefined ? { evidence: JSON.stringify(patch.evidence) } : {}),
      updated_at: at,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/**
 * Forgets a fact: every version loses its value and evidence, the current one becomes a `forgotten`
 * tombstone (key and provenance without content), so no read, search or segment can find it.
 */
export async function forgetFactVersions(
  tx: Tx,
  workspaceId: string,
  factId: string,
  at: string,
): Promise<void> {
  await tx
    .updateTable('facts')
    .set({
      value: sql`NULL`,
      evidence: sql`NULL`,
      status: sql`CASE WHEN superseded_at IS NULL THEN 'forgotten' ELSE status END`,
      updated_at: at,
    })
    .where('workspace_id', '=', workspaceId)
    .where('fact_id', '=', factId)
    .execute();
}

/** The current facts of one source kind, for the customers (null: every customer), for derivation. */
export async function findCurrentFactsOfKind(
  tx: Tx,
  workspaceId: string,
  sourceKind: SourceKind,
  keys: readonly string[],
  customerIds: readonly string[] | null,
): Promise<StoredFact[]> {
  let query = tx
    .selectFrom('facts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('source_kind', '=', sourceKind)
    .where('key', 'in', [...keys])
    .where('superseded_at', 'is', null);
  if (customerIds !== null)
    query = query.where('customer_id', '=', sql<string>`ANY(${[...customerIds]}::uuid[])`);
  return (await query.execute()).map(toFact);
}

/**
 * Deletes the facts hidden by a lowered intimacy level for longer than the grace period: those whose
 * memory level is above the customer's current level, where the level last went below it (or, with no
 * such change, the fact was stored) before `before`. Answers how many fact versions were deleted.
 */
export async function purgeHiddenFacts(tx: Tx, workspaceId: string, before: string): Promise<number> {
  const result = await sql`
    DELETE FROM facts f
    WHERE f.workspace_id = ${workspaceId}
      AND f.fact_id IN (
        SELECT cur.fact_id FROM facts cur
        JOIN customers cc ON cc.workspace_id = cur.workspace_id AND cc.id = cur.customer_id
        WHERE cur.workspace_id = ${workspaceId} AND cur.superseded_at IS NULL
          AND cur.min_intimacy > cc.intimacy_level
          AND COALESCE(
            (SELECT max(ic.recorded_at) FROM intimacy_changes ic
             WHERE ic.workspace_id = cur.workspace_id AND ic.customer_id = cur.customer_id
               AND ic.previous_level >= cur.min_intimacy AND ic.level < cur.min_intimacy),
            cur.created_at) < ${before}::timestamptz)`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}

/** Deletes every fact version of the customers (erasure). */
export async function deleteFactsOfCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const result = await tx
    .deleteFrom('facts')
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', sql<string>`ANY(${[...customerIds]}::uuid[])`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Marks current facts whose expiry has passed as `expired`; answers how many. */
export async function expireFacts(tx: Tx, workspaceId: string, now: Date): Promise<number> {
  const at = now.toISOString();
  const result = await tx
    .updateTable('facts')
    .set({ status: 'expired', updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('superseded_at', 'is', null)
    .where('status', 'in', ['active', 'confirmed'])
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Moves every version of every fact of `fromId` (tombstones included) to `toId`, provenance untouched;
 * answers the fact ids moved (a merge keeps them so an unmerge can give them back).
 */
export async function moveAllFacts(
  tx: Tx,
  workspaceId: string,
  fromId: string,
  toId: string,
  at: string,
): Promise<string[]> {
  const result = await sql<{ fact_id: string }>`
    UPDATE facts SET customer_id = ${toId}, updated_at = ${at}::timestamptz
    WHERE workspace_id = ${workspaceId} AND customer_id = ${fromId}
    RETURNING fact_id`.execute(tx);
  return [...new Set(result.rows.map((r) => r.fact_id))].sort();
}

/** Moves every version of the given facts that `fromId` holds to `toId`; answers how many versions moved. */
export async function moveFactsById(
  tx: Tx,
  workspaceId: string,
  factIds: readonly string[],
  fromId: string,
  toId: string,
  at: string,
): Promise<number> {
  if (factIds.length === 0) return 0;
  const result = await sql`
    UPDATE facts SET customer_id = ${toId}, updated_at = ${at}::timestamptz
    WHERE workspace_id = ${workspaceId} AND customer_id = ${fromId}
      AND fact_id = ANY(${[...factIds]}::uuid[])`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Makes the given versions current again, each only while no other version of its fact is current (a
 * version superseded by a merge's conflict comes back at the unmerge); answers how many came back.
 */
export async function restoreSupersededFacts(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
  at: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await sql`
    UPDATE facts f SET superseded_at = NULL, updated_at = ${at}::timestamptz
    WHERE f.workspace_id = ${workspaceId} AND f.id = ANY(${[...ids]}::uuid[]) AND f.superseded_at IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM facts n
        WHERE n.workspace_id = f.workspace_id AND n.fact_id = f.fact_id AND n.id <> f.id
          AND n.superseded_at IS NULL)`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}

/** Sets the confidence and evidence of current versions (a derivation's refresh), 5,000 a statement. */
export async function refreshFactEvidence(
  tx: Tx,
  workspaceId: string,
  rows: readonly { id: string; confidence: number; evidence: unknown }[],
  at: string,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows
      .slice(i, i + 5000)
      .map((r) => ({ id: r.id, confidence: r.confidence, evidence: r.evidence }));
    await sql`
      UPDATE facts f SET confidence = r.confidence, evidence = r.evidence, updated_at = ${at}::timestamptz
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS r (id uuid, confidence real, evidence jsonb)
      WHERE f.workspace_id = ${workspaceId} AND f.id = r.id`.execute(tx);
  }
}
