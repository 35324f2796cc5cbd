/**
 * Facts: the memory of the little things (SPEC §6). Owns the `facts` table — every version of every
 * fact about a customer, with its source kind, provenance, consent purposes, memory level, status,
 * validity, expiry and "please remember this" — the catalog of fact keys, the memory rules (what may be
 * stored at which intimacy level, what a read may still see), and the pure derivation of facts from
 * behaviour. It must not decide access (policy/ does, through governance/), read other domains' tables
 * except the customers' intimacy level when purging, import adapters, or open transactions.
 */
export {
  /** The behaviours facts are derived from, each a catalog key. */
  BEHAVIOURS,
  /** How often a customer showed one value of a behaviour. */
  type BehaviourCount,
  /** A fact behaviour supports, with its evidence and confidence. */
  type DerivedFact,
  /** The facts behaviour counts support (pure). */
  deriveFacts,
  /** Observations needed before a behaviour says anything. */
  MIN_OBSERVATIONS,
  /** Share of observations a value needs. */
  MIN_SHARE,
} from './derive.ts';
export {
  /** TypeBox schemas of the facts API. */
  ChangeFactBody,
  FactSchema,
  PrefillBody,
  RecordFactBody,
} from './fact.schema.ts';
export {
  /** Brings derived facts to what behaviour now supports. */
  applyDerivedFacts,
  /** Checks a fact input or throws with JSON paths. */
  assertFactInput,
  /** A fact input checked against the catalog. */
  type CheckedFact,
  /** The customer's say on one fact: correct, confirm, reject, remember, expiry. */
  changeFact,
  /** Checks a key and value, returning problems. */
  checkFact,
  /** What applying derived facts changed. */
  type DerivationOutcome,
  /** Deletes every fact of customers (erasure). */
  eraseFactsOfCustomers,
  /** Marks facts past their expiry as expired. */
  expireFacts,
  /** A fact as a caller gives it. */
  type FactInput,
  /** What a merge did to facts, for its unmerge. */
  type FactMerge,
  /** A change of one fact. */
  type FactPatch,
  /** Forgets a fact everywhere. */
  forgetFact,
  /** One current fact, or FACT_NOT_FOUND. */
  getFact,
  /** Current facts of customers. */
  listCurrentFacts,
  /** Every version of one fact. */
  listFactHistory,
  /** The taxonomy and time the memory rules need. */
  type MemoryContext,
  /** Carries the absorbed customer's facts to the survivor of a merge, settling conflicts. */
  mergeFacts,
  /** Purges facts hidden by a lowered intimacy level past the grace period. */
  purgeHiddenFacts,
  /** Who records a fact. */
  type Recorder,
  /** Stored, or refused with a stable code. */
  type RecordOutcome,
  /** Records a fact the memory rules allow. */
  recordFact,
  /** A storage refusal as an API error. */
  refusalError,
  /** Which facts lose when two customers' facts meet in a merge (pure). */
  resolveMergedFacts,
  /** Gives an unmerged customer its facts back. */
  unmergeFacts,
} from './fact.service.ts';
export {
  /** Days since a value was captured. */
  ageInDays,
  /** Whether a fact may be stored, and at which memory level. */
  decideStorage,
  /** The built-in catalog of fact keys. */
  FACT_KEYS,
  /** One key of the catalog. */
  type FactKeyDef,
  /** A fact's status. */
  type FactStatus,
  /** The definition of a key (catalog, alias or workspace category). */
  factKeyOf,
  /** Whether a fact's expiry has passed. */
  isStale,
  /** Why a stored fact is held back before the access decision. */
  type MemoryHold,
  /** What the memory rules say about showing a stored fact for a purpose. */
  memoryHold,
  /** The intimacy level a fact needs to be remembered. */
  memoryLevel,
  /** A date perhaps without a year. */
  type PartialDate,
  /** Days a fact hidden by a lowered intimacy level is kept before it is purged. */
  PURGE_GRACE_DAYS,
  /** Reads a partial date; the day must exist in its month. */
  parsePartialDate,
  /** Source kinds, the customer's own word first. */
  SOURCE_KINDS,
  SOURCE_RANK,
  /** declared, observed, derived or inferred. */
  type SourceKind,
  /** Why a fact is not stored. */
  type StorageRefusal,
  /** A stored fact, current version. */
  type StoredFact,
} from './fact.ts';
