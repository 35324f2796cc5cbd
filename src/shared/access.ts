/**
 * Roles and purposes (SPEC §4): which purposes each role may use. Every read or write of personal data
 * names a purpose; a key carries a role and the purposes it was granted.
 */

export const PURPOSES = [
  'service',
  'billing',
  'fulfilment',
  'personalization',
  'marketing',
  'analytics',
  'third_party_sharing',
  'sale',
  'legal',
] as const;
export type Purpose = (typeof PURPOSES)[number];

export const ROLES = [
  'owner',
  'admin',
  'agent',
  'marketer',
  'analyst',
  'privacy_officer',
  'auditor',
  'integration',
] as const;
export type Role = (typeof ROLES)[number];

/** The purposes each role may use; `integration` keys use exactly the purposes they were granted. */
export const ROLE_PURPOSES: Record<Role, readonly Purpose[]> = {
  owner: PURPOSES,
  admin: PURPOSES,
  agent: ['service', 'billing', 'fulfilment', 'personalization'],
  marketer: ['marketing', 'personalization', 'analytics'],
  analyst: ['analytics'],
  privacy_officer: ['legal'],
  auditor: [],
  integration: PURPOSES,
};

/** Roles that may manage the workspace itself (settings, keys). */
export const ADMIN_ROLES: readonly Role[] = ['owner', 'admin'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}
