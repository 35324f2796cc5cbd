/**
 * Policy: the pure core of data governance (SPEC §4, §5.1, §5.2, §6). Owns the data taxonomy (categories
 * with their storage policy, minimum intimacy and identifier flag; purposes with their lawful basis; the
 * role → purposes table, taken from shared/access.ts) and its workspace extensions, the one access
 * decision `decide` with its compiled form for bulk paths, and the minimisation of payloads at ingest
 * (do-not-store keys, keyed hashes, masking of card numbers and national ids in free text). Everything
 * here is a pure function of its arguments: it must not read the database, the clock or the environment,
 * and must not import adapters or other domains. Callers load consents and settings and pass them in.
 */

export {
  /** The purposes of SPEC §4. */
  PURPOSES,
  /** One of the purposes of SPEC §4. */
  type Purpose,
  /** The role → purposes table (the source the taxonomy is built from). */
  ROLE_PURPOSES,
  /** The roles. */
  ROLES,
  /** A role. */
  type Role,
} from '../shared/access.ts';
export {
  /** Applies the compiled form to one customer and field; always equal to `decide`. */
  applyCompiled,
  /** Applies a field rule to a customer's intimacy level. */
  applyFieldRule,
  /** Evaluates a compiled subject condition on one customer, with `decideSubject`'s reasons. */
  applySubjectCondition,
  /** `decide` partially evaluated for one actor, purpose and time. */
  type CompiledAccess,
  /** A customer's current consent to one purpose. */
  type ConsentState,
  /** granted, denied or withdrawn. */
  type ConsentStatus,
  /** The consent check of a purpose (none, declined, withdrawn, expired, not explicit). */
  checkConsent,
  /** Compiles the decision for bulk paths: a subject condition for SQL and a rule per field. */
  compileAccess,
  /** Every reason a use can be denied, in no particular order. */
  DENY_REASONS,
  /** Allowed, or denied with a stable reason and a sentence saying why. */
  type Decision,
  /** Who asks: role and the purposes granted to the key. */
  type DecisionActor,
  /** What the decision needs to know about a customer. */
  type DecisionSubject,
  /** A reason a use is denied. */
  type DenyReason,
  /** SPEC §5.2: may this actor use this field of this customer for this purpose now? */
  decide,
  /** Field level: category policy, special-category rules, pseudonymisation, inferences, intimacy. */
  decideField,
  /** Request level: the purpose exists and the actor may use it (a denial is a 403). */
  decidePurpose,
  /** Customer level: lawful basis and consent, restriction, objection, the purpose's intimacy. */
  decideSubject,
  /** The purposes an actor may use: the role's, narrowed by the key's grant. */
  effectivePurposes,
  /** A field or fact as the decision sees it: category, source, declared purposes. */
  type FieldRef,
  /** What happens to one field under a compiled purpose: allow, deny, or from an intimacy level on. */
  type FieldRule,
  /** Where a field's value came from: declared, observed, derived, inferred. */
  type FieldSource,
  /** The allowed fields of a plain object, and the withheld ones with reasons. */
  filterRecord,
  /** Whether a consent's expiry has passed (an unreadable one has). */
  isConsentExpired,
  /** Which customers a purpose may touch, as data for a WHERE clause. */
  type SubjectCondition,
  /** A withheld field and its reason. */
  type Withheld,
} from './decision.ts';
export {
  /** A category and the JSON pointer where a payload holds it. */
  type CategoryAt,
  /** Escapes one token of a JSON pointer (RFC 6901). */
  escapePointerToken,
  /** Whether an IBAN has a valid mod-97 check and its country's length. */
  isValidIban,
  /** HMAC-SHA256 of `kind:` and the normalised value, as `hmac-sha256:<hex>`. */
  keyedHash,
  /** card_number, national_id or bank_account. */
  type MaskKind,
  /** Masks card numbers, IBANs and national ids in free text, keeping its length. */
  maskFreeText,
  /** The form a value is hashed in: no spaces or dashes, upper case. */
  normaliseForHash,
  /** Whether a digit string passes the Luhn check. */
  passesLuhn,
  /** What to scan a payload for and how to treat do-not-store keys. */
  type ScanOptions,
  /** A payload after minimisation, with what was dropped, masked, refused, special or hash-only. */
  type ScanResult,
  /** Applies the storage policy and the free-text masks to a payload at ingest. */
  scanPayload,
  /** One masked run in a text. */
  type TextMask,
} from './minimize.ts';
export {
  /** An override applied to a workspace's taxonomy, kept for audit. */
  type AppliedOverride,
  /** The built-in taxonomy of SPEC §4 and §5.1. */
  BASE_TAXONOMY,
  /** A category a workspace adds. */
  type CategoryAddition,
  /** One data category: policy, minimum intimacy, direct identifier. */
  type CategoryDef,
  /** Categories of the customer record's fields (null: not personal data). */
  CUSTOMER_FIELD_CATEGORIES,
  /** Whether a rule on one category covers another (`contact` covers `contact.email`). */
  categoryCovers,
  /** The category of a known property key in any case style, or undefined. */
  categoryOfPropertyKey,
  /** The purposes a do-not-sell/share objection covers. */
  DO_NOT_SELL_PURPOSES,
  /** A workspace taxonomy, or the problems of its extension. */
  type ExtendResult,
  /** Adds a workspace's categories, purposes and reasoned overrides to a taxonomy. */
  extendTaxonomy,
  /** Categories of the built-in interaction fields (null: not personal data). */
  INTERACTION_FIELD_CATEGORIES,
  /** An intimacy level, 0 to 4. */
  type IntimacyLevel,
  /** Which purposes a category's minimum intimacy binds: all (but legal) or outreach. */
  type IntimacyScope,
  /** The lawful bases a purpose may rest on. */
  LAWFUL_BASES,
  /** The lawful basis of a purpose. */
  type LawfulBasis,
  /** The highest intimacy level. */
  MAX_INTIMACY,
  /** A property key in snake case, whatever its case style. */
  normalisePropertyKey,
  /** Storage policies from the most permissive to the strictest. */
  POLICY_STRICTNESS,
  /** An explicit, reasoned policy change of one category. */
  type PolicyOverride,
  /** Top-level categories whose descendants may not weaken the policy without an override. */
  PROTECTED_ROOTS,
  /** A purpose a workspace adds. */
  type PurposeAddition,
  /** One purpose: lawful basis, minimum intimacy and the rules it is subject to. */
  type PurposeDef,
  /** The purposes a role may use under a taxonomy. */
  purposesOfRole,
  /** The governing category of a name: itself or its nearest known ancestor. */
  resolveCategory,
  /** The top-level category of a dotted name. */
  rootCategory,
  /** What ingest may keep of a category. */
  type StoragePolicy,
  /** Categories, purposes and the role → purposes table of a workspace. */
  type Taxonomy,
  /** A problem of a workspace's taxonomy extension. */
  type TaxonomyProblem,
} from './taxonomy.ts';
