import { describe, expect, it } from 'vitest';
import { ROLE_PURPOSES, ROLES } from '../shared/access.ts';
import {
  BASE_TAXONOMY,
  CUSTOMER_FIELD_CATEGORIES,
  categoryCovers,
  categoryOfPropertyKey,
  extendTaxonomy,
  INTERACTION_FIELD_CATEGORIES,
  normalisePropertyKey,
  PROTECTED_ROOTS,
  resolveCategory,
} from './taxonomy.ts';

describe('base taxonomy', () => {
  it('is a tree whose children keep the policy of financial, government_id and special', () => {
    for (const def of BASE_TAXONOMY.categories.values()) {
      if (def.parent === null) continue;
      const parent = BASE_TAXONOMY.categories.get(def.parent);
      expect(parent, def.name).toBeDefined();
      if (PROTECTED_ROOTS.includes(def.parent)) expect(def.policy, def.name).toBe(parent?.policy);
      expect(def.minIntimacy, def.name).toBeGreaterThanOrEqual(parent?.minIntimacy ?? 0);
    }
  });

  it('has the policies, minimum intimacy and identifiers of SPEC §5.1 and §6', () => {
    const get = (name: string) => BASE_TAXONOMY.categories.get(name);
    expect(get('financial.card')?.policy).toBe('do_not_store');
    expect(get('government_id.passport')?.policy).toBe('hash_only');
    expect(get('special.pregnancy')?.policy).toBe('special');
    expect(get('demographic.birth_date')?.policy).toBe('declared_only');
    expect(get('life_event')).toMatchObject({
      policy: 'declared_only',
      minIntimacy: 3,
      minIntimacyFor: 'all',
    });
    expect(get('personal')).toMatchObject({ minIntimacy: 2, minIntimacyFor: 'all' });
    expect(get('preference.language')).toMatchObject({ minIntimacy: 1 });
    expect(get('behavioral')).toMatchObject({ minIntimacy: 3, minIntimacyFor: 'outreach' });
    const identifiers = [...BASE_TAXONOMY.categories.values()]
      .filter((c) => c.directIdentifier)
      .map((c) => c.name);
    expect(identifiers.sort()).toEqual(
      [
        'identity',
        'identity.name',
        'identity.external_id',
        'contact',
        'contact.email',
        'contact.phone',
        'contact.address',
        'government_id',
        'government_id.national_id',
        'government_id.passport',
        'government_id.tax_id',
      ].sort(),
    );
  });

  it('gives every purpose of SPEC §4 its lawful basis', () => {
    const basis = Object.fromEntries(
      [...BASE_TAXONOMY.purposes.values()].map((p) => [p.name, p.lawfulBasis]),
    );
    expect(basis).toEqual({
      service: 'contract',
      billing: 'contract',
      fulfilment: 'contract',
      personalization: 'consent',
      marketing: 'consent',
      analytics: 'legitimate_interest',
      third_party_sharing: 'explicit_consent',
      sale: 'explicit_consent',
      legal: 'legal_obligation',
    });
  });

  it('takes the role table from shared/access.ts', () => {
    for (const role of ROLES)
      expect([...BASE_TAXONOMY.rolePurposes[role]].sort()).toEqual([...ROLE_PURPOSES[role]].sort());
  });

  it('resolves a name to itself or its nearest ancestor', () => {
    expect(resolveCategory(BASE_TAXONOMY, 'contact.email')?.name).toBe('contact.email');
    expect(resolveCategory(BASE_TAXONOMY, 'contact.email.work')?.name).toBe('contact.email');
    expect(resolveCategory(BASE_TAXONOMY, 'contact.fax')?.name).toBe('contact');
    expect(resolveCategory(BASE_TAXONOMY, 'contactless')).toBeUndefined();
    expect(resolveCategory(BASE_TAXONOMY, '')).toBeUndefined();
    expect(categoryCovers('contact', 'contact.email')).toBe(true);
    expect(categoryCovers('contact', 'contact')).toBe(true);
    expect(categoryCovers('contact', 'contactless')).toBe(false);
  });

  it('maps every customer and interaction field to a known category', () => {
    for (const map of [CUSTOMER_FIELD_CATEGORIES, INTERACTION_FIELD_CATEGORIES]) {
      for (const [field, category] of Object.entries(map)) {
        if (category !== null) expect(BASE_TAXONOMY.categories.has(category), field).toBe(true);
      }
    }
    expect(CUSTOMER_FIELD_CATEGORIES).toMatchObject({
      givenName: 'identity.name',
      familyName: 'identity.name',
      preferredName: 'identity.preferred_name',
      email: 'contact.email',
      phone: 'contact.phone',
      birthDate: 'demographic.birth_date',
      language: 'preference.language',
      identities: 'identity.external_id',
      governmentId: 'government_id.national_id',
    });
    expect(INTERACTION_FIELD_CATEGORIES).toMatchObject({
      text: 'service.note',
      notes: 'service.note',
      amount: 'transaction',
      currency: 'transaction',
      lineItems: 'transaction',
      sentiment: 'behavioral',
    });
  });
});

