import { type Kysely, sql } from 'kysely';
import { DEFAULT_SUBJECT, loadPrivacySubjects, type PrivacySubject } from '../consent/index.ts';
import { getCustomer } from '../customers/index.ts';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { type DomainEvent, recordEvents } from '../events/index.ts';
import { FACT_KEYS, listCurrentFacts } from '../facts/index.ts';
import {
  type ActionPurpose,
  assertPlaybook,
  type CompiledPlaybook,
  type CustomerSnapshot,
  compilePlaybook,
  DEFAULT_PLAYBOOK,
  type Decision,
  type DetectedMoment,
  decide,
  detectFromInteraction,
  detectImportantDate,
  detectLapse,
  detectNameCorrected,
  LAPSE,
  type MomentInput,
  type Playbook,
  type PlaybookContext,
  type PurposeView,
  parsePlaybookText,
  REPEATED_COMPLAINT,
  momentRepository as repo,
  type SnapshotFact,
  SPECIAL_LIFE_EVENTS,
} from '../moments/index.ts';
import type { Taxonomy } from '../policy/index.ts';
import { findRelationship } from '../relationships/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { type Actor, getWorkspaceForAccess, listWorkspaces, operatorActor } from '../workspaces/index.ts';
import { filterFacts } from './fact-gate.ts';
import { CustomerGate } from './gate.ts';
import { type AccessScope, taxonomyOf, withAccessInTransaction } from './scope.ts';

/**
 * Small moments under the access decision (SPEC §9): each customer's snapshot is built from the facts
 * the governance decision lets each action's purpose use (the same filter as every read, not a copy),
 * the intimacy level and consents, the relationship and the contact ledger; the moments subscriber
 * raises moments from committed events (never inside the ingest's transaction), decides and stores
 * each decision with its trace and delivers its actions; the API reads next-best actions, decisions,
 * tasks and playbooks, takes feedback and runs backtests without side effects.
 */

const DAY = 86_400_000;
const SYSTEM_LABEL = 'job:moments';
/** How long after it happened an interaction still raises a moment when it is recorded. */
const HISTORY_HORIZON_DAYS = 30;

// ---------------------------------------------------------------------------------------------------
// Playbooks

/** What a playbook may name in a workspace: its purposes and fact keys. */
export function playbookContext(taxonomy: Taxonomy): PlaybookContext {
  return { purposes: [...taxonomy.purposes.keys()], factKeys: FACT_KEYS.map((k) => k.key) };
}

/** Compiled playbooks by workspace and version: compiled once, reused by every event. */
const compiledCache = new Map<string, CompiledPlaybook>();

function compiledOf(key: string, make: () => CompiledPlaybook): CompiledPlaybook {
  let compiled = compiledCache.get(key);
  if (compiled === undefined) {
    compiled = make();
    if (compiledCache.size > 1000) compiledCache.clear();
    compiledCache.set(key, compiled);
  }
  return compiled;
}

/** The workspace's active playbook, compiled (version 0: the built-in default). */
export async function activePlaybook(
  tx: Tx,
  workspaceId: string,
  taxonomy: Taxonomy,
): Promise<CompiledPlaybook> {
  const row = await repo.findActivePlaybook(tx, workspaceId);
  if (row === undefined)
    return compiledOf('default', () =>
      compilePlaybook(assertPlaybook(DEFAULT_PLAYBOOK, playbookContext(taxonomy)), 0),
    );
  return compiledOf(`${workspaceId}:${row.version}`, () =>
    compilePlaybook(row.definition as Playbook, row.version),
  );
}

export interface PlaybookView {
  version: number;
  format: string;
  createdBy: string | null;
  createdAt: string | null;
  playbook: Playbook;
}

/** The active playbook (validated, with defaults filled in). */
export async function readPlaybookGoverned(scope: AccessScope, version?: number): Promise<PlaybookView> {
  const ws = scope.actor.workspaceId;
  if (version === 0) return defaultView(scope.taxonomy);
  const row =
    version === undefined
      ? await repo.findActivePlaybook(scope.tx, ws)
      : await repo.findPlaybookVersion(scope.tx, ws, version);
  if (row === undefined) {
    if (version !== undefined)
      throw notFound('PLAYBOOK_VERSION_NOT_FOUND', `This workspace has no playbook version ${version}.`, {
        version,
      });
    return defaultView(scope.taxonomy);
  }
  return {
    version: row.version,
    format: row.format,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    playbook: row.definition as Playbook,
  };
}

function defaultView(taxonomy: Taxonomy): PlaybookView {
  return {
    version: 0,
    format: 'json',
    createdBy: null,
    createdAt: null,
    playbook: assertPlaybook(DEFAULT_PLAYBOOK, playbookContext(taxonomy)),
  };
}

/** Every version of the workspace's playbook, newest first (version 0, the default, last). */
export async function listPlaybookVersionsGoverned(
  scope: AccessScope,
): Promise<
  { version: number; format: string; createdBy: string | null; createdAt: string | null; active: boolean }[]
> {
  const rows = await repo.listPlaybookVersions(scope.tx, scope.actor.workspaceId);
  return [
    ...rows.map((r, i) => ({
      version: r.version,
      format: r.format,
      createdBy: r.created_by,
      createdAt: r.created_at.toISOString(),
      active: i === 0,
    })),
    { version: 0, format: 'json', createdBy: null, createdAt: null, active: rows.length === 0 },
  ];
}

