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

export interface CustomersTable {
  workspace_id: string;
  id: string;
  given_name: string | null;
  family_name: string | null;
  preferred_name: string | null;
  language: string | null;
  birth_date: string | null;
  search_name: Generated<string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CustomerFieldValuesTable {
  workspace_id: string;
  id: string;
  customer_id: string;
  field: string;
  value: Json<unknown>;
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
  kind: 'email' | 'phone';
  value: string;
  verified: Generated<boolean>;
  source: string;
  created_at: Generated<Date>;
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
  received_at: Generated<Date>;
}

export interface IdempotencyKeysTable {
  workspace_id: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response: Json<unknown> | null;
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
}

export interface DB {
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  customers: CustomersTable;
  customer_field_values: CustomerFieldValuesTable;
  customer_identities: CustomerIdentitiesTable;
  contact_points: ContactPointsTable;
  interactions: InteractionsTable;
  idempotency_keys: IdempotencyKeysTable;
  import_runs: ImportRunsTable;
}
