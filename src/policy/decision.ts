import { PURPOSES, type Role } from '../shared/access.ts';
import {
  type CategoryDef,
  type IntimacyLevel,
  MAX_INTIMACY,
  type PurposeDef,
  resolveCategory,
  type Taxonomy,
} from './taxonomy.ts';

/**
 * The access decision of SPEC §5.2: may this actor use this field of this customer for this purpose?
 * One pure function, `decide`, made of three stages that callers can also run apart:
 *
 *  1. `decidePurpose` (request level, a denial is a 403 for the whole request)
 *     PURPOSE_UNKNOWN → PURPOSE_NOT_ALLOWED_FOR_ROLE (the role's table, then the key's grant).
 *  2. `decideSubject` (customer level)
 *     lawful basis: CONSENT_REQUIRED | EXPLICIT_OPT_IN_REQUIRED (none, or declined) → CONSENT_WITHDRAWN →
 *     CONSENT_EXPIRED → EXPLICIT_OPT_IN_REQUIRED (granted but not explicit) → PROCESSING_RESTRICTED →
 *     OBJECTED → INTIMACY_TOO_LOW (the purpose's minimum).
 *  3. `decideField` (field or fact level)
 *     PURPOSE_UNKNOWN → CATEGORY_UNKNOWN → DO_NOT_STORE → SPECIAL_CATEGORY (inferred, then a purpose that
 *     never uses special data, then not declared, then not declared for this purpose) → PSEUDONYMISED →
 *     INFERRED_NOT_USABLE → INTIMACY_TOO_LOW (the category's minimum).
 *
 * The first failing check gives the reason, so a reason is stable for the same inputs. Inside
 * `decideField` every check that does not depend on the customer comes before the two that read the
 * intimacy level, which is what lets `compileAccess` reduce a field to allow, deny or "needs level n".
 */

export type ConsentStatus = 'granted' | 'denied' | 'withdrawn';

/** The current consent of a customer to one purpose (the projection of the consent ledger). */
export interface ConsentState {
  status: ConsentStatus;
  /** Given by an explicit opt-in (needed for sale and third-party sharing). */
  explicit: boolean;
  /** ISO 8601; null when it does not expire. */
  expiresAt: string | null;
}

/** What the decision needs to know about a customer. */
export interface DecisionSubject {
  intimacyLevel: IntimacyLevel;
  /** Consent by purpose. */
  consents: ReadonlyMap<string, ConsentState>;
  /** The customer restricted processing: only purposes exempt from restriction (legal) remain. */
  restricted: boolean;
  /** Purposes objected to; do-not-sell/share is `sale` + `third_party_sharing` (DO_NOT_SELL_PURPOSES). */
  objections: ReadonlySet<string>;
}

/** Who asks: a role and the purposes granted to the key. */
export interface DecisionActor {
  role: Role;
  /**
   * Granted to the key. An integration key uses exactly these; for other roles a non-empty list narrows
   * the role's purposes and an empty one means all of them (the command-line operator has none listed).
   */
  purposes: readonly string[];
}

/** Where a field's value came from (SPEC §6). */
export type FieldSource = 'declared' | 'observed' | 'derived' | 'inferred';

/** A field or fact as the decision sees it. */
export interface FieldRef {
  /** A category name; unknown leaves resolve to their nearest known parent (`contact.email.work`). */
  category: string;
  source?: FieldSource;
  /** Special category: the purposes the customer declared it for. */
  consentPurposes?: readonly string[];
}

/** Every reason a use can be denied. */
export const DENY_REASONS = [
  'PURPOSE_UNKNOWN',
  'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  'CONSENT_REQUIRED',
  'CONSENT_WITHDRAWN',
  'CONSENT_EXPIRED',
  'EXPLICIT_OPT_IN_REQUIRED',
  'PROCESSING_RESTRICTED',
  'OBJECTED',
  'INTIMACY_TOO_LOW',
  'CATEGORY_UNKNOWN',
  'DO_NOT_STORE',
  'SPECIAL_CATEGORY',
  'PSEUDONYMISED',
  'INFERRED_NOT_USABLE',
] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export type Decision = { allowed: true } | { allowed: false; reason: DenyReason; detail: string };

const ALLOW: Decision = Object.freeze({ allowed: true });

function deny(reason: DenyReason, detail: string): Decision {
  return { allowed: false, reason, detail };
}

