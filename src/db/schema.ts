import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for the query layer. Every tenant table leads with `workspace_id`; row-level security
 * confines each transaction to the workspace it set (see `tx.ts`).
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface WorkspacesTable {
  id: string;
  name: string;
  default_region: Generated<string>;
  auto_create_customers: Generated<boolean>;
  /** The workspace's data policy: do-not-store mode, added categories and purposes, overrides. */
  policy: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  workspace_id: string;
  id: string;
  name: string;
  role: string;
  purposes: string[];
  secret_hash: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface UsersTable {
  workspace_id: string;
  id: string;
  email: string;
  role: string;
  purposes: string[];
  password_hash: string;
  created_at: Generated<Date>;
  disabled_at: Date | null;
}

export interface UserSessionsTable {
  workspace_id: string;
  id: string;
  user_id: string;
  secret_hash: string;
  created_at: Generated<Date>;
  expires_at: Date;
  ended_at: Date | null;
}

export interface CustomersTable {
  workspace_id: string;
  id: string;
  given_name: string | null;
  family_name: string | null;
  preferred_name: string | null;
  language: string | null;
  birth_date: string | null;
  search_name: Generated<string>;
  intimacy_level: Generated<number>;
  processing_restricted: Generated<boolean>;
  objections: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** The customer that absorbed this one (0005): a merged-away row reads as merged, never as a customer. */
  merged_into: Generated<string | null>;
}

export interface CustomerFieldValuesTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  field: string;
  /** JSON; the column itself is nullable (0001), so readers must expect null. */
  value: Json<unknown | null>;
  source: string;
  captured_by: string;
  captured_at: Timestamp;
  interaction_id: string | null;
  confidence: number;
  recorded_at: Generated<Date>;
  superseded_at: Date | null;
}

export interface CustomerIdentitiesTable {
  workspace_id: string;
  source: string;
  external_id: string;
  customer_id: string;
  created_at: Generated<Date>;
}

export interface ContactPointsTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  kind: 'email' | 'phone' | 'address';
  value: string;
  verified: Generated<boolean>;
  source: string;
  created_at: Generated<Date>;
  /** From when the contact point holds (an address after a move); null: always. */
  valid_from: Date | null;
  /** Until when it holds (the address before a move); null: still. */
  valid_until: Date | null;
}

export interface InteractionsTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  type: string;
  channel: string;
  initiated_by: string;
  occurred_at: Timestamp;
  source: string;
  external_id: string;
  amount: ColumnType<number | null, number | string | null | undefined, number | null>;
  currency: string | null;
  sentiment: number | null;
  text: string | null;
  line_items: Json<unknown[] | null> | null;
  properties: Json<Record<string, unknown>>;
  declared_for: ColumnType<string[] | null, string | null | undefined, string | null>;
  received_at: Generated<Date>;
}

/** A write's idempotency receipt (0001, 0014): per caller, status and ids only, never the answer. */
export interface IdempotencyKeysTable {
  workspace_id: string;
  /** The caller the key belongs to: `key:<api key id>`. */
  caller: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  /** What a replay needs to answer again (ids, statuses), written when the first request commits. */
  receipt: Json<unknown> | null;
  created_at: Generated<Date>;
}

export interface ImportRunsTable {
  workspace_id: string;
  id: string;
  kind: string;
  format: string;
  file_path: string;
  fingerprint: string;
  rejects_path: string;
  checkpoint_line: number;
  checkpoint_offset: number;
  rejects_offset: number;
  created_count: number;
  duplicate_count: number;
  rejected_count: number;
  status: string;
  started_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Date | null;
  /** The batch in flight (0011): the checkpoint it started from, where its rows end, one row alone. */
  attempt_offset: number | null;
  attempt_end_offset: number | null;
  attempt_single: Generated<boolean>;
}

export interface WorkspaceSecretsTable {
  workspace_id: string;
  purpose: string;
  secret: Buffer;
  created_at: Generated<Date>;
}

export interface IntimacyChangesTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  level: number;
  previous_level: number;
  source: string;
  captured_by: string;
  evidence: Json<unknown> | null;
  recorded_at: Generated<Date>;
}

export interface PrivacyFlagChangesTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  kind: 'restrict' | 'lift_restriction' | 'object' | 'withdraw_objection';
  purpose: string | null;
  source: string;
  captured_by: string;
  evidence: Json<unknown> | null;
  recorded_at: Generated<Date>;
}

