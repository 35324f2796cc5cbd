import { type ResolvedRef, resolveCustomerRefs } from '../customers/index.ts';
import type { Tx } from '../db/index.ts';
import { recordEvents } from '../events/index.ts';
import { AppError, type FieldProblem, invalid, notFound } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import { type Actor, getWorkspace, type WorkspaceSettings } from '../workspaces/index.ts';
import * as repo from './interaction.repository.ts';
import { parseTimestamp, validateInteractions } from './interaction.schema.ts';
import {
  decodeCursor,
  encodeCursor,
  type IngestResult,
  type Interaction,
  type InteractionInput,
  type ItemError,
  MAX_BATCH_ITEMS,
  TIMELINE_DEFAULT_LIMIT,
  TIMELINE_MAX_LIMIT,
  type TimelineOptions,
  type TimelinePage,
} from './interaction.ts';
import { type Minimised, minimiseInteraction, type StoragePolicy } from './minimize.ts';

/** Use-cases of interactions: ingest (single, batch, bulk import), one interaction, timelines, export. */

export interface IngestOptions {
  /** When true, one rejected item rejects the whole call and nothing is stored (BATCH_REJECTED). */
  atomic: boolean;
  /**
   * How items are named in error paths: `interactions` (the default) gives `interactions[3].occurredAt`;
   * '' gives `occurredAt`, for a call carrying one item.
   */
  pathPrefix?: string;
  /** The clock `occurredAt` is checked against (at most one day ahead); tests set it. */
  now?: number;
  /** The workspace's storage policy: what must not be kept is refused or dropped before storing. */
  policy: StoragePolicy;
  /** The workspace's settings when the caller has them already (read from the database otherwise). */
  settings?: WorkspaceSettings;
  /**
   * Rules of other domains a valid item must also meet (the consent ledger's for `consent_changed`),
   * checked before any customer is resolved or anything stored: an error rejects the item like a
   * validation problem. `index` is the item's place in the call, `path` its own (`interactions[3]`, or '').
   */
  check?: (input: InteractionInput, index: number, path: string) => ItemError | undefined;
}

/** The types whose amounts the value of a customer reads, refused before the workspace's earliest date. */
const DATED_MONEY_TYPES = new Set(['purchase', 'return']);

/** A purchase or return dated before the workspace's `earliestPurchaseDate`: PURCHASE_TOO_OLD, or undefined. */
function checkEarliest(
  input: InteractionInput,
  earliest: { day: string; ms: number },
  path: string,
): ItemError | undefined {
  if (!DATED_MONEY_TYPES.has(input.type)) return undefined;
  const at = parseTimestamp(input.occurredAt);
  if (at === undefined || at >= earliest.ms) return undefined;
  const field = path === '' ? 'occurredAt' : `${path}.occurredAt`;
  return {
    code: 'PURCHASE_TOO_OLD',
    message: `${field} is before ${earliest.day}, the earliest date of a ${input.type} this workspace accepts (setting earliestPurchaseDate).`,
    details: {
      errors: [{ path: field, message: `must not be before ${earliest.day} (earliestPurchaseDate)` }],
      earliestPurchaseDate: earliest.day,
    },
  };
}

function itemPath(prefix: string, index: number): string {
  return prefix === '' ? '' : `${prefix}[${index}]`;
}

function validationError(problems: FieldProblem[], code = 'INTERACTION_INVALID'): ItemError {
  const first = problems[0];
  return {
    code,
    message: first ? `${first.path || 'The interaction'} ${first.message}.` : 'The interaction is invalid.',
    details: { errors: problems },
  };
}

