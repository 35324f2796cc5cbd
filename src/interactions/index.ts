/**
 * Interactions: every event in a customer's life with the company (purchases, complaints, calls, stated
 * preferences, …), ingested one at a time, in batches or by bulk import, idempotent per
 * `(source, externalId)`, and read back one by one, as a customer's timeline or as an export scan.
 * Owns the `interactions` table and the validation rules of each interaction type. It must not edit or
 * delete a stored interaction (they are append-only: corrections are new events or privacy operations),
 * read or write other domains' tables (customers are resolved through the customers domain), import
 * adapters (api/, cli/), or open transactions: every function takes the caller's.
 */

export {
  /** One customer's count of one value of one behaviour. */
  type BehaviourRow,
  /** Counts, per customer, the values of the behaviours facts are derived from (one scan). */
  countBehaviour,
} from './behaviour.repository.ts';
export {
  /** Deletes the customers' interactions, or keeps only what the books need (erasure). */
  eraseInteractionsOfCustomers,
} from './interaction.erasure.ts';
export type { ValidationOutcome } from './interaction.schema.ts';
/** The built-in interaction types and the rules each must satisfy (the table is in interaction.schema.ts). */
/** JSON schema of one interaction as sent to ingest, for API documentation. */
/** Life events a `life_event_declared` interaction may declare. */
/** Validates one interaction (pure, never throws): the normalised input or `{path, message}` problems. */
/** Validates many interactions, reporting item `i` under `interactions[i]`. */
/** Reads an ISO 8601 timestamp with a zone into epoch milliseconds, or undefined (strict). */
export {
  BUILT_IN_TYPES,
  InteractionInputSchema,
  LIFE_EVENTS,
  parseTimestamp,
  validateInteraction,
  validateInteractions,
} from './interaction.schema.ts';
export type { IngestOptions } from './interaction.service.ts';
/** Stores validated interactions idempotently, resolving their customers; one result per item. */
/** One interaction of the caller's workspace, or INTERACTION_NOT_FOUND. */
/** A page of a customer's timeline with keyset pagination, or CUSTOMER_NOT_FOUND. */
/** The workspace's interactions in id order after a given id: the export's scan. */
export {
  getInteraction,
  getTimeline,
  ingestInteractions,
  listInteractionsForExport,
} from './interaction.service.ts';
export type {
  IngestResult,
  InitiatedBy,
  Interaction,
  InteractionCustomerRef,
  InteractionInput,
  ItemError,
  LineItem,
  TimelineOptions,
  TimelineOrder,
  TimelinePage,
} from './interaction.ts';
/** Largest number of interactions one ingest call accepts (10,000). */
/** Turns an exported interaction back into an ingest item naming its customer by id. */
/** The data category of an interaction type (built-in table; custom types are `service`). */
export { categoryOfType, MAX_BATCH_ITEMS, TYPE_CATEGORIES, toIngestItem } from './interaction.ts';
/** The storage policy an ingest applies, and what it changed in an item. */
export type { Minimised, StoragePolicy } from './minimize.ts';