/** A playbook from a request: an object, or `{text}` holding JSON or YAML. */
function playbookInput(input: unknown): { value: unknown; format: 'json' | 'yaml' } {
  if (typeof input === 'object' && input !== null && typeof (input as { text?: unknown }).text === 'string')
    return parsePlaybookText((input as { text: string }).text);
  if (typeof input === 'string') return parsePlaybookText(input);
  return { value: input, format: 'json' };
}

/** Validates a playbook without saving it: the playbook with defaults, or 400 PLAYBOOK_INVALID. */
export function validatePlaybookGoverned(scope: AccessScope, input: unknown): Playbook {
  return assertPlaybook(playbookInput(input).value, playbookContext(scope.taxonomy));
}

/**
 * Saves a playbook as the next version, which becomes active. Refused whole when invalid (400
 * PLAYBOOK_INVALID with every problem's JSON path), and the previous version stays active. Owners and
 * admins; audited.
 */
export async function setPlaybookGoverned(scope: AccessScope, input: unknown): Promise<PlaybookView> {
  assertPermitted(scope.actor, 'workspace.configure');
  const { value, format } = playbookInput(input);
  const playbook = assertPlaybook(value, playbookContext(scope.taxonomy));
  const active = await repo.findActivePlaybook(scope.tx, scope.actor.workspaceId);
  const version = (active?.version ?? 0) + 1;
  await repo.insertPlaybook(scope.tx, scope.actor.workspaceId, {
    version,
    definition: playbook,
    format,
    createdBy: scope.actor.label,
    now: scope.now,
  });
  scope.audit({
    action: 'moments.playbook.set',
    purpose: scope.purpose,
    customerIds: [],
    fields: [],
    details: { version },
  });
  return { version, format, createdBy: scope.actor.label, createdAt: scope.now.toISOString(), playbook };
}

// ---------------------------------------------------------------------------------------------------
// Snapshots: what a decision may know of a customer

const BEHAVIOURAL = 'behavioral';

function isSpecialLifeEvent(value: unknown): boolean {
  const event =
    typeof value === 'object' && value !== null ? (value as { event?: unknown }).event : undefined;
  return typeof event === 'string' && SPECIAL_LIFE_EVENTS.includes(event);
}

/**
 * The view of one data purpose: the governance decision for the customer (consent, restriction,
 * objection, intimacy) and the facts it lets the purpose use, through `filterFacts` as every read.
 * A special-category life event (illness) serves only the purposes the customer consented to.
 */
async function purposeView(
  tx: Tx,
  actor: Actor,
  purpose: string,
  subject: PrivacySubject,
  customerId: string,
  stored: Awaited<ReturnType<typeof listCurrentFacts>>,
  now: Date,
  audit: boolean,
): Promise<PurposeView> {
  return withAccessInTransaction(tx, actor, { purpose, now }, async (scope) => {
    const gate = new CustomerGate(scope, subject);
    if (!gate.open)
      return {
        open: false,
        reason: gate.subjectDecision.allowed ? null : gate.subjectDecision.reason,
        facts: new Map(),
        withheld: new Map(),
      };
    const facts = new Map<string, SnapshotFact[]>();
    const withheld = new Map<string, string>();
    for (const f of filterFacts(scope, gate, subject, stored)) {
      if (isSpecialLifeEvent(f.value) && !f.consentPurposes.includes(purpose)) {
        withheld.set(
          f.key,
          `special-category data the customer consented to for ${f.consentPurposes.join(', ') || 'no purpose'} only`,
        );
        continue;
      }
      const list = facts.get(f.key) ?? [];
      list.push({
        key: f.key,
        value: f.value,
        sourceKind: f.sourceKind,
        source: f.provenance.source,
        category: f.category,
      });
      facts.set(f.key, list);
    }
    for (const w of gate.withheld) {
      const key = w.field.startsWith('facts.') ? w.field.slice(6) : w.field;
      if (!facts.has(key)) withheld.set(key, w.reason);
    }
    if (audit && facts.size > 0)
      scope.audit({
        action: 'moment.decide',
        purpose,
        customerIds: [customerId],
        fields: [...facts.keys()].map((k) => `facts.${k}`),
      });
    return { open: true, reason: null, facts, withheld };
  });
}

/** Builds a customer's snapshot for the data purposes the candidate actions name. */
export async function buildSnapshot(
  tx: Tx,
  actor: Actor,
  taxonomy: Taxonomy,
  customerId: string,
  purposes: readonly string[],
  now: Date,
  options: { audit: boolean; ledger?: repo.LedgerRows },
): Promise<CustomerSnapshot> {
  const ws = actor.workspaceId;
  const subject = (await loadPrivacySubjects(tx, ws, [customerId])).get(customerId) ?? DEFAULT_SUBJECT;
  const stored = await listCurrentFacts(tx, ws, [customerId]);
  const views = new Map<string, PurposeView>();
  for (const purpose of purposes)
    views.set(
      purpose,
      await purposeView(tx, actor, purpose, subject, customerId, stored, now, options.audit),
    );
  const relationship = await findRelationship(tx, ws, customerId, { history: 0 });
  const behaviouralLevel = taxonomy.categories.get(BEHAVIOURAL)?.minIntimacy ?? 3;
  const archetypeUsable = subject.intimacyLevel > 0 && subject.intimacyLevel >= behaviouralLevel;
  const dimensions: Record<string, number> = {};
  if (relationship && archetypeUsable)
    for (const [k, v] of Object.entries(relationship.dimensions))
      dimensions[k] = (v as { value: number }).value;
  const [value, segments, ledger] = await Promise.all([
    repo.findValue(tx, ws, customerId),
    repo.findSegmentNames(tx, ws, customerId),
    options.ledger ? Promise.resolve(options.ledger) : repo.loadLedger(tx, ws, customerId, now),
  ]);
  return {
    customerId,
    intimacy: subject.intimacyLevel,
    purposes: views,
    archetype: relationship?.archetype ?? null,
    archetypeUsable,
    dimensions,
    value,
    segments,
    recentMoments: ledger.moments,
    actions: ledger.actions,
    feedback: ledger.feedback,
  };
}

