/**
 * Consent and the customer's own choices (SPEC §5.3, §6): the append-only consent ledger per purpose
 * (and optionally channel) with its current-state projection, the intimacy level with its history,
 * restriction of processing and objections to purposes. Owns `consent_records`, `consent_state`,
 * `intimacy_changes`, `privacy_flag_changes` and the privacy columns of `customers`. It records and
 * answers; it must not decide access (policy/ does) or open transactions of its own.
 */

export {
  /** Schemas of the consent, intimacy and privacy-flag requests and responses. */
  ConsentRecordSchema,
  ConsentStateSchema,
  PrivacyFlagBody,
  PrivacyStateSchema,
  RecordConsentBody,
  SetIntimacyBody,
} from './consent.schema.ts';
export {
  /** A consent reported by a source system, for `recordConsentEvents`. */
  type ConsentEvent,
  /** A broken rule of the consent ledger: code, message and the field at fault. */
  type ConsentProblem,
  /** What the ledger's rules read of a consent. */
  type ConsentTerms,
  /** Restricts processing, lifts it, objects to a purpose or withdraws an objection. */
  changePrivacyFlag,
  /** The first rule of the consent ledger a consent breaks, or undefined (pure). */
  checkConsent,
  /** A customer who never said anything. */
  DEFAULT_SUBJECT,
  /** A customer's current consents and ledger. */
  getConsents,
  /** A customer's current consents, without the ledger. */
  getCurrentConsents,
  /** A customer's intimacy level, restriction and objections, with history. */
  getPrivacyState,
  /** What the access decision needs of each customer. */
  loadPrivacySubjects,
  /** The purposes' lawful bases and opt-in rules, from the workspace's taxonomy. */
  type PurposeRules,
  /** Appends a consent record; the current state follows at once. */
  recordConsent,
  /** Appends many reported consents at once; the current state follows the latest effective ones. */
  recordConsentEvents,
  /** Sets the customer's intimacy level. */
  setIntimacyLevel,
} from './consent.service.ts';
export {
  /** One entry of the consent ledger. */
  type ConsentRecord,
  /** The current consent for one purpose and channel. */
  type ConsentStateEntry,
  /** granted, denied or withdrawn. */
  type ConsentStatus,
  /** The intimacy levels 0–4. */
  type IntimacyLevel,
  /** The most restrictive of two consents for a purpose: what survives a merge. */
  mergeConsentFacts,
  /** What the access decision needs to know of one customer. */
  type PrivacySubject,
  /** The current state of a consent ledger. */
  projectConsentLedger,
} from './consent.ts';
