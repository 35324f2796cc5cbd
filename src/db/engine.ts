import type { Kysely } from 'kysely';
import type { DB } from './schema.ts';

/** Which engine a query builder talks to, for the few places that speak to each differently. */
const servers = new WeakSet<Kysely<DB>>();

/** Marks a query builder as connected to a PostgreSQL server (not the embedded engine). */
export function markServer(db: Kysely<DB>): void {
  servers.add(db);
}

/** True when the query builder talks to a PostgreSQL server. */
export function isServer(db: Kysely<DB>): boolean {
  return servers.has(db);
}