/** The data purposes the rules subscribed to a moment type read under. */
function purposesFor(compiled: CompiledPlaybook, type: string): string[] {
  return [...new Set((compiled.byMoment.get(type) ?? []).map((r) => r.action.dataPurpose))];
}

// ---------------------------------------------------------------------------------------------------
// Deciding and storing

/** The stored trace of a decision: the moment, every candidate with its scores or the rule that removed it. */
export function traceOf(
  compiled: CompiledPlaybook,
  moment: MomentInput & { id?: string; sourceIds?: string[] },
  snap: CustomerSnapshot,
  decision: Decision,
): Record<string, unknown> {
  const known = decision.chosen.flatMap((c) => c.known.map((k) => ({ action: c.def.id, ...k })));
  return {
    moment: {
      ...(moment.id ? { id: moment.id } : {}),
      type: moment.type,
      at: new Date(moment.at).toISOString(),
      context: moment.context,
      ...(moment.sourceIds ? { sourceIds: moment.sourceIds } : {}),
    },
    playbookVersion: compiled.version,
    customer: {
      intimacy: snap.intimacy,
      archetype: snap.archetype,
      archetypeUsedForTargeting: snap.archetypeUsable,
    },
    rulesEvaluated: compiled.byMoment.get(moment.type)?.length ?? 0,
    candidates: decision.candidates,
    chosen: decision.chosen.map((c) => ({
      action: c.def.id,
      rule: c.rule,
      purpose: c.def.purpose,
      channel: c.channel,
      delivery: c.def.delivery,
      scores: c.scores,
      explanation: c.explanation,
    })),
    suppressed: decision.suppressed,
    staff: {
      whyThis: decision.chosen.map(
        (c) =>
          `${c.def.id}: rule ${c.rule}, priority ${c.scores.priority.toFixed(3)} = propensity ${c.scores.propensity.toFixed(2)} × context ${c.scores.contextWeight} × value ${c.scores.value} × lever ${c.scores.lever} × fit ${c.scores.fit}`,
      ),
      whyNow: `${moment.type.replaceAll('_', ' ')} at ${new Date(moment.at).toISOString()}`,
      whatWeKnow: known.map((k) => ({
        action: k.action,
        fact: k.key,
        sourceKind: k.sourceKind,
        toldBy: k.source,
      })),
    },
  };
}

async function propensitiesOf(tx: Tx, workspaceId: string) {
  const map = await repo.loadPropensities(tx, workspaceId);
  return (action: string) => map.get(action);
}

/** What deciding on one detected moment did. */
export interface MomentOutcome {
  momentId: string;
  created: boolean;
  decisionId: string | null;
  actions: string[];
}

/** Stores a moment (deduplicated by window) and, when new, decides on it and stores decision and actions. */
export async function raiseMoment(
  tx: Tx,
  actor: Actor,
  taxonomy: Taxonomy,
  compiled: CompiledPlaybook,
  customerId: string,
  detected: DetectedMoment,
  eventId: string,
  now: Date,
): Promise<MomentOutcome> {
  const ws = actor.workspaceId;
  const stored = await repo.upsertMoment(tx, ws, {
    id: newId(),
    customerId,
    type: detected.type,
    windowKey: detected.windowKey,
    context: detected.context,
    eventId,
    occurredAt: new Date(detected.at),
    now,
  });
  if (!stored.created) return { momentId: stored.id, created: false, decisionId: null, actions: [] };
  const ledger = await repo.loadLedger(tx, ws, customerId, now);
  // The moment itself is in the ledger now; distress and sequencing look at the ones before it.
  const before = {
    ...ledger,
    moments: ledger.moments.filter((m) => !(m.type === detected.type && m.at === detected.at)),
  };
  const snap = await buildSnapshot(
    tx,
    actor,
    taxonomy,
    customerId,
    purposesFor(compiled, detected.type),
    now,
    {
      audit: true,
      ledger: before,
    },
  );
  const moment = { type: detected.type, at: detected.at, context: detected.context };
  const decision = decide(compiled, snap, moment, now.getTime(), await propensitiesOf(tx, ws));
  const decisionId = newId();
  await repo.insertDecision(tx, ws, {
    id: decisionId,
    momentId: stored.id,
    customerId,
    playbookVersion: compiled.version,
    outcome: decision.outcome,
    trace: traceOf(compiled, { ...moment, id: stored.id, sourceIds: [eventId] }, snap, decision),
    now,
  });
  const rows = decision.chosen.map((c) => ({
    id: newId(),
    decisionId,
    customerId,
    action: c.def.id,
    purpose: c.def.purpose,
    dataPurpose: c.def.dataPurpose,
    channel: c.channel,
    delivery: c.def.delivery,
    dueAt: new Date(c.dueAt),
    script: c.def.script === '' ? null : c.def.script,
    explanation: c.explanation,
  }));
  await repo.insertActions(tx, ws, rows, now);
  return { momentId: stored.id, created: true, decisionId, actions: rows.map((r) => r.id) };
}

const FEEDBACK_OUTCOMES = ['accepted', 'ignored', 'rejected', 'too_personal', 'converted'] as const;
type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];
const SUCCESS: ReadonlySet<string> = new Set(['accepted', 'converted']);

