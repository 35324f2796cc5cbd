import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/** All SQL of recommendations: what training reads, the stored model and lists, the serving read. */

/** Purchases and returns of one customer, one item, one day (UTC), as training reads them. */
export interface ItemDayRow {
  customer_id: string;
  item: string;
  name: string | null;
  day: number;
  bought: number;
  returned: number;
}

/**
 * Line items of purchases and returns up to `until` (exclusive), per customer, item and UTC day:
 * quantities bought and returned. No join: the customers left out of training are passed in (a short
 * list) and filtered here by an anti-condition on an array.
 */
export async function listItemDays(
  tx: Tx,
  workspaceId: string,
  until: Date,
  excluded: readonly string[],
): Promise<ItemDayRow[]> {
  const result = await sql<ItemDayRow>`
    SELECT i.customer_id, li->>'sku' AS item, max(li->>'name') AS name,
      floor(extract(epoch FROM i.occurred_at) / 86400)::int AS day,
      coalesce(sum(CASE WHEN i.type = 'purchase' THEN (li->>'quantity')::float8 END), 0)::float8 AS bought,
      coalesce(sum(CASE WHEN i.type = 'return' THEN (li->>'quantity')::float8 END), 0)::float8 AS returned
    FROM interactions i, jsonb_array_elements(
      CASE WHEN jsonb_typeof(i.line_items) = 'array' THEN i.line_items ELSE '[]'::jsonb END) li
    WHERE i.workspace_id = ${workspaceId} AND i.type IN ('purchase', 'return') AND i.line_items IS NOT NULL
      AND i.occurred_at < ${until.toISOString()}::timestamptz
      AND NOT (i.customer_id = ANY (${excluded as string[]}::uuid[]))
      AND li->>'sku' IS NOT NULL
    GROUP BY 1, 2, 4`.execute(tx);
  return result.rows;
}

/**
 * Customers whose data stays out of training (SPEC §10): those who restricted processing or objected
 * to personalization; merged-away rows hold no interactions of their own.
 */
export async function listExcludedFromTraining(tx: Tx, workspaceId: string): Promise<string[]> {
  const rows = await tx
    .selectFrom('customers')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      eb.or([
        eb('processing_restricted', '=', true),
        eb(sql<boolean>`objections @> ARRAY['personalization']::text[]`, '=', true),
      ]),
    )
    .execute();
  return rows.map((r) => r.id);
}

/** A stored suggestion, with the names its sentence quotes. */
export interface StoredSuggestion {
  item: string;
  name: string;
  score: number;
  reason: string;
  because: string | null;
  becauseName: string | null;
  cadenceDays?: number;
  times?: number;
}

/** The stored model. */
export interface StoredModel {
  trainedAt: Date;
  asOf: string;
  params: Record<string, unknown>;
  stats: Record<string, unknown>;
  popular: { item: string; name: string }[];
}

const CHUNK = 5_000;

/** Replaces the workspace's model and every list (customers without a list lose theirs). */
export async function replaceRecommendations(
  tx: Tx,
  workspaceId: string,
  model: StoredModel,
  lists: readonly { customerId: string; own: StoredSuggestion[]; collective: StoredSuggestion[] }[],
): Promise<void> {
  await tx.deleteFrom('recommendation_lists').where('workspace_id', '=', workspaceId).execute();
  await sql`
    INSERT INTO recommendation_models (workspace_id, trained_at, as_of, params, stats, popular)
    VALUES (${workspaceId}, ${model.trainedAt.toISOString()}, ${model.asOf}, ${JSON.stringify(model.params)},
      ${JSON.stringify(model.stats)}, ${JSON.stringify(model.popular)})
    ON CONFLICT (workspace_id) DO UPDATE SET trained_at = excluded.trained_at, as_of = excluded.as_of,
      params = excluded.params, stats = excluded.stats, popular = excluded.popular`.execute(tx);
  for (let start = 0; start < lists.length; start += CHUNK) {
    const part = lists.slice(start, start + CHUNK);
    await sql`
      INSERT INTO recommendation_lists (workspace_id, customer_id, own, collective)
      SELECT ${workspaceId}::uuid, u.customer_id, u.own, u.collective
      FROM unnest(${part.map((l) => l.customerId)}::uuid[], ${part.map((l) => JSON.stringify(l.own))}::jsonb[],
        ${part.map((l) => JSON.stringify(l.collective))}::jsonb[]) AS u(customer_id, own, collective)`.execute(
      tx,
    );
  }
}

/** The workspace's model, if it was ever trained. */
export async function findRecommendationModel(tx: Tx, workspaceId: string): Promise<StoredModel | undefined> {
  const row = await tx
    .selectFrom('recommendation_models')
    .select(['trained_at', 'as_of', 'params', 'stats', 'popular'])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    trainedAt: row.trained_at,
    asOf: row.as_of,
    params: row.params,
    stats: row.stats,
    popular: row.popular,
  };
}

/** One customer's lists, if training made any. */
export async function findRecommendationLists(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<{ own: StoredSuggestion[]; collective: StoredSuggestion[] } | undefined> {
  const row = await tx
    .selectFrom('recommendation_lists')
    .select(['own', 'collective'])
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { own: row.own as StoredSuggestion[], collective: row.collective as StoredSuggestion[] };
}
