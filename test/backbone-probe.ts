import { type Kysely, sql } from 'kysely';
import type { DB } from '../src/db/index.ts';
import type { Subscriber } from '../src/jobs/index.ts';

/**
 * A subscriber whose every handling leaves a durable mark: a row per event in a table of its own
 * schema (outside the application's, so the catalogue tests never see it), with a primary key on the
 * event, so handling one event twice fails loudly. Used by the PostgreSQL tests of the backbone.
 */

/** Creates the probe's schema and table, readable and writable by the tenant role. */
export async function createProbeTable(db: Kysely<DB>): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS backbone_probe`.execute(db);
  await sql`
    CREATE TABLE IF NOT EXISTS backbone_probe.handled (
      event_id uuid PRIMARY KEY, workspace_id uuid NOT NULL, worker text NOT NULL)`.execute(db);
  await sql`GRANT USAGE ON SCHEMA backbone_probe TO cornerstore_app`.execute(db);
  await sql`GRANT SELECT, INSERT ON backbone_probe.handled TO cornerstore_app`.execute(db);
}

/** The probe subscriber: marks each event, taking `delayMs` per event (a slow subscriber). */
export function probeSubscriber(
  worker: string,
  delayMs: number,
  onHandle?: (eventId: string) => Promise<void>,
): Subscriber {
  return {
    name: 'probe',
    purpose: 'analytics',
    events: ['customer_created'],
    async handle(tx, event) {
      await onHandle?.(event.id);
      await sql`INSERT INTO backbone_probe.handled (event_id, workspace_id, worker)
                VALUES (${event.id}, ${event.workspaceId}, ${worker})`.execute(tx);
      if (delayMs > 0) await sql`SELECT pg_sleep(${delayMs / 1000})`.execute(tx);
    },
  };
}
