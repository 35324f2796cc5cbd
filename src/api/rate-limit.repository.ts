import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/index.ts';

/** The request counts of rate limiting in the database, so every node of one database counts together. */

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  hits: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

/**
 * Counts one request of `key` in the current fixed window of `windowMs` (by the database's clock, so
 * nodes with skewed clocks still share windows) in one statement, and answers the count.
 */
export async function recordHit(db: Kysely<DB>, key: string, windowMs: number): Promise<WindowCount> {
  const { rows } = await sql<{ hits: number; ttl_ms: number }>`
    INSERT INTO rate_limit_windows AS w (key, window_start, hits)
    VALUES (${key}, date_bin(make_interval(secs => ${windowMs}::float8 / 1000), now(), timestamptz 'epoch'), 1)
    ON CONFLICT (key) DO UPDATE
      SET hits = CASE WHEN w.window_start = EXCLUDED.window_start THEN w.hits + 1 ELSE 1 END,
          window_start = EXCLUDED.window_start
    RETURNING hits,
      greatest(0, ceil(extract(epoch FROM window_start + make_interval(secs => ${windowMs}::float8 / 1000) - now())
        * 1000))::int AS ttl_ms`.execute(db);
  const row = rows[0];
  return { hits: row?.hits ?? 1, ttlMs: row?.ttl_ms ?? windowMs };
}

/** The count of `key` in the current window, without counting; zero when it has none. */
export async function readHits(db: Kysely<DB>, key: string, windowMs: number): Promise<WindowCount> {
  const { rows } = await sql<{ hits: number; ttl_ms: number }>`
    SELECT hits,
      greatest(0, ceil(extract(epoch FROM window_start + make_interval(secs => ${windowMs}::float8 / 1000) - now())
        * 1000))::int AS ttl_ms
    FROM rate_limit_windows
    WHERE key = ${key}
      AND window_start = date_bin(make_interval(secs => ${windowMs}::float8 / 1000), now(), timestamptz 'epoch')`.execute(
    db,
  );
  const row = rows[0];
  return row ? { hits: row.hits, ttlMs: row.ttl_ms } : { hits: 0, ttlMs: 0 };
}
