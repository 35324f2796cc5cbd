import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PURPOSES, ROLES, type Role } from '../shared/access.ts';
import {
  applyCompiled,
  type ConsentState,
  compileAccess,
  DENY_REASONS,
  type DecisionActor,
  type DecisionSubject,
  type DenyReason,
  decide,
  type FieldRef,
  filterRecord,
} from './decision.ts';
import {
  BASE_TAXONOMY,
  CUSTOMER_FIELD_CATEGORIES,
  extendTaxonomy,
  type IntimacyLevel,
  type Taxonomy,
} from './taxonomy.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const LATER = '2026-01-01T00:00:00.000Z';
const EARLIER = '2025-05-31T23:59:59.000Z';

type ConsentSpec =
  | 'none'
  | 'granted'
  | 'granted_until_later'
  | 'explicit'
  | 'denied'
  | 'withdrawn'
  | 'expired';

const CONSENT: Record<Exclude<ConsentSpec, 'none'>, ConsentState> = {
  granted: { status: 'granted', explicit: false, expiresAt: null },
  granted_until_later: { status: 'granted', explicit: false, expiresAt: LATER },
  explicit: { status: 'granted', explicit: true, expiresAt: null },
  denied: { status: 'denied', explicit: false, expiresAt: null },
  withdrawn: { status: 'withdrawn', explicit: true, expiresAt: null },
  expired: { status: 'granted', explicit: true, expiresAt: EARLIER },
};

interface Row {
  role: Role;
  /** The key's purposes; absent: all of the role's (as keys are created by default). */
  key?: string[];
  purpose: string;
  /** Consent to `purpose`. */
  consent: ConsentSpec;
  intimacy: IntimacyLevel;
  field: FieldRef;
  restricted?: boolean;
  objections?: string[];
  expected: 'allow' | DenyReason;
}

const declared = (category: string, ...consentPurposes: string[]): FieldRef => ({
  category,
  source: 'declared',
  consentPurposes,
});
const inferred = (category: string): FieldRef => ({ category, source: 'inferred' });
const f = (category: string): FieldRef => ({ category });

