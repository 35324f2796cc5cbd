import type { RawBuilder } from 'kysely';
import type { Tx } from '../db/index.ts';
import { compileAccess, type Taxonomy } from '../policy/index.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import * as repo from './segment.repository.ts';
import {
  assertConditionsAllowed,
  assertSegmentDefinition,
  compileSegment,
  describeCondition,
  evaluateTruth,
  explainConditionSql,
  type FieldRuleOf,
  isDynamic,
  listConditions,
  readsValue,
  type SegmentNode,
  type Truth,
} from './segment.ts';

/** A saved segment. */
export interface Segment {
  id: string;
  name: string;
  description: string | null;
  definition: SegmentNode;
  purpose: string;
  dynamic: boolean;
  createdBy: string;
  createdAt: string;
  refreshedAt: string | null;
}

/** How a live read applies the access decision: the purpose's field rule and the subject condition. */
export interface SegmentReadAccess {
  purpose: string;
  /** The purpose reaches out to customers: stale facts never count for it. */
  outreach: boolean;
  now: Date;
  fieldRule: FieldRuleOf;
  /** Conditions on `c` every counted or listed customer must meet (the subject condition as SQL). */
  where: readonly RawBuilder<unknown>[];
}

/** A segment to create. */
export interface SegmentInput {
  name: string;
  description?: string | undefined;
  definition: unknown;
  purpose: string;
  createdBy: string;
}

/** How materialised membership changed. */
export interface MembershipChange {
  entered: number;
  left: number;
}

/** One member of a page, before the per-customer decision on what may be shown. */
export interface SegmentMemberRow {
  customerId: string;
  since: string | null;
  value: {
    rfmSegment: string | null;
    clv: number | null;
    pAlive: number | null;
    purchases: number | null;
    totalSpend: number | null;
  } | null;
}

/** One condition of an explanation. */
export interface ExplainedCondition {
  path: string;
  condition: unknown;
  description: string;
  holds: Truth;
  value: unknown;
  /** The condition reads a category this customer's intimacy level does not open to the purpose. */
  withheld: string | null;
}

/** Why a customer is (or is not) in a segment. */
export interface SegmentExplanation {
  customerId: string;
  member: boolean;
  conditions: ExplainedCondition[];
}

const MAX_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const iso = (value: Date | string | null): string | null =>
  value === null ? null : new Date(value).toISOString();

function toSegment(row: repo.SegmentRow): Segment {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    definition: row.definition as SegmentNode,
    purpose: row.purpose,
    dynamic: row.dynamic,
    createdBy: row.created_by,
    createdAt: iso(row.created_at) ?? '',
    refreshedAt: iso(row.refreshed_at),
  };
}

/** The field rule of a purpose under a taxonomy (field rules do not depend on who asks). */
export function fieldRuleFor(taxonomy: Taxonomy, purpose: string, now: Date): FieldRuleOf {
  return compileAccess(taxonomy, { role: 'owner', purposes: [] }, purpose, now).fieldRule;
}

/** The materialised filter of a segment: its own purpose's field rules, no subject condition. */
function materialisedQuery(segment: Segment, taxonomy: Taxonomy, now: Date): repo.MatchQuery {
  const fieldRule = fieldRuleFor(taxonomy, segment.purpose, now);
  const outreach = taxonomy.purposes.get(segment.purpose)?.outreach ?? true;
  return {
    condition: compileSegment(segment.definition, {
      now,
      fieldRule,
      purpose: { name: segment.purpose, outreach },
    }),
    withValue: readsValue(segment.definition),
    where: [],
  };
}

function liveQuery(definition: SegmentNode, access: SegmentReadAccess): repo.MatchQuery {
  return {
    condition: compileSegment(definition, {
      now: access.now,
      fieldRule: access.fieldRule,
      purpose: { name: access.purpose, outreach: access.outreach },
    }),
    withValue: readsValue(definition),
    where: access.where,
  };
}

/**
 * Creates a segment for a purpose: the definition is validated (400 SEGMENT_DEFINITION_INVALID) and
 * must read only categories the purpose may read (403 FILTER_NOT_ALLOWED); the name is unique (409
 * SEGMENT_NAME_TAKEN). Membership is materialised at once.
 */
