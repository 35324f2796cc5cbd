/** Consent, intimacy and privacy flags of a customer: types and the pure rules of their projection. */

export const CONSENT_STATUSES = ['granted', 'denied', 'withdrawn'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** One entry of the append-only consent ledger. */
export interface ConsentRecord {
  id: string;
  customerId: string;
  purpose: string;
  /** null: every channel. */
  channel: string | null;
  status: ConsentStatus;
  /** An affirmative opt-in (not a pre-ticked box, not inferred). */
  explicit: boolean;
  lawfulBasis: string;
  noticeVersion: string | null;
  evidence: unknown;
  source: string;
  capturedBy: string;
  effectiveFrom: string;
  expiresAt: string | null;
  recordedAt: string;
}

/** The current consent for one purpose and channel: the projection of the ledger. */
export interface ConsentStateEntry {
  purpose: string;
  channel: string | null;
  status: ConsentStatus;
  explicit: boolean;
  effectiveFrom: string;
  expiresAt: string | null;
  recordId: string;
}

/** What the access decision needs of a customer's consent for a purpose. */
export interface ConsentFacts {
  status: ConsentStatus;
  explicit: boolean;
  expiresAt: string | null;
}

/** What the access decision needs to know of one customer (SPEC §5.2). */
export interface PrivacySubject {
  intimacyLevel: 0 | 1 | 2 | 3 | 4;
  /** Purpose-wide consents (channel-specific ones do not open a purpose on every channel). */
  consents: ReadonlyMap<string, ConsentFacts>;
  restricted: boolean;
  objections: ReadonlySet<string>;
}

/** A customer who never said anything: intimacy 1, no consents, no restriction, no objection. */
export const DEFAULT_SUBJECT: PrivacySubject = {
  intimacyLevel: 1,
  consents: new Map(),
  restricted: false,
  objections: new Set(),
};

/** Intimacy levels (SPEC §6): 0 just the transaction … 4 treat me like a regular. */
export const INTIMACY_LEVELS = [0, 1, 2, 3, 4] as const;
export type IntimacyLevel = (typeof INTIMACY_LEVELS)[number];

export function isIntimacyLevel(value: number): value is IntimacyLevel {
  return Number.isInteger(value) && value >= 0 && value <= 4;
}

/** The kinds of privacy-flag change: restriction of processing and objection to a purpose. */
export const PRIVACY_FLAG_KINDS = ['restrict', 'lift_restriction', 'object', 'withdraw_objection'] as const;
export type PrivacyFlagKind = (typeof PRIVACY_FLAG_KINDS)[number];

const RESTRICTIVENESS: Record<ConsentStatus, number> = { granted: 0, denied: 1, withdrawn: 2 };

/**
 * The state that survives a merge of two customers' consents for one purpose: the most restrictive
 * wins, so a withdrawal is never resurrected; two grants keep the narrower terms.
 */
export function mergeConsentFacts(a: ConsentFacts, b: ConsentFacts): ConsentFacts {
  if (RESTRICTIVENESS[a.status] !== RESTRICTIVENESS[b.status])
    return RESTRICTIVENESS[a.status] > RESTRICTIVENESS[b.status] ? a : b;
  const expiries = [a.expiresAt, b.expiresAt].filter((e): e is string => e !== null).sort();
  return { status: a.status, explicit: a.explicit && b.explicit, expiresAt: expiries[0] ?? null };
}

/**
 * The current state of a ledger: per purpose and channel, the record effective last (ties: recorded
 * last). The database keeps the same projection in `consent_state`; this is its definition.
 */
export function projectConsentLedger(records: readonly ConsentRecord[]): ConsentStateEntry[] {
  const latest = new Map<string, ConsentRecord>();
  for (const record of records) {
    const key = `${record.purpose}\u0000${record.channel ?? ''}`;
    const current = latest.get(key);
    if (
      !current ||
      record.effectiveFrom > current.effectiveFrom ||
      (record.effectiveFrom === current.effectiveFrom && record.recordedAt >= current.recordedAt)
    )
      latest.set(key, record);
  }
  return [...latest.values()]
    .map((r) => ({
      purpose: r.purpose,
      channel: r.channel,
      status: r.status,
      explicit: r.explicit,
      effectiveFrom: r.effectiveFrom,
      expiresAt: r.expiresAt,
      recordId: r.id,
    }))
    .sort((x, y) => (x.purpose + (x.channel ?? '')).localeCompare(y.purpose + (y.channel ?? '')));
}