// ---------------------------------------------------------------------------------------------------
// Stage 1: the purpose

/** The purposes an actor may use: the role's, narrowed by the key's grant. */
export function effectivePurposes(taxonomy: Taxonomy, actor: DecisionActor): readonly string[] {
  const ofRole = taxonomy.rolePurposes[actor.role] ?? [];
  if (actor.role !== 'integration' && actor.purposes.length === 0) return ofRole;
  const base = PURPOSES as readonly string[];
  return ofRole.filter(
    (p) => actor.purposes.includes(p) || (actor.role !== 'integration' && !base.includes(p)),
  );
}

/** Request level: the purpose exists and the actor's role and key may use it. */
export function decidePurpose(taxonomy: Taxonomy, actor: DecisionActor, purpose: string): Decision {
  if (!taxonomy.purposes.has(purpose)) {
    return deny('PURPOSE_UNKNOWN', `"${purpose}" is not a purpose of this workspace.`);
  }
  const ofRole = taxonomy.rolePurposes[actor.role] ?? [];
  if (!ofRole.includes(purpose)) {
    return deny(
      'PURPOSE_NOT_ALLOWED_FOR_ROLE',
      `The role "${actor.role}" may not use the purpose "${purpose}".`,
    );
  }
  // A key's grant narrows the base purposes; a purpose the workspace added later is governed by the
  // role table alone (its `roles`), since keys issued before it could not have been granted it.
  const added = !(PURPOSES as readonly string[]).includes(purpose);
  const narrowed = actor.role === 'integration' || (actor.purposes.length > 0 && !added);
  if (narrowed && !actor.purposes.includes(purpose)) {
    return deny('PURPOSE_NOT_ALLOWED_FOR_ROLE', `The key was not granted the purpose "${purpose}".`);
  }
  return ALLOW;
}

// ---------------------------------------------------------------------------------------------------
// Stage 2: the customer

/** Whether a consent's expiry has passed at `now`; an unreadable expiry counts as passed (fail closed). */
export function isConsentExpired(expiresAt: string | null, now: Date): boolean {
  if (expiresAt === null) return false;
  const at = Date.parse(expiresAt);
  return !(at > now.getTime());
}

/** The consent check shared by `decideSubject` and the compiled form, so both give the same reason. */
export function checkConsent(
  purpose: string,
  explicit: boolean,
  state: ConsentState | undefined,
  now: Date,
): Decision {
  if (state === undefined) {
    return explicit
      ? deny('EXPLICIT_OPT_IN_REQUIRED', `"${purpose}" needs the customer's explicit opt-in; there is none.`)
      : deny('CONSENT_REQUIRED', `"${purpose}" needs the customer's consent; none is recorded.`);
  }
  if (state.status === 'withdrawn') {
    return deny('CONSENT_WITHDRAWN', `The customer withdrew consent to "${purpose}".`);
  }
  if (state.status === 'denied') {
    return explicit
      ? deny('EXPLICIT_OPT_IN_REQUIRED', `The customer declined "${purpose}"; it needs an explicit opt-in.`)
      : deny('CONSENT_REQUIRED', `The customer declined consent to "${purpose}".`);
  }
  if (isConsentExpired(state.expiresAt, now)) {
    return deny('CONSENT_EXPIRED', `Consent to "${purpose}" expired at ${state.expiresAt ?? ''}.`);
  }
  if (explicit && !state.explicit) {
    return deny('EXPLICIT_OPT_IN_REQUIRED', `Consent to "${purpose}" was not an explicit opt-in.`);
  }
  return ALLOW;
}

function needsConsent(def: PurposeDef): boolean {
  return def.lawfulBasis === 'consent' || def.lawfulBasis === 'explicit_consent';
}

const restrictedDetail = (purpose: string) =>
  `The customer restricted processing; "${purpose}" is not allowed while it lasts.`;
const objectedDetail = (purpose: string) => `The customer objected to "${purpose}".`;
const purposeIntimacyDetail = (purpose: string, level: number) =>
  `"${purpose}" needs intimacy level ${level} or closer.`;

/**
 * Customer level: the purpose's lawful basis is satisfied (consent granted, not expired, explicit where
 * needed), processing is not restricted, the customer has not objected, and the customer's intimacy
 * level reaches the purpose's minimum.
 */