/** Stores feedback once per action and outcome and updates the action's propensity. */
async function applyFeedback(
  tx: Tx,
  workspaceId: string,
  action: repo.ActionRow,
  outcome: FeedbackOutcome,
  source: string,
  now: Date,
): Promise<boolean> {
  const fresh = await repo.insertFeedback(tx, workspaceId, {
    id: newId(),
    actionId: action.id,
    customerId: action.customer_id,
    action: action.action,
    outcome,
    source,
    now,
  });
  if (fresh) await repo.bumpPropensity(tx, workspaceId, action.action, SUCCESS.has(outcome), now);
  return fresh;
}

/** Consent withdrawn or denied: the customer's open actions under that purpose are cancelled at once. */
async function cancelForConsent(tx: Tx, event: DomainEvent, now: Date): Promise<void> {
  const p = event.payload;
  if (typeof p.customerId !== 'string' || typeof p.purpose !== 'string') return;
  if (p.status !== 'withdrawn' && p.status !== 'denied') return;
  await repo.cancelOpenActions(
    tx,
    event.workspaceId,
    p.customerId,
    [p.purpose],
    `consent for ${p.purpose} ${p.status}`,
    now,
  );
}

/** Handles one committed event: detection, decisions, feedback sent as an interaction, consent. */
export async function handleMomentEvent(
  tx: Tx,
  event: DomainEvent,
  now = new Date(),
): Promise<MomentOutcome[]> {
  if (event.type === 'consent_changed') {
    await cancelForConsent(tx, event, now);
    return [];
  }
  if (event.customerId === null) return [];
  let interaction: Awaited<ReturnType<typeof repo.findInteractionForDetection>>;
  if (event.type === 'interaction_recorded' && typeof event.payload.interactionId === 'string') {
    interaction = await repo.findInteractionForDetection(tx, event.workspaceId, event.payload.interactionId);
    if (interaction === undefined) return [];
    if (interaction.type === 'action_feedback') {
      await feedbackFromInteraction(
        tx,
        event.workspaceId,
        interaction.customer_id,
        interaction.properties,
        now,
      );
      return [];
    }
    // A moment is a chance to act now: an interaction recorded long after it happened (history being
    // imported) raises none. The backtest and the demo's replay decide history on purpose.
    if (event.occurredAt.getTime() - interaction.occurred_at.getTime() > HISTORY_HORIZON_DAYS * DAY)
      return [];
  }
  const workspace = await getWorkspaceForAccess(tx, event.workspaceId);
  const taxonomy = taxonomyOf(workspace);
  const actor: Actor = { ...operatorActor(event.workspaceId), label: SYSTEM_LABEL };
  const compiled = await activePlaybook(tx, event.workspaceId, taxonomy);
  let detected: DetectedMoment[] = [];
  let customerId = event.customerId;
  let sourceId = event.id;
  if (event.type === 'name_corrected') {
    detected = [detectNameCorrected(compiled.playbook, event.id, event.occurredAt.getTime())];
  } else if (interaction !== undefined) {
    customerId = interaction.customer_id;
    const counts = await repo.countForDetection(
      tx,
      event.workspaceId,
      customerId,
      interaction.occurred_at,
      REPEATED_COMPLAINT.days,
    );
    // The interaction is the moment's source: the same id whether the outbox or a replay raises it.
    sourceId = interaction.id;
    detected = detectFromInteraction(compiled.playbook, {
      eventId: interaction.id,
      interactionType: interaction.type,
      channel: interaction.channel,
      occurredAt: interaction.occurred_at.getTime(),
      properties: interaction.properties,
      purchases: counts.purchases,
      recentComplaints: counts.complaints,
    });
  }
  const out: MomentOutcome[] = [];
  for (const d of detected)
    out.push(await raiseMoment(tx, actor, taxonomy, compiled, customerId, d, sourceId, now));
  return out;
}

/** An `action_feedback` interaction (`properties.actionId`, `properties.outcome`) as feedback. */
async function feedbackFromInteraction(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  properties: Record<string, unknown>,
  now: Date,
): Promise<void> {
  const { actionId, outcome } = properties;
  if (typeof actionId !== 'string' || !(FEEDBACK_OUTCOMES as readonly unknown[]).includes(outcome)) return;
  if (!/^[0-9a-f-]{36}$/i.test(actionId)) return;
  const action = await repo.findAction(tx, workspaceId, actionId);
  if (action === undefined || action.customer_id !== customerId) return;
  await applyFeedback(tx, workspaceId, action, outcome as FeedbackOutcome, 'interaction', now);
}

// ---------------------------------------------------------------------------------------------------
// Scheduled: lapses and remembered dates; delivery of due webhook actions

