import { createServer } from 'node:http';
import pg from 'pg';

/**
 * The baseline for read benchmarks: the same timeline (or prefill) data read by one hand-written SQL query on a
 * bare HTTP server (no framework, no authentication, no row-level security), so the ratio against
 * Cornerstore measures what the product's layers cost.
 */

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const workspaceId = process.env.BENCH_WORKSPACE_ID ?? '';

const prefillSql = process.env.BENCH_PREFILL_SQL ?? '';

/** The prefill baseline: the same values by one hand-written query, answered as the API shapes them. */
async function prefill(id: string): Promise<unknown> {
  const { rows } = await pool.query(prefillSql, [workspaceId, id]);
  const row = rows[0];
  if (!row) return { values: {}, withheld: [], unknown: [] };
  const values: Record<string, unknown> = {};
  if (row.given_name !== null) values.givenName = { value: row.given_name, from: 'customer' };
  if (row.family_name !== null) values.familyName = { value: row.family_name, from: 'customer' };
  if (row.address !== null) values.address = { value: JSON.parse(row.address), from: 'customer' };
  const language = row.language_fact ?? row.language;
  if (language !== null) values.language = { value: language, from: row.language_fact ? 'fact' : 'customer' };
  return { values, withheld: [{ field: 'birthday', reason: 'FACT_NOT_FOR_PURPOSE' }], unknown: [] };
}

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
  const match = req.url?.match(/^\/timeline\/([0-9a-f-]{36})/);
  if (!match?.[1]) {
    res.writeHead(404).end();
    return;
  }
  try {
    const { rows } = await pool.query(
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