export function decideSubject(
  taxonomy: Taxonomy,
  purpose: string,
  subject: DecisionSubject,
  now: Date,
): Decision {
  const def = taxonomy.purposes.get(purpose);
  if (def === undefined) return deny('PURPOSE_UNKNOWN', `"${purpose}" is not a purpose of this workspace.`);
  if (needsConsent(def)) {
    const consent = checkConsent(
      purpose,
      def.lawfulBasis === 'explicit_consent',
      subject.consents.get(purpose),
      now,
    );
    if (!consent.allowed) return consent;
  }
  if (subject.restricted && !def.exemptFromRestriction) {
    return deny('PROCESSING_RESTRICTED', restrictedDetail(purpose));
  }
  if (subject.objections.has(purpose) && !def.exemptFromObjection) {
    return deny('OBJECTED', objectedDetail(purpose));
  }
  if (subject.intimacyLevel < def.minIntimacy) {
    return deny('INTIMACY_TOO_LOW', purposeIntimacyDetail(purpose, def.minIntimacy));
  }
  return ALLOW;
}

// ---------------------------------------------------------------------------------------------------
// Stage 3: the field

const unknownCategoryDetail = (category: string) =>
  `"${category}" is not a data category of this workspace; the field is withheld until it is classified.`;
const doNotStoreDetail = (c: CategoryDef) =>
  c.policy === 'hash_only'
    ? `"${c.name}" is kept only as a keyed hash for matching; it is never readable.`
    : `"${c.name}" must not be stored; it is never readable.`;
const special = {
  inferred: (c: CategoryDef) => `"${c.name}" is special-category data and is never inferred.`,
  never: (c: CategoryDef, purpose: string) =>
    `Special-category data ("${c.name}") is never used for "${purpose}".`,
  undeclared: (c: CategoryDef) =>
    `"${c.name}" is special-category data and is usable only when the customer declared it.`,
  otherPurpose: (c: CategoryDef, purpose: string) =>
    `The customer declared "${c.name}" for other purposes than "${purpose}".`,
};
const pseudonymisedDetail = (c: CategoryDef, purpose: string) =>
  `"${c.name}" is a direct identifier; "${purpose}" sees pseudonymised data only.`;
const inferredDetail = (purpose: string) =>
  `An inferred fact is used for "${purpose}" only at intimacy level ${MAX_INTIMACY}, as a question to confirm.`;
const categoryIntimacyDetail = (c: CategoryDef) =>
  `"${c.name}" needs intimacy level ${c.minIntimacy} or closer.`;

/** Whether a category's minimum intimacy binds a purpose. */
function intimacyBinds(c: CategoryDef, p: PurposeDef): boolean {
  if (c.minIntimacy === 0) return false;
  return c.minIntimacyFor === 'all' ? !p.exemptFromIntimacy : p.outreach;
}

/**
 * Field level: the category is readable at all, special-category rules (declared, for this purpose,
 * never inferred, never for marketing), pseudonymisation, inferences, and the category's minimum
 * intimacy.
 */
export function decideField(
  taxonomy: Taxonomy,
  purpose: string,
  subject: Pick<DecisionSubject, 'intimacyLevel'>,
  field: FieldRef,
): Decision {
  const p = taxonomy.purposes.get(purpose);
  if (p === undefined) return deny('PURPOSE_UNKNOWN', `"${purpose}" is not a purpose of this workspace.`);
  const c = resolveCategory(taxonomy, field.category);
  if (c === undefined) return deny('CATEGORY_UNKNOWN', unknownCategoryDetail(field.category));
  if (c.policy === 'do_not_store' || c.policy === 'hash_only')
    return deny('DO_NOT_STORE', doNotStoreDetail(c));
  if (c.policy === 'special') {
    if (field.source === 'inferred') return deny('SPECIAL_CATEGORY', special.inferred(c));
    if (p.neverSpecial) return deny('SPECIAL_CATEGORY', special.never(c, purpose));
    if (field.source !== 'declared') return deny('SPECIAL_CATEGORY', special.undeclared(c));
    if (!(field.consentPurposes ?? []).includes(purpose)) {
      return deny('SPECIAL_CATEGORY', special.otherPurpose(c, purpose));
    }
  }
  if (p.pseudonymised && c.directIdentifier) return deny('PSEUDONYMISED', pseudonymisedDetail(c, purpose));
  if (field.source === 'inferred' && p.outreach && subject.intimacyLevel < MAX_INTIMACY) {
    return deny('INFERRED_NOT_USABLE', inferredDetail(purpose));
  }
  if (intimacyBinds(c, p) && subject.intimacyLevel < c.minIntimacy) {
    return deny('INTIMACY_TOO_LOW', categoryIntimacyDetail(c));
  }
  return ALLOW;
}

