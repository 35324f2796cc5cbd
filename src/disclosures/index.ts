/**
 * Recipients and disclosures (SPEC §5.5): the registry of parties personal data leaves to (partners,
 * processors, export files, webhooks, integration keys) and the append-only ledger of what each
 * received, about whom, why and on which basis — the ledger corrections will travel along. Owns
 * `recipients` and `disclosures`. It must not decide whether a disclosure is allowed (policy/ does).
 */

export {
  /** Schemas of the recipient and disclosure requests and responses. */
  CreateRecipientBody,
  DisclosureSchema,
  RecipientSchema,
} from './disclosure.schema.ts';
export {
  /** What registering a recipient takes. */
  type CreateRecipientInput,
  /** Registers a recipient. */
  createRecipient,
  /** A recipient by id or name, or RECIPIENT_NOT_FOUND. */
  getRecipient,
  /** A customer's disclosures, newest first. */
  listDisclosures,
  /** Every recipient of the workspace. */
  listRecipients,
  /** The recipient standing for an integration key, registered on first use. */
  recipientForKey,
  /** Appends disclosures to the ledger. */
  recordDisclosures,
} from './disclosure.service.ts';
export {
  /** A disclosure as a customer sees it. */
  type Disclosure,
  /** One disclosure to record. */
  type DisclosureEntry,
  /** The kinds of recipient. */
  RECIPIENT_KINDS,
  /** A party personal data leaves to. */
  type Recipient,
} from './disclosure.ts';
