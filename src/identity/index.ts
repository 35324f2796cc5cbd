/**
 * Identity resolution: deciding which person records are the same person. It owns the record shape
 * compared, the comparators (names with phonetic codes, nicknames, initials and swaps; birth dates;
 * addresses; phones; e-mails; keyed-hash government ids), blocking, the Fellegi–Sunter model with m
 * estimated by expectation–maximisation and u from chance agreement (no labels), clustering with its
 * anti-chaining guard, the evidence rules a merge needs (names are never enough; a shared contact point
 * with a disagreement on identity goes to review), pairwise evaluation, the FEBRL and CSV readers and a generator of corrupted
 * records for tests and benchmarks. That engine is pure and in memory. Beside it, the database side
 * (identity.service.ts, identity.repository.ts) resolves a workspace's customers, one record per
 * customer and source system, idempotently: automatic merges above
 * the upper threshold, a review queue between the thresholds with recorded decisions that override and
 * teach the model, exact merge and unmerge with survivorship per field and most-restrictive consent,
 * and rectification, each announced by an event (events/) in the same transaction. It owns
 * `identity_merges`, `identity_reviews`, `identity_decisions` and `identity_resolutions`; a merge writes customers' rows, identities, contact points,
 * field values, interactions' customer and the consent projection, never a ledger. It must not read the
 * environment, import adapters or open transactions (every use-case runs in the caller's access scope),
 * and it never holds a government identifier in clear (readers hash it with the caller's key at once).
 */

