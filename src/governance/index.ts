/**
 * Governed access to personal data: the one layer through which adapters (HTTP, CLI) and flows
 * (imports, exports, the demo) read and write customers and interactions. Each transaction runs in an
 * access scope that names its purpose; the policy decision (policy/) filters every field, compiled to
 * SQL for lists and searches; the storage policy minimises every ingest; every access appends its audit
 * event (audit/) and, for integration keys and exports, its disclosure (disclosures/), in the same
 * transaction. It composes the domains and owns no table.
 */
export {
  /** How many of the newest interactions the 360 carries. */
  CUSTOMER_360_INTERACTIONS,
  type Customer360,
  /** The agent's whole view of a customer in one governed read; audited once. */
  readCustomer360,
} from './customer360.ts';
export {
  /** A customer as a purpose may see it, with what was withheld and why. */
  createGovernedCustomer,
  /** Creates several customers in one pass (a bulk load); audited as one event. */
  createGovernedCustomers,
  /** Applies the decision to one customer. */
  filterCustomer,
  /** Applies the decision to one exported (restorable) customer record. */
  filterExportedCustomer,
  /** The identity source prefix under which keyed hashes of government ids are kept. */
  GOVERNMENT_ID_SOURCE_PREFIX,
  type GovernedCustomer,
  /** A government id as given; only its keyed hash is stored. */
  type GovernmentIdInput,
  /** Lists or searches the customers the purpose may process, each filtered. */
  listGovernedCustomers,
  /** Records that a customer moves (addresses with validity); audited. */
  moveGovernedCustomer,
  /** One customer as the purpose may see it; audited. */
  readCustomer,
  /** A customer's field history, only of fields the purpose may see. */
  readFieldHistory,
  /** Changes a customer; audited. */
  updateGovernedCustomer,
} from './customers.ts';
export {
  /** The field name a fact is decided, audited and withheld under (`facts.<key>`). */
  factField,
  /** Applies the memory rules and the decision to a customer's facts. */
  filterFacts,
  /** A fact as a purpose may see it. */
  type GovernedFact,
} from './fact-gate.ts';
export {
  /** What capture did with the fact an interaction carried. */
  type CapturedFact,
  /** Corrects, confirms, rejects or marks a fact; audited. */
  changeFactGoverned,
  /** Recomputes the behavioural facts of a workspace in one scan (the scheduled job). */
  deriveAllFacts,
  /** Recomputes the behavioural facts of some customers (the `interaction_recorded` subscriber). */
  deriveFactsForCustomers,
  /** Forgets a fact everywhere; audited. */
  forgetFactGoverned,
  /** Expires stale facts and purges those hidden by a lowered intimacy level past the grace period. */
  maintainFacts,
  /** A merge carries the absorbed customer's facts to the survivor. */
  moveFactsOnMerge,
  /** One prefilled value. */
  type PrefillValue,
  /** Known values for a form under a purpose, with provenance and freshness; audited. */
  prefillGoverned,
  /** The versions of one fact; audited. */
  readFactHistory,
  /** A customer's facts as the purpose may see them; audited. */
  readFacts,
  /** Records a declared or observed fact; audited. */
  recordFactGoverned,
  /** An unmerge gives the absorbed customer its facts back. */
  returnFactsOnUnmerge,
} from './facts.ts';
export {
  /** The per-customer decision and the SQL of the subject condition. */
  CustomerGate,
  subjectWhere,
  /** A field a read left out, and why. */
  type Withheld,
} from './gate.ts';
export {
  /** Applies the decision to one interaction. */
  filterInteraction,
  /** Ingests interactions with the storage policy applied; audited. */
  ingestGoverned,
  /** One interaction as the purpose may see it. */
  readInteraction,
  /** A page of a customer's timeline as the purpose may see it. */
  readTimeline,
} from './interactions.ts';
export {
  /** Creates an API key under the role table; audited without its secret. */
  createKeyGoverned,
  /** The workspace's API keys under the role table. */
  listKeysGoverned,
  /** Revokes an API key under the role table, never the last admin key; audited. */
  revokeKeyGoverned,
} from './keys.ts';
export {
  /** A task or action as the API shows it. */
  type ActionView,
  /** The workspace's active playbook, compiled once per version. */
  activePlaybook,
  /** Claims a queued task. */
  claimTaskGoverned,
  /** Completes a task, with the customer's response as feedback. */
  completeTaskGoverned,
  /** A decision with its trace as the API shows it. */
  type DecisionView,
  /** Announces due webhook actions to the messaging systems (the scheduled job). */
  deliverDueMomentActions,
  /** Detection and decisions for one committed event (the moments subscriber). */
  handleMomentEvent,
  /** A customer's decisions with their traces. */
  listDecisionsGoverned,
  /** The playbook's versions. */
  listPlaybookVersionsGoverned,
  /** The agents' queue. */
  listTasksGoverned,
  /** One decision with its trace. */
  readDecisionGoverned,
  /** A customer's next-best actions and what was suppressed. */
  readNextBestActions,
  /** The active (or a given) playbook version. */
  readPlaybookGoverned,
  /** One task or action. */
  readTaskGoverned,
  /** Feedback on an action: propensity and suppression. */
  recordFeedbackGoverned,
  /** Raises the moments of a period's interactions (the demo after its bulk load). */
  replayMoments,
  /** A playbook over historical events without side effects. */
  runBacktestGoverned,
  /** Lapses and remembered dates (the scheduled job). */
  scanScheduledMoments,
  /** Saves a playbook as the next version; refused whole when invalid. */
  setPlaybookGoverned,
  /** Validates a playbook without saving it. */
  validatePlaybookGoverned,
} from './moments.ts';
export {
  /** Restricts processing, lifts it, objects to a purpose or withdraws an objection; audited. */
  changePrivacyFlagGoverned,
  /** "Who looked at my data, and why"; for the auditor without a purpose. */
  readAccessLog,
  /** A customer's consents and ledger. */
  readConsents,
  /** Every party that received a customer's data. */
  readDisclosures,
  /** A customer's intimacy, restriction and objections with history. */
  readPrivacyState,
  /** The recipient registry. */
  readRecipients,
  /** Appends a consent record; audited. */
  recordConsentGoverned,
  /** Registers a recipient. */
  registerRecipient,
  /** Sets the intimacy level; audited. */
  setIntimacyGoverned,
  /** Replaces the workspace's own categories, purposes and audited overrides. */
  setWorkspacePolicy,
  /** Gives a customer's data to a recipient, when the customer and the purpose allow; disclosed and audited. */
  shareCustomer,
  /** The workspace's own categories, purposes and overrides. */
  type WorkspacePolicyInput,
} from './privacy.ts';
export {
  /** A customer's recommendations as the policy allows them, with `withheld`. */
  type GovernedRecommendations,
  /** What one training of a workspace's recommendations did. */
  type RecommendationTraining,
  /** A customer's recommendations under an outreach purpose; audited. */
  readRecommendations,
  /** How to train a workspace's recommendations. */
  type TrainRecommendationsOptions,
  /** The recommendation job of one workspace (read, train in a worker thread, store). */
  trainRecommendations,
  /** The recommendation job of several workspaces (`recommend train`). */
  trainRecommendationsOfWorkspaces,
} from './recommendations.ts';
export {
  /** A customer's relationship as a purpose may see it. */
  type GovernedRelationship,
  /** Whether the archetype may steer outreach for a customer, and why not. */
  type OutreachUse,
  /** The relationship in a customer read. */
  type RelationshipSummary,
  /** A customer's relationship under the decision (pseudonymised for analytics); audited. */
  readRelationshipGoverned,
  /** The relationship mix among the customers the purpose may process; audited. */
  readRelationshipMixGoverned,
  /** The active relationship rule table. */
  readRelationshipRulesGoverned,
  /** Full recomputation of the named workspaces (the scheduled job). */
  recomputeRelationshipsOfWorkspaces,
  /** Full recomputation of the scope's workspace; owners and admins. */
  runRelationshipRecompute,
  /** Sets a new relationship rule table version; refused whole when invalid. */
  setRelationshipRulesGoverned,
  /** One workspace's full recomputation. */
  type WorkspaceRelationshipRun,
} from './relationships.ts';
export {
  /** The access scope of a transaction. */
  type AccessScope,
  /** Links every workspace's waiting audit events into their chains (the backbone's sweep). */
  chainAllWorkspaces,
  /** Links audit events a busy moment left waiting into their chains (the server's timer). */
  chainAuditBacklog,
  /** The consent ledger's view of the taxonomy's purposes. */
  purposeRules,
  /** How a transaction names its purpose. */
  type ScopeOptions,
  /** The workspace's taxonomy. */
  taxonomyOf,
  /** Runs a transaction under an access scope; audit and disclosures are appended before commit. */
  withAccess,
  /** Runs a function under an access scope inside a workspace transaction already open (subscribers). */
  withAccessInTransaction,
  /** Runs a change of configuration or access (settings, keys) with its audit events in one transaction. */
  withAdministration,
} from './scope.ts';
export {
  /** Counts a saved segment's members the purpose may process; audited. */
  countSegmentGoverned,
  /** Saves a segment after checking its fields against the purpose. */
  createSegmentGoverned,
  /** Deletes a segment and its materialised membership. */
  deleteSegmentGoverned,
  /** Why a customer is in a segment: each condition with its value. */
  explainSegmentMemberGoverned,
  /** A segment member as a purpose may see it. */
  type GovernedSegmentMember,
  /** A segment by id. */
  getSegmentGoverned,
  /** A page of a segment's members; audited. */
  listSegmentMembersGoverned,
  /** The workspace's segments. */
  listSegmentsGoverned,
  /** Counts an unsaved definition. */
  previewSegmentGoverned,
  /** The value job: refits every workspace's model and profiles and refreshes its segments. */
  refitValueOfWorkspaces,
  /** The value and segment subscriber: profiles and memberships after ingest and merges, off their transactions. */
  refreshValueAndSegmentsForEvents,
  /** Refits one workspace's value model and profiles. */
  runValueRefit,
  /** The value job off the event loop: short transactions and a worker thread. */
  runValueRefitOffLoop,
  /** What one workspace's refit did. */
  type WorkspaceRefit,
} from './segments.ts';
