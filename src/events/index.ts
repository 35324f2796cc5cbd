/**
 * The event backbone's outbox: domain events appended in the writer's own transaction (an event exists
 * if and only if its change committed), ordered by a sequence, claimed for dispatch without two workers
 * ever taking the same one, pruned after their retention. It owns `events`. It uses nothing but `db/`
 * and `shared/`, so any domain may record events; it never calls a subscriber (that is `jobs/`).
 */

/** Claiming, marking, measuring and pruning the queue (for the dispatcher in jobs/). */
export {
  claimPendingEvents,
  findEvents,
  measureEventQueue,
  pruneDispatchedEvents,
} from './event.repository.ts';
/** Appends events in the caller's transaction. */
export { recordEvent, recordEvents } from './event.service.ts';
/** Event types, payloads and the event subscribers receive. */
export {
  type DomainEvent,
  EVENT_TYPES,
  type EventPayloads,
  type EventType,
  isEventType,
  type NewEvent,
} from './event.ts';