/** A resolver error, its field paths placed under the item's `customer`. */
function customerError(error: AppError, path: string): ItemError {
  const base = path === '' ? 'customer' : `${path}.customer`;
  const details = error.details as { errors?: unknown } | undefined;
  if (details && Array.isArray(details.errors)) {
    const errors = (details.errors as FieldProblem[]).map((p) => ({
      path: p.path ? `${base}.${p.path}` : base,
      message: p.message,
    }));
    return { code: error.code, message: error.message, details: { ...details, errors } };
  }
  return {
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}

function batchRejected(results: readonly IngestResult[]): AppError {
  const rejected = results.filter((r) => r.status === 'rejected');
  const errors = rejected.flatMap((r) => {
    const problems = (r.error?.details as { errors?: unknown } | undefined)?.errors;
    return Array.isArray(problems)
      ? (problems as FieldProblem[])
      : [{ path: `interactions[${r.index}]`, message: r.error?.message ?? 'was rejected' }];
  });
  return invalid(
    'BATCH_REJECTED',
    `${rejected.length} of ${results.length} interactions were rejected, so none was stored (atomic batch): fix them and send the batch again.`,
    { rejected: rejected.map((r) => ({ index: r.index, error: r.error })), errors },
  );
}

/**
 * Ingests interactions: validates every item, resolves every customer reference together, inserts all
 * new rows in one statement, and answers per item `created`, `duplicate` (with the ORIGINAL id: the
 * key `(source, externalId)` is stored once, even when a batch repeats it) or `rejected`.
 * Atomic calls throw BATCH_REJECTED when any item is rejected; the caller's rollback then undoes every
 * customer the call created. The caller owns the transaction.
 */
export async function ingestInteractions(
  tx: Tx,
  actor: Actor,
  items: readonly unknown[],
  options: IngestOptions,
): Promise<IngestResult[]> {
  if (items.length > MAX_BATCH_ITEMS) {
    throw new AppError(
      'too_large',
      'BATCH_TOO_LARGE',
      `A call carries at most ${MAX_BATCH_ITEMS} interactions, not ${items.length}: split the batch.`,
      { limit: MAX_BATCH_ITEMS, count: items.length },
    );
  }
  const prefix = options.pathPrefix ?? 'interactions';
  const results: IngestResult[] = new Array(items.length);
  const valid: { index: number; input: InteractionInput }[] = [];
  const reports = new Map<number, Minimised>();
  const settings = options.settings ?? (await getWorkspace(tx, actor.workspaceId)).settings;
  const earliest = {
    day: settings.earliestPurchaseDate,
    ms: Date.parse(`${settings.earliestPurchaseDate}T00:00:00Z`),
  };
  const outcomes = validateInteractions(items, prefix, options.now);
  for (let index = 0; index < outcomes.length; index++) {
    const outcome = outcomes[index];
    if (outcome === undefined) continue;
    if (!outcome.ok) {
      results[index] = { index, status: 'rejected', error: validationError(outcome.problems, outcome.code) };
      continue;
    }
    const path = itemPath(prefix, index);
    const minimised = minimiseInteraction(outcome.value, options.policy, path);
    if (!minimised.ok) {
      results[index] = { index, status: 'rejected', error: minimised.error };
      continue;
    }
    const refused =
      checkEarliest(minimised.input, earliest, path) ?? options.check?.(minimised.input, index, path);
    if (refused) {
      results[index] = { index, status: 'rejected', error: refused };
      continue;
    }
    valid.push({ index, input: minimised.input });
    const { dropped, masked } = minimised.report;
    if (dropped.length > 0 || masked.length > 0) reports.set(index, minimised.report);
  }
  // Nothing is resolved (so no customer is created) for a batch that is already lost.
  if (options.atomic && valid.length < items.length) throw batchRejected(results);
  if (valid.length === 0) return results;

  const resolved = await resolveAll(tx, actor, valid, settings);
  const accepted: { index: number; input: InteractionInput; customerId: string }[] = [];
  for (let k = 0; k < valid.length; k++) {
    const { index, input } = valid[k] as (typeof valid)[number];
    const ref = resolved[k];
    if (ref?.ok) accepted.push({ index, input, customerId: ref.customerId });
    else if (ref) {
      results[index] = {
        index,
        status: 'rejected',
        error: customerError(ref.error, itemPath(prefix, index)),
      };
    }
  }
  if (options.atomic && accepted.length < items.length) throw batchRejected(results);

  // The first item with a key leads; later ones in the same call are its duplicates.
  const leaders = new Map<string, { index: number; input: InteractionInput; customerId: string }>();
  const followers: { index: number; key: string }[] = [];
  for (const entry of accepted) {
    const key = `${entry.input.source}\u0000${entry.input.externalId}`;
    if (leaders.has(key)) followers.push({ index: entry.index, key });
    else leaders.set(key, entry);
  }
  // Inserting in key order makes concurrent batches with overlapping keys wait for each other instead
  // of deadlocking; ids minted in the same order keep primary-key inserts close to ascending.
  const ordered = [...leaders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rows: repo.NewInteractionRow[] = ordered.map(([, l]) => ({
    id: newId(),
    customerId: l.customerId,
    input: l.input,
  }));
  const inserted = await repo.insertInteractions(tx, actor.workspaceId, rows);
  // Announced in the same transaction: subscribers (value, segments, facts) react after it commits.
  await recordEvents(
    tx,
    rows
      .filter((r) => inserted.has(r.id))
      .map((r) => ({
        type: 'interaction_recorded' as const,
        customerId: r.customerId,
        payload: {
          interactionId: r.id,
          customerId: r.customerId,
          interactionType: r.input.type,
          source: r.input.source,
        },
      })),
  );
  const conflicting = rows.filter((r) => !inserted.has(r.id));
  const originals = new Map<string, repo.StoredKey>();
  for (const stored of await repo.findByKeys(
    tx,
    actor.workspaceId,
    conflicting.map((r) => r.input),
  )) {
    originals.set(`${stored.source}\u0000${stored.externalId}`, stored);
  }

  const outcomeOf = new Map<string, { id: string; customerId: string }>();
  ordered.forEach(([key, { index }], k) => {
    const row = rows[k] as repo.NewInteractionRow;
    if (inserted.has(row.id)) {
      const report = reports.get(index);
      results[index] = {
        index,
        status: 'created',
        id: row.id,
        customerId: row.customerId,
        ...(report && report.dropped.length > 0 ? { dropped: report.dropped } : {}),
        ...(report && report.masked.length > 0 ? { masked: report.masked } : {}),
      };
      outcomeOf.set(key, { id: row.id, customerId: row.customerId });
      return;
    }
    const original = originals.get(key);
    if (!original) {
      // The key conflicted yet its row is invisible: only a concurrent erasure could do this.
      throw new AppError(
        'unavailable',
        'DB_RETRY',
        'A concurrent change hid a stored interaction; retry the request.',
      );
    }
    results[index] = { index, status: 'duplicate', id: original.id, customerId: original.customerId };
    outcomeOf.set(key, { id: original.id, customerId: original.customerId });
  });
  for (const { index, key } of followers) {
    const first = outcomeOf.get(key);
    if (first) results[index] = { index, status: 'duplicate', id: first.id, customerId: first.customerId };
  }
  return results;
}

/**
 * Resolves the customer of every valid item, in item order, in one resolver call: each item's source
 * system is the provenance of any customer its reference creates.
 */
async function resolveAll(
  tx: Tx,
  actor: Actor,
  valid: readonly { input: InteractionInput }[],
  settings: WorkspaceSettings,
): Promise<ResolvedRef[]> {
  const first = valid[0];
  if (first === undefined) return [];
  return resolveCustomerRefs(
    tx,
    valid.map((v) => v.input.customer),
    {
      workspaceId: actor.workspaceId,
      defaultRegion: settings.defaultRegion,
      autoCreate: settings.autoCreateCustomers,
      capturedBy: actor.label,
      source: first.input.source,
      sources: valid.map((v) => v.input.source),
      linkVerifiedContacts: settings.linkVerifiedContacts,
    },
  );
}

/** One interaction of the caller's workspace, or INTERACTION_NOT_FOUND. */
export async function getInteraction(tx: Tx, id: string): Promise<Interaction> {
  const found = isUuid(id) ? await repo.findInteraction(tx, id.toLowerCase()) : undefined;
  if (!found)
    throw notFound('INTERACTION_NOT_FOUND', `No interaction with id ${id} in this workspace.`, { id });
  return found;
}

function customerNotFound(customerId: string): AppError {
  return notFound('CUSTOMER_NOT_FOUND', `No customer with id ${customerId} in this workspace.`, {
    id: customerId,
  });
}

function timeBound(value: string | undefined, name: 'from' | 'to'): string | undefined {
  if (value === undefined) return undefined;
  if (parseTimestamp(value) === undefined) {
    throw invalid('TIME_RANGE_INVALID', `${name} must be an ISO 8601 timestamp with a time zone.`, {
      errors: [
        { path: name, message: 'must be an ISO 8601 timestamp with a time zone, e.g. 2024-05-01T10:00:00Z' },
      ],
    });
  }
  return value.toUpperCase();
}

/**
 * One page of a customer's timeline, newest first by default, ordered by `occurredAt` then id, with an
 * opaque cursor to the next page (null on the last). Filters: types, channels, `from` (inclusive) and
 * `to` (exclusive). CUSTOMER_NOT_FOUND for a customer not in the caller's workspace.
 */
export async function getTimeline(
  tx: Tx,
  customerId: string,
  options: TimelineOptions = {},
): Promise<TimelinePage> {
  const limit = options.limit ?? TIMELINE_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > TIMELINE_MAX_LIMIT) {
    throw invalid('LIMIT_INVALID', `limit must be an integer from 1 to ${TIMELINE_MAX_LIMIT}.`, {
      errors: [{ path: 'limit', message: `must be an integer from 1 to ${TIMELINE_MAX_LIMIT}` }],
    });
  }
  const order = options.order ?? 'desc';
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, order);
  const from = timeBound(options.from, 'from');
  const to = timeBound(options.to, 'to');
  if (!isUuid(customerId)) throw customerNotFound(customerId);
  const id = customerId.toLowerCase();
  const rows = await repo.listTimeline(tx, {
    customerId: id,
    limit: limit + 1,
    order,
    after,
    types: options.types,
    channels: options.channels,
    from,
    to,
  });
  // A row proves the customer is in this workspace; an empty page must ask.
  if (rows.length === 0) await assertCustomerExists(tx, id);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    interactions: page.map((r) => r.interaction),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ order, occurredAt: last.position, id: last.interaction.id })
        : null,
  };
}