describe('categoryOfPropertyKey', () => {
  it.each([
    ['card_number', 'financial.card'],
    ['cardNumber', 'financial.card'],
    ['CardNumber', 'financial.card'],
    ['card-number', 'financial.card'],
    ['CARD_NUMBER', 'financial.card'],
    ['PAN', 'financial.card'],
    ['IBAN', 'financial.bank_account'],
    ['bankAccount', 'financial.bank_account'],
    ['account_number', 'financial.bank_account'],
    ['ssn', 'government_id.national_id'],
    ['SSN', 'government_id.national_id'],
    ['socialSecurityNumber', 'government_id.national_id'],
    ['national_id', 'government_id.national_id'],
    ['NINO', 'government_id.national_id'],
    ['soc_sec_id', 'government_id.national_id'],
    ['passport', 'government_id.passport'],
    ['passportNumber', 'government_id.passport'],
    ['tax_id', 'government_id.tax_id'],
    ['taxId', 'government_id.tax_id'],
    ['health', 'special.health'],
    ['diagnosis', 'special.health'],
    ['religion', 'special.religion'],
    ['ethnicity', 'special.ethnicity'],
    ['sexualOrientation', 'special.sexual_life'],
    ['political_opinion', 'special.politics'],
    ['unionMembership', 'special.union'],
    ['biometric', 'special.biometric'],
    ['pregnancy', 'special.pregnancy'],
    ['pregnant', 'special.pregnancy'],
    ['income', 'financial.income'],
    ['Salary', 'financial.income'],
    ['language', 'preference.language'],
    ['channel', 'preference.channel'],
    ['receipt', 'preference.receipt'],
    ['deliveryWindow', 'preference.delivery_window'],
    ['lifeEvent', 'life_event'],
    ['sku', undefined],
    ['orderNumber', undefined],
    ['moved', undefined],
  ])('%s → %s', (key, category) => {
    expect(categoryOfPropertyKey(key)).toBe(category);
  });

  it('reads moved, married, new_baby and bereavement as life events only under a life_event key', () => {
    for (const key of ['moved', 'married', 'newBaby', 'new_baby', 'bereavement']) {
      expect(categoryOfPropertyKey(key, `/properties/life_event/${key}`), key).toBe('life_event');
      expect(categoryOfPropertyKey(key, `/properties/lifeEvents/0/${key}`), key).toBe('life_event');
      expect(categoryOfPropertyKey(key, `/properties/shipment/${key}`), key).toBeUndefined();
    }
  });

  it('normalises any case style to snake case', () => {
    expect(normalisePropertyKey('socialSecurityNumber')).toBe('social_security_number');
    expect(normalisePropertyKey('SSNNumber')).toBe('ssn_number');
    expect(normalisePropertyKey(' Card Number ')).toBe('card_number');
  });
});

