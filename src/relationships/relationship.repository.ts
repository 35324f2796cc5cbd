import { type RawBuilder, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import { newId } from '../shared/ids.ts';
import { CHANNEL_RICHNESS, type Disclosure, HALF_LIFE_DAYS, type Signal } from './dimensions.ts';

/**
 * All SQL of relationships: the signals and declared facts dimensions are computed from, the
 * rule tables, the intensity norm, profiles and the history of changes, and the mix report.
 */

/** The stored hysteresis state and label of a customer. */
export interface ProfileStateRow {
  customer_id: string;
  archetype: string;
  archetype_since: Date;
  candidate: string | null;
  candidate_count: number;
  candidate_since: Date | null;
}

/** A profile as stored. */
export interface ProfileRow extends ProfileStateRow {
  proposed: string;
  rule_version: number;
  dimensions: Record<string, unknown>;
  reasons: unknown[];
  high_demand: boolean;
  discretion: boolean;
  computed_at: Date;
}

/** A change of archetype as stored. */
export interface ChangeRow {
  customer_id: string;
  changed_at: Date;
  from_archetype: string | null;
  to_archetype: string;
  rule_version: number;
  reasons: unknown[];
}

const num = (v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** Appends to the list of a key, starting it when absent. */
function pushTo<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));

/**
 * Which customers a read covers: a list of ids (incremental recomputation), or a page of the full one as
 * the id range it spans (`after` exclusive, `last` inclusive). A range is read by one index range scan;
 * `= ANY(ids)` over a page of 2,000 ids made the planner scan every interaction of the workspace once per
 * page, so a full recomputation grew with pages × interactions.
 */
export type CustomerSet = readonly string[] | { readonly after: string | null; readonly last: string };

function customersIn(column: string, set: CustomerSet): RawBuilder<unknown> {
  const ref = sql.ref(column);
  if (Array.isArray(set)) return sql`${ref} = ANY(${set as string[]}::uuid[])`;
  const range = set as { after: string | null; last: string };
  return range.after === null
    ? sql`${ref} <= ${range.last}::uuid`
    : sql`${ref} > ${range.after}::uuid AND ${ref} <= ${range.last}::uuid`;
}

const isEmpty = (set: CustomerSet): boolean => Array.isArray(set) && set.length === 0;

/**
 * The signals of the given customers up to `now`, grouped by customer: the few columns and properties
 * the dimensions read, never free text.
 */
export async function listSignals(
  tx: Tx,
  workspaceId: string,
  customers: CustomerSet,
  now: Date,
): Promise<Map<string, Signal[]>> {
  const out = new Map<string, Signal[]>();
  if (isEmpty(customers)) return out;
  const result = await sql<Record<string, unknown>>`
    SELECT i.id, i.customer_id, i.type, i.channel, i.initiated_by, i.occurred_at, i.sentiment,
           i.properties->>'score' AS score, i.properties->>'rating' AS rating,
           i.properties->>'severity' AS severity, i.properties->>'subject' AS subject,
           i.properties->>'outcome' AS outcome, i.properties->>'direction' AS direction,
           i.properties->>'event' AS event
    FROM interactions i
    WHERE i.workspace_id = ${workspaceId} AND ${customersIn('i.customer_id', customers)}
      AND i.occurred_at <= ${now.toISOString()}::timestamptz`.execute(tx);
  for (const r of result.rows) {
    pushTo(out, String(r.customer_id), {
      id: String(r.id),
      type: String(r.type),
      channel: String(r.channel),
      initiatedBy: String(r.initiated_by),
      at: ms(r.occurred_at),
      sentiment: num(r.sentiment),
      score: num(r.score),
      rating: num(r.rating),
      severity: str(r.severity),
      subject: str(r.subject),
      outcome: str(r.outcome),
      direction: str(r.direction),
      event: str(r.event),
    });
  }
  return out;
}

/**
 * What the given customers declared about themselves up to `now`, from the facts table: disclosure is
 * measured on declared facts only — the current version of each fact the customer declared (or
 * confirmed), captured by `now`, neither forgotten nor rejected, and still remembered at the customer's
 * intimacy level (a fact a lowered level hides no longer counts, and one the level refused was never
 * stored). The evidence of a fact is the interaction it was said in, or the fact id when it was given
 * through the API or the portal.
 */
