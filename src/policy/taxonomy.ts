import { PURPOSES, type Purpose, ROLE_PURPOSES, ROLES, type Role } from '../shared/access.ts';

/**
 * The data taxonomy (SPEC §4, §5.1, §6) as data: categories of personal data with their storage policy,
 * minimum intimacy and identifier flag, and the purposes of use with their lawful basis. Pure: no I/O.
 */

/** A customer-chosen intimacy level (SPEC §6): 0 just the transaction … 4 treat me like a regular. */
export type IntimacyLevel = 0 | 1 | 2 | 3 | 4;

/** The highest intimacy level; inferred facts need it for outreach purposes. */
export const MAX_INTIMACY: IntimacyLevel = 4;

/**
 * What ingest may keep of a category: `store`; `declared_only` (only when the customer declared it);
 * `do_not_store` (refused or stripped); `hash_only` (kept only as a keyed hash, for matching); `special`
 * (only when declared with explicit consent for a stated purpose).
 */
export type StoragePolicy = 'store' | 'declared_only' | 'do_not_store' | 'hash_only' | 'special';

/** Policies from the most permissive to the strictest; a protected category may only move right. */
export const POLICY_STRICTNESS: readonly StoragePolicy[] = [
  'store',
  'declared_only',
  'special',
  'hash_only',
  'do_not_store',
];

/** Which purposes a category's minimum intimacy binds. */
export type IntimacyScope =
  /** Every purpose except those marked `exemptFromIntimacy` (legal). */
  | 'all'
  /** Only the outreach purposes (personalization, marketing). */
  | 'outreach';

export interface CategoryDef {
  /** Dotted name: `contact.email`. */
  name: string;
  /** The enclosing category (`contact`), null at the top. */
  parent: string | null;
  policy: StoragePolicy;
  /** The customer's intimacy level must reach this to use the category (for `minIntimacyFor` purposes). */
  minIntimacy: IntimacyLevel;
  minIntimacyFor: IntimacyScope;
  /** Withheld from pseudonymised purposes (analytics). */
  directIdentifier: boolean;
  description: string;
}

/** The lawful basis a purpose rests on (SPEC §4). */
export type LawfulBasis =
  | 'contract'
  | 'legitimate_interest'
  | 'legal_obligation'
  | 'consent'
  /** Consent given by an explicit opt-in; absent, the answer is no. */
  | 'explicit_consent';

export interface PurposeDef {
  name: string;
  lawfulBasis: LawfulBasis;
  /** The customer's intimacy level must reach this for any use under the purpose. */
  minIntimacy: IntimacyLevel;
  /** Outreach: behavioural data and inferences are bound by intimacy. */
  outreach: boolean;
  /** Direct identifiers are withheld (PSEUDONYMISED). */
  pseudonymised: boolean;
  /** Special-category data is never used, whatever was declared. */
  neverSpecial: boolean;
  /** Still allowed when the customer restricted processing. */
  exemptFromRestriction: boolean;
  /** Still allowed when the customer objected to it (an objection cannot stop a legal obligation). */
  exemptFromObjection: boolean;
  /** Category minimum intimacy levels do not apply. */
  exemptFromIntimacy: boolean;
  description: string;
}

/** An override that weakened (or changed) a category's policy, kept so it can be audited. */
export interface AppliedOverride {
  category: string;
  from: StoragePolicy;
  to: StoragePolicy;
  reason: string;
}

/** Categories, purposes and the role → purposes table of one workspace. */
export interface Taxonomy {
  categories: ReadonlyMap<string, CategoryDef>;
  purposes: ReadonlyMap<string, PurposeDef>;
  /** The purposes each role may use (owner, admin and integration: every purpose of the taxonomy). */
  rolePurposes: Readonly<Record<Role, readonly string[]>>;
  overrides: readonly AppliedOverride[];
}

type CategorySeed = Omit<CategoryDef, 'parent'>;