/** Raises the scheduled moments (lapse, upcoming remembered dates) of the named workspaces. */
export async function scanScheduledMoments(
  db: Kysely<DB>,
  options: { now?: Date; workspaceIds?: readonly string[] } = {},
): Promise<{ workspaceId: string; moments: number; decisions: number }[]> {
  const now = options.now ?? new Date();
  const ids = options.workspaceIds ?? (await listWorkspaces(db)).map((w) => w.id);
  const out: { workspaceId: string; moments: number; decisions: number }[] = [];
  for (const workspaceId of ids) {
    const result = await inWorkspace(db, workspaceId, async (tx) => {
      const workspace = await getWorkspaceForAccess(tx, workspaceId);
      const taxonomy = taxonomyOf(workspace);
      const actor: Actor = { ...operatorActor(workspaceId), label: SYSTEM_LABEL };
      const compiled = await activePlaybook(tx, workspaceId, taxonomy);
      let moments = 0;
      let decisions = 0;
      const raise = async (customerId: string, d: DetectedMoment, key: string) => {
        const r = await raiseMoment(tx, actor, taxonomy, compiled, customerId, d, key, now);
        if (r.created) moments += 1;
        if (r.decisionId) decisions += 1;
      };
      for (const rhythm of await repo.listRhythms(tx, workspaceId, LAPSE.minPurchases)) {
        const d = detectLapse(compiled.playbook, rhythm, now.getTime());
        if (d) await raise(rhythm.customerId, d, newId());
      }
      for (const date of await repo.listRememberedDates(tx, workspaceId)) {
        const v = date.value as { month?: unknown; day?: unknown };
        if (typeof v?.month !== 'number' || typeof v.day !== 'number') continue;
        const d = detectImportantDate({ factId: date.factId, month: v.month, day: v.day }, now.getTime());
        if (d) await raise(date.customerId, d, newId());
      }
      return { moments, decisions };
    });
    out.push({ workspaceId, ...result });
  }
  return out;
}

/**
 * Raises the moments of a period's interactions now, as the subscriber would have on their arrival
 * (the demo, after a bulk load whose events are still queued). Moments are keyed by their source
 * interaction, so the subscriber, reaching the same events later, adds nothing.
 */
export async function replayMoments(
  db: Kysely<DB>,
  workspaceId: string,
  options: { from: Date; to: Date; now: Date },
): Promise<{ moments: number; decisions: number; actions: number }> {
  return inWorkspace(db, workspaceId, async (tx) => {
    const workspace = await getWorkspaceForAccess(tx, workspaceId);
    const taxonomy = taxonomyOf(workspace);
    const actor: Actor = { ...operatorActor(workspaceId), label: SYSTEM_LABEL };
    const compiled = await activePlaybook(tx, workspaceId, taxonomy);
    const totals = { moments: 0, decisions: 0, actions: 0 };
    let after: { at: Date; id: string } | null = null;
    for (;;) {
      const page = await repo.pageInteractions(tx, workspaceId, options.from, options.to, after, 2_000);
      const last = page[page.length - 1];
      if (last === undefined) break;
      after = { at: last.occurred_at, id: last.id };
      for (const row of page) {
        const counts = await repo.countForDetection(
          tx,
          workspaceId,
          row.customer_id,
          row.occurred_at,
          REPEATED_COMPLAINT.days,
        );
        const detected = detectFromInteraction(compiled.playbook, {
          eventId: row.id,
          interactionType: row.type,
          channel: row.channel,
          occurredAt: row.occurred_at.getTime(),
          properties: row.properties,
          purchases: counts.purchases,
          recentComplaints: counts.complaints,
        });
        for (const d of detected) {
          const r = await raiseMoment(tx, actor, taxonomy, compiled, row.customer_id, d, row.id, options.now);
          if (r.created) totals.moments += 1;
          if (r.decisionId) totals.decisions += 1;
          totals.actions += r.actions.length;
        }
      }
      if (page.length < 2_000) break;
    }
    return totals;
  });
}

/**
 * Due webhook actions are announced as `moment_action_ready` events, which the webhook subscriber
 * delivers, signed, to the messaging systems registered for them; the action is then `sent`.
 */
export async function deliverDueMomentActions(
  db: Kysely<DB>,
  options: { now?: Date; workspaceIds?: readonly string[] } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const ids = options.workspaceIds ?? (await listWorkspaces(db)).map((w) => w.id);
  let sent = 0;
  for (const workspaceId of ids) {
    sent += await inWorkspace(db, workspaceId, async (tx) => {
      const due = await repo.listActions(tx, workspaceId, {
        statuses: ['queued'],
        deliveries: ['webhook'],
        dueBefore: now,
        limit: 500,
      });
      if (due.length === 0) return 0;
      await recordEvents(
        tx,
        due.map((a) => ({
          type: 'moment_action_ready' as const,
          customerId: a.customer_id,
          payload: {
            actionId: a.id,
            customerId: a.customer_id,
            action: a.action,
            channel: a.channel,
            purpose: a.purpose,
            dataPurpose: a.data_purpose,
          },
        })),
      );
      for (const a of due) await repo.updateAction(tx, workspaceId, a.id, { status: 'sent' }, now);
      return due.length;
    });
  }
  return sent;
}

// ---------------------------------------------------------------------------------------------------
// API reads and writes

export interface ActionView {
  id: string;
  decisionId: string;
  customerId: string;
  action: string;
  purpose: string;
  dataPurpose: string;
  channel: string;
  delivery: string;
  status: string;
  owner: string | null;
  dueAt: string;
  script: string | null;
  explanation: string;
  outcome: string | null;
  cancelledReason: string | null;
  createdAt: string;
}

function actionView(r: repo.ActionRow): ActionView {
  return {
    id: r.id,
    decisionId: r.decision_id,
    customerId: r.customer_id,
    action: r.action,
    purpose: r.purpose,
    dataPurpose: r.data_purpose,
    channel: r.channel,
    delivery: r.delivery,
    status: r.status,
    owner: r.owner,
    dueAt: r.due_at.toISOString(),
    script: r.script,
    explanation: r.explanation,
    outcome: r.outcome,
    cancelledReason: r.cancelled_reason,
    createdAt: r.created_at.toISOString(),
  };
}