export async function declaredDisclosures(
  tx: Tx,
  workspaceId: string,
  customers: CustomerSet,
  now: Date,
): Promise<Map<string, Disclosure[]>> {
  const out = new Map<string, Disclosure[]>();
  if (isEmpty(customers)) return out;
  const result = await sql<Record<string, unknown>>`
    SELECT coalesce(f.interaction_id, f.fact_id) AS evidence, f.customer_id, f.key, f.captured_at,
           CASE WHEN f.key = 'life_event' THEN coalesce(f.value->>'event', f.key) ELSE f.key END AS label,
           CASE WHEN f.key = 'life_event' THEN NULL ELSE f.value END AS value
    FROM facts f
    JOIN customers c ON c.workspace_id = f.workspace_id AND c.id = f.customer_id
    WHERE f.workspace_id = ${workspaceId} AND ${customersIn('f.customer_id', customers)}
      AND f.superseded_at IS NULL AND f.source_kind = 'declared'
      AND f.status IN ('active', 'confirmed', 'expired')
      AND f.min_intimacy <= c.intimacy_level
      AND f.captured_at <= ${now.toISOString()}::timestamptz`.execute(tx);
  for (const r of result.rows) {
    pushTo(out, String(r.customer_id), {
      interactionId: String(r.evidence),
      kind: r.key === 'life_event' ? 'life_event' : 'preference',
      key: String(r.label),
      value: r.value ?? null,
      at: ms(r.captured_at),
    });
  }
  return out;
}