export interface ConsentRecordsTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  purpose: string;
  channel: Generated<string>;
  status: 'granted' | 'denied' | 'withdrawn';
  explicit: boolean;
  lawful_basis: string;
  notice_version: string | null;
  evidence: Json<unknown> | null;
  source: string;
  captured_by: string;
  effective_from: Timestamp;
  expires_at: Timestamp | null;
  recorded_at: Generated<Date>;
}

export interface ConsentStateTable {
  workspace_id: string;
  customer_id: string;
  purpose: string;
  channel: string;
  status: 'granted' | 'denied' | 'withdrawn';
  explicit: boolean;
  expires_at: Timestamp | null;
  effective_from: Timestamp;
  record_id: string;
}

export interface RecipientsTable {
  workspace_id: string;
  id: string;
  name: string;
  kind: 'partner' | 'processor' | 'export_file' | 'webhook' | 'integration_key';
  purposes: string[];
  description: string | null;
  api_key_id: string | null;
  created_at: Generated<Date>;
}

export interface DisclosuresTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  recipient_id: string;
  fields: string[];
  purpose: string;
  lawful_basis: string;
  request_id: string | null;
  disclosed_at: Generated<Date>;
}

export interface AuditEventsTable {
  workspace_id: string;
  seq: number;
  id: string;
  occurred_at: Timestamp;
  actor: Json<Record<string, unknown>>;
  purpose: string | null;
  action: string;
  customer_ids: string[];
  fields: string[];
  request_id: string | null;
  details: Json<unknown> | null;
  prev_hash: string;
  /** 1: plain SHA-256 (written before keyed hashing); 2: HMAC-SHA256 under the audit key. */
  hash_version: number;
  hash: string;
}

export interface AuditInboxTable {
  workspace_id: string;
  id: string;
  occurred_at: Timestamp;
  actor: Json<Record<string, unknown>>;
  purpose: string | null;
  action: string;
  customer_ids: string[];
  fields: string[];
  request_id: string | null;
  details: Json<unknown> | null;
}

export interface AuditSubjectsTable {
  workspace_id: string;
  customer_id: string;
  seq: number;
}

export interface AuditHeadsTable {
  workspace_id: string;
  seq: number;
  hash: string;
}

/** A recorded merge: survivor, absorbed, and the before-image an exact unmerge restores. */
export interface IdentityMergesTable {
  workspace_id: string;
  id: string;
  survivor_id: string;
  absorbed_id: string;
  origin: 'manual' | 'automatic' | 'review';
  reason: string | null;
  review_id: string | null;
  probability: number | null;
  before_image: Json<Record<string, unknown>>;
  merged_by: string;
  merged_at: Timestamp;
  unmerged_by: string | null;
  unmerged_at: Timestamp | null;
  unmerge_report: Json<Record<string, unknown>> | null;
}

/** A workspace resolution that ran: as of when, with which thresholds, what it did. */
export interface IdentityResolutionsTable {
  workspace_id: string;
  id: string;
  as_of: Timestamp;
  auto_threshold: number;
  review_threshold: number;
  customers: number;
  merges: number;
  queued: number;
  resolved_by: string;
}

/** A candidate pair waiting for (or past) a person's decision; `customer_a` < `customer_b`. */
export interface IdentityReviewsTable {
  workspace_id: string;
  id: string;
  customer_a: string;
  customer_b: string;
  score: number;
  probability: number;
  reason: 'band' | 'guard';
  explanation: Json<Record<string, unknown>>;
  status: ColumnType<'pending' | 'accepted' | 'rejected', 'pending' | undefined, 'accepted' | 'rejected'>;
  decided_by: string | null;
  decided_at: Timestamp | null;
  merge_id: string | null;
  created_at: Generated<Date>;
}

/** A label on a pair (append-only): one person or not, with the comparison levels when scored. */
export interface IdentityDecisionsTable {
  workspace_id: string;
  id: string;
  customer_a: string;
  customer_b: string;
  label: 'match' | 'non_match';
  origin: 'review' | 'merge' | 'unmerge';
  review_id: string | null;
  merge_id: string | null;
  levels: Json<Record<string, string>> | null;
  probability: number | null;
  decided_by: string;
  decided_at: Generated<Date>;
}