export async function createSegment(
  tx: Tx,
  workspaceId: string,
  input: SegmentInput,
  taxonomy: Taxonomy,
  now: Date,
): Promise<{ segment: Segment; membership: MembershipChange }> {
  const definition = assertSegmentDefinition(input.definition);
  assertConditionsAllowed(definition, input.purpose, fieldRuleFor(taxonomy, input.purpose, now));
  const name = input.name.trim();
  if (name === '') throw invalid('SEGMENT_NAME_INVALID', 'A segment needs a name.');
  if (await repo.findSegmentRowByName(tx, workspaceId, name)) {
    throw conflict('SEGMENT_NAME_TAKEN', `A segment named "${name}" exists already; choose another name.`, {
      name,
    });
  }
  const row = await repo.insertSegment(tx, workspaceId, {
    id: newId(now.getTime()),
    name,
    description: input.description ?? null,
    definition,
    purpose: input.purpose,
    dynamic: isDynamic(definition),
    created_by: input.createdBy,
  });
  const segment = toSegment(row);
  const membership = await repo.refreshMembership(
    tx,
    workspaceId,
    segment.id,
    materialisedQuery(segment, taxonomy, now),
    now,
  );
  return { segment: { ...segment, refreshedAt: now.toISOString() }, membership };
}

/** The workspace's segments by name. */
export async function listSegments(tx: Tx, workspaceId: string): Promise<Segment[]> {
  return (await repo.listSegmentRows(tx, workspaceId)).map(toSegment);
}

/** A segment; 404 SEGMENT_NOT_FOUND (also for another workspace's id). */
export async function getSegment(tx: Tx, workspaceId: string, id: string): Promise<Segment> {
  const row = UUID.test(id.toLowerCase())
    ? await repo.findSegmentRow(tx, workspaceId, id.toLowerCase())
    : undefined;
  if (!row) throw notFound('SEGMENT_NOT_FOUND', `No segment with id ${id}.`, { id });
  return toSegment(row);
}

/** Deletes a segment and its membership; 404 SEGMENT_NOT_FOUND. */
export async function deleteSegment(tx: Tx, workspaceId: string, id: string): Promise<void> {
  const segment = await getSegment(tx, workspaceId, id);
  await repo.deleteSegmentRow(tx, workspaceId, segment.id);
}

/** Validates a definition and checks the reading purpose may read every category it uses. */
export function assertReadable(definition: unknown, access: SegmentReadAccess): SegmentNode {
  const node = assertSegmentDefinition(definition);
  assertConditionsAllowed(node, access.purpose, access.fieldRule);
  return node;
}

/** How many customers match a definition now, under the read's access. */
export async function countSegmentDefinition(
  tx: Tx,
  workspaceId: string,
  definition: SegmentNode,
  access: SegmentReadAccess,
): Promise<number> {
  return repo.countMatching(tx, workspaceId, liveQuery(definition, access));
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID.test(id)) {
    throw invalid('CURSOR_INVALID', 'The cursor is not one this list returned; start again without it.', {
      cursor,
    });
  }
  return id;
}