/** The customer may be processed for the scope's purpose at all; else 403 with the decision's reason. */
async function openCustomer(scope: AccessScope, customerId: string): Promise<string> {
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject =
    (await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [customer.id])).get(customer.id) ??
    DEFAULT_SUBJECT;
  const gate = new CustomerGate(scope, subject);
  if (!gate.open)
    throw forbidden(
      'CUSTOMER_NOT_PROCESSABLE',
      `This customer may not be processed for ${scope.purpose}: ${gate.subjectDecision.allowed ? '' : gate.subjectDecision.reason}`,
      {
        purpose: scope.purpose,
      },
    );
  return customer.id;
}

/**
 * A customer's next-best actions for the scope's purpose: the open actions whose data purpose it is
 * (service shows the service and care lanes), with their explanations, and what recent decisions
 * suppressed and why. Audited.
 */
export async function readNextBestActions(
  scope: AccessScope,
  customerId: string,
): Promise<{
  customerId: string;
  purpose: string;
  actions: ActionView[];
  suppressed: { action: string; reason: string; removedBy: string; decisionId: string }[];
}> {
  const id = await openCustomer(scope, customerId);
  const ws = scope.actor.workspaceId;
  const open = await repo.listActions(scope.tx, ws, {
    customerId: id,
    statuses: ['queued', 'claimed'],
    limit: 100,
  });
  const actions = open.filter((a) => a.data_purpose === scope.purpose).map(actionView);
  const since = scope.now.getTime() - 30 * DAY;
  const decisions = (await repo.listDecisions(scope.tx, ws, id, 20)).filter(
    (d) => d.created_at.getTime() >= since,
  );
  const seen = new Set<string>();
  const suppressed: { action: string; reason: string; removedBy: string; decisionId: string }[] = [];
  for (const d of decisions) {
    const trace = d.trace as { suppressed?: { action: string; reason: string; removedBy: string }[] };
    for (const s of trace.suppressed ?? []) {
      if (s.removedBy.startsWith('rule:') || seen.has(s.action)) continue;
      seen.add(s.action);
      suppressed.push({ ...s, decisionId: d.id });
    }
  }
  scope.audit({
    action: 'moments.next_best_actions.read',
    purpose: scope.purpose,
    customerIds: [id],
    fields: ['next_best_actions'],
  });
  return { customerId: id, purpose: scope.purpose, actions, suppressed };
}

export interface DecisionView {
  id: string;
  momentId: string;
  customerId: string;
  playbookVersion: number;
  outcome: string;
  createdAt: string;
  trace: unknown;
}

const decisionView = (d: repo.DecisionRow): DecisionView => ({
  id: d.id,
  momentId: d.moment_id,
  customerId: d.customer_id,
  playbookVersion: d.playbook_version,
  outcome: d.outcome,
  createdAt: d.created_at.toISOString(),
  trace: d.trace,
});

/** A customer's decisions with their traces, newest first. Audited. */
export async function listDecisionsGoverned(
  scope: AccessScope,
  customerId: string,
  limit = 50,
): Promise<DecisionView[]> {
  const id = await openCustomer(scope, customerId);
  const rows = await repo.listDecisions(
    scope.tx,
    scope.actor.workspaceId,
    id,
    Math.min(Math.max(limit, 1), 200),
  );
  scope.audit({
    action: 'moments.decisions.read',
    purpose: scope.purpose,
    customerIds: [id],
    fields: ['decisions'],
  });
  return rows.map(decisionView);
}

/** One decision with its trace. Audited. */
export async function readDecisionGoverned(scope: AccessScope, decisionId: string): Promise<DecisionView> {
  const row = await repo.findDecision(scope.tx, scope.actor.workspaceId, decisionId);
  if (row === undefined)
    throw notFound('DECISION_NOT_FOUND', 'No decision with this id in this workspace.', { decisionId });
  await openCustomer(scope, row.customer_id);
  scope.audit({
    action: 'moments.decisions.read',
    purpose: scope.purpose,
    customerIds: [row.customer_id],
    fields: ['decisions'],
  });
  return decisionView(row);
}

const TASK_STATUSES = ['queued', 'claimed', 'done', 'sent', 'cancelled'] as const;

/** The agents' queue: tasks (and other actions) by status, owner and delivery, due first. Audited. */
export async function listTasksGoverned(
  scope: AccessScope,
  filter: { status?: string; owner?: string; delivery?: string; limit?: number },
): Promise<ActionView[]> {
  const statuses = filter.status === undefined ? ['queued', 'claimed'] : filter.status.split(',');
  for (const s of statuses)
    if (!(TASK_STATUSES as readonly string[]).includes(s))
      throw invalid('TASK_STATUS_INVALID', `status must be among ${TASK_STATUSES.join(', ')}.`, {
        status: s,
      });
  const rows = await repo.listActions(scope.tx, scope.actor.workspaceId, {
    statuses,
    deliveries: filter.delivery === undefined ? ['task'] : filter.delivery.split(','),
    ...(filter.owner === undefined ? {} : { owner: filter.owner }),
    limit: Math.min(Math.max(filter.limit ?? 100, 1), 500),
  });
  // Only actions whose data purpose is the scope's, for customers the purpose may process.
  const subjects = await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [
    ...new Set(rows.map((r) => r.customer_id)),
  ]);
  const visible = rows.filter(
    (r) =>
      r.data_purpose === scope.purpose &&
      new CustomerGate(scope, subjects.get(r.customer_id) ?? DEFAULT_SUBJECT).open,
  );
  if (visible.length > 0)
    scope.audit({
      action: 'moments.tasks.read',
      purpose: scope.purpose,
      customerIds: [...new Set(visible.map((r) => r.customer_id))],
      fields: ['tasks'],
    });
  return visible.map(actionView);
}

