import { type RawBuilder, sql } from 'kysely';
import type { PrivacySubject } from '../consent/index.ts';
import {
  applyFieldRule,
  applySubjectCondition,
  type Decision,
  type FieldRef,
  type SubjectCondition,
} from '../policy/index.ts';
import type { AccessScope } from './scope.ts';

/** The compiled access decision applied to rows: a SQL condition for bulk paths, a gate per customer. */

/** A field a read left out, and why (SPEC §5.2). */
export interface Withheld {
  field: string;
  reason: string;
}

/**
 * The subject condition as SQL on `c` (a customers row): the same rules as `applySubjectCondition`, so
 * a list, search or export never holds a customer the purpose may not process.
 */
export function subjectWhere(condition: SubjectCondition): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  const consent = condition.requireConsent;
  if (consent) {
    where.push(sql`EXISTS (
      SELECT 1 FROM consent_state cs
      WHERE cs.workspace_id = c.workspace_id AND cs.customer_id = c.id AND cs.purpose = ${consent.purpose}
        AND cs.channel = '' AND cs.status = 'granted'
        AND (cs.expires_at IS NULL OR cs.expires_at > ${consent.validAt}::timestamptz)
        ${consent.explicit ? sql`AND cs.explicit` : sql``})`);
  }
  if (condition.excludeRestricted) where.push(sql`NOT c.processing_restricted`);
  if (condition.excludeObjectedTo !== null)
    where.push(sql`NOT (c.objections @> ARRAY[${condition.excludeObjectedTo}]::text[])`);
  if (condition.minIntimacy > 0) where.push(sql`c.intimacy_level >= ${condition.minIntimacy}`);
  return where;
}

/** Decides, for one customer, whether each category may be used; collects what was withheld. */
export class CustomerGate {
  readonly subjectDecision: Decision;
  readonly withheld: Withheld[] = [];
  readonly used = new Set<string>();
  readonly #cache = new Map<string, Decision>();
  readonly #scope: AccessScope;
  readonly #subject: PrivacySubject;

  constructor(scope: AccessScope, subject: PrivacySubject) {
    this.#scope = scope;
    this.#subject = subject;
    this.subjectDecision = applySubjectCondition(scope.access.subjectCondition, subject, scope.now);
  }

  /** True when the customer may be processed at all for the purpose. */
  get open(): boolean {
    return this.subjectDecision.allowed;
  }

  /** The decision for a field, with the customer-level decision first. */
  decide(ref: FieldRef): Decision {
    if (!this.subjectDecision.allowed) return this.subjectDecision;
    const key = `${ref.category}\u0000${ref.source ?? ''}\u0000${ref.consentPurposes?.join(',') ?? ''}`;
    let decision = this.#cache.get(key);
    if (!decision) {
      decision = applyFieldRule(this.#scope.access.fieldRule(ref), this.#subject.intimacyLevel);
      this.#cache.set(key, decision);
    }
    return decision;
  }

  /**
   * True when `field` (of category `ref`, a category name or a full field reference; null: not personal
   * data) may be shown; otherwise records it as withheld. Fields shown are remembered for the audit.
   */
  allows(field: string, ref: FieldRef | string | null): boolean {
    if (ref === null) return true;
    const decision = this.decide(typeof ref === 'string' ? { category: ref } : ref);
    if (decision.allowed) {
      this.used.add(field);
      return true;
    }
    if (!this.withheld.some((w) => w.field === field)) this.withheld.push({ field, reason: decision.reason });
    return false;
  }
}