/** The newest rule table version, or undefined when the workspace keeps the default. */
export async function findActiveRuleTable(
  tx: Tx,
  workspaceId: string,
): Promise<{ version: number; rule_table: unknown; created_by: string; created_at: Date } | undefined> {
  return tx
    .selectFrom('relationship_rule_tables')
    .select(['version', 'rule_table', 'created_by', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Stores a new version of the rule table (the next number) and returns it. */
export async function insertRuleTable(
  tx: Tx,
  workspaceId: string,
  table: unknown,
  createdBy: string,
): Promise<{ version: number; created_at: Date }> {
  const result = await sql<{ version: number; created_at: Date }>`
    INSERT INTO relationship_rule_tables (workspace_id, version, rule_table, created_by)
    SELECT ${workspaceId}::uuid, coalesce(max(version), 0) + 1, ${JSON.stringify(table)}::jsonb, ${createdBy}
    FROM relationship_rule_tables WHERE workspace_id = ${workspaceId}
    RETURNING version, created_at`.execute(tx);
  const row = result.rows[0] as { version: number; created_at: Date };
  return { version: Number(row.version), created_at: row.created_at };
}

/** The workspace's stored intensity norm, or undefined before a first full recomputation. */
export async function findIntensityNorm(tx: Tx, workspaceId: string): Promise<number | undefined> {
  const row = await tx
    .selectFrom('relationship_norms')
    .select('intensity_norm')
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.intensity_norm);
}

/** The active rule table (undefined: the default) and the stored intensity norm, in one statement. */
export async function findRecomputeContext(
  tx: Tx,
  workspaceId: string,
): Promise<{
  rules: { version: number; rule_table: unknown; created_by: string; created_at: Date } | undefined;
  norm: number | undefined;
}> {
  const result = await sql<{ rules: Record<string, unknown> | null; norm: number | null }>`
    SELECT (SELECT jsonb_build_object('version', version, 'rule_table', rule_table, 'created_by', created_by,
                                      'created_at', created_at)
            FROM relationship_rule_tables WHERE workspace_id = ${workspaceId}
            ORDER BY version DESC LIMIT 1) AS rules,
           (SELECT intensity_norm FROM relationship_norms WHERE workspace_id = ${workspaceId}) AS norm`.execute(
    tx,
  );
  const row = result.rows[0];
  const rules = row?.rules ?? null;
  return {
    rules:
      rules === null
        ? undefined
        : {
            version: Number(rules.version),
            rule_table: rules.rule_table,
            created_by: String(rules.created_by),
            created_at: new Date(String(rules.created_at)),
          },
    norm: row?.norm === null || row?.norm === undefined ? undefined : Number(row.norm),
  };
}

/** The richness of a channel as a SQL CASE over `i.channel` (the same table the dimensions use). */
function richnessSql(): RawBuilder<number> {
  const cases = Object.entries(CHANNEL_RICHNESS).map(
    ([channel, weight]) => sql`WHEN ${channel} THEN ${weight}::float8`,
  );
  return sql<number>`(CASE i.channel ${sql.join(cases, sql` `)} ELSE 0.3::float8 END)`;
}

/**
 * Computes and stores the workspace's intensity norm: the median over active customers of their
 * decayed, richness-weighted customer-initiated activity (one aggregate over the interactions).
 */
export async function refreshIntensityNorm(
  tx: Tx,
  workspaceId: string,
  now: Date,
  fallback: number,
): Promise<{ norm: number; customers: number }> {
  const halfLifeMs = HALF_LIFE_DAYS.intensity * 86_400_000;
  const at = now.toISOString();
  const result = await sql<{ norm: number | null; customers: number }>`
    WITH per_customer AS (
      SELECT i.customer_id,
             sum(${richnessSql()} * power(2::float8,
                 -(extract(epoch FROM (${at}::timestamptz - i.occurred_at)) * 1000) / ${halfLifeMs}::float8)) AS raw
      FROM interactions i
      WHERE i.workspace_id = ${workspaceId} AND i.initiated_by = 'customer'
        AND i.occurred_at <= ${at}::timestamptz
      GROUP BY i.customer_id
    )
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY raw) AS norm, count(*)::int AS customers
    FROM per_customer WHERE raw > 0`.execute(tx);
  const row = result.rows[0];
  const norm = row?.norm === null || row?.norm === undefined ? fallback : Math.max(0.1, Number(row.norm));
  const customers = Number(row?.customers ?? 0);
  await sql`
    INSERT INTO relationship_norms (workspace_id, intensity_norm, customers, computed_at)
    VALUES (${workspaceId}, ${norm}, ${customers}, ${at}::timestamptz)
    ON CONFLICT (workspace_id) DO UPDATE
    SET intensity_norm = excluded.intensity_norm, customers = excluded.customers,
        computed_at = excluded.computed_at`.execute(tx);
  return { norm, customers };
}

/** A page of active (not merged) customer ids after `after`, in id order. */
export async function listActiveCustomerIds(
  tx: Tx,
  workspaceId: string,
  after: string | null,
  limit: number,
): Promise<string[]> {
  let query = tx
    .selectFrom('customers')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('merged_into', 'is', null);
  if (after !== null) query = query.where('id', '>', after);
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

/**
 * Which of the given customers are active (exist and are not merged into another), each with its
 * stored label and hysteresis state when it has a profile: one statement.
 */
export async function listActiveWithStates(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Map<string, ProfileStateRow | undefined>> {
  if (customerIds.length === 0) return new Map();
  const result = await sql<ProfileStateRow & { id: string }>`
    SELECT c.id, rp.customer_id, rp.archetype, rp.archetype_since, rp.candidate, rp.candidate_count,
           rp.candidate_since
    FROM customers c
    LEFT JOIN relationship_profiles rp
      ON rp.workspace_id = ${workspaceId} AND rp.customer_id = c.id
         AND rp.customer_id = ANY(${customerIds as string[]}::uuid[])
    WHERE c.workspace_id = ${workspaceId} AND c.id = ANY(${customerIds as string[]}::uuid[])
      AND c.merged_into IS NULL`.execute(tx);
  return new Map(
    result.rows.map((r) => [
      r.id,
      r.customer_id === null ? undefined : { ...r, candidate_count: Number(r.candidate_count) },
    ]),
  );
}

const STATE_COLUMNS = [
  'customer_id',
  'archetype',
  'archetype_since',
  'candidate',
  'candidate_count',
  'candidate_since',
] as const;

/** A customer's stored profile, or undefined. */
export async function findProfile(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<ProfileRow | undefined> {
  const row = await tx
    .selectFrom('relationship_profiles')
    .select([
      ...STATE_COLUMNS,
      'proposed',
      'rule_version',
      'dimensions',
      'reasons',
      'high_demand',
      'discretion',
      'computed_at',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  return row === undefined ? undefined : { ...row, candidate_count: Number(row.candidate_count) };
}

/** A customer's archetype changes, newest first. */
export async function listChanges(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  limit: number,
): Promise<ChangeRow[]> {
  return tx
    .selectFrom('relationship_changes')
    .select(['customer_id', 'changed_at', 'from_archetype', 'to_archetype', 'rule_version', 'reasons'])
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .orderBy('changed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** Profiles to write: one row per customer. */
export interface ProfileWrite {
  customerId: string;
  archetype: string;
  archetypeSince: Date;
  proposed: string;
  candidate: string | null;
  candidateCount: number;
  candidateSince: Date | null;
  ruleVersion: number;
  dimensions: unknown;
  reasons: unknown;
  highDemand: boolean;
  discretion: boolean;
}

/** Writes profiles (insert or replace) in one statement. */
export async function upsertProfiles(
  tx: Tx,
  workspaceId: string,
  rows: readonly ProfileWrite[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  await sql`
    INSERT INTO relationship_profiles (workspace_id, customer_id, archetype, archetype_since, proposed,
      candidate, candidate_count, candidate_since, rule_version, dimensions, reasons, high_demand,
      discretion, computed_at)
    SELECT ${workspaceId}::uuid, u.customer_id, u.archetype, u.archetype_since, u.proposed, u.candidate,
      u.candidate_count, u.candidate_since, u.rule_version, u.dimensions::jsonb, u.reasons::jsonb,
      u.high_demand, u.discretion, ${now.toISOString()}::timestamptz
    FROM unnest(${rows.map((r) => r.customerId)}::uuid[], ${rows.map((r) => r.archetype)}::text[],
      ${rows.map((r) => iso(r.archetypeSince))}::timestamptz[], ${rows.map((r) => r.proposed)}::text[],
      ${rows.map((r) => r.candidate)}::text[], ${rows.map((r) => r.candidateCount)}::smallint[],
      ${rows.map((r) => iso(r.candidateSince))}::timestamptz[], ${rows.map((r) => r.ruleVersion)}::int[],
      ${rows.map((r) => JSON.stringify(r.dimensions))}::text[], ${rows.map((r) => JSON.stringify(r.reasons))}::text[],
      ${rows.map((r) => r.highDemand)}::boolean[], ${rows.map((r) => r.discretion)}::boolean[])
      AS u(customer_id, archetype, archetype_since, proposed, candidate, candidate_count, candidate_since,
           rule_version, dimensions, reasons, high_demand, discretion)
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET
      archetype = excluded.archetype, archetype_since = excluded.archetype_since,
      proposed = excluded.proposed, candidate = excluded.candidate,
      candidate_count = excluded.candidate_count, candidate_since = excluded.candidate_since,
      rule_version = excluded.rule_version, dimensions = excluded.dimensions, reasons = excluded.reasons,
      high_demand = excluded.high_demand, discretion = excluded.discretion,
      computed_at = excluded.computed_at`.execute(tx);
}

/** A change to record. */
export interface ChangeWrite {
  customerId: string;
  from: string | null;
  to: string;
  ruleVersion: number;
  reasons: unknown;
}

/** Appends archetype changes in one statement. */
export async function insertChanges(
  tx: Tx,
  workspaceId: string,
  rows: readonly ChangeWrite[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO relationship_changes (workspace_id, customer_id, id, changed_at, from_archetype,
      to_archetype, rule_version, reasons)
    SELECT ${workspaceId}::uuid, u.customer_id, u.id, ${now.toISOString()}::timestamptz, u.from_archetype,
      u.to_archetype, u.rule_version, u.reasons::jsonb
    FROM unnest(${rows.map((r) => r.customerId)}::uuid[], ${rows.map(() => newId())}::uuid[],
      ${rows.map((r) => r.from)}::text[], ${rows.map((r) => r.to)}::text[],
      ${rows.map((r) => r.ruleVersion)}::int[], ${rows.map((r) => JSON.stringify(r.reasons))}::text[])
      AS u(customer_id, id, from_archetype, to_archetype, rule_version, reasons)`.execute(tx);
}

/** Removes the profiles of customers that are gone or merged into another (their history stays). */
export async function deleteProfiles(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const result = await tx
    .deleteFrom('relationship_profiles')
    .where('workspace_id', '=', workspaceId)
    .where(sql<boolean>`customer_id = ANY(${customerIds as string[]}::uuid[])`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** One row of the mix: an archetype, its customers and their value. */
export interface MixRow {
  archetype: string;
  customers: number;
  high_demand: number;
  discretion: number;
  valued: number;
  total_clv: number | null;
  total_spend: number | null;
}

/**
 * Customers per archetype among the customers `where` (conditions on `c`) lets through, with the sum
 * of value (CLV and spend, counted only for customers with a value profile in `currency`).
 */
export async function listMix(
  tx: Tx,
  workspaceId: string,
  where: readonly RawBuilder<unknown>[],
  currency: string | null,
): Promise<MixRow[]> {
  const conditions = sql.join(
    [sql`c.workspace_id = ${workspaceId}`, sql`c.merged_into IS NULL`, ...where],
    sql` AND `,
  );
  const inCurrency = currency === null ? sql`false` : sql`vp.currency = ${currency}`;
  const result = await sql<MixRow>`
    SELECT rp.archetype, count(*)::int AS customers,
           count(*) FILTER (WHERE rp.high_demand)::int AS high_demand,
           count(*) FILTER (WHERE rp.discretion)::int AS discretion,
           count(vp.customer_id) FILTER (WHERE ${inCurrency})::int AS valued,
           (sum(vp.clv) FILTER (WHERE ${inCurrency}))::float8 AS total_clv,
           (sum(vp.total_spend) FILTER (WHERE ${inCurrency}))::float8 AS total_spend
    FROM relationship_profiles rp
    JOIN customers c ON c.workspace_id = rp.workspace_id AND c.id = rp.customer_id
    LEFT JOIN value_profiles vp ON vp.workspace_id = rp.workspace_id AND vp.customer_id = rp.customer_id
    WHERE rp.workspace_id = ${workspaceId} AND ${conditions}
    GROUP BY rp.archetype
    ORDER BY rp.archetype`.execute(tx);
  return result.rows.map((r) => ({
    ...r,
    customers: Number(r.customers),
    high_demand: Number(r.high_demand),
    discretion: Number(r.discretion),
    valued: Number(r.valued),
    total_clv: r.total_clv === null ? null : Number(r.total_clv),
    total_spend: r.total_spend === null ? null : Number(r.total_spend),
  }));
}

/** Movements between archetypes since `since`, among the customers `where` lets through. */
export async function listMovements(
  tx: Tx,
  workspaceId: string,
  where: readonly RawBuilder<unknown>[],
  since: Date,
): Promise<{ from_archetype: string | null; to_archetype: string; customers: number }[]> {
  const conditions = sql.join(
    [sql`c.workspace_id = ${workspaceId}`, sql`c.merged_into IS NULL`, ...where],
    sql` AND `,
  );
  const result = await sql<{ from_archetype: string | null; to_archetype: string; customers: number }>`
    SELECT ch.from_archetype, ch.to_archetype, count(DISTINCT ch.customer_id)::int AS customers
    FROM relationship_changes ch
    JOIN customers c ON c.workspace_id = ch.workspace_id AND c.id = ch.customer_id
    WHERE ch.workspace_id = ${workspaceId} AND ch.changed_at >= ${since.toISOString()}::timestamptz
      AND ch.from_archetype IS NOT NULL AND ${conditions}
    GROUP BY ch.from_archetype, ch.to_archetype
    ORDER BY customers DESC, ch.from_archetype, ch.to_archetype`.execute(tx);
  return result.rows.map((r) => ({ ...r, customers: Number(r.customers) }));
}

/** The currency most value profiles of the workspace are in, or null without profiles. */
export async function findValueCurrency(tx: Tx, workspaceId: string): Promise<string | null> {
  const result = await sql<{ currency: string | null }>`
    SELECT currency FROM value_profiles WHERE workspace_id = ${workspaceId} AND currency IS NOT NULL
    GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1`.execute(tx);
  return result.rows[0]?.currency ?? null;
}