async function assertCustomerExists(tx: Tx, customerId: string): Promise<void> {
  const workspaceId = await repo.currentWorkspaceId(tx);
  if (workspaceId === null) throw customerNotFound(customerId);
  // Only an id is resolved and nothing is created, so region, source and capturer do not matter.
  const [answer] = await resolveCustomerRefs(tx, [{ id: customerId }], {
    workspaceId,
    defaultRegion: 'US',
    autoCreate: false,
    capturedBy: 'timeline',
    source: 'timeline',
  });
  // A merged-away id resolves to its survivor for ingest, but its own timeline is gone: not found here
  // (the access layer then says where it went).
  if (!answer?.ok || answer.customerId !== customerId) throw customerNotFound(customerId);
}

/**
 * Interactions of the caller's workspace in id order, after `afterId` (null: from the start), at most
 * `limit` (1–10,000): the export's scan. Each turns back into an ingest item with `toIngestItem`.
 */
export async function listInteractionsForExport(
  tx: Tx,
  afterId: string | null,
  limit: number,
): Promise<Interaction[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BATCH_ITEMS) {
    throw invalid('LIMIT_INVALID', `limit must be an integer from 1 to ${MAX_BATCH_ITEMS}.`, { limit });
  }
  if (afterId !== null && !isUuid(afterId)) {
    throw invalid('CURSOR_INVALID', 'afterId must be the id of the last interaction of the previous page.', {
      afterId,
    });
  }
  return repo.listByIdAfter(tx, afterId?.toLowerCase() ?? null, limit);
}