// role × key × purpose × consent × intimacy × field (× restriction, objections) → outcome.
const ROWS: Row[] = [
  // Stage 1: the purpose.
  {
    role: 'auditor',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('identity.name'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'auditor',
    purpose: 'legal',
    consent: 'none',
    intimacy: 4,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'agent',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 4,
    field: f('contact.email'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'analyst',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'marketer',
    purpose: 'sale',
    consent: 'explicit',
    intimacy: 4,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'privacy_officer',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'privacy_officer',
    purpose: 'legal',
    consent: 'none',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'allow',
  },
  {
    role: 'integration',
    key: ['billing'],
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'integration',
    key: [],
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'integration',
    key: ['service'],
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'allow',
  },
  {
    role: 'agent',
    key: ['service'],
    purpose: 'billing',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    expected: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
  },
  {
    role: 'owner',
    key: [],
    purpose: 'sale',
    consent: 'explicit',
    intimacy: 1,
    field: f('transaction'),
    expected: 'allow',
  },
  {
    role: 'admin',
    purpose: 'loyalty',
    consent: 'granted',
    intimacy: 4,
    field: f('transaction'),
    expected: 'PURPOSE_UNKNOWN',
  },
  {
    role: 'auditor',
    purpose: 'loyalty',
    consent: 'none',
    intimacy: 4,
    field: f('transaction'),
    expected: 'PURPOSE_UNKNOWN',
  },

  // Stage 2, contract: no consent needed, restriction and objection still bite.
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 0,
    field: f('contact.email'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'billing',
    consent: 'withdrawn',
    intimacy: 0,
    field: f('transaction'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'fulfilment',
    consent: 'none',
    intimacy: 1,
    field: f('contact.address'),
    restricted: true,
    expected: 'PROCESSING_RESTRICTED',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('service.note'),
    objections: ['service'],
    expected: 'OBJECTED',
  },
  // Consent.
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'none',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'CONSENT_REQUIRED',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'denied',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'CONSENT_REQUIRED',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'withdrawn',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'CONSENT_WITHDRAWN',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'expired',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'CONSENT_EXPIRED',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted_until_later',
    intimacy: 1,
    field: f('contact.email'),
    expected: 'allow',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 1,
    field: f('transaction'),
    expected: 'allow',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 1,
    field: f('contact.email'),
    restricted: true,
    expected: 'PROCESSING_RESTRICTED',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 1,
    field: f('contact.email'),
    objections: ['marketing'],
    expected: 'OBJECTED',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 0,
    field: f('contact.email'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'granted',
    intimacy: 0,
    field: f('transaction'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'none',
    intimacy: 0,
    field: f('transaction'),
    expected: 'CONSENT_REQUIRED',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'withdrawn',
    intimacy: 1,
    field: f('contact.email'),
    restricted: true,
    objections: ['marketing'],
    expected: 'CONSENT_WITHDRAWN',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 1,
    field: f('contact.email'),
    restricted: true,
    objections: ['marketing'],
    expected: 'PROCESSING_RESTRICTED',
  },
  // Explicit opt-in.
  {
    role: 'owner',
    purpose: 'sale',
    consent: 'none',
    intimacy: 4,
    field: f('transaction'),
    expected: 'EXPLICIT_OPT_IN_REQUIRED',
  },
  {
    role: 'owner',
    purpose: 'sale',
    consent: 'granted',
    intimacy: 4,
    field: f('transaction'),
    expected: 'EXPLICIT_OPT_IN_REQUIRED',
  },
  {
    role: 'owner',
    purpose: 'sale',
    consent: 'denied',
    intimacy: 4,
    field: f('transaction'),
    expected: 'EXPLICIT_OPT_IN_REQUIRED',
  },
  {
    role: 'owner',
    purpose: 'sale',
    consent: 'withdrawn',
    intimacy: 4,
    field: f('transaction'),
    expected: 'CONSENT_WITHDRAWN',
  },
  {
    role: 'owner',
    purpose: 'sale',
    consent: 'expired',
    intimacy: 4,
    field: f('transaction'),
    expected: 'CONSENT_EXPIRED',
  },
  {
    role: 'admin',
    purpose: 'third_party_sharing',
    consent: 'explicit',
    intimacy: 0,
    field: f('transaction'),
    expected: 'allow',
  },
  {
    role: 'integration',
    key: ['third_party_sharing'],
    purpose: 'third_party_sharing',
    consent: 'explicit',
    intimacy: 2,
    field: f('contact.email'),
    objections: ['sale', 'third_party_sharing'],
    expected: 'OBJECTED',
  },
  {
    role: 'owner',
    purpose: 'sale',
    consent: 'explicit',
    intimacy: 2,
    field: f('transaction'),
    restricted: true,
    expected: 'PROCESSING_RESTRICTED',
  },
  // Legitimate interest.
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 0,
    field: f('transaction'),
    expected: 'allow',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    restricted: true,
    expected: 'PROCESSING_RESTRICTED',
  },
  {
    role: 'marketer',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('transaction'),
    objections: ['analytics'],
    expected: 'OBJECTED',
  },
  // Legal obligation survives restriction, objection and category intimacy.
  {
    role: 'privacy_officer',
    purpose: 'legal',
    consent: 'none',
    intimacy: 0,
    field: f('contact.email'),
    restricted: true,
    objections: ['legal'],
    expected: 'allow',
  },
  {
    role: 'privacy_officer',
    purpose: 'legal',
    consent: 'none',
    intimacy: 0,
    field: declared('life_event'),
    expected: 'allow',
  },
  {
    role: 'owner',
    purpose: 'legal',
    consent: 'none',
    intimacy: 0,
    field: declared('personal'),
    restricted: true,
    expected: 'allow',
  },
  {
    role: 'privacy_officer',
    purpose: 'legal',
    consent: 'none',
    intimacy: 4,
    field: f('financial.card'),
    expected: 'DO_NOT_STORE',
  },

  // Stage 3: the field. Policy.
  {
    role: 'owner',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: f('financial.card'),
    expected: 'DO_NOT_STORE',
  },
  {
    role: 'owner',
    purpose: 'billing',
    consent: 'none',
    intimacy: 4,
    field: f('financial.bank_account'),
    expected: 'DO_NOT_STORE',
  },
  {
    role: 'owner',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: f('government_id.passport'),
    expected: 'DO_NOT_STORE',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: f('financial'),
    expected: 'DO_NOT_STORE',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: f('financial.card.visa'),
    expected: 'DO_NOT_STORE',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: f('nonsense'),
    expected: 'CATEGORY_UNKNOWN',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('contact.email.work'),
    expected: 'allow',
  },
  // Special categories.
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 0,
    field: declared('special.health', 'service'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: declared('special.health', 'billing'),
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: declared('special.health'),
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: { category: 'special.health', source: 'inferred', consentPurposes: ['service'] },
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: { category: 'special.health', source: 'observed', consentPurposes: ['service'] },
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 4,
    field: { category: 'special.pregnancy', consentPurposes: ['service'] },
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 4,
    field: declared('special.religion', 'marketing'),
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'privacy_officer',
    purpose: 'legal',
    consent: 'none',
    intimacy: 4,
    field: declared('special.health', 'service'),
    expected: 'SPECIAL_CATEGORY',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 0,
    field: declared('special.ethnicity', 'analytics'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'granted',
    intimacy: 1,
    field: declared('special.health', 'personalization'),
    expected: 'allow',
  },
  // Pseudonymised analytics.
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('identity.name'),
    expected: 'PSEUDONYMISED',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('identity.external_id'),
    expected: 'PSEUDONYMISED',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('contact.phone'),
    expected: 'PSEUDONYMISED',
  },
  {
    role: 'marketer',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('contact'),
    expected: 'PSEUDONYMISED',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('identity.preferred_name'),
    expected: 'allow',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: declared('demographic.birth_date'),
    expected: 'allow',
  },
  {
    role: 'owner',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 1,
    field: f('government_id.tax_id'),
    expected: 'DO_NOT_STORE',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: f('identity.name'),
    expected: 'allow',
  },
  // Inferences.
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'granted',
    intimacy: 3,
    field: inferred('preference.size'),
    expected: 'INFERRED_NOT_USABLE',
  },
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'granted',
    intimacy: 4,
    field: inferred('preference.size'),
    expected: 'allow',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 3,
    field: inferred('behavioral'),
    expected: 'INFERRED_NOT_USABLE',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 4,
    field: inferred('life_event'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: inferred('preference.size'),
    expected: 'allow',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 0,
    field: inferred('behavioral'),
    expected: 'allow',
  },
  // Category minimum intimacy.
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 2,
    field: declared('life_event'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 3,
    field: declared('life_event'),
    expected: 'allow',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 2,
    field: declared('life_event'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 3,
    field: declared('life_event'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 1,
    field: declared('personal'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 2,
    field: declared('personal'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 0,
    field: f('preference.language'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'agent',
    purpose: 'billing',
    consent: 'none',
    intimacy: 1,
    field: f('preference.receipt'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'granted',
    intimacy: 2,
    field: f('behavioral'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'agent',
    purpose: 'personalization',
    consent: 'granted',
    intimacy: 3,
    field: f('behavioral'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 0,
    field: f('behavioral'),
    expected: 'allow',
  },
  {
    role: 'analyst',
    purpose: 'analytics',
    consent: 'none',
    intimacy: 2,
    field: declared('life_event'),
    expected: 'INTIMACY_TOO_LOW',
  },
  {
    role: 'marketer',
    purpose: 'marketing',
    consent: 'granted',
    intimacy: 1,
    field: declared('demographic.birth_date'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'fulfilment',
    consent: 'none',
    intimacy: 0,
    field: f('contact.address'),
    expected: 'allow',
  },
  {
    role: 'agent',
    purpose: 'service',
    consent: 'none',
    intimacy: 0,
    field: f('service.note'),
    expected: 'allow',
  },
];

function subjectOf(row: Row): DecisionSubject {
  const consents = new Map<string, ConsentState>();
  if (row.consent !== 'none') consents.set(row.purpose, CONSENT[row.consent]);
  return {
    intimacyLevel: row.intimacy,
    consents,
    restricted: row.restricted ?? false,
    objections: new Set(row.objections ?? []),
  };
}

function actorOf(row: Row): DecisionActor {
  return { role: row.role, purposes: row.key ?? [...BASE_TAXONOMY.rolePurposes[row.role]] };
}

function describeRow(row: Row): string {
  const field = `${row.field.source ?? ''} ${row.field.category}${row.field.consentPurposes ? ` [${row.field.consentPurposes.join(',')}]` : ''}`;
  const extras = `${row.restricted ? ' restricted' : ''}${row.objections ? ` objects ${row.objections.join('+')}` : ''}`;
  return `${row.role}${row.key ? ` key [${row.key.join(',')}]` : ''} · ${row.purpose} · consent ${row.consent} · intimacy ${row.intimacy} ·${field}${extras} → ${row.expected}`;
}

describe('decide (table)', () => {
  it.each(ROWS.map((row) => [describeRow(row), row] as const))('%s', (_, row) => {
    const decision = decide(BASE_TAXONOMY, actorOf(row), row.purpose, subjectOf(row), row.field, NOW);
    expect(decision.allowed ? 'allow' : decision.reason).toBe(row.expected);
    if (!decision.allowed) expect(decision.detail.length).toBeGreaterThan(10);
  });

  it('covers every deny reason and every lawful basis on an allow path', () => {
    const reasons = new Set(ROWS.map((row) => row.expected));
    for (const reason of DENY_REASONS) expect(reasons, reason).toContain(reason);
    const allowedBases = new Set(
      ROWS.filter((row) => row.expected === 'allow').map(
        (row) => BASE_TAXONOMY.purposes.get(row.purpose)?.lawfulBasis,
      ),
    );
    expect([...allowedBases].sort()).toEqual([
      'consent',
      'contract',
      'explicit_consent',
      'legal_obligation',
      'legitimate_interest',
    ]);
  });

  it('gives the same compiled answer for every row', () => {
    for (const row of ROWS) {
      const compiled = compileAccess(BASE_TAXONOMY, actorOf(row), row.purpose, NOW);
      expect(applyCompiled(compiled, subjectOf(row), row.field, NOW), describeRow(row)).toEqual(
        decide(BASE_TAXONOMY, actorOf(row), row.purpose, subjectOf(row), row.field, NOW),
      );
    }
  });

  it('treats an expiry at this very instant, or an unreadable one, as expired', () => {
    const base = { role: 'marketer', purpose: 'marketing', intimacy: 1, field: f('transaction') } as const;
    const at = (expiresAt: string): DecisionSubject => ({
      intimacyLevel: 1,
      consents: new Map([['marketing', { status: 'granted', explicit: false, expiresAt }]]),
      restricted: false,
      objections: new Set(),
    });
    const actor = { role: base.role, purposes: ['marketing'] };
    for (const expiresAt of [NOW.toISOString(), 'not a date']) {
      const decision = decide(BASE_TAXONOMY, actor, base.purpose, at(expiresAt), base.field, NOW);
      expect(decision).toMatchObject({ allowed: false, reason: 'CONSENT_EXPIRED' });
    }
    const oneMsLater = new Date(NOW.getTime() + 1).toISOString();
    expect(decide(BASE_TAXONOMY, actor, base.purpose, at(oneMsLater), base.field, NOW)).toEqual({
      allowed: true,
    });
  });
});

describe('compiled form', () => {
  it('describes the subject condition as data for SQL', () => {
    const marketer = { role: 'marketer' as const, purposes: ['marketing', 'analytics'] };
    expect(compileAccess(BASE_TAXONOMY, marketer, 'marketing', NOW).subjectCondition).toEqual({
      purpose: 'marketing',
      requireConsent: { purpose: 'marketing', explicit: false, validAt: NOW.toISOString() },
      excludeRestricted: true,
      excludeObjectedTo: 'marketing',
      minIntimacy: 1,
    });
    const owner = { role: 'owner' as const, purposes: [] };
    expect(compileAccess(BASE_TAXONOMY, owner, 'sale', NOW).subjectCondition.requireConsent).toEqual({
      purpose: 'sale',
      explicit: true,
      validAt: NOW.toISOString(),
    });
    const legal = compileAccess(BASE_TAXONOMY, owner, 'legal', NOW).subjectCondition;
    expect(legal).toMatchObject({ requireConsent: null, excludeRestricted: false, excludeObjectedTo: null });
  });

  it('reduces fields to allow, deny or a minimum intimacy', () => {
    const agent = { role: 'agent' as const, purposes: ['service', 'personalization'] };
    const service = compileAccess(BASE_TAXONOMY, agent, 'service', NOW);
    expect(service.fieldRule(f('contact.email'))).toEqual({ kind: 'allow' });
    expect(service.fieldRule(f('financial.card'))).toMatchObject({ kind: 'deny', reason: 'DO_NOT_STORE' });
    expect(service.fieldRule(declared('life_event'))).toMatchObject({
      kind: 'min_intimacy',
      level: 3,
      reason: 'INTIMACY_TOO_LOW',
    });
    const personalization = compileAccess(BASE_TAXONOMY, agent, 'personalization', NOW);
    expect(personalization.fieldRule(inferred('life_event'))).toMatchObject({
      kind: 'min_intimacy',
      level: 4,
      reason: 'INFERRED_NOT_USABLE',
    });
    expect(compileAccess(BASE_TAXONOMY, agent, 'marketing', NOW).purposeDecision).toMatchObject({
      allowed: false,
      reason: 'PURPOSE_NOT_ALLOWED_FOR_ROLE',
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const EXTENDED = (() => {
  const result = extendTaxonomy(
    BASE_TAXONOMY,
    {
      categories: [
        { name: 'preference.diet' },
        { name: 'special.health.allergy' },
        { name: 'loyalty', minIntimacy: 2 },
      ],
      purposes: [
        {
          name: 'loyalty_programme',
          lawfulBasis: 'consent',
          minIntimacy: 2,
          outreach: true,
          roles: ['agent'],
        },
      ],
    },
    [
      {
        category: 'financial.income',
        policy: 'store',
        reason: 'credit checks required by the lending licence',
      },
    ],
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.taxonomy;
})();

const purposeNames = (t: Taxonomy) => [...t.purposes.keys(), 'made_up'];
const categoryNames = (t: Taxonomy) => [
  ...t.categories.keys(),
  'contact.email.work',
  'special.health.x',
  'nope',
];
const SOURCES = ['declared', 'observed', 'derived', 'inferred'] as const;

const arbIntimacy = fc.constantFrom<IntimacyLevel>(0, 1, 2, 3, 4);
const arbNow = fc.date({
  min: new Date('2024-01-01T00:00:00Z'),
  max: new Date('2026-12-31T00:00:00Z'),
  noInvalidDate: true,
});
const arbExpiry = fc.oneof(
  fc.constant(null),
  fc.constant('garbage'),
  fc
    .date({
      min: new Date('2023-01-01T00:00:00Z'),
      max: new Date('2027-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
);
const arbConsent: fc.Arbitrary<ConsentState> = fc.record({
  status: fc.constantFrom('granted', 'denied', 'withdrawn'),
  explicit: fc.boolean(),
  expiresAt: arbExpiry,
});

function arbCase(t: Taxonomy) {
  const purposes = purposeNames(t);
  const arbSubject: fc.Arbitrary<DecisionSubject> = fc.record({
    intimacyLevel: arbIntimacy,
    consents: fc.dictionary(fc.constantFrom(...purposes), arbConsent).map((d) => new Map(Object.entries(d))),
    restricted: fc.boolean(),
    objections: fc.subarray(purposes).map((list) => new Set(list)),
  });
  const arbField: fc.Arbitrary<FieldRef> = fc
    .record(
      {
        category: fc.constantFrom(...categoryNames(t)),
        source: fc.constantFrom(...SOURCES),
        consentPurposes: fc.subarray(purposes),
      },
      { requiredKeys: ['category'] },
    )
    .map((field) => field as FieldRef);
  const arbActor: fc.Arbitrary<DecisionActor> = fc.record({
    role: fc.constantFrom(...ROLES),
    purposes: fc.subarray(purposes),
  });
  return fc.record({
    actor: arbActor,
    purpose: fc.constantFrom(...purposes),
    subject: arbSubject,
    field: arbField,
    now: arbNow,
  });
}

describe('decide (properties)', () => {
  for (const [name, taxonomy] of [
    ['base', BASE_TAXONOMY],
    ['extended', EXTENDED],
  ] as const) {
    it(`applyCompiled(compileAccess(…)) ≡ decide(…) on the ${name} taxonomy`, () => {
      fc.assert(
        fc.property(arbCase(taxonomy), ({ actor, purpose, subject, field, now }) => {
          const compiled = compileAccess(taxonomy, actor, purpose, now);
          expect(applyCompiled(compiled, subject, field, now)).toEqual(
            decide(taxonomy, actor, purpose, subject, field, now),
          );
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('never allows less as the customer comes closer (and so lowering takes effect at once)', () => {
    fc.assert(
      fc.property(arbCase(EXTENDED), arbIntimacy, ({ actor, purpose, subject, field, now }, higher) => {
        fc.pre(higher > subject.intimacyLevel);
        const low = decide(EXTENDED, actor, purpose, subject, field, now);
        const high = decide(EXTENDED, actor, purpose, { ...subject, intimacyLevel: higher }, field, now);
        if (low.allowed) expect(high.allowed).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('allows a consent purpose only with a live grant, and sale or sharing only with an explicit one', () => {
    fc.assert(
      fc.property(arbCase(EXTENDED), ({ actor, purpose, subject, field, now }) => {
        const decision = decide(EXTENDED, actor, purpose, subject, field, now);
        const basis = EXTENDED.purposes.get(purpose)?.lawfulBasis;
        if (!decision.allowed || (basis !== 'consent' && basis !== 'explicit_consent')) return;
        const consent = subject.consents.get(purpose);
        expect(consent?.status).toBe('granted');
        if (consent?.expiresAt) expect(Date.parse(consent.expiresAt)).toBeGreaterThan(now.getTime());
        if (basis === 'explicit_consent') expect(consent?.explicit).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets an auditor read, nor anyone read do-not-store data or special data for marketing', () => {
    fc.assert(
      fc.property(arbCase(BASE_TAXONOMY), ({ actor, purpose, subject, field, now }) => {
        const decision = decide(BASE_TAXONOMY, actor, purpose, subject, field, now);
        if (actor.role === 'auditor') expect(decision.allowed).toBe(false);
        if (/^(financial|government_id)(\.|$)/.test(field.category)) expect(decision.allowed).toBe(false);
        if (field.category.startsWith('special') && purpose === 'marketing')
          expect(decision.allowed).toBe(false);
        if (field.category.startsWith('special') && field.source === 'inferred')
          expect(decision.allowed).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('filterRecord', () => {
  const analyst = { role: 'analyst' as const, purposes: ['analytics'] };
  const subject: DecisionSubject = {
    intimacyLevel: 1,
    consents: new Map(),
    restricted: false,
    objections: new Set(),
  };
  const customer = {
    id: '018f',
    givenName: 'Ana',
    preferredName: 'Annie',
    emails: ['ana@example.com'],
    language: 'es',
    birthDate: '1990-02-03',
    somethingNew: 'x',
  };

  it('withholds direct identifiers from analytics and unclassified fields from everyone', () => {
    const { value, withheld } = filterRecord(
      (field) => decide(BASE_TAXONOMY, analyst, 'analytics', subject, field, NOW),
      customer,
      CUSTOMER_FIELD_CATEGORIES,
    );
    expect(value).toEqual({ id: '018f', preferredName: 'Annie', language: 'es', birthDate: '1990-02-03' });
    expect(withheld.map((w) => [w.field, w.reason])).toEqual([
      ['givenName', 'PSEUDONYMISED'],
      ['emails', 'PSEUDONYMISED'],
      ['somethingNew', 'CATEGORY_UNKNOWN'],
    ]);
  });

  it('takes FieldRefs and splits every record into kept and withheld fields', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.dictionary(
          fc.string(),
          fc.constantFrom<FieldRef | string | null>(
            null,
            'transaction',
            'financial.card',
            declared('life_event'),
          ),
        ),
        arbIntimacy,
        (record, map, intimacyLevel) => {
          const { value, withheld } = filterRecord(
            (field) =>
              decide(
                BASE_TAXONOMY,
                { role: 'agent', purposes: [] },
                'service',
                { ...subject, intimacyLevel },
                field,
                NOW,
              ),
            record,
            map,
          );
          const kept = Object.keys(value);
          const held = withheld.map((w) => w.field);
          expect([...kept, ...held].sort()).toEqual(Object.keys(record).sort());
          expect(kept.filter((k) => held.includes(k))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('roles', () => {
  it('gives owner and admin every purpose, the auditor none and the privacy officer legal', () => {
    for (const role of ['owner', 'admin'] as const)
      expect([...BASE_TAXONOMY.rolePurposes[role]]).toEqual([...PURPOSES]);
    expect(BASE_TAXONOMY.rolePurposes.auditor).toEqual([]);
    expect(BASE_TAXONOMY.rolePurposes.privacy_officer).toEqual(['legal']);
    expect(EXTENDED.rolePurposes.agent).toContain('loyalty_programme');
    expect(EXTENDED.rolePurposes.marketer).not.toContain('loyalty_programme');
    expect(EXTENDED.rolePurposes.owner).toContain('loyalty_programme');
  });
});