function cat(
  name: string,
  policy: StoragePolicy,
  description: string,
  extra: Partial<Pick<CategoryDef, 'minIntimacy' | 'minIntimacyFor' | 'directIdentifier'>> = {},
): CategorySeed {
  return {
    name,
    policy,
    description,
    minIntimacy: extra.minIntimacy ?? 0,
    minIntimacyFor: extra.minIntimacyFor ?? 'all',
    directIdentifier: extra.directIdentifier ?? false,
  };
}

const direct = { directIdentifier: true } as const;
const atOne = { minIntimacy: 1, minIntimacyFor: 'all' } as const;
const atTwo = { minIntimacy: 2, minIntimacyFor: 'all' } as const;
const atThree = { minIntimacy: 3, minIntimacyFor: 'all' } as const;
const outreachAtThree = { minIntimacy: 3, minIntimacyFor: 'outreach' } as const;

const BASE_CATEGORY_SEEDS: readonly CategorySeed[] = [
  cat('identity', 'store', 'who the customer is', direct),
  cat('identity.name', 'store', 'given and family name', direct),
  cat('identity.preferred_name', 'store', 'the name the customer likes to be called'),
  cat('identity.external_id', 'store', 'identifiers in source systems (loyalty number, account)', direct),
  cat('contact', 'store', 'how to reach the customer', direct),
  cat('contact.email', 'store', 'email address', direct),
  cat('contact.phone', 'store', 'phone number', direct),
  cat('contact.address', 'store', 'postal address', direct),
  cat('demographic', 'declared_only', 'demographic facts the customer declared'),
  cat('demographic.birth_date', 'declared_only', 'date of birth'),
  cat('demographic.gender', 'declared_only', 'gender'),
  cat('preference', 'store', 'declared operational preferences', atOne),
  cat('preference.language', 'store', 'language to be served in', atOne),
  cat('preference.channel', 'store', 'preferred contact channel', atOne),
  cat('preference.receipt', 'store', 'paper or digital receipt', atOne),
  cat('preference.delivery_window', 'store', 'when deliveries suit', atOne),
  cat('preference.size', 'store', 'clothing and shoe sizes', atOne),
  cat('transaction', 'store', 'purchases, returns, amounts'),
  cat('service', 'store', 'service requests, complaints, notes'),
  cat('service.note', 'store', 'free-text notes and messages'),
  cat('service.ticket', 'store', 'tickets and their status'),
  cat('behavioral', 'store', 'browsing, derived scores, sentiment', outreachAtThree),
  cat('recommendation', 'store', 'suggestions derived from purchases (SPEC §10)', atTwo),
  cat(
    'recommendation.own_history',
    'store',
    "suggestions from the customer's own purchases: repeats and replenishment",
    atTwo,
  ),
  cat(
    'recommendation.collective',
    'store',
    'suggestions from what customers with similar purchases bought',
    atThree,
  ),
  cat('financial', 'do_not_store', 'payment instruments and income'),
  cat('financial.card', 'do_not_store', 'payment card numbers'),
  cat('financial.bank_account', 'do_not_store', 'bank account numbers, IBAN'),
  cat('financial.income', 'do_not_store', 'income and salary'),
  cat('government_id', 'hash_only', 'government-issued identifiers', direct),
  cat('government_id.national_id', 'hash_only', 'social security or national id number', direct),
  cat('government_id.passport', 'hash_only', 'passport number', direct),
  cat('government_id.tax_id', 'hash_only', 'tax identification number', direct),
  cat('special', 'special', 'special categories of personal data'),
  cat('special.health', 'special', 'health, diagnoses, disabilities, allergies'),
  cat('special.religion', 'special', 'religious or philosophical beliefs'),
  cat('special.ethnicity', 'special', 'racial or ethnic origin'),
  cat('special.sexual_life', 'special', 'sex life or sexual orientation'),
  cat('special.politics', 'special', 'political opinions'),
  cat('special.union', 'special', 'trade union membership'),
  cat('special.biometric', 'special', 'biometric data for identification'),
  cat('special.pregnancy', 'special', 'pregnancy'),
  cat('life_event', 'declared_only', 'moved house, married, new baby, bereavement', atThree),
  cat('personal', 'declared_only', 'declared personal facts: family names, hobbies, dates', atTwo),
];