export interface DB {
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  users: UsersTable;
  user_sessions: UserSessionsTable;
  customers: CustomersTable;
  customer_field_values: CustomerFieldValuesTable;
  customer_identities: CustomerIdentitiesTable;
  contact_points: ContactPointsTable;
  interactions: InteractionsTable;
  idempotency_keys: IdempotencyKeysTable;
  import_runs: ImportRunsTable;
  workspace_secrets: WorkspaceSecretsTable;
  intimacy_changes: IntimacyChangesTable;
  privacy_flag_changes: PrivacyFlagChangesTable;
  consent_records: ConsentRecordsTable;
  consent_state: ConsentStateTable;
  recipients: RecipientsTable;
  disclosures: DisclosuresTable;
  audit_events: AuditEventsTable;
  audit_inbox: AuditInboxTable;
  audit_subjects: AuditSubjectsTable;
  audit_heads: AuditHeadsTable;
  identity_merges: IdentityMergesTable;
  identity_reviews: IdentityReviewsTable;
  identity_resolutions: IdentityResolutionsTable;
  identity_decisions: IdentityDecisionsTable;
}

/** A workspace's fitted value model (0006): parameters, calibration and convergence as JSON. */
export interface ValueModelsTable {
  workspace_id: string;
  fitted_at: Timestamp;
  period: 'day' | 'week';
  horizon: number;
  annual_discount_rate: number;
  bgnbd: Json<Record<string, unknown>>;
  gamma_gamma: Json<Record<string, unknown>> | null;
  rfm: Json<Record<string, unknown>>;
  calibration: Json<Record<string, unknown>>;
  convergence: Json<Record<string, unknown>>;
}

/** A workspace's trained recommendation model (0019): settings, figures, popularity. */
export interface RecommendationModelsTable {
  workspace_id: string;
  trained_at: Timestamp;
  /** The day the lists were made for (YYYY-MM-DD). */
  as_of: string;
  params: Json<Record<string, unknown>>;
  stats: Json<Record<string, unknown>>;
  /** Items (key and name), most bought first. */
  popular: Json<{ item: string; name: string }[]>;
}

/** One customer's suggestions (0019): own history and collective, each citing an own item. */
export interface RecommendationListsTable {
  workspace_id: string;
  customer_id: string;
  own: Json<unknown[]>;
  collective: Json<unknown[]>;
}

/** One customer's value profile (0006): purchase summary, predictions, RFM. */
export interface ValueProfilesTable {
  workspace_id: string;
  customer_id: string;
  frequency: number;
  recency: number;
  t: number;
  monetary: number;
  purchases: number;
  /** numeric(20, 4) since 0009: exact; read as a number (at most 15 significant digits). */
  total_spend: number;
  first_purchase_at: Timestamp;
  last_purchase_at: Timestamp;
  p_alive: number;
  expected_purchases: number;
  expected_spend: number;
  clv: number;
  rfm_r: number;
  rfm_f: number;
  rfm_m: number;
  rfm_segment: string;
  as_of: Timestamp;
  updated_at: Timestamp;
  /** The ISO 4217 currency of the money figures (0009); null for a profile written before. */
  currency: string | null;
}

/** A saved segment (0006): a JSON filter and the purpose it was defined for. */
export interface SegmentsTable {
  workspace_id: string;
  id: string;
  name: string;
  description: string | null;
  definition: Json<unknown>;
  purpose: string;
  dynamic: boolean;
  created_by: string;
  created_at: Generated<Date>;
  refreshed_at: Timestamp | null;
}

/** Materialised membership of a segment (0006). */
export interface SegmentMembersTable {
  workspace_id: string;
  segment_id: string;
  customer_id: string;
  since: Timestamp;
}

// Declaration merging keeps each migration's tables beside its own types.
export interface DB {
  value_models: ValueModelsTable;
  value_profiles: ValueProfilesTable;
  recommendation_models: RecommendationModelsTable;
  recommendation_lists: RecommendationListsTable;
  segments: SegmentsTable;
  segment_members: SegmentMembersTable;
}

/** The endpoint of a recipient of kind webhook (0023): URL, event filter, signing secrets, health. */
export interface WebhookEndpointsTable {
  workspace_id: string;
  recipient_id: string;
  url: string;
  /** The event types it asked for; null: every type its purposes allow. */
  events: string[] | null;
  status: 'active' | 'disabled';
  secret: Buffer;
  /** The secret before the last rotation, still signed with until `previous_secret_until`. */
  previous_secret: Buffer | null;
  previous_secret_until: Timestamp | null;
  consecutive_failures: Generated<number>;
  failing_since: Timestamp | null;
  disabled_at: Timestamp | null;
  disabled_reason: string | null;
  created_at: Generated<Date>;
}

