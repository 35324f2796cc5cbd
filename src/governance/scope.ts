import type { Kysely } from 'kysely';
import {
  type AuditEntry,
  chainPendingEvents,
  getAuditKeys,
  recordAuditEvents,
  recordCheckpoint,
} from '../audit/index.ts';
import type { PurposeRules } from '../consent/index.ts';
import { customerMergedError, findMergedInto } from '../customers/index.ts';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { type DisclosureEntry, recipientForKey, recordDisclosures } from '../disclosures/index.ts';
import {
  BASE_TAXONOMY,
  type CompiledAccess,
  compileAccess,
  decidePurpose,
  effectivePurposes,
  extendTaxonomy,
  type Taxonomy,
} from '../policy/index.ts';
import { AppError, forbidden, invalid } from '../shared/errors.ts';
import { type Actor, getWorkspaceForAccess, listWorkspaces, type Workspace } from '../workspaces/index.ts';

/**
 * The access scope of one transaction: who acts, for which purpose, under which workspace taxonomy,
 * with the compiled access decision; it collects the audit events and disclosures of everything read
 * or written and appends them at the end of the same transaction, so there is no access without its
 * record and no record of an access that rolled back.
 */
export interface AccessScope {
  readonly tx: Tx;
  readonly actor: Actor;
  readonly purpose: string;
  readonly requestId: string | null;
  readonly workspace: Workspace;
  readonly taxonomy: Taxonomy;
  readonly access: CompiledAccess;
  readonly now: Date;
  /** Records an access or change of personal data for the audit log (callers skip empty reads). */
  audit(entry: AuditEntry): void;
  /**
   * Records that customers' fields left Cornerstore to a recipient. Without a recipient, to the
   * caller's own system when the caller is an integration key (an integration read is a disclosure),
   * and to no one otherwise.
   */
  disclose(customerIds: readonly string[], fields: readonly string[], recipientId?: string): void;
}

/** How a transaction names its purpose. */
export interface ScopeOptions {
  /** The purpose named by the caller; undefined lets a write use its default. */
  purpose: string | undefined;
  requestId: string | null;
  /** The client's own request id (bounded, see api/request-ids.ts), kept in each audit event's details. */
  clientRequestId?: string | undefined;
  /** Reads must name a purpose; writes default to `service` (or the key's first purpose). */
  mode: 'read' | 'write';
  isolation?: 'read committed' | 'repeatable read';
  now?: Date;
  /**
   * Leave chaining the audit events to `chainAuditBacklog` (the server runs it several times a second)
   * instead of doing it right after commit: requests then never wait on the chain. Processes without
   * that timer (commands, tests) chain after commit.
   */
  deferChaining?: boolean;
  /** When the transaction must be over (epoch ms): a request's time budget (`inWorkspace`). */
  deadline?: number | undefined;
}

/** The workspace's taxonomy: the base one extended by the workspace's own categories and purposes. */
export function taxonomyOf(workspace: Workspace): Taxonomy {
  const { categories, purposes, overrides } = workspace.policy;
  if (categories.length === 0 && purposes.length === 0 && overrides.length === 0) return BASE_TAXONOMY;
  const extended = extendTaxonomy(BASE_TAXONOMY, { categories, purposes } as never, overrides as never);
  if (!extended.ok) {
    throw new AppError(
      'internal',
      'WORKSPACE_POLICY_INVALID',
      'The workspace policy stored is not valid any more; an admin must set it again.',
      { problems: extended.problems },
    );
  }
  return extended.taxonomy;
}

/** The lawful basis and opt-in rules of the taxonomy's purposes, as the consent ledger needs them. */
export function purposeRules(taxonomy: Taxonomy): PurposeRules {
  return {
    lawfulBasisOf: (purpose) => taxonomy.purposes.get(purpose)?.lawfulBasis,
    needsExplicitOptIn: (purpose) => taxonomy.purposes.get(purpose)?.lawfulBasis === 'explicit_consent',
  };
}

function defaultWritePurpose(actor: Actor, taxonomy: Taxonomy): string | undefined {
  const allowed = effectivePurposes(taxonomy, actor);
  return allowed.includes('service') ? 'service' : allowed[0];
}

function purposeRequired(): AppError {
  return invalid(
    'PURPOSE_REQUIRED',
    'Name the purpose of this read: the "purpose" query parameter or the Cornerstore-Purpose header (service, billing, fulfilment, personalization, marketing, analytics, legal…).',
  );
}

/**
 * Runs `fn` in a transaction of the actor's workspace under an access scope. A purpose the actor may
 * not use is 403 PURPOSE_NOT_ALLOWED before anything is read. The scope's audit events and disclosures
 * are appended after `fn`, in the same transaction.
 */
/** Refuses a purpose the actor may not use (its role, its key's grant) or the workspace does not know. */
export function assertPurposeAllowed(taxonomy: Taxonomy, actor: Actor, purpose: string): void {
  const decision = decidePurpose(taxonomy, actor, purpose);
  if (decision.allowed) return;
  const details = { purpose, role: actor.role, reason: decision.reason };
  if (decision.reason === 'PURPOSE_UNKNOWN') {
    throw invalid('PURPOSE_UNKNOWN', `"${purpose}" is not a purpose of this workspace.`, details);
  }
  throw forbidden('PURPOSE_NOT_ALLOWED', decision.detail, details);
}