function purpose(
  name: Purpose,
  lawfulBasis: LawfulBasis,
  description: string,
  extra: Partial<Omit<PurposeDef, 'name' | 'lawfulBasis' | 'description'>> = {},
): PurposeDef {
  return {
    name,
    lawfulBasis,
    description,
    minIntimacy: extra.minIntimacy ?? 0,
    outreach: extra.outreach ?? false,
    pseudonymised: extra.pseudonymised ?? false,
    neverSpecial: extra.neverSpecial ?? false,
    exemptFromRestriction: extra.exemptFromRestriction ?? false,
    exemptFromObjection: extra.exemptFromObjection ?? false,
    exemptFromIntimacy: extra.exemptFromIntimacy ?? false,
  };
}

const BASE_PURPOSES: readonly PurposeDef[] = [
  purpose('service', 'contract', 'fulfil requests, support'),
  purpose('billing', 'contract', 'invoices, payments, refunds'),
  purpose('fulfilment', 'contract', 'shipping and delivery'),
  purpose('personalization', 'consent', 'tailoring service and offers to the customer', {
    minIntimacy: 1,
    outreach: true,
  }),
  purpose('marketing', 'consent', 'outreach and campaigns', {
    minIntimacy: 1,
    outreach: true,
    neverSpecial: true,
  }),
  purpose('analytics', 'legitimate_interest', 'pseudonymised statistics', { pseudonymised: true }),
  purpose('third_party_sharing', 'explicit_consent', 'sharing with another party'),
  purpose('sale', 'explicit_consent', 'selling personal data'),
  purpose('legal', 'legal_obligation', 'legal obligation, fraud, security, privacy requests', {
    exemptFromRestriction: true,
    exemptFromObjection: true,
    exemptFromIntimacy: true,
  }),
];

/** The purposes a do-not-sell/share objection (or a Global Privacy Control signal) objects to. */
export const DO_NOT_SELL_PURPOSES: readonly Purpose[] = ['sale', 'third_party_sharing'];

function parentOf(name: string): string | null {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? null : name.slice(0, dot);
}

function buildRolePurposes(
  purposes: readonly PurposeDef[],
  extraRoles: ReadonlyMap<string, readonly Role[]>,
) {
  const all = purposes.map((p) => p.name);
  const table = {} as Record<Role, readonly string[]>;
  for (const role of ROLES) {
    if (role === 'owner' || role === 'admin' || role === 'integration') {
      table[role] = all;
      continue;
    }
    const base: string[] = [...ROLE_PURPOSES[role]];
    for (const [name, roles] of extraRoles) if (roles.includes(role)) base.push(name);
    table[role] = base;
  }
  return table;
}

function buildTaxonomy(
  categories: readonly CategoryDef[],
  purposes: readonly PurposeDef[],
  extraRoles: ReadonlyMap<string, readonly Role[]>,
  overrides: readonly AppliedOverride[],
): Taxonomy {
  return {
    categories: new Map(categories.map((c) => [c.name, c])),
    purposes: new Map(purposes.map((p) => [p.name, p])),
    rolePurposes: buildRolePurposes(purposes, extraRoles),
    overrides,
  };
}

/** The built-in taxonomy of SPEC §5.1 and the purposes of SPEC §4. */
export const BASE_TAXONOMY: Taxonomy = buildTaxonomy(
  BASE_CATEGORY_SEEDS.map((seed) => ({ ...seed, parent: parentOf(seed.name) })),
  BASE_PURPOSES,
  new Map(),
  [],
);

// The purposes of shared/access.ts and of the taxonomy must be the same set.
for (const name of PURPOSES) {
  if (!BASE_TAXONOMY.purposes.has(name)) throw new Error(`purpose ${name} has no lawful basis`);
}

/**
 * The category that governs a name: the name itself, else its nearest enclosing category
 * (`contact.email.work` → `contact.email`), or undefined when no part of it is known.
 */