/**
 * SPEC §5.2: may `actor` use `field` of `subject` for `purpose` at `now`? The purpose, then the customer,
 * then the field; the first failing check is the reason.
 */
export function decide(
  taxonomy: Taxonomy,
  actor: DecisionActor,
  purpose: string,
  subject: DecisionSubject,
  field: FieldRef,
  now: Date,
): Decision {
  const byPurpose = decidePurpose(taxonomy, actor, purpose);
  if (!byPurpose.allowed) return byPurpose;
  const bySubject = decideSubject(taxonomy, purpose, subject, now);
  if (!bySubject.allowed) return bySubject;
  return decideField(taxonomy, purpose, subject, field);
}

// ---------------------------------------------------------------------------------------------------
// The compiled form, for bulk paths

/**
 * Which customers a purpose may touch, as data a repository turns into a WHERE clause, checked in this
 * order: consent (`status = 'granted' AND (expires_at IS NULL OR expires_at > validAt)`, and `explicit`
 * when asked), not restricted, not objected to `excludeObjectedTo`, `intimacy_level >= minIntimacy`.
 */
export interface SubjectCondition {
  /** The purpose the condition was compiled for (named in the reasons). */
  purpose: string;
  requireConsent: null | { purpose: string; explicit: boolean; validAt: string };
  excludeRestricted: boolean;
  excludeObjectedTo: string | null;
  minIntimacy: number;
}

/** What happens to one field under the compiled purpose: always, never, or from an intimacy level on. */
export type FieldRule =
  | { kind: 'allow' }
  | { kind: 'deny'; reason: DenyReason; detail: string }
  | {
      kind: 'min_intimacy';
      level: number;
      reason: 'INTIMACY_TOO_LOW' | 'INFERRED_NOT_USABLE';
      detail: string;
    };

/** `decide` partially evaluated for one actor, purpose and time: only the customer remains. */
export interface CompiledAccess {
  purpose: string;
  /** A denial here is a 403 for the whole request. */
  purposeDecision: Decision;
  subjectCondition: SubjectCondition;
  fieldRule(field: FieldRef): FieldRule;
}

const ALLOW_RULE: FieldRule = Object.freeze({ kind: 'allow' });

function compileFieldRule(
  taxonomy: Taxonomy,
  purpose: string,
  p: PurposeDef | undefined,
  field: FieldRef,
): FieldRule {
  if (p === undefined) {
    return {
      kind: 'deny',
      reason: 'PURPOSE_UNKNOWN',
      detail: `"${purpose}" is not a purpose of this workspace.`,
    };
  }
  // Decided at the closest level, only the checks that ignore intimacy can fail; they run before the
  // two that read it, so such a denial is the answer at every level, with the same reason.
  const atMost = decideField(taxonomy, purpose, { intimacyLevel: MAX_INTIMACY }, field);
  if (!atMost.allowed) return { kind: 'deny', reason: atMost.reason, detail: atMost.detail };
  // A category's minimum can never exceed MAX_INTIMACY, so an inference's threshold covers it.
  if (field.source === 'inferred' && p.outreach) {
    return {
      kind: 'min_intimacy',
      level: MAX_INTIMACY,
      reason: 'INFERRED_NOT_USABLE',
      detail: inferredDetail(purpose),
    };
  }
  const c = resolveCategory(taxonomy, field.category);
  if (c !== undefined && intimacyBinds(c, p)) {
    return {
      kind: 'min_intimacy',
      level: c.minIntimacy,
      reason: 'INTIMACY_TOO_LOW',
      detail: categoryIntimacyDetail(c),
    };
  }
  return ALLOW_RULE;
}

