/**
 * Customers: the golden record (names, language, birth date) with the provenance of every field value,
 * external identities `(source, external id)` unique per workspace, email, phone and postal-address contact
 * points normalised (E.164 in the workspace's region), list and search, export and restore, and the
 * resolution of customer references for ingest. Owns the tables `customers`, `customer_field_values`,
 * `customer_identities` and `contact_points`. It must not read or write interactions or any other
 * domain's tables, import adapters (api/, cli/), or open transactions of its own: every function takes
 * the caller's transaction, confined to one workspace.
 */
export {
  /** A normalised value, or the problem (code, JSON path, message) that prevented it. */
  type Normalised,
  /** Validates a birth date: a real calendar date YYYY-MM-DD, not in the future. */
  normaliseBirthDate,
  /** Trims, lower-cases and validates an email address (EMAIL_INVALID). */
  normaliseEmail,
  /** Canonicalises a language tag such as "en" or "es-MX" (LANGUAGE_INVALID). */
  normaliseLanguage,
  /** Trims a name and collapses inner whitespace; empty is null. */
  normaliseName,
  /** Reads a phone number into E.164 with a default region (PHONE_INVALID). */
  normalisePhone,
  /** Validates a postal address into its canonical stored form (ADDRESS_INVALID). */
  normalisePostalAddress,
  /** A postal address: lines, town, region, postcode, ISO 3166 country. */
  type PostalAddress,
  /** The address of a stored `address` contact point. */
  parsePostalAddress,
} from './contact.ts';
export {
  /** Clears the customers' golden records; deletes contact points, identities and field values (erasure). */
  eraseCustomerRecords,
  /** Lifts the suppression of identifiers: the person returns by their own choice. */
  liftSuppression,
  /** The customers' identifiers (contact points, external identities), for the suppression list. */
  listCustomerIdentifiers,
  /** An identifier as the suppression list hashes it. */
  type SuppressibleIdentifier,
  /** Adds keyed hashes of identifiers to the suppression list. */
  suppressIdentifiers,
} from './customer.erasure.ts';
export {
  /** TypeBox schema of the body of POST /v1/customers. */
  CreateCustomerBody,
  /** TypeBox schemas of the list and search query parameters. */
  CustomerQuerySchema,
  /** TypeBox schema of a customer as read. */
  CustomerSchema,
  /** A customer as exported: JSON-serialisable, everything needed to restore it. */
  type ExportedCustomer,
  /** TypeBox schema of an exported customer, for validating an import. */
  ExportedCustomerSchema,
  /** TypeBox schema of one entry of a customer's field history. */
  FieldHistoryEntrySchema,
  /** TypeBox schema of an identity in requests. */
  IdentitySchema,
  /** TypeBox schema of the body of POST /v1/customers/{id}/moves. */
  MoveCustomerBody,
  /** TypeBox schema of the body of PATCH /v1/customers/{id}. */
  PatchCustomerBody,
  /** Validates one record of an export file, throwing EXPORT_RECORD_INVALID with JSON paths. */
  parseExportedCustomer,
} from './customer.schema.ts';
export {
  /** A page of customers with the cursor of the next one. */
  type CustomerPage,
  /** What a list or search asks for. */
  type CustomerQuery,
  /** Creates a customer with provenance, contact points and identities (409 IDENTITY_TAKEN). */
  createCustomer,
  /** Creates several customers in a few multi-row statements; problems at `customers[i].…`. */
  createCustomers,
  /** The 404-class CUSTOMER_MERGED error for a merged-away id, with `details.mergedInto`. */
  customerMergedError,
  /** One value in a customer's field history. */
  type FieldHistoryEntry,
  /** The surviving customer a merged-away id stands for (following merge chains), or undefined. */
  findMergedInto,
  /** A customer by id, or CUSTOMER_NOT_FOUND (also for other workspaces' ids). */
  getCustomer,
  /** Lists customers in creation order, or searches them ranked with `q`, with exact filters. */
  listCustomers,
  /** Every value each golden-record field of a customer has had, newest first. */
  listFieldHistory,
  /** A move: the new address, from when, and where the customer said it. */
  type MoveInput,
  /** Records a move: the current addresses end, the new one holds from the moving date. */
  moveCustomer,
  /** Changes a customer: fields set or cleared with provenance, contact points and identities added or removed. */
  updateCustomer,
} from './customer.service.ts';
export {
  /** An email or phone as given: a string or `{ value, verified }`. */
  type ContactInput,
  /** 'email', 'phone' or 'address'. */
  type ContactKind,
  /** An email or phone of a customer with its source and verification. */
  type ContactPoint,
  /** A customer as read: golden record, contact points, identities, provenance. */
  type Customer,
  /** What a caller may say about a new customer. */
  type CustomerInput,
  /** A change to a customer. */
  type CustomerPatch,
  /** A reference to a customer in an incoming event: id, identity, email or phone. */
  type CustomerRef,
  /** Where a golden-record field's current value came from. */
  type FieldProvenance,
  /** The golden-record fields that carry provenance. */
  GOLDEN_FIELDS,
  /** One of the golden-record fields. */
  type GoldenField,
  /** A `(source, externalId)` pair. */
  type Identity,
} from './customer.ts';
export {
  /** The next customers after an id (null: from the start), by id, with everything needed to restore them. */
  listCustomersForExport,
  /** Restores exported customers with their ids; ids already in the workspace are skipped. */
  restoreCustomers,
} from './export.service.ts';
export {
  /** The outcome for one reference: the customer id (and whether it was created) or the error. */
  type ResolvedRef,
  /** Workspace, region, auto-creation setting, actor label and source of a resolution. */
  type ResolveOptions,
  /** Resolves many customer references at once, creating customers for unknown identities when allowed. */
  resolveCustomerRefs,
} from './resolver.service.ts';