export function resolveCategory(taxonomy: Taxonomy, name: string): CategoryDef | undefined {
  let current: string | null = name;
  while (current !== null) {
    const found = taxonomy.categories.get(current);
    if (found) return found;
    current = parentOf(current);
  }
  return undefined;
}

/** Whether a rule on `ancestor` covers `name` (`contact` covers `contact.email` and itself). */
export function categoryCovers(ancestor: string, name: string): boolean {
  return name === ancestor || name.startsWith(`${ancestor}.`);
}

/** The top-level category of a dotted name (`financial.card` → `financial`). */
export function rootCategory(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

/** The purposes a role may use under a taxonomy. */
export function purposesOfRole(taxonomy: Taxonomy, role: Role): readonly string[] {
  return taxonomy.rolePurposes[role];
}

// ---------------------------------------------------------------------------------------------------
// Field maps

/**
 * Categories of the customer record's fields, as read (`emails`) and as written (`email`). Null marks a
 * field that is not personal data by itself and is always returned. `provenance` is keyed by field and
 * must be filtered with the fields it describes.
 */
export const CUSTOMER_FIELD_CATEGORIES: Readonly<Record<string, string | null>> = {
  id: null,
  createdAt: null,
  updatedAt: null,
  givenName: 'identity.name',
  familyName: 'identity.name',
  preferredName: 'identity.preferred_name',
  email: 'contact.email',
  emails: 'contact.email',
  phone: 'contact.phone',
  phones: 'contact.phone',
  contactPoints: 'contact',
  address: 'contact.address',
  addresses: 'contact.address',
  birthDate: 'demographic.birth_date',
  language: 'preference.language',
  identities: 'identity.external_id',
  governmentId: 'government_id.national_id',
};

/** Categories of the built-in interaction fields that carry personal data; the others are null. */
export const INTERACTION_FIELD_CATEGORIES: Readonly<Record<string, string | null>> = {
  id: null,
  customerId: null,
  type: 'transaction',
  channel: 'transaction',
  initiatedBy: 'transaction',
  occurredAt: 'transaction',
  source: null,
  externalId: null,
  receivedAt: null,
  text: 'service.note',
  notes: 'service.note',
  amount: 'transaction',
  currency: 'transaction',
  lineItems: 'transaction',
  sentiment: 'behavioral',
};

/**
 * A property key in any case style (`cardNumber`, `card-number`, `CARD_NUMBER`) as snake case
 * (`card_number`), the form the classifier's table is written in.
 */
export function normalisePropertyKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const PROPERTY_KEYS: ReadonlyArray<readonly [string, readonly string[]]> = [
  [
    'financial.card',
    [
      'card_number',
      'card_no',
      'card_num',
      'cardnumber',
      'pan',
      'primary_account_number',
      'credit_card',
      'credit_card_number',
      'debit_card',
      'debit_card_number',
      'cvv',
      'cvc',
      'cvv2',
      'card_cvv',
      'card_cvc',
      'card_expiry',
      'security_code',
    ],
  ],
  [
    'financial.bank_account',
    [
      'iban',
      'bank_account',
      'bank_account_number',
      'account_number',
      'account_no',
      'routing_number',
      'sort_code',
    ],
  ],
  ['financial.income', ['income', 'annual_income', 'household_income', 'salary', 'wage', 'wages']],
  [
    'government_id.national_id',
    [
      'ssn',
      'social_security_number',
      'social_security_no',
      'soc_sec_id',
      'soc_sec_no',
      'national_id',
      'national_id_number',
      'national_identity_number',
      'nino',
      'national_insurance_number',
      'ni_number',
      'social_insurance_number',
      'nir',
      'dni',
      'nie',
    ],
  ],
  ['government_id.passport', ['passport', 'passport_number', 'passport_no', 'passport_id']],
  ['government_id.tax_id', ['tax_id', 'tax_number', 'taxpayer_id', 'tin', 'itin', 'nif']],
  ['government_id', ['drivers_license', 'driver_license', 'driving_licence', 'driving_license']],
  [
    'special.health',
    [
      'health',
      'health_condition',
      'health_status',
      'medical_condition',
      'diagnosis',
      'diagnoses',
      'medication',
      'medications',
      'disability',
      'allergy',
      'allergies',
    ],
  ],
  ['special.religion', ['religion', 'religious_belief', 'religious_beliefs', 'faith']],
  ['special.ethnicity', ['ethnicity', 'ethnic_origin', 'race']],
  ['special.sexual_life', ['sexual_orientation', 'sexuality', 'sex_life']],
  [
    'special.politics',
    ['political_opinion', 'political_opinions', 'political_affiliation', 'political_party'],
  ],
  ['special.union', ['union_membership', 'trade_union', 'trade_union_membership']],
  ['special.biometric', ['biometric', 'biometrics', 'fingerprint', 'face_template', 'voiceprint']],
  ['special.pregnancy', ['pregnancy', 'pregnant']],
  ['life_event', ['life_event', 'life_events']],
  ['preference.language', ['language', 'preferred_language']],
  ['preference.channel', ['channel', 'preferred_channel', 'contact_channel']],
  ['preference.receipt', ['receipt', 'receipt_preference']],
  ['preference.delivery_window', ['delivery_window', 'preferred_delivery_window']],
  ['preference.size', ['size', 'sizes', 'shoe_size', 'clothing_size']],
  ['demographic.birth_date', ['birth_date', 'date_of_birth', 'dob', 'birthday']],
  ['demographic.gender', ['gender']],
  ['contact.email', ['email', 'email_address']],
  ['contact.phone', ['phone', 'phone_number', 'mobile', 'mobile_number', 'telephone']],
  ['contact.address', ['address', 'postal_address', 'street_address', 'home_address']],
  ['identity.name', ['first_name', 'last_name', 'given_name', 'family_name', 'full_name', 'surname']],
];

const PROPERTY_KEY_CATEGORY: ReadonlyMap<string, string> = new Map(
  PROPERTY_KEYS.flatMap(([category, keys]) => keys.map((key) => [key, category] as const)),
);

/** Keys that name a life event only inside a life-event object (`moved` alone is too vague). */
const LIFE_EVENT_KEYS: ReadonlySet<string> = new Set([
  'moved',
  'moved_house',
  'married',
  'marriage',
  'divorced',
  'new_baby',
  'baby',
  'birth',
  'bereavement',
  'retired',
]);

/**
 * The category of a known property key in any case style, or undefined. `path` (a JSON pointer of the
 * key) lets `moved`, `married`, `new_baby`, `bereavement` count as life events under a `life_event` key.
 * Its signature fits `scanPayload`'s `classify`.
 */
export function categoryOfPropertyKey(key: string, path?: string): string | undefined {
  const normal = normalisedKey(key);
  const known = PROPERTY_KEY_CATEGORY.get(normal);
  if (known !== undefined) return known;
  if (path !== undefined && LIFE_EVENT_KEYS.has(normal)) {
    const segments = path.split('/').slice(1, -1);
    const underLifeEvent = segments.some((segment) => {
      const s = normalisePropertyKey(segment.replaceAll('~1', '/').replaceAll('~0', '~'));
      return s === 'life_event' || s === 'life_events';
    });
    if (underLifeEvent) return 'life_event';
  }
  return undefined;
}

/** Property keys repeat across millions of events: their snake-case form is remembered (bounded). */
const NORMALISED_KEYS = new Map<string, string>();
const NORMALISED_KEYS_MAX = 10_000;

function normalisedKey(key: string): string {
  let normal = NORMALISED_KEYS.get(key);
  if (normal === undefined) {
    normal = normalisePropertyKey(key);
    if (NORMALISED_KEYS.size >= NORMALISED_KEYS_MAX) NORMALISED_KEYS.clear();
    NORMALISED_KEYS.set(key, normal);
  }
  return normal;
}

// ---------------------------------------------------------------------------------------------------
// Workspace extension

/** Top-level categories whose descendants inherit the policy and may not weaken it without an override. */
export const PROTECTED_ROOTS: readonly string[] = ['financial', 'government_id', 'special'];

/** A category a workspace adds; its parent (by the dotted name) must exist. Unset fields are inherited. */
export interface CategoryAddition {
  name: string;
  policy?: StoragePolicy;
  minIntimacy?: IntimacyLevel;
  minIntimacyFor?: IntimacyScope;
  directIdentifier?: boolean;
  description?: string;
}

/** A purpose a workspace adds; `roles` besides owner, admin and integration may use it. */
export interface PurposeAddition {
  name: string;
  lawfulBasis: LawfulBasis;
  description?: string;
  minIntimacy?: IntimacyLevel;
  outreach?: boolean;
  pseudonymised?: boolean;
  neverSpecial?: boolean;
  roles?: readonly Role[];
}

/** An explicit, reasoned change of one category's policy: the only way to weaken a protected one. */
export interface PolicyOverride {
  category: string;
  policy: StoragePolicy;
  reason: string;
}

export interface TaxonomyProblem {
  code:
    | 'NAME_INVALID'
    | 'CATEGORY_EXISTS'
    | 'PARENT_UNKNOWN'
    | 'POLICY_WEAKENED'
    | 'INTIMACY_LOWERED'
    | 'IDENTIFIER_CLEARED'
    | 'PURPOSE_EXISTS'
    | 'ROLE_UNKNOWN'
    | 'OVERRIDE_CATEGORY_UNKNOWN'
    | 'OVERRIDE_DUPLICATE'
    | 'OVERRIDE_REASON_REQUIRED'
    | 'POLICY_INVALID'
    | 'INTIMACY_INVALID'
    | 'LAWFUL_BASIS_INVALID';
  /** Where in the extension: `categories[2].policy`, `overrides[0].reason`. */
  path: string;
  message: string;
}

export type ExtendResult = { ok: true; taxonomy: Taxonomy } | { ok: false; problems: TaxonomyProblem[] };

const NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** The lawful bases a purpose may rest on. */
export const LAWFUL_BASES: readonly LawfulBasis[] = [
  'contract',
  'legitimate_interest',
  'legal_obligation',
  'consent',
  'explicit_consent',
];

function isPolicy(value: unknown): value is StoragePolicy {
  return (POLICY_STRICTNESS as readonly unknown[]).includes(value);
}

function isIntimacy(value: unknown): value is IntimacyLevel {
  return value === 0 || value === 1 || value === 2 || value === 3 || value === 4;
}

function strictness(policy: StoragePolicy): number {
  return POLICY_STRICTNESS.indexOf(policy);
}

/**
 * A workspace's taxonomy: the base with added categories and purposes and reasoned policy overrides,
 * or every problem found. Added categories inherit their parent's policy, minimum intimacy and
 * identifier flag; none may lower the parent's minimum intimacy or clear its identifier flag, and under
 * financial, government_id and special none may weaken the policy unless an override names it. Overrides
 * change exactly the category they name (they do not cascade) and are listed in `overrides`.
 */
export function extendTaxonomy(
  base: Taxonomy,
  additions: { categories?: readonly CategoryAddition[]; purposes?: readonly PurposeAddition[] },
  overrides: readonly PolicyOverride[] = [],
): ExtendResult {
  const problems: TaxonomyProblem[] = [];
  const categories = new Map(base.categories);
  const overrideByCategory = new Map<string, { override: PolicyOverride; index: number }>();

  overrides.forEach((override, index) => {
    if (!isPolicy(override.policy)) {
      problems.push({
        code: 'POLICY_INVALID',
        path: `overrides[${index}].policy`,
        message: `"${String(override.policy)}" is not a storage policy; use one of ${POLICY_STRICTNESS.join(', ')}.`,
      });
      return;
    }
    if (typeof override.reason !== 'string' || override.reason.trim() === '') {
      problems.push({
        code: 'OVERRIDE_REASON_REQUIRED',
        path: `overrides[${index}].reason`,
        message: `The override of "${override.category}" needs a reason, so it can be audited.`,
      });
    }
    if (overrideByCategory.has(override.category)) {
      problems.push({
        code: 'OVERRIDE_DUPLICATE',
        path: `overrides[${index}].category`,
        message: `"${override.category}" is overridden more than once; keep one override.`,
      });
    }
    overrideByCategory.set(override.category, { override, index });
  });

  // Parents before children, so an addition may sit under another addition.
  const indexed = (additions.categories ?? []).map((addition, index) => ({ addition, index }));
  indexed.sort((a, b) => a.addition.name.split('.').length - b.addition.name.split('.').length);

  for (const { addition, index } of indexed) {
    const at = `categories[${index}]`;
    if (!NAME_PATTERN.test(addition.name)) {
      problems.push({
        code: 'NAME_INVALID',
        path: `${at}.name`,
        message: `"${addition.name}" is not a category name: lower-case words joined by dots (preference.diet).`,
      });
      continue;
    }
    if (categories.has(addition.name)) {
      problems.push({
        code: 'CATEGORY_EXISTS',
        path: `${at}.name`,
        message: `The category "${addition.name}" already exists; choose another name or override its policy.`,
      });
      continue;
    }
    if (addition.policy !== undefined && !isPolicy(addition.policy)) {
      problems.push({
        code: 'POLICY_INVALID',
        path: `${at}.policy`,
        message: `"${String(addition.policy)}" is not a storage policy; use one of ${POLICY_STRICTNESS.join(', ')}.`,
      });
      continue;
    }
    if (addition.minIntimacy !== undefined && !isIntimacy(addition.minIntimacy)) {
      problems.push({
        code: 'INTIMACY_INVALID',
        path: `${at}.minIntimacy`,
        message: `${String(addition.minIntimacy)} is not an intimacy level; use 0 to ${MAX_INTIMACY}.`,
      });
      continue;
    }
    const parentName = parentOf(addition.name);
    const parentDef = parentName === null ? undefined : categories.get(parentName);
    if (parentName !== null && parentDef === undefined) {
      problems.push({
        code: 'PARENT_UNKNOWN',
        path: `${at}.name`,
        message: `The parent "${parentName}" of "${addition.name}" does not exist; add it first.`,
      });
      continue;
    }
    const parentPolicy = parentDef ? effectivePolicy(parentDef, overrideByCategory) : undefined;
    const requested = addition.policy ?? parentPolicy ?? 'store';
    const protectedRoot = PROTECTED_ROOTS.includes(rootCategory(addition.name));
    if (
      protectedRoot &&
      parentPolicy !== undefined &&
      strictness(requested) < strictness(parentPolicy) &&
      !overrideByCategory.has(addition.name)
    ) {
      problems.push({
        code: 'POLICY_WEAKENED',
        path: `${at}.policy`,
        message: `"${addition.name}" may not be "${requested}" under "${parentName}" ("${parentPolicy}"); drop the policy to inherit it, or add an override with a reason.`,
      });
    }
    const minIntimacy = addition.minIntimacy ?? parentDef?.minIntimacy ?? 0;
    if (parentDef && minIntimacy < parentDef.minIntimacy) {
      problems.push({
        code: 'INTIMACY_LOWERED',
        path: `${at}.minIntimacy`,
        message: `"${addition.name}" may not need less intimacy (${minIntimacy}) than "${parentDef.name}" (${parentDef.minIntimacy}).`,
      });
    }
    const minIntimacyFor = addition.minIntimacyFor ?? parentDef?.minIntimacyFor ?? 'all';
    if (
      parentDef &&
      parentDef.minIntimacy > 0 &&
      parentDef.minIntimacyFor === 'all' &&
      minIntimacyFor !== 'all'
    ) {
      problems.push({
        code: 'INTIMACY_LOWERED',
        path: `${at}.minIntimacyFor`,
        message: `"${addition.name}" must keep its minimum intimacy for all purposes, as "${parentDef.name}" does.`,
      });
    }
    const directIdentifier = addition.directIdentifier ?? parentDef?.directIdentifier ?? false;
    if (parentDef?.directIdentifier && !directIdentifier) {
      problems.push({
        code: 'IDENTIFIER_CLEARED',
        path: `${at}.directIdentifier`,
        message: `"${addition.name}" is a direct identifier like "${parentDef.name}"; leave the flag unset.`,
      });
    }
    categories.set(addition.name, {
      name: addition.name,
      parent: parentName,
      policy: requested,
      minIntimacy,
      minIntimacyFor,
      directIdentifier,
      description: addition.description ?? parentDef?.description ?? addition.name,
    });
  }

  const applied: AppliedOverride[] = [...base.overrides];
  for (const [name, { override, index }] of overrideByCategory) {
    const def = categories.get(name);
    if (def === undefined) {
      problems.push({
        code: 'OVERRIDE_CATEGORY_UNKNOWN',
        path: `overrides[${index}].category`,
        message: `The override names "${name}", which is not a category.`,
      });
      continue;
    }
    const from = def.policy;
    categories.set(name, { ...def, policy: override.policy });
    applied.push({ category: name, from, to: override.policy, reason: override.reason.trim() });
  }

  const purposes = [...base.purposes.values()];
  const extraRoles = new Map<string, readonly Role[]>();
  for (const name of base.purposes.keys()) {
    if (!(PURPOSES as readonly string[]).includes(name)) {
      extraRoles.set(
        name,
        ROLES.filter((role) => base.rolePurposes[role].includes(name)),
      );
    }
  }
  (additions.purposes ?? []).forEach((addition, index) => {
    const at = `purposes[${index}]`;
    if (!/^[a-z][a-z0-9_]*$/.test(addition.name)) {
      problems.push({
        code: 'NAME_INVALID',
        path: `${at}.name`,
        message: `"${addition.name}" is not a purpose name: one lower-case word (loyalty_programme).`,
      });
      return;
    }
    if (purposes.some((p) => p.name === addition.name)) {
      problems.push({
        code: 'PURPOSE_EXISTS',
        path: `${at}.name`,
        message: `The purpose "${addition.name}" already exists.`,
      });
      return;
    }
    if (!LAWFUL_BASES.includes(addition.lawfulBasis)) {
      problems.push({
        code: 'LAWFUL_BASIS_INVALID',
        path: `${at}.lawfulBasis`,
        message: `"${String(addition.lawfulBasis)}" is not a lawful basis; use one of ${LAWFUL_BASES.join(', ')}.`,
      });
      return;
    }
    if (addition.minIntimacy !== undefined && !isIntimacy(addition.minIntimacy)) {
      problems.push({
        code: 'INTIMACY_INVALID',
        path: `${at}.minIntimacy`,
        message: `${String(addition.minIntimacy)} is not an intimacy level; use 0 to ${MAX_INTIMACY}.`,
      });
      return;
    }
    const roles = addition.roles ?? [];
    const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
    if (unknown.length > 0) {
      problems.push({
        code: 'ROLE_UNKNOWN',
        path: `${at}.roles`,
        message: `Unknown roles ${unknown.join(', ')}; roles are ${ROLES.join(', ')}.`,
      });
      return;
    }
    // A workspace purpose never gets the exemptions of `legal`: they are not the workspace's to grant.
    purposes.push({
      name: addition.name,
      lawfulBasis: addition.lawfulBasis,
      description: addition.description ?? addition.name,
      minIntimacy: addition.minIntimacy ?? 0,
      outreach: addition.outreach ?? false,
      pseudonymised: addition.pseudonymised ?? false,
      neverSpecial: addition.neverSpecial ?? false,
      exemptFromRestriction: false,
      exemptFromObjection: false,
      exemptFromIntimacy: false,
    });
    extraRoles.set(
      addition.name,
      roles.filter((role) => role !== 'auditor'),
    );
  });

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, taxonomy: buildTaxonomy([...categories.values()], purposes, extraRoles, applied) };
}

function effectivePolicy(
  def: CategoryDef,
  overrides: ReadonlyMap<string, { override: PolicyOverride }>,
): StoragePolicy {
  return overrides.get(def.name)?.override.policy ?? def.policy;
}
