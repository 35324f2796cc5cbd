import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type {
  ConsentRecord,
  ConsentStateEntry,
  IntimacyLevel,
  PrivacyFlagKind,
  PrivacySubject,
} from './consent.ts';

/** SQL of consent, intimacy and privacy flags. Owns the ledgers and the customers' privacy columns. */

const iso = (value: Date | string | null): string | null =>
  value === null ? null : new Date(value).toISOString();

/** The privacy columns of a customer, locked for a change; undefined when the customer does not exist. */
export async function lockPrivacyColumns(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<{ intimacyLevel: number; restricted: boolean; objections: string[] } | undefined> {
  const row = await tx
    .selectFrom('customers')
    .select(['intimacy_level', 'processing_restricted', 'objections'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', customerId)
    .forUpdate()
    .executeTakeFirst();
  return row
    ? { intimacyLevel: row.intimacy_level, restricted: row.processing_restricted, objections: row.objections }
    : undefined;
}

/** A consent record before the database stamps it. */
export type NewConsentRecord = Omit<ConsentRecord, 'recordedAt'>;

/** Appends a consent record and moves the projection when the record is the latest effective one. */
export async function appendConsentRecord(
  tx: Tx,
  workspaceId: string,
  record: NewConsentRecord,
): Promise<ConsentRecord> {
  const [stored] = await appendConsentRecords(tx, workspaceId, [record]);
  return stored as ConsentRecord;
}

/** Rows per statement of a bulk append: 14 parameters a row stay well under the protocol's 65,535. */
const APPEND_CHUNK = 2_000;

/**
 * Appends consent records (in one statement per 2,000) and moves the projection of each purpose and
 * channel to the latest effective record, ties going to the later one: a record effective before the
 * current state is kept in the ledger and changes nothing, so an old event arriving late never
 * overrides a newer choice.
 */
export async function appendConsentRecords(
  tx: Tx,
  workspaceId: string,
  records: readonly NewConsentRecord[],
): Promise<ConsentRecord[]> {
  const stored: ConsentRecord[] = [];
  for (let start = 0; start < records.length; start += APPEND_CHUNK) {
    const part = records.slice(start, start + APPEND_CHUNK);
    const rows = await tx
      .insertInto('consent_records')
      .values(
        part.map((record) => ({
          workspace_id: workspaceId,
          id: record.id,
          customer_id: record.customerId,
          purpose: record.purpose,
          channel: record.channel ?? '',
          status: record.status,
          explicit: record.explicit,
          lawful_basis: record.lawfulBasis,
          notice_version: record.noticeVersion,
          evidence: record.evidence === undefined ? null : JSON.stringify(record.evidence),
          source: record.source,
          captured_by: record.capturedBy,
          effective_from: record.effectiveFrom,
          expires_at: record.expiresAt,
        })),
      )
      .returning(['id', 'recorded_at'])
      .execute();
    const recordedAt = new Map(rows.map((r) => [r.id, iso(r.recorded_at) ?? '']));
    for (const record of part) stored.push({ ...record, recordedAt: recordedAt.get(record.id) ?? '' });
  }
  // One upsert may not touch a row twice: the latest record per key within the call goes forward.
  const latest = new Map<string, NewConsentRecord>();
  for (const record of records) {
    const key = `${record.customerId}\u0000${record.purpose}\u0000${record.channel ?? ''}`;
    const current = latest.get(key);
    if (!current || Date.parse(record.effectiveFrom) >= Date.parse(current.effectiveFrom))
      latest.set(key, record);
  }
  const forward = [...latest.values()];
  for (let start = 0; start < forward.length; start += APPEND_CHUNK) {
    await tx
      .insertInto('consent_state')
      .values(
        forward.slice(start, start + APPEND_CHUNK).map((record) => ({
          workspace_id: workspaceId,
          customer_id: record.customerId,
          purpose: record.purpose,
          channel: record.channel ?? '',
          status: record.status,
          explicit: record.explicit,
          expires_at: record.expiresAt,
          effective_from: record.effectiveFrom,
          record_id: record.id,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['workspace_id', 'customer_id', 'purpose', 'channel'])
          .doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            explicit: eb.ref('excluded.explicit'),
            expires_at: eb.ref('excluded.expires_at'),
            effective_from: eb.ref('excluded.effective_from'),
            record_id: eb.ref('excluded.record_id'),
          }))
          .where('consent_state.effective_from', '<=', (eb) => eb.ref('excluded.effective_from')),
      )
      .execute();
  }
  return stored;
}

/** Locks the rows of customers (in id order, so concurrent callers never deadlock); answers those that exist. */
export async function lockCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Set<string>> {
  if (customerIds.length === 0) return new Set();
  const rows = await tx
    .selectFrom('customers')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', [...new Set(customerIds)].sort())
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** A customer's consent ledger, newest effective first. */
export async function listConsentRecords(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<ConsentRecord[]> {
  if (customerIds.length === 0) return [];
  const rows = await tx
    .selectFrom('consent_records')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', 'in', customerIds)
    .orderBy('effective_from', 'desc')
    .orderBy('recorded_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    purpose: r.purpose,
    channel: r.channel === '' ? null : r.channel,
    status: r.status,
    explicit: r.explicit,
    lawfulBasis: r.lawful_basis,
    noticeVersion: r.notice_version,
    evidence: r.evidence,
    source: r.source,
    capturedBy: r.captured_by,
    effectiveFrom: iso(r.effective_from) ?? '',
    expiresAt: iso(r.expires_at),
    recordedAt: iso(r.recorded_at) ?? '',
  }));
}

/** The current consents of customers, by customer. */
export async function listConsentState(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Map<string, ConsentStateEntry[]>> {
  const byCustomer = new Map<string, ConsentStateEntry[]>();
  if (customerIds.length === 0) return byCustomer;
  const rows = await tx
    .selectFrom('consent_state')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', 'in', customerIds)
    .orderBy('purpose')
    .orderBy('channel')
    .execute();
  for (const r of rows) {
    const list = byCustomer.get(r.customer_id) ?? [];
    list.push({
      purpose: r.purpose,
      channel: r.channel === '' ? null : r.channel,
      status: r.status,
      explicit: r.explicit,
      effectiveFrom: iso(r.effective_from) ?? '',
      expiresAt: iso(r.expires_at),
      recordId: r.record_id,
    });
    byCustomer.set(r.customer_id, list);
  }
  return byCustomer;
}

/** What the access decision needs of each customer, in one round trip. */
export async function loadSubjects(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Map<string, PrivacySubject>> {
  const subjects = new Map<string, PrivacySubject>();
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return subjects;
  // Purpose-wide consents only (a channel-specific one does not open a purpose on every channel); the
  // function keeps its plan for the connection (migration 0007).
  const { rows } = await sql<{
    id: string;
    intimacy_level: number;
    processing_restricted: boolean;
    objections: string[];
    consents:
      | {
          purpose: string;
          status: ConsentStateEntry['status'];
          explicit: boolean;
          expires_at: string | null;
        }[]
      | null;
  }>`SELECT * FROM cornerstore_privacy_subjects(${workspaceId}::uuid, ${ids}::uuid[])`.execute(tx);
  for (const row of rows) {
    subjects.set(row.id, {
      intimacyLevel: row.intimacy_level as IntimacyLevel,
      restricted: row.processing_restricted,
      objections: new Set(row.objections),
      consents: new Map(
        (row.consents ?? []).map((c) => [
          c.purpose,
          {
            status: c.status,
            explicit: c.explicit,
            expiresAt: c.expires_at === null ? null : iso(c.expires_at),
          },
        ]),
      ),
    });
  }
  return subjects;
}

/** Sets the intimacy level and appends the change. */
export async function recordIntimacyChange(
  tx: Tx,
  workspaceId: string,
  change: {
    id: string;
    customerId: string;
    level: IntimacyLevel;
    previousLevel: number;
    source: string;
    capturedBy: string;
    evidence: unknown;
  },
): Promise<string> {
  await tx
    .updateTable('customers')
    .set({ intimacy_level: change.level, updated_at: sql`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', change.customerId)
    .execute();
  const row = await tx
    .insertInto('intimacy_changes')
    .values({
      workspace_id: workspaceId,
      id: change.id,
      customer_id: change.customerId,
      level: change.level,
      previous_level: change.previousLevel,
      source: change.source,
      captured_by: change.capturedBy,
      evidence: change.evidence === undefined ? null : JSON.stringify(change.evidence),
    })
    .returning('recorded_at')
    .executeTakeFirstOrThrow();
  return iso(row.recorded_at) ?? '';
}

/** Sets the restriction and objections columns and appends the change. */
export async function recordPrivacyFlagChange(
  tx: Tx,
  workspaceId: string,
  change: {
    id: string;
    customerId: string;
    kind: PrivacyFlagKind;
    purpose: string | null;
    restricted: boolean;
    objections: readonly string[];
    source: string;
    capturedBy: string;
    evidence: unknown;
  },
): Promise<string> {
  await tx
    .updateTable('customers')
    .set({
      processing_restricted: change.restricted,
      objections: [...change.objections],
      updated_at: sql`now()`,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', change.customerId)
    .execute();
  const row = await tx
    .insertInto('privacy_flag_changes')
    .values({
      workspace_id: workspaceId,
      id: change.id,
      customer_id: change.customerId,
      kind: change.kind,
      purpose: change.purpose,
      source: change.source,
      captured_by: change.capturedBy,
      evidence: change.evidence === undefined ? null : JSON.stringify(change.evidence),
    })
    .returning('recorded_at')
    .executeTakeFirstOrThrow();
  return iso(row.recorded_at) ?? '';
}

/** One change of intimacy, restriction or objection, as shown in a customer's privacy history. */
export interface PrivacyChange {
  kind: 'intimacy' | PrivacyFlagKind;
  level: number | null;
  previousLevel: number | null;
  purpose: string | null;
  source: string;
  capturedBy: string;
  evidence: unknown;
  at: string;
}

/** The history of a customer's intimacy level, restriction and objections, newest first. */
export async function listPrivacyChanges(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<PrivacyChange[]> {
  const [intimacy, flags] = [
    await tx
      .selectFrom('intimacy_changes')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', '=', customerId)
      .execute(),
    await tx
      .selectFrom('privacy_flag_changes')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', '=', customerId)
      .execute(),
  ];
  const changes: PrivacyChange[] = [
    ...intimacy.map((r) => ({
      kind: 'intimacy' as const,
      level: r.level,
      previousLevel: r.previous_level,
      purpose: null,
      source: r.source,
      capturedBy: r.captured_by,
      evidence: r.evidence,
      at: iso(r.recorded_at) ?? '',
    })),
    ...flags.map((r) => ({
      kind: r.kind,
      level: null,
      previousLevel: null,
      purpose: r.purpose,
      source: r.source,
      capturedBy: r.captured_by,
      evidence: r.evidence,
      at: iso(r.recorded_at) ?? '',
    })),
  ];
  return changes.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}
