import type { Tx } from '../db/index.ts';
import { insertEvents } from './event.repository.ts';
import type { EventType, NewEvent } from './event.ts';

/**
 * Records one event in the caller's transaction: it exists if and only if that transaction commits.
 * The workspace is the transaction's own. Returns the event's id.
 */
export async function recordEvent<T extends EventType>(tx: Tx, event: NewEvent<T>): Promise<string> {
  const [id] = await insertEvents(tx, [event as NewEvent]);
  return id as string;
}

/** Records several events in one statement, in the order given (their order per customer too). */
export function recordEvents(tx: Tx, events: readonly NewEvent[]): Promise<string[]> {
  return insertEvents(tx, events);
}