export {
  /** Keys that put records into the same block; a pair is compared when it shares one. */
  type BlockingKey,
  /** How candidate pairs are generated (keys, block cap, window). */
  type BlockingOptions,
  /** Candidate pairs of a record set. */
  type CandidatePairs,
  /** Generates the candidate pairs of a record set from its blocking keys. */
  computeCandidatePairs,
  /** The default blocking keys, each surviving a different corruption. */
  DEFAULT_BLOCKING_KEYS,
} from './blocking.ts';
export {
  /** Values that must not mix in one cluster. */
  type ClusterConstraints,
  /** Clusters and refused pairs. */
  type ClusterResult,
  /** Union–find over matched pairs, strongest first, under the anti-chaining guard. */
  computeClusters,
} from './cluster.ts';
export {
  /** A birth date as digits with its parts. */
  type BirthDate,
  /** Compares address text: exact, close, partial, different. */
  compareAddressText,
  /** Compares birth dates: exact, near (transposed, one digit), year, different. */
  compareBirthDates,
  /** Compares short codes: exact, one edit apart, different. */
  compareCode,
  /** Compares e-mail addresses: exact, close, different. */
  compareEmail,
  /** Compares two names with their phonetic codes and nickname groups. */
  compareNameInfo,
  /** Optimal-string-alignment edit distance. */
  damerauLevenshtein,
  /** Jaro similarity. */
  jaro,
  /** Jaro–Winkler similarity. */
  jaroWinkler,
  /** What is known about a name beyond its text. */
  type NameInfo,
  /** Normalises an address line (abbreviations spelled out). */
  normaliseAddress,
  /** Normalises a name (diacritics, punctuation, honorifics). */
  normaliseName,
  /** NYSIIS phonetic code. */
  nysiis,
  /** Parses a birth date in the usual written forms. */
  parseBirthDate,
  /** Soundex phonetic code. */
  soundex,
  /** Soft token overlap of two token lists. */
  tokenSimilarity,
  /** True when two strings are at most one edit apart. */
  withinOneEdit,
} from './comparators.ts';
export {
  /** Generated records with their truth. */
  type CorruptedRecords,
  /** Options of the corrupted-record generator. */
  type CorruptedRecordsOptions,
  /** Generates person records with realistic duplicates and the truth of who is who. */
  generateCorruptedRecords,
} from './corrupt.ts';
export {
  /** One row of a clusters file. */
  type ClusterAssignment,
  /** Pairwise scores of a clustering, and how many of its clusters mix people. */
  type ClusteringScores,
  /** Pairwise scores plus clusters, people and clusters that mix people, against the truth. */
  computeClusteringScores,
  /** Pairwise precision, recall and F1 of a clustering against the truth. */
  computePairwiseScores,
  /** Scores FEBRL-style clusters (the truth in the record ids). */
  evaluateFebrlClusters,
  /** The person number of a FEBRL-style record id, or null. */
  findFebrlEntity,
  /** Pairwise scores with their counts. */
  type PairwiseScores,
  /** Reads a record_id,cluster_id CSV. */
  readClusterAssignments,
} from './evaluate.ts';
export {
  /** Whether a comparison vector may decide a merge alone: more than names, no disagreement on who. */
  assessEvidence,
  /** Why evidence may not decide alone: names only, or the records disagree on who they are. */
  type EvidenceRefusal,
} from './evidence.ts';
export {
  /** Per-record features computed once (interned values, phonetic codes, dates). */
  computeFeatures,
  /** Level names of each compared field. */
  FIELD_LEVELS,
  /** The compared fields, in comparison-vector order. */
  MATCH_FIELDS,
  /** A compared field. */
  type MatchField,
  /** The level of a field missing on either side. */
  MISSING,
  /** Compares record pairs into comparison vectors. */
  PairComparer,
  /** Features of a record set. */
  type RecordFeatures,
} from './features.ts';
export {
  /** Clears merge before-images and review explanations naming the customers (erasure). */
  eraseIdentityTraces,
} from './identity.erasure.ts';
export type {
  /** What the engine compares of one active customer. */
  CustomerForMatching,
  /** What one source system holds of one active customer. */
  SourceRecordForMatching,
} from './identity.repository.ts';
export {
  /** Property prefixes by which an interaction names another (`<prefix>ExternalId`, `<prefix>Source`). */
  REFERENCE_PREFIXES,
} from './identity.repository.ts';
export {
  /** Body of a manual merge. */
  MergeBody,
  /** What a merge did (response schema). */
  MergeSummarySchema,
  /** The outcome of a rectification (response schema). */
  RectificationSchema,
  /** Body of a rectification. */
  RectifyBody,
  /** Body of a workspace resolution. */
  ResolveWorkspaceBody,
  /** What a workspace resolution did (response schema). */
  ResolveWorkspaceSummarySchema,
  /** Body of a review decision. */
  ReviewDecisionBody,
  /** Query parameters of the review queue. */
  ReviewQuerySchema,
  /** A candidate pair in the review queue (response schema). */
  ReviewSchema,
  /** What an unmerge did (response schema). */
  UnmergeSummarySchema,
} from './identity.schema.ts';
export {
  /** Accepts (merges) or rejects a pending review; the decision is recorded as a label. */
  decideReview,
  /** True for a golden-record field a rectification may correct. */
  isRectifiableField,
  /** The review queue of the workspace, oldest first. */
  listReviewQueue,
  /** What a merge did. */
  type MergeSummary,
  /** Merges one customer into another by hand, recorded for an exact unmerge. */
  mergeCustomers,
  /** The outcome of a rectification. */
  type Rectification,
  /** How a workspace resolution runs. */
  type ResolveWorkspaceOptions,
  /** What a workspace resolution did. */
  type ResolveWorkspaceSummary,
  /** A candidate pair in the review queue. */
  type Review,
  /** The outcome of a review decision. */
  type ReviewDecision,
  /** A page of the review queue. */
  type ReviewPage,
  /** Corrects a golden-record field with provenance and a name_corrected / field_rectified event. */
  rectifyField,
  /** Resolves the workspace's customers: automatic merges, the review band queued, decisions obeyed. */
  resolveWorkspace,
  /** What an unmerge did. */
  type UnmergeSummary,
  /** Undoes a merge exactly, events that arrived meanwhile following their source. */
  unmergeCustomers,
} from './identity.service.ts';
export {
  /** Combines m from EM with chance agreement into the scoring model. */
  computeMatchModel,
  /** Settings of the expectation–maximisation. */
  type EstimateOptions,
  /** Expectation–maximisation of the latent-class model over comparison vectors. */
  estimateLatentClasses,
  /** What one field contributed to a pair's score. */
  type FieldContribution,
  /** What EM found among the candidate pairs. */
  type LatentClassEstimate,
  /** Why two records were or were not matched. */
  type MatchExplanation,
  /** The scoring model. */
  type MatchModel,
  /** The probability of a match from a score in bits. */
  probabilityOf,
} from './matcher.ts';
export {
  /** A consent state as merges read and write it. */
  type ConsentStateImage,
  /** Which side an interaction that arrived during a merge goes to on unmerge. */
  computeInteractionSide,
  /** Learns from recorded decisions: per-pair overrides and unanimous comparison patterns. */
  computeLearnedDecisions,
  /** The value of a field that survives a merge. */
  computeSurvivingValue,
  /** The guard at the level of customers: different government ids of a kind, different verified birth dates. */
  findGuardConflict,
  /** True for a source whose values count as verified (document checks, rectifications). */
  isVerifyingSource,
  /** The survivor's consent after a merge: most restrictive wins per purpose and channel. */
  mergeConsentStates,
} from './merge.ts';
export {
  /** True when two given names are nicknames or variants of each other. */
  areNicknames,
  /** The names that stand for a given name. */
  nicknamesOf,
} from './nicknames.ts';
export {
  /** The keyed hash (HMAC-SHA256) of a government identifier. */
  computeGovernmentIdHash,
  /** A map from source column to record field. */
  type FieldMap,
  /** Fields a column can map to. */
  MAPPABLE_FIELDS,
  /** A field a column can map to. */
  type MappableField,
  /** One record of a person as a source holds it. */
  type PersonRecord,
  /** Parses `column=field,…`; throws MAP_INVALID. */
  parseFieldMap,
  /** How rows become records (hash key, map, source name). */
  type ReadOptions,
  /** Reads CSV with a header row into records. */
  readCsvRecords,
  /** Reads FEBRL generator output into records. */
  readFebrlRecords,
} from './records.ts';
export {
  /** Default posterior thresholds (auto merge, review). */
  DEFAULT_THRESHOLDS,
  /** One field of the estimated model, for reports. */
  type FieldModel,
  /** A merged or reviewable pair with its explanation. */
  type ResolvedPair,
  /** How a resolution runs. */
  type ResolveOptions,
  /** The outcome of a resolution. */
  type ResolveResult,
  /** Counts and timings of a resolution. */
  type ResolveStats,
  /** Resolves records into people: blocking, comparison, EM, scoring, clustering, explanations. */
  resolveIdentities,
} from './resolve.ts';
export {
  /** The engine's records of a workspace: one per customer and source system, grouped by customer. */
  toPersonRecords,
  /** Links between customers as links between their engine records. */
  toRecordLinks,
} from './workspace-records.ts';