export async function withAccess<T>(
  db: Kysely<DB>,
  actor: Actor,
  options: ScopeOptions,
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  try {
    return await runWithAccess(db, actor, options, fn);
  } catch (error) {
    throw await explainMergedCustomer(db, actor, error);
  }
}

/**
 * A customer id that reads as not found may be a customer merged into another: then the error says so,
 * the same on every path that takes a customer id (404 CUSTOMER_MERGED with `details.mergedInto`, the
 * last survivor of the merge chain). Looked up after the access rolled back, so only a miss pays for it.
 */
export async function explainMergedCustomer(db: Kysely<DB>, actor: Actor, error: unknown): Promise<unknown> {
  if (!(error instanceof AppError) || error.code !== 'CUSTOMER_NOT_FOUND') return error;
  const details = (error.details ?? {}) as { id?: unknown; customerId?: unknown };
  const id = typeof details.id === 'string' ? details.id : details.customerId;
  if (typeof id !== 'string') return error;
  const survivor = await inWorkspace(db, actor.workspaceId, (tx) => findMergedInto(tx, actor, id));
  return survivor === undefined ? error : customerMergedError(id, survivor);
}

async function runWithAccess<T>(
  db: Kysely<DB>,
  actor: Actor,
  options: ScopeOptions,
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  let audited = false;
  const result = await inWorkspace(
    db,
    actor.workspaceId,
    async (tx) => {
      const { value, audits } = await runInScope(tx, actor, options, fn);
      audited = audits > 0;
      return value;
    },
    { ...(options.isolation ? { isolation: options.isolation } : {}), deadline: options.deadline },
  );
  if (audited) {
    if (options.deferChaining) backlogOf(db).add(actor.workspaceId);
    else await chainAfterCommit(db, actor.workspaceId);
  }
  return result;
}

/**
 * Runs `fn` under an access scope inside a workspace transaction the caller already holds (a
 * subscriber of the event backbone, whose transaction the dispatcher opened): the same purpose check,
 * decision, audit events and disclosures as `withAccess`, appended at the end of that transaction. The
 * audit events are chained by the backbone's chaining job.
 */
export async function withAccessInTransaction<T>(
  tx: Tx,
  actor: Actor,
  options: { purpose: string; now?: Date },
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  const { value } = await runInScope(
    tx,
    actor,
    {
      purpose: options.purpose,
      requestId: null,
      mode: 'write',
      ...(options.now ? { now: options.now } : {}),
    },
    fn,
  );
  return value;
}

async function runInScope<T>(
  tx: Tx,
  actor: Actor,
  options: ScopeOptions,
  fn: (scope: AccessScope) => Promise<T>,
): Promise<{ value: T; audits: number }> {
  const now = options.now ?? new Date();
  const workspace = await getWorkspaceForAccess(tx, actor.workspaceId);
  const taxonomy = taxonomyOf(workspace);
  const purpose =
    options.purpose ?? (options.mode === 'write' ? defaultWritePurpose(actor, taxonomy) : undefined);
  if (purpose === undefined) throw purposeRequired();
  assertPurposeAllowed(taxonomy, actor, purpose);
  const audits: AuditEntry[] = [];
  const disclosures: (Omit<DisclosureEntry, 'recipientId'> & { recipientId: string | null })[] = [];
  const lawfulBasis = taxonomy.purposes.get(purpose)?.lawfulBasis ?? 'unknown';
  const scope: AccessScope = {
    tx,
    actor,
    purpose,
    requestId: options.requestId,
    workspace,
    taxonomy,
    access: compileAccess(taxonomy, actor, purpose, now),
    now,
    audit: (entry) => {
      audits.push(entry);
    },
    disclose: (customerIds, fields, recipientId) => {
      if (recipientId === undefined && actor.role !== 'integration') return;
      for (const customerId of new Set(customerIds)) {
        disclosures.push({
          customerId,
          recipientId: recipientId ?? null,
          fields,
          purpose,
          lawfulBasis,
          requestId: options.requestId,
        });
      }
    },
  };
  const value = await fn(scope);
  if (disclosures.length > 0) {
    const own = disclosures.some((d) => d.recipientId === null) ? await recipientForKey(tx, actor) : null;
    await recordDisclosures(
      tx,
      actor.workspaceId,
      disclosures.map((d) => ({ ...d, recipientId: d.recipientId ?? own?.id ?? '' })),
    );
  }
  await recordAuditEvents(
    tx,
    actor.workspaceId,
    { actor: { keyId: actor.keyId, role: actor.role, label: actor.label }, requestId: options.requestId },
    withClientRequestId(audits, options.clientRequestId),
    now,
  );
  return { value, audits: audits.length };
}

/**
 * Runs a change of the workspace's configuration or access (settings, API keys) in one workspace
 * transaction: `audit` collects what changed, recorded in the same transaction, so no change of policy
 * or access commits without its record. Chaining follows as for an access (deferred when asked).
 */