/** One event to one endpoint (0023): its id is the receiver's idempotency key (`webhook-id`). */
export interface WebhookDeliveriesTable {
  workspace_id: string;
  id: string;
  recipient_id: string;
  event_id: string;
  event_type: string;
  customer_id: string | null;
  purpose: string;
  lawful_basis: string;
  /** The exact body every attempt sends. */
  body: string;
  status: 'pending' | 'delivered' | 'parked';
  /** Every attempt ever made (numbers the log). */
  attempts: Generated<number>;
  /** Attempts since the delivery was enqueued or last replayed; it parks after `MAX_ATTEMPTS`. */
  round_attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_attempt_at: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Timestamp | null;
  /** When the delivery was recorded in the disclosure ledger (its first attempt that left). */
  disclosed_at: Timestamp | null;
  created_at: Timestamp;
}

/** One attempt of a delivery (0023): the request as sent (without its signature), the answer, the time. */
export interface WebhookAttemptsTable {
  workspace_id: string;
  delivery_id: string;
  attempt: number;
  recipient_id: string;
  url: string;
  request: Json<Record<string, unknown>>;
  started_at: Timestamp;
  latency_ms: number;
  response_status: number | null;
  error: string | null;
}

export interface DB {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

/** One version of a fact about a customer (0017); the current versions have no `superseded_at`. */
export interface FactsTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  fact_id: string;
  key: string;
  category: string;
  /** JSON; null once the fact was forgotten. */
  value: Json<unknown | null>;
  source_kind: string;
  status: string;
  source: string;
  interaction_id: string | null;
  captured_by: string;
  captured_at: Timestamp;
  confidence: number;
  evidence: Json<unknown | null>;
  consent_purposes: ColumnType<string[], string[] | undefined, string[]>;
  min_intimacy: number;
  valid_from: Timestamp | null;
  expires_at: Timestamp | null;
  remember: Generated<boolean>;
  supersedes: string | null;
  superseded_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface DB {
  facts: FactsTable;
}

/** A version of a workspace's relationship rule table (0018); the newest is active. */
export interface RelationshipRuleTablesTable {
  workspace_id: string;
  version: number;
  rule_table: Json<unknown>;
  created_by: string;
  created_at: Generated<Date>;
}

/** A workspace's intensity norm from its last full relationship recomputation (0018). */
export interface RelationshipNormsTable {
  workspace_id: string;
  intensity_norm: number;
  customers: number;
  computed_at: Timestamp;
}

/** One customer's relationship profile (0018): dimensions, archetype with hysteresis state, modifiers. */
export interface RelationshipProfilesTable {
  workspace_id: string;
  customer_id: string;
  archetype: string;
  archetype_since: Timestamp;
  /** What the rules proposed at the last recomputation (may differ from the held archetype). */
  proposed: string;
  candidate: string | null;
  candidate_count: Generated<number>;
  candidate_since: Timestamp | null;
  rule_version: number;
  dimensions: Json<Record<string, unknown>>;
  reasons: Json<unknown[]>;
  high_demand: boolean;
  discretion: boolean;
  computed_at: Timestamp;
}

/** A change of a customer's archetype with its reasons (0018). */
export interface RelationshipChangesTable {
  workspace_id: string;
  customer_id: string;
  id: string;
  changed_at: Timestamp;
  from_archetype: string | null;
  to_archetype: string;
  rule_version: number;
  reasons: Json<unknown[]>;
}

export interface DB {
  relationship_rule_tables: RelationshipRuleTablesTable;
  relationship_norms: RelationshipNormsTable;
  relationship_profiles: RelationshipProfilesTable;
  relationship_changes: RelationshipChangesTable;
}

/** Request counts of rate limiting, shared by every node on one database (0024). Not a tenant table. */
export interface RateLimitWindowsTable {
  key: string;
  window_start: Timestamp;
  hits: number;
}

export interface DB {
  rate_limit_windows: RateLimitWindowsTable;
}

/** A domain event (0016), appended in the transaction of the change it announces, dispatched later. */
export interface EventsTable {
  workspace_id: string;
  id: string;
  /** Written order: a sequence, so per customer too. */
  position: Generated<number>;
  type: string;
  customer_id: string | null;
  payload: Json<Record<string, unknown>>;
  occurred_at: Generated<Date>;
  dispatched_at: Timestamp | null;
}

/** A subscriber's failure on one event (0016): retried with backoff, then dead (parked). */
export interface JobFailuresTable {
  workspace_id: string;
  subscriber: string;
  event_id: string;
  attempts: number;
  status: 'retrying' | 'dead';
  error: string;
  first_failed_at: Timestamp;
  last_failed_at: Timestamp;
  next_attempt_at: Timestamp | null;
}

/** A scheduled job's lease (0016): which worker runs it until when, and how its last run went. */
export interface JobLeasesTable {
  name: string;
  holder: string | null;
  leased_until: Timestamp | null;
  last_started_at: Timestamp | null;
  last_finished_at: Timestamp | null;
  last_status: 'running' | 'succeeded' | 'failed' | null;
  last_error: string | null;
  runs: Generated<number>;
}

export interface DB {
  events: EventsTable;
  job_failures: JobFailuresTable;
  job_leases: JobLeasesTable;
}

/** A privacy request (0025): a right exercised, with its deadline, verification, assignee and evidence. */
export interface PrivacyRequestsTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  kind: 'access' | 'rectification' | 'erasure' | 'restriction' | 'portability' | 'objection' | 'do_not_sell';
  source: 'staff' | 'customer' | 'gpc';
  status: ColumnType<'open' | 'completed' | 'rejected', 'open' | 'completed' | 'rejected' | undefined>;
  verification: 'pending' | 'verified' | 'not_required';
  verification_method: string | null;
  verified_by: string | null;
  verified_at: Timestamp | null;
  assignee: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  evidence: Json<Record<string, unknown>> | null;
  received_at: Timestamp;
  /** The last day (YYYY-MM-DD, UTC) the request may be answered on. */
  due_on: ColumnType<string, string, string>;
  created_by: string;
  completed_by: string | null;
  completed_at: Timestamp | null;
}

