import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { declaredTables } from './schema-source.ts';

/**
 * A domain owns its tables outright: others change them only through its services. This test reads the
 * SQL of every source file under src/ (template SQL and the query builder alike), finds each table it
 * writes, and fails when a folder writes a table it does not own — or when a new table has no owner.
 */

const OWNERS: Record<string, string> = {
  workspaces: 'workspaces',
  api_keys: 'workspaces',
  workspace_secrets: 'workspaces',
  users: 'users',
  user_sessions: 'users',
  customers: 'customers',
  customer_field_values: 'customers',
  customer_identities: 'customers',
  contact_points: 'customers',
  interactions: 'interactions',
  idempotency_keys: 'api',
  rate_limit_windows: 'api',
  import_runs: 'imports',
  intimacy_changes: 'consent',
  privacy_flag_changes: 'consent',
  consent_records: 'consent',
  consent_state: 'consent',
  recipients: 'disclosures',
  disclosures: 'disclosures',
  audit_events: 'audit',
  audit_inbox: 'audit',
  audit_subjects: 'audit',
  audit_heads: 'audit',
  identity_merges: 'identity',
  identity_reviews: 'identity',
  identity_decisions: 'identity',
  identity_resolutions: 'identity',
  events: 'events',
  job_failures: 'jobs',
  job_leases: 'jobs',
  value_models: 'value',
  value_profiles: 'value',
  recommendation_models: 'recommendations',
  recommendation_lists: 'recommendations',
  segments: 'segments',
  segment_members: 'segments',
  webhook_endpoints: 'webhooks',
  webhook_deliveries: 'webhooks',
  webhook_attempts: 'webhooks',
  facts: 'facts',
  relationship_rule_tables: 'relationships',
  relationship_norms: 'relationships',
  relationship_profiles: 'relationships',
  relationship_changes: 'relationships',
  privacy_requests: 'privacy',
  privacy_notifications: 'privacy',
  suppressed_identities: 'customers',
  moment_playbooks: 'moments',
  moments: 'moments',
  moment_decisions: 'moments',
  moment_actions: 'moments',
  moment_feedback: 'moments',
  moment_propensities: 'moments',
};

/**
 * Writes across an owner's boundary that exist today, each with the reason it is still here. The list
 * only shrinks: a write not listed fails the test, and so does a listed one that no longer happens.
 */
const KNOWN_CROSSINGS: Record<string, string> = {
  'consent → customers':
    "the privacy projection (intimacy level, restriction, objections) lives in the customers' columns",
  'identity → customers': "a merge and its exact unmerge rewrite both customers' rows",
  'identity → customer_field_values': 'a merge moves field values; an unmerge restores them',
  'identity → customer_identities': 'a merge moves identities; an unmerge restores them',
  'identity → contact_points': 'a merge moves contact points; an unmerge restores them',
  'identity → consent_state': 'a merge combines consent projections; an unmerge restores both',
  'identity → interactions': 'a merge moves interactions to the survivor; an unmerge moves them back',
};

const WRITE_PATTERNS = [
  /\bINSERT\s+INTO\s+([a-z_]+)/gi,
  /\bUPDATE\s+([a-z_]+)(?:\s+(?:AS\s+)?[a-z_]+)?\s+SET\b/gi,
  /\bDELETE\s+FROM\s+([a-z_]+)/gi,
  /\bTRUNCATE\s+(?:TABLE\s+)?([a-z_]+)/gi,
  /\.(?:insertInto|updateTable|deleteFrom|mergeInto|replaceInto)\(\s*'([a-z_]+)'/g,
];

const src = new URL('../src', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `folder → table` for every write found, with the files that make it. */
function crossings(tables: ReadonlySet<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const rel = relative(src, file);
    const folder = rel.includes('/') ? (rel.split('/')[0] ?? rel) : rel;
    // db/ holds the migrations and the engine, which create every table; they own the schema, not rows.
    if (folder === 'db') continue;
    const text = readFileSync(file, 'utf8');
    for (const pattern of WRITE_PATTERNS) {
      for (const match of text.matchAll(pattern)) {
        const table = match[1]?.toLowerCase() ?? '';
        if (!tables.has(table) || OWNERS[table] === folder) continue;
        const key = `${folder} → ${table}`;
        found.set(key, [...new Set([...(found.get(key) ?? []), rel])]);
      }
    }
  }
  return found;
}

describe('table ownership', () => {
  const tables = new Set(declaredTables().keys());

  it('names an owner for every table', () => {
    expect([...tables].filter((t) => !(t in OWNERS))).toEqual([]);
  });

  it("has no folder writing another folder's table beyond the known crossings", () => {
    const found = crossings(tables);
    const unexpected = [...found].filter(([key]) => !(key in KNOWN_CROSSINGS)).map(([k, f]) => `${k} (${f})`);
    expect(unexpected).toEqual([]);
    const gone = Object.keys(KNOWN_CROSSINGS).filter((key) => !found.has(key));
    expect(gone, 'a crossing listed as known no longer happens: remove it from the list').toEqual([]);
  });
});