/** A page of the customers matching a definition now (id order, keyset cursor), under the read's access. */
export async function listSegmentMembers(
  tx: Tx,
  workspaceId: string,
  definition: SegmentNode,
  access: SegmentReadAccess,
  page: { segmentId: string | null; cursor?: string | undefined; limit?: number | undefined },
): Promise<{ members: SegmentMemberRow[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(1, page.limit ?? 100), MAX_LIMIT);
  const rows = await repo.listMatching(tx, workspaceId, liveQuery(definition, access), {
    segmentId: page.segmentId,
    after: page.cursor === undefined ? null : decodeCursor(page.cursor),
    limit: limit + 1,
  });
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    members: shown.map((r) => ({
      customerId: r.id,
      since: iso(r.since),
      value:
        r.rfm_segment === null
          ? null
          : {
              rfmSegment: r.rfm_segment,
              clv: r.clv,
              pAlive: r.p_alive,
              purchases: r.purchases,
              totalSpend: r.total_spend,
            },
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
  };
}

/**
 * Why a customer is or is not in a definition: each condition evaluated for that customer in SQL (the
 * same expressions the filter compiles to), with its value, then combined with three-valued logic.
 * 404 CUSTOMER_NOT_FOUND when the customer does not exist or may not be processed for the purpose.
 */
export async function explainSegmentMember(
  tx: Tx,
  workspaceId: string,
  definition: SegmentNode,
  access: SegmentReadAccess,
  customerId: string,
): Promise<SegmentExplanation> {
  const id = customerId.toLowerCase();
  const conditions = listConditions(definition);
  const ctx = {
    now: access.now,
    fieldRule: access.fieldRule,
    purpose: { name: access.purpose, outreach: access.outreach },
  };
  const compiled = conditions.map(({ condition }) => explainConditionSql(condition, ctx));
  const row = UUID.test(id) ? await repo.explainFor(tx, workspaceId, id, access.where, compiled) : undefined;
  if (!row) {
    throw notFound('CUSTOMER_NOT_FOUND', `No customer ${customerId} the purpose may process.`, {
      customerId,
    });
  }
  const truths = new Map<string, Truth>();
  const explained = conditions.map(({ path, condition }, i): ExplainedCondition => {
    const holds = row.holds[i] ?? null;
    truths.set(path, holds);
    const level = compiled[i]?.level ?? null;
    return {
      path,
      condition,
      description: describeCondition(condition),
      holds,
      value: row.values[i] ?? null,
      withheld: level === null ? 'FILTER_NOT_ALLOWED' : row.intimacyLevel < level ? 'INTIMACY_TOO_LOW' : null,
    };
  });
  return { customerId: id, member: evaluateTruth(definition, truths) === true, conditions: explained };
}

/** Re-materialises one segment's membership in full. */
export async function refreshSegment(
  tx: Tx,
  workspaceId: string,
  segment: Segment,
  taxonomy: Taxonomy,
  now: Date,
): Promise<MembershipChange> {
  return repo.refreshMembership(tx, workspaceId, segment.id, materialisedQuery(segment, taxonomy, now), now);
}

/** Re-materialises every segment of the workspace (time windows move even without events). */
export async function refreshAllSegments(
  tx: Tx,
  workspaceId: string,
  taxonomy: Taxonomy,
  now: Date,
): Promise<Record<string, MembershipChange>> {
  const out: Record<string, MembershipChange> = {};
  for (const segment of await listSegments(tx, workspaceId)) {
    out[segment.name] = await refreshSegment(tx, workspaceId, segment, taxonomy, now);
  }
  return out;
}

/**
 * Re-evaluates the given customers for every segment that reads interaction aggregates or value
 * fields (ingest calls this with the customers it wrote for). One indexed lookup when the workspace
 * has no such segment; otherwise one statement per segment over those customers only.
 */
export async function refreshSegmentsForCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  taxonomy: Taxonomy,
  now: Date,
): Promise<MembershipChange> {
  const total = { entered: 0, left: 0 };
  if (customerIds.length === 0) return total;
  const segments = await repo.listSegmentRows(tx, workspaceId, { dynamicOnly: true });
  const ids = [...new Set(customerIds)];
  for (const row of segments) {
    const segment = toSegment(row);
    const change = await repo.refreshMembership(
      tx,
      workspaceId,
      segment.id,
      materialisedQuery(segment, taxonomy, now),
      now,
      ids,
    );
    total.entered += change.entered;
    total.left += change.left;
  }
  return total;
}

/** The materialised members of a segment (all, or among the given customers), in id order. */
export function listMaterialisedMembers(
  tx: Tx,
  workspaceId: string,
  segmentId: string,
  customerIds?: readonly string[],
): Promise<string[]> {
  return repo.listMaterialisedMembers(tx, workspaceId, segmentId, customerIds);
}

/** The segments of a purpose whose materialised membership holds the customer, by name. */
export function listSegmentsOfCustomer(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  purpose: string,
): Promise<{ id: string; name: string; since: string }[]> {
  return repo.listSegmentsOfCustomer(tx, workspaceId, customerId, purpose);
}
