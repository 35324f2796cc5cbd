import type { Kysely } from 'kysely';
import type { DB } from '../db/index.ts';
import { readHits, recordHit } from './rate-limit.repository.ts';

/**
 * A store for the rate-limit plugin that counts in the database (`rate_limit_windows`), for servers on
 * PostgreSQL: any number of nodes behind a load balancer share one count per API key, so a key's limit
 * is its limit whichever node it reaches. The embedded engine keeps the plugin's in-memory store (one
 * process holds the data directory anyway).
 */

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** The plugin constructs its store from a class; this one is bound to the database it counts in. */
export function databaseRateLimitStore(db: Kysely<DB>) {
  return class DatabaseRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      recordHit(db, key, timeWindow).then(
        (count) => callback(null, { current: count.hits, ttl: count.ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    read(key: string, callback: Callback, timeWindow: number): void {
      readHits(db, key, timeWindow).then(
        (count) => callback(null, { current: count.hits, ttl: count.ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(): DatabaseRateLimitStore {
      return new DatabaseRateLimitStore();
    }
  };
}