/** Compiles the decision for one actor, purpose and time, for bulk paths (segments, exports, triggers). */
export function compileAccess(
  taxonomy: Taxonomy,
  actor: DecisionActor,
  purpose: string,
  now: Date,
): CompiledAccess {
  const def = taxonomy.purposes.get(purpose);
  const subjectCondition: SubjectCondition =
    def === undefined
      ? {
          purpose,
          requireConsent: null,
          excludeRestricted: true,
          excludeObjectedTo: purpose,
          minIntimacy: MAX_INTIMACY,
        }
      : {
          purpose,
          requireConsent: needsConsent(def)
            ? { purpose, explicit: def.lawfulBasis === 'explicit_consent', validAt: now.toISOString() }
            : null,
          excludeRestricted: !def.exemptFromRestriction,
          excludeObjectedTo: def.exemptFromObjection ? null : purpose,
          minIntimacy: def.minIntimacy,
        };
  return {
    purpose,
    purposeDecision: decidePurpose(taxonomy, actor, purpose),
    subjectCondition,
    fieldRule: (field) => compileFieldRule(taxonomy, purpose, def, field),
  };
}

/** Evaluates a subject condition on one customer, with the same reasons as `decideSubject`. */
export function applySubjectCondition(
  condition: SubjectCondition,
  subject: DecisionSubject,
  now: Date,
): Decision {
  const { requireConsent } = condition;
  if (requireConsent !== null) {
    const consent = checkConsent(
      requireConsent.purpose,
      requireConsent.explicit,
      subject.consents.get(requireConsent.purpose),
      now,
    );
    if (!consent.allowed) return consent;
  }
  const { purpose } = condition;
  if (condition.excludeRestricted && subject.restricted) {
    return deny('PROCESSING_RESTRICTED', restrictedDetail(purpose));
  }
  if (condition.excludeObjectedTo !== null && subject.objections.has(condition.excludeObjectedTo)) {
    return deny('OBJECTED', objectedDetail(condition.excludeObjectedTo));
  }
  if (subject.intimacyLevel < condition.minIntimacy) {
    return deny('INTIMACY_TOO_LOW', purposeIntimacyDetail(purpose, condition.minIntimacy));
  }
  return ALLOW;
}

/** Applies a field rule to a customer's intimacy level. */
export function applyFieldRule(rule: FieldRule, intimacyLevel: number): Decision {
  switch (rule.kind) {
    case 'allow':
      return ALLOW;
    case 'deny':
      return deny(rule.reason, rule.detail);
    case 'min_intimacy':
      return intimacyLevel >= rule.level ? ALLOW : deny(rule.reason, rule.detail);
  }
}

/** The compiled form applied to one customer and field: always the same answer as `decide`. */
export function applyCompiled(
  compiled: CompiledAccess,
  subject: DecisionSubject,
  field: FieldRef,
  now: Date,
): Decision {
  if (!compiled.purposeDecision.allowed) return compiled.purposeDecision;
  const bySubject = applySubjectCondition(compiled.subjectCondition, subject, now);
  if (!bySubject.allowed) return bySubject;
  return applyFieldRule(compiled.fieldRule(field), subject.intimacyLevel);
}

// ---------------------------------------------------------------------------------------------------
// Filtering a record

/** A field the caller did not get, and why (SPEC §5.2 `withheld`). */
export interface Withheld {
  field: string;
  reason: DenyReason;
  detail: string;
}

/**
 * The allowed fields of a plain object and the withheld ones with their reasons. `fieldCategories` maps
 * each field to a FieldRef or a category name; null marks a field that is not personal data. A field
 * missing from the map is withheld (CATEGORY_UNKNOWN): an unclassified field is never returned.
 */
export function filterRecord(
  decideFn: (field: FieldRef) => Decision,
  record: Readonly<Record<string, unknown>>,
  fieldCategories: Readonly<Record<string, FieldRef | string | null>>,
): { value: Record<string, unknown>; withheld: Withheld[] } {
  const kept: Array<[string, unknown]> = [];
  const withheld: Withheld[] = [];
  for (const [name, fieldValue] of Object.entries(record)) {
    const mapped = Object.hasOwn(fieldCategories, name) ? fieldCategories[name] : undefined;
    if (mapped === null) {
      kept.push([name, fieldValue]);
      continue;
    }
    if (mapped === undefined) {
      withheld.push({
        field: name,
        reason: 'CATEGORY_UNKNOWN',
        detail: `The field "${name}" has no data category.`,
      });
      continue;
    }
    const decision = decideFn(typeof mapped === 'string' ? { category: mapped } : mapped);
    if (decision.allowed) kept.push([name, fieldValue]);
    else withheld.push({ field: name, reason: decision.reason, detail: decision.detail });
  }
  return { value: Object.fromEntries(kept), withheld };
}
