/**
 * Domain events: what happened, to which customer, named by ids and field names only. A payload never
 * carries a personal value (a name, an email, an amount's description): a subscriber that needs one
 * reads the current value through the governed layer, so a later erasure or correction never leaves a
 * stale copy travelling in an event.
 */

/** Every event type a domain may record; closed, so a subscriber names only types that exist. */
export const EVENT_TYPES = [
  'customer_created',
  'interaction_recorded',
  'consent_changed',
  'customers_merged',
  'customer_unmerged',
  'field_rectified',
  'name_corrected',
  'fact_corrected',
  'moment_action_ready',
] as const;

/** A domain event's type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** The payload of each event type: ids, field names, statuses and times, never personal values. */
export interface EventPayloads {
  customer_created: { customerId: string; source: string };
  interaction_recorded: {
    interactionId: string;
    customerId: string;
    interactionType: string;
    source: string;
  };
  consent_changed: {
    consentRecordId: string;
    customerId: string;
    purpose: string;
    status: string;
    channel: string | null;
  };
  customers_merged: { mergeId: string; survivorId: string; absorbedId: string; origin: string };
  customer_unmerged: { mergeId: string; survivorId: string; absorbedId: string };
  field_rectified: {
    customerId: string;
    field: string;
    source: string;
    rectifiedBy: string;
    rectifiedAt: string;
  };
  name_corrected: {
    customerId: string;
    field: string;
    source: string;
    rectifiedBy: string;
    rectifiedAt: string;
  };
  /** A fact corrected by the customer (a rectification): the fact and its key, never the value. */
  fact_corrected: {
    customerId: string;
    factId: string;
    key: string;
    source: string;
    correctedBy: string;
    correctedAt: string;
  };
  /** A next-best action due for delivery by a messaging system (fetch it by id: GET /v1/tasks/{id}). */
  moment_action_ready: {
    actionId: string;
    customerId: string;
    action: string;
    channel: string;
    purpose: string;
    dataPurpose: string;
  };
}

/** An event as subscribers receive it. */
export interface DomainEvent {
  id: string;
  workspaceId: string;
  type: EventType;
  customerId: string | null;
  payload: Readonly<Record<string, unknown>>;
  occurredAt: Date;
}

/** An event to record: its type, the customer it is about (null: none) and its payload. */
export interface NewEvent<T extends EventType = EventType> {
  type: T;
  customerId: string | null;
  payload: EventPayloads[T];
}

/** Whether a string names an event type. */
export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