type NotificationStatus = 'pending' | 'delivered' | 'acknowledged' | 'failed' | 'exempt';

/** One recipient told of a correction, erasure or restriction (0025), through its channel. */
export interface PrivacyNotificationsTable {
  workspace_id: string;
  id: string;
  recipient_id: string;
  customer_id: string;
  cause: 'rectification' | 'erasure' | 'restriction' | 'merge';
  cause_id: string;
  request_id: string | null;
  fields: string[];
  channel: 'webhook' | 'manual';
  status: ColumnType<NotificationStatus, NotificationStatus | undefined>;
  status_reason: string | null;
  delivery_id: string | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  updated_at: Timestamp;
}

/** A keyed hash of an erased identifier (0025): a later import does not silently re-create the person. */
export interface SuppressedIdentitiesTable {
  workspace_id: string;
  hash: string;
  kind: string;
  request_id: string | null;
  suppressed_at: Timestamp;
}

export interface DB {
  privacy_requests: PrivacyRequestsTable;
  privacy_notifications: PrivacyNotificationsTable;
  suppressed_identities: SuppressedIdentitiesTable;
}

/** A version of a workspace's moments playbook (0026); the newest is active, none: the built-in default. */
export interface MomentPlaybooksTable {
  workspace_id: string;
  version: number;
  definition: Json<unknown>;
  format: string;
  created_by: string;
  created_at: Timestamp;
}

/** A moment raised for a customer (0026): one per customer, type and window, with the events that raised it. */
export interface MomentsTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  type: string;
  window_key: string;
  context: Json<Record<string, unknown>>;
  source_ids: string[];
  occurred_at: Timestamp;
  created_at: Timestamp;
}

/** The decision taken on a moment (0026) with its full trace. */
export interface MomentDecisionsTable {
  workspace_id: string;
  id: string;
  moment_id: string;
  customer_id: string;
  playbook_version: number;
  outcome: string;
  trace: Json<unknown>;
  created_at: Timestamp;
}

/** An action a decision delivered (0026): an agent task, a webhook message or a note, with its state. */
export interface MomentActionsTable {
  workspace_id: string;
  id: string;
  decision_id: string;
  customer_id: string;
  action: string;
  purpose: string;
  data_purpose: string;
  channel: string;
  delivery: string;
  status: string;
  owner: string | null;
  due_at: Timestamp;
  script: string | null;
  explanation: string;
  outcome: string | null;
  cancelled_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** What became of an action (0026): accepted, ignored, rejected, too_personal, converted. */
export interface MomentFeedbackTable {
  workspace_id: string;
  id: string;
  action_id: string;
  customer_id: string;
  action: string;
  outcome: string;
  source: string;
  created_at: Timestamp;
}

/** An action's learned propensity (0026): successes and failures on top of the playbook's prior. */
export interface MomentPropensitiesTable {
  workspace_id: string;
  action: string;
  successes: number;
  failures: number;
  updated_at: Timestamp;
}

export interface DB {
  moment_playbooks: MomentPlaybooksTable;
  moments: MomentsTable;
  moment_decisions: MomentDecisionsTable;
  moment_actions: MomentActionsTable;
  moment_feedback: MomentFeedbackTable;
  moment_propensities: MomentPropensitiesTable;
}