describe('extendTaxonomy', () => {
  it('adds categories that inherit from their parent and purposes with roles', () => {
    const result = extendTaxonomy(BASE_TAXONOMY, {
      categories: [
        { name: 'preference.diet.detail' },
        { name: 'preference.diet', description: 'vegetarian, vegan' },
        { name: 'special.health.allergy' },
        { name: 'government_id.driving_licence' },
        { name: 'loyalty' },
      ],
      purposes: [{ name: 'loyalty_programme', lawfulBasis: 'consent', roles: ['agent', 'auditor'] }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { categories, purposes, rolePurposes } = result.taxonomy;
    expect(categories.get('preference.diet')).toMatchObject({
      parent: 'preference',
      policy: 'store',
      minIntimacy: 1,
    });
    expect(categories.get('preference.diet.detail')).toMatchObject({
      parent: 'preference.diet',
      minIntimacy: 1,
    });
    expect(categories.get('special.health.allergy')?.policy).toBe('special');
    expect(categories.get('government_id.driving_licence')).toMatchObject({
      policy: 'hash_only',
      directIdentifier: true,
    });
    expect(categories.get('loyalty')).toMatchObject({ parent: null, policy: 'store' });
    expect(purposes.get('loyalty_programme')).toMatchObject({
      lawfulBasis: 'consent',
      exemptFromRestriction: false,
    });
    expect(rolePurposes.agent).toContain('loyalty_programme');
    expect(rolePurposes.integration).toContain('loyalty_programme');
    expect(rolePurposes.auditor).toEqual([]);
    expect(result.taxonomy.overrides).toEqual([]);
    // The base is untouched.
    expect(BASE_TAXONOMY.categories.has('preference.diet')).toBe(false);
  });

  it('refuses to weaken financial, government_id or special without an override', () => {
    const result = extendTaxonomy(BASE_TAXONOMY, {
      categories: [
        { name: 'financial.crypto_wallet', policy: 'store' },
        { name: 'government_id.voter_id', policy: 'special' },
        { name: 'special.genetic', policy: 'declared_only' },
        { name: 'special.disability', policy: 'do_not_store' },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([
      ['POLICY_WEAKENED', 'categories[0].policy'],
      ['POLICY_WEAKENED', 'categories[1].policy'],
      ['POLICY_WEAKENED', 'categories[2].policy'],
    ]);
  });

  it('weakens only through an override with a reason, and lists it for audit', () => {
    const result = extendTaxonomy(
      BASE_TAXONOMY,
      { categories: [{ name: 'financial.crypto_wallet', policy: 'store' }] },
      [
        { category: 'financial.crypto_wallet', policy: 'store', reason: 'public addresses for refunds' },
        { category: 'financial.income', policy: 'declared_only', reason: '  affordability checks by law  ' },
      ],
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.taxonomy.categories.get('financial.income')?.policy).toBe('declared_only');
    expect(result.taxonomy.categories.get('financial.card')?.policy).toBe('do_not_store');
    expect(result.taxonomy.categories.get('financial')?.policy).toBe('do_not_store');
    expect(result.taxonomy.overrides).toEqual([
      {
        category: 'financial.crypto_wallet',
        from: 'store',
        to: 'store',
        reason: 'public addresses for refunds',
      },
      {
        category: 'financial.income',
        from: 'do_not_store',
        to: 'declared_only',
        reason: 'affordability checks by law',
      },
    ]);
  });

  it('reports every problem with a path', () => {
    const result = extendTaxonomy(
      BASE_TAXONOMY,
      {
        categories: [
          { name: 'Contact.Fax' },
          { name: 'contact.email' },
          { name: 'hobby.music' },
          { name: 'life_event.wedding', minIntimacy: 1 },
          { name: 'life_event.funeral', minIntimacyFor: 'outreach' },
          { name: 'contact.fax', directIdentifier: false },
          { name: 'preference.diet', policy: 'keep' as never },
          { name: 'preference.seat', minIntimacy: -1 as never },
        ],
        purposes: [
          { name: 'service', lawfulBasis: 'contract' },
          { name: 'Bad Name', lawfulBasis: 'contract' },
          { name: 'survey', lawfulBasis: 'consent', roles: ['janitor' as never] },
          { name: 'raffle', lawfulBasis: 'whim' as never },
          { name: 'quiz', lawfulBasis: 'consent', minIntimacy: 7 as never },
        ],
      },
      [
        { category: 'special.health', policy: 'store', reason: '  ' },
        { category: 'nowhere', policy: 'store', reason: 'because' },
        { category: 'special.health', policy: 'declared_only', reason: 'twice' },
        { category: 'special.religion', policy: 'public' as never, reason: 'typo' },
      ],
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.code} ${p.path}`).sort()).toEqual(
      [
        'OVERRIDE_REASON_REQUIRED overrides[0].reason',
        'OVERRIDE_DUPLICATE overrides[2].category',
        'NAME_INVALID categories[0].name',
        'CATEGORY_EXISTS categories[1].name',
        'PARENT_UNKNOWN categories[2].name',
        'INTIMACY_LOWERED categories[3].minIntimacy',
        'INTIMACY_LOWERED categories[4].minIntimacyFor',
        'IDENTIFIER_CLEARED categories[5].directIdentifier',
        'OVERRIDE_CATEGORY_UNKNOWN overrides[1].category',
        'PURPOSE_EXISTS purposes[0].name',
        'NAME_INVALID purposes[1].name',
        'ROLE_UNKNOWN purposes[2].roles',
        'LAWFUL_BASIS_INVALID purposes[3].lawfulBasis',
        'INTIMACY_INVALID purposes[4].minIntimacy',
        'POLICY_INVALID categories[6].policy',
        'INTIMACY_INVALID categories[7].minIntimacy',
        'POLICY_INVALID overrides[3].policy',
      ].sort(),
    );
    for (const problem of result.problems) expect(problem.message.length).toBeGreaterThan(20);
  });

  it('extends an extended taxonomy, keeping earlier purposes, roles and overrides', () => {
    const first = extendTaxonomy(
      BASE_TAXONOMY,
      { purposes: [{ name: 'loyalty_programme', lawfulBasis: 'consent', roles: ['marketer'] }] },
      [{ category: 'financial.income', policy: 'store', reason: 'lending licence' }],
    );
    if (!first.ok) throw new Error('first extension failed');
    const second = extendTaxonomy(first.taxonomy, {
      purposes: [{ name: 'surveys', lawfulBasis: 'consent' }],
    });
    if (!second.ok) throw new Error('second extension failed');
    expect(second.taxonomy.rolePurposes.marketer).toContain('loyalty_programme');
    expect(second.taxonomy.purposes.has('surveys')).toBe(true);
    expect(second.taxonomy.overrides).toHaveLength(1);
    expect(second.taxonomy.categories.get('financial.income')?.policy).toBe('store');
  });
});