async function actionFor(scope: AccessScope, id: string): Promise<repo.ActionRow> {
  const row = /^[0-9a-f-]{36}$/i.test(id)
    ? await repo.findAction(scope.tx, scope.actor.workspaceId, id)
    : undefined;
  if (row === undefined)
    throw notFound('ACTION_NOT_FOUND', 'No task or action with this id in this workspace.', { id });
  await openCustomer(scope, row.customer_id);
  return row;
}

/** One task or action. Audited. */
export async function readTaskGoverned(scope: AccessScope, id: string): Promise<ActionView> {
  const row = await actionFor(scope, id);
  scope.audit({
    action: 'moments.tasks.read',
    purpose: scope.purpose,
    customerIds: [row.customer_id],
    fields: ['tasks'],
  });
  return actionView(row);
}

function assertMayWork(scope: AccessScope): void {
  assertPermitted(scope.actor, 'interactions.record');
}

/** Claims a queued task for the caller (or the named owner). 409 TASK_NOT_OPEN when not queued. */
export async function claimTaskGoverned(scope: AccessScope, id: string, owner?: string): Promise<ActionView> {
  assertMayWork(scope);
  const row = await actionFor(scope, id);
  if (row.status !== 'queued')
    throw conflict('TASK_NOT_OPEN', `This task is ${row.status}: only a queued task can be claimed.`, {
      id,
      status: row.status,
    });
  const who = owner ?? scope.actor.label;
  await repo.updateAction(
    scope.tx,
    scope.actor.workspaceId,
    id,
    { status: 'claimed', owner: who },
    scope.now,
  );
  scope.audit({
    action: 'moments.task.claim',
    purpose: scope.purpose,
    customerIds: [row.customer_id],
    fields: ['tasks'],
  });
  return { ...actionView(row), status: 'claimed', owner: who };
}

/** Completes a task, with the customer's response as feedback when given. 409 when already finished. */
export async function completeTaskGoverned(
  scope: AccessScope,
  id: string,
  outcome?: string,
): Promise<ActionView> {
  assertMayWork(scope);
  const row = await actionFor(scope, id);
  if (row.status !== 'queued' && row.status !== 'claimed')
    throw conflict('TASK_NOT_OPEN', `This task is ${row.status}: it cannot be completed again.`, {
      id,
      status: row.status,
    });
  if (outcome !== undefined) assertOutcome(outcome);
  await repo.updateAction(
    scope.tx,
    scope.actor.workspaceId,
    id,
    { status: 'done', outcome: outcome ?? null, owner: row.owner ?? scope.actor.label },
    scope.now,
  );
  if (outcome !== undefined)
    await applyFeedback(
      scope.tx,
      scope.actor.workspaceId,
      row,
      outcome as FeedbackOutcome,
      'task',
      scope.now,
    );
  scope.audit({
    action: 'moments.task.complete',
    purpose: scope.purpose,
    customerIds: [row.customer_id],
    fields: ['tasks'],
  });
  return {
    ...actionView(row),
    status: 'done',
    outcome: outcome ?? null,
    owner: row.owner ?? scope.actor.label,
  };
}

function assertOutcome(outcome: string): asserts outcome is FeedbackOutcome {
  if (!(FEEDBACK_OUTCOMES as readonly string[]).includes(outcome))
    throw invalid('FEEDBACK_OUTCOME_INVALID', `outcome must be one of ${FEEDBACK_OUTCOMES.join(', ')}.`, {
      outcome,
    });
}

/**
 * Feedback on an action: updates its propensity (once per action and outcome), and through the
 * contact policy the customer's suppressions (too_personal, repeated rejections). Audited.
 */
export async function recordFeedbackGoverned(
  scope: AccessScope,
  id: string,
  outcome: string,
): Promise<{ action: ActionView; recorded: boolean; propensity: { successes: number; failures: number } }> {
  assertMayWork(scope);
  assertOutcome(outcome);
  const row = await actionFor(scope, id);
  const recorded = await applyFeedback(scope.tx, scope.actor.workspaceId, row, outcome, 'api', scope.now);
  if (row.status === 'queued' && (outcome === 'rejected' || outcome === 'too_personal'))
    await repo.updateAction(
      scope.tx,
      scope.actor.workspaceId,
      id,
      { status: 'cancelled', cancelledReason: `feedback: ${outcome}` },
      scope.now,
    );
  const learned = (await repo.loadPropensities(scope.tx, scope.actor.workspaceId)).get(row.action) ?? {
    successes: 0,
    failures: 0,
  };
  scope.audit({
    action: 'moments.feedback',
    purpose: scope.purpose,
    customerIds: [row.customer_id],
    fields: ['tasks'],
    details: { outcome },
  });
  return { action: actionView(row), recorded, propensity: learned };
}

/** The actions a lane purpose maps to (for documentation and the API's enum). */
export const LANES: readonly ActionPurpose[] = ['service', 'care', 'relationship', 'commercial'];

// ---------------------------------------------------------------------------------------------------
// Backtest: a playbook over historical events, without side effects

export interface BacktestInput {
  /** A playbook (object, or `{text}` in JSON or YAML); the active one when absent. */
  playbook?: unknown;
  from: Date;
  to: Date;
  samples?: number;
}

export interface BacktestReport {
  playbookVersion: number | 'candidate';
  from: string;
  to: string;
  interactions: number;
  customers: number;
  moments: Record<string, number>;
  decisions: { act: number; nothing: number };
  actions: Record<string, number>;
  suppressed: Record<string, number>;
  samples: unknown[];
  elapsedMs: number;
}

