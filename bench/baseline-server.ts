import { createServer } from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * The baseline for read benchmarks: the same timeline (or prefill, or 360) data read by one hand-written SQL
 * query on a
 * bare HTTP server (no framework, no authentication, no row-level security), so the ratio against
 * Cornerstore measures what the product's layers cost. On the PostgreSQL server named by DATABASE_URL, or
 * with BENCH_DATA_DIR on the embedded engine's data directory (the same engine as the product's run).
 */

interface Engine {
  query<T extends Record<string, unknown>>(text: string, params: unknown[]): Promise<{ rows: T[] }>;
  end(): Promise<void>;
}

interface TimelineRow extends Record<string, unknown> {
  id: string;
  customer_id: string;
  type: string;
  channel: string;
  initiated_by: string;
  occurred_at: Date;
  source: string;
  external_id: string;
  amount: string | number | null;
  currency: string | null;
  sentiment: string | null;
  text: string | null;
  line_items: unknown;
  properties: unknown;
  received_at: Date;
}

async function openEngine(): Promise<Engine> {
  const dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const client = await PGlite.create(dataDir);
  return {
    query: <T>(text: string, params: unknown[]) => client.query<T>(text, params),
    end: () => client.close(),
  };
}

const pool = await openEngine();
const workspaceId = process.env.BENCH_WORKSPACE_ID ?? '';

const prefillSql = process.env.BENCH_PREFILL_SQL ?? '';

/** The prefill baseline: the same values by one hand-written query, answered as the API shapes them. */
async function prefill(id: string): Promise<unknown> {
  const { rows } = await pool.query<Record<string, string | null>>(prefillSql, [workspaceId, id]);
  const row = rows[0];
  if (!row) return { values: {}, withheld: [], unknown: [] };
  const values: Record<string, unknown> = {};
  if (row.given_name !== null) values.givenName = { value: row.given_name, from: 'customer' };
  if (row.family_name !== null) values.familyName = { value: row.family_name, from: 'customer' };
  if (row.address != null) values.address = { value: JSON.parse(row.address), from: 'customer' };
  const language = row.language_fact ?? row.language;
  if (language !== null) values.language = { value: language, from: row.language_fact ? 'fact' : 'customer' };
  return { values, withheld: [{ field: 'birthday', reason: 'FACT_NOT_FOR_PURPOSE' }], unknown: [] };
}

/**
 * The customer 360 as one hand-written statement: the customer row, its contact points, identities and
 * current field values, value profile, current consents, newest 50 interactions and segment memberships,
 * aggregated to JSON by the database.
 */
const VIEW_360 = `
  SELECT json_build_object(
    'customer', (SELECT to_jsonb(c) FROM customers c WHERE c.workspace_id = $1 AND c.id = $2),
    'contactPoints', (SELECT coalesce(json_agg(p ORDER BY p.created_at, p.id), '[]') FROM contact_points p
                       WHERE p.workspace_id = $1 AND p.customer_id = $2),
    'identities', (SELECT coalesce(json_agg(i ORDER BY i.created_at), '[]') FROM customer_identities i
                    WHERE i.workspace_id = $1 AND i.customer_id = $2),
    'provenance', (SELECT coalesce(json_agg(f ORDER BY f.field), '[]') FROM customer_field_values f
                    WHERE f.workspace_id = $1 AND f.customer_id = $2 AND f.superseded_at IS NULL),
    'value', (SELECT to_jsonb(v) FROM value_profiles v WHERE v.workspace_id = $1 AND v.customer_id = $2),
    'consents', (SELECT coalesce(json_agg(s ORDER BY s.purpose, s.channel), '[]') FROM consent_state s
                  WHERE s.workspace_id = $1 AND s.customer_id = $2),
    'interactions', (SELECT coalesce(json_agg(x), '[]') FROM (
                      SELECT id, customer_id, type, channel, initiated_by, occurred_at, source, external_id, amount,
                             currency, sentiment, text, line_items, properties, received_at
                        FROM interactions WHERE workspace_id = $1 AND customer_id = $2
                       ORDER BY occurred_at DESC, id DESC LIMIT 50) x),
    'segments', (SELECT coalesce(json_agg(json_build_object('id', g.id, 'name', g.name, 'since', m.since)), '[]')
                   FROM segment_members m JOIN segments g ON g.workspace_id = m.workspace_id AND g.id = m.segment_id
                  WHERE m.workspace_id = $1 AND m.customer_id = $2)
  ) AS view`;

const server = createServer(async (req, res) => {
  const prefillMatch = req.url?.match(/^\/prefill\/([0-9a-f-]{36})/);
  if (prefillMatch?.[1]) {
    try {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(await prefill(prefillMatch[1])));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
    return;
  }
  const view = req.url?.match(/^\/360\/([0-9a-f-]{36})/);
  if (view?.[1]) {
    try {
      const { rows } = await pool.query<{ view: unknown }>(VIEW_360, [workspaceId, view[1]]);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows[0]?.view ?? null));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
    return;
  }
  const match = req.url?.match(/^\/timeline\/([0-9a-f-]{36})/);
  if (!match?.[1]) {
    res.writeHead(404).end();
    return;
  }
  try {
    const { rows } = await pool.query<TimelineRow>(
      `SELECT id, customer_id, type, channel, initiated_by, occurred_at, source, external_id, amount, currency,
              sentiment, text, line_items, properties, received_at
         FROM interactions
        WHERE workspace_id = $1 AND customer_id = $2
        ORDER BY occurred_at DESC, id DESC
        LIMIT 50`,
      [workspaceId, match[1]],
    );
    const interactions = rows.map((r) => ({
      id: r.id,
      customerId: r.customer_id,
      type: r.type,
      channel: r.channel,
      initiatedBy: r.initiated_by,
      occurredAt: r.occurred_at.toISOString(),
      source: r.source,
      externalId: r.external_id,
      amount: r.amount === null ? null : Number(r.amount),
      currency: r.currency,
      sentiment: r.sentiment,
      text: r.text,
      lineItems: r.line_items,
      properties: r.properties,
      receivedAt: r.received_at.toISOString(),
    }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ interactions }));
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