export async function withAdministration<T>(
  db: Kysely<DB>,
  actor: Actor,
  options: { requestId: string | null; clientRequestId?: string | undefined; deferChaining?: boolean },
  fn: (tx: Tx, audit: (entry: AuditEntry) => void) => Promise<T>,
): Promise<T> {
  const audits: AuditEntry[] = [];
  const result = await inWorkspace(db, actor.workspaceId, async (tx) => {
    const value = await fn(tx, (entry) => audits.push(entry));
    await recordAuditEvents(
      tx,
      actor.workspaceId,
      { actor: { keyId: actor.keyId, role: actor.role, label: actor.label }, requestId: options.requestId },
      withClientRequestId(audits, options.clientRequestId),
    );
    return value;
  });
  if (audits.length > 0) {
    if (options.deferChaining) backlogOf(db).add(actor.workspaceId);
    else await chainAfterCommit(db, actor.workspaceId);
  }
  return result;
}

/** The entries with the client's request id added to their details, when the client sent one. */
export function withClientRequestId(
  entries: AuditEntry[],
  clientRequestId: string | undefined,
): AuditEntry[] {
  if (clientRequestId === undefined) return entries;
  return entries.map((entry) => ({ ...entry, details: { ...entry.details, clientRequestId } }));
}

/**
 * Workspaces whose waiting audit events a busy chainer left for later, per database: a process that
 * opens two databases (a benchmark, a restore) never chains one's workspace in the other.
 */
const backlogs = new WeakMap<Kysely<DB>, Set<string>>();

function backlogOf(db: Kysely<DB>): Set<string> {
  let backlog = backlogs.get(db);
  if (!backlog) {
    backlog = new Set();
    backlogs.set(db, backlog);
  }
  return backlog;
}

/**
 * Links the workspace's waiting audit events into its chain, after the access committed, without
 * waiting: when another transaction is chaining, the workspace is left to `chainAuditBacklog`. A
 * failure here loses nothing (the events wait in the inbox) and must not fail the access that
 * already committed.
 */
export async function chainAfterCommit(db: Kysely<DB>, workspaceId: string): Promise<void> {
  try {
    const keys = getAuditKeys(db);
    const chained = await inWorkspace(db, workspaceId, (tx) =>
      chainPendingEvents(tx, workspaceId, keys, { wait: false }),
    );
    if (chained < 0) backlogOf(db).add(workspaceId);
    else if (chained > 0) await checkpointNowAndThen(db, workspaceId);
  } catch {
    backlogOf(db).add(workspaceId);
  }
}

/** How often at most a process signs a checkpoint of a workspace's chain head while it chains. */
const CHECKPOINT_EVERY_MS = 10_000;
const lastCheckpoint = new Map<string, number>();

/**
 * Signs a checkpoint of the workspace's chain head after chaining, at most every CHECKPOINT_EVERY_MS
 * per workspace and process (the first chaining of a process always does): events older than the
 * latest checkpoint cannot be trimmed unseen. Runs after the chaining committed.
 */
async function checkpointNowAndThen(db: Kysely<DB>, workspaceId: string): Promise<void> {
  const now = Date.now();
  if (now - (lastCheckpoint.get(workspaceId) ?? Number.NEGATIVE_INFINITY) < CHECKPOINT_EVERY_MS) return;
  lastCheckpoint.set(workspaceId, now);
  await recordCheckpoint(db, workspaceId, getAuditKeys(db), new Date(now));
}

/**
 * Chains the waiting audit events of every workspace, whichever process recorded them (a request of
 * another process, a subscriber of the backbone): the sweep the backbone runs in one worker at a time.
 */
export async function chainAllWorkspaces(db: Kysely<DB>): Promise<number> {
  const backlog = backlogOf(db);
  for (const workspace of await listWorkspaces(db)) backlog.add(workspace.id);
  return chainAuditBacklog(db);
}

/**
 * Chains the audit events of every workspace with events waiting (deferred by the server's requests,
 * or left by a busy moment); the server runs it several times a second. Answers how many it chained.
 */
export async function chainAuditBacklog(db: Kysely<DB>): Promise<number> {
  // One sweep at a time: a caller arriving during a sweep waits for it, so when this returns every
  // event recorded before the call is chained.
  while (sweeping) await sweeping.catch(() => undefined);
  const sweep = (async () => {
    let total = 0;
    let failure: unknown;
    const keys = getAuditKeys(db);
    const backlog = backlogOf(db);
    for (const workspaceId of [...backlog]) {
      backlog.delete(workspaceId);
      try {
        const chained = await inWorkspace(db, workspaceId, (tx) =>
          chainPendingEvents(tx, workspaceId, keys, { wait: true }),
        );
        if (chained > 0) await checkpointNowAndThen(db, workspaceId);
        total += chained;
      } catch (error) {
        // One workspace failing must not leave the others unchained: it waits for the next sweep.
        backlog.add(workspaceId);
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return total;
  })();
  sweeping = sweep;
  try {
    return await sweep;
  } finally {
    sweeping = undefined;
  }
}

let sweeping: Promise<number> | undefined;