const BACKTEST_PAGE = 5_000;

/**
 * Replays the interactions of a period through a playbook in time order, in one read-only transaction
 * (PostgreSQL refuses any write in it, so nothing can change): detection, decisions and the contact
 * policy run on an in-memory ledger instead of the tables, each event decided at its own time. The
 * customers' facts, consents and relationships are today's. The report counts moments, actions and
 * suppression reasons and carries sample traces that name customers by their order of appearance and
 * facts by key only. Owners and admins.
 */
export async function runBacktestGoverned(scope: AccessScope, input: BacktestInput): Promise<BacktestReport> {
  assertPermitted(scope.actor, 'workspace.configure');
  const started = performance.now();
  if (!(input.from.getTime() < input.to.getTime()))
    throw invalid('BACKTEST_PERIOD_INVALID', 'from must be before to (ISO 8601 dates).', {
      from: input.from.toISOString(),
      to: input.to.toISOString(),
    });
  const { tx } = scope;
  await sql`SET TRANSACTION READ ONLY`.execute(tx);
  const ws = scope.actor.workspaceId;
  const compiled =
    input.playbook === undefined
      ? await activePlaybook(tx, ws, scope.taxonomy)
      : compilePlaybook(validatePlaybookGoverned(scope, input.playbook), -1);
  const propensities = await propensitiesOf(tx, ws);
  const actor: Actor = { ...scope.actor, label: 'backtest' };
  const ledgers = new Map<string, repo.LedgerRows & { keys: Set<string> }>();
  const snapshots = new Map<string, CustomerSnapshot>();
  const order = new Map<string, number>();
  const report: BacktestReport = {
    playbookVersion: input.playbook === undefined ? compiled.version : 'candidate',
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    interactions: 0,
    customers: 0,
    moments: {},
    decisions: { act: 0, nothing: 0 },
    actions: {},
    suppressed: {},
    samples: [],
    elapsedMs: 0,
  };
  const wanted = Math.min(Math.max(input.samples ?? 5, 0), 50);
  const allPurposes = [...new Set(compiled.playbook.actions.map((a) => a.dataPurpose))];
  const counts = new Map<string, { purchases: number; complaints: number[] }>();
  let after: { at: Date; id: string } | null = null;
  for (;;) {
    const page = await repo.pageInteractions(tx, ws, input.from, input.to, after, BACKTEST_PAGE);
    if (page.length === 0) break;
    const last = page[page.length - 1];
    if (last) after = { at: last.occurred_at, id: last.id };
    for (const row of page) {
      report.interactions += 1;
      const at = row.occurred_at.getTime();
      const c = counts.get(row.customer_id) ?? { purchases: 0, complaints: [] };
      counts.set(row.customer_id, c);
      if (row.type === 'purchase') c.purchases += 1;
      if (row.type === 'complaint') {
        c.complaints = c.complaints.filter((t) => at - t < REPEATED_COMPLAINT.days * DAY);
        c.complaints.push(at);
      }
      const detected = detectFromInteraction(compiled.playbook, {
        eventId: row.id,
        interactionType: row.type,
        channel: row.channel,
        occurredAt: at,
        properties: row.properties,
        purchases: c.purchases,
        recentComplaints: c.complaints.length,
      });
      if (detected.length === 0) continue;
      let ledger = ledgers.get(row.customer_id);
      if (ledger === undefined) {
        ledger = { moments: [], actions: [], feedback: [], keys: new Set() };
        ledgers.set(row.customer_id, ledger);
        order.set(row.customer_id, order.size + 1);
      }
      for (const d of detected) {
        const key = `${d.type}|${d.windowKey}`;
        if (ledger.keys.has(key)) continue;
        ledger.keys.add(key);
        report.moments[d.type] = (report.moments[d.type] ?? 0) + 1;
        let base = snapshots.get(row.customer_id);
        if (base === undefined) {
          base = await buildSnapshot(tx, actor, scope.taxonomy, row.customer_id, allPurposes, scope.now, {
            audit: false,
            ledger: { moments: [], actions: [], feedback: [] },
          });
          snapshots.set(row.customer_id, base);
        }
        const snap: CustomerSnapshot = {
          ...base,
          recentMoments: ledger.moments,
          actions: ledger.actions,
          feedback: [],
        };
        const moment = { type: d.type, at: d.at, context: d.context };
        const decision = decide(compiled, snap, moment, at, propensities);
        ledger.moments.unshift({
          type: d.type,
          at,
          ...(typeof d.context.event === 'string' ? { event: d.context.event } : {}),
        });
        report.decisions[decision.outcome] += 1;
        for (const chosen of decision.chosen) {
          report.actions[chosen.def.id] = (report.actions[chosen.def.id] ?? 0) + 1;
          ledger.actions.unshift({
            action: chosen.def.id,
            purpose: chosen.def.purpose,
            channel: chosen.channel,
            at,
          });
        }
        for (const s of decision.suppressed) {
          if (s.removedBy.startsWith('rule:')) continue;
          const reason = `${s.action}: ${s.removedBy}`;
          report.suppressed[reason] = (report.suppressed[reason] ?? 0) + 1;
        }
        if (
          report.samples.length < wanted &&
          decision.candidates.some((x) => !x.removedBy?.startsWith('rule:'))
        ) {
          const trace = traceOf(compiled, moment, snap, decision) as { staff: { whatWeKnow: unknown } };
          report.samples.push({ customer: `#${order.get(row.customer_id)}`, ...trace });
        }
      }
    }
    if (page.length < BACKTEST_PAGE) break;
  }
  report.customers = order.size;
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}
