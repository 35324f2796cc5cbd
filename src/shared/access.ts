import { forbidden } from './errors.ts';

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

/**
 * What a key may change, beyond reading: each write and each act of managing the workspace is one
 * permission, and a role holds a set of them (`ROLE_PERMISSIONS`). Writes of personal data also need
 * a purpose the key may use; the permission says whether the role may write at all.
 */
const PERMISSION_ACTS = {
  'workspace.configure': "change the workspace's settings, data policy and recipient registry",
  'keys.list': "list the workspace's API keys",
  'keys.create': 'create API keys',
  'keys.revoke': 'revoke API keys',
  'customers.create': 'create customers',
  'customers.update': 'change customers',
  'customers.rectify': 'rectify customers',
  'customers.merge': 'merge and unmerge customers or decide reviews',
  'identity.resolve': 'resolve the whole workspace',
  'interactions.record': 'record interactions',
  'segments.create': 'save segments',
  'segments.delete': 'delete segments',
  'value.refit': 'refit the value model',
  'relationships.configure': 'set the relationship rule table or recompute relationships',
  'recommendations.train': 'train the recommendation model',
  'jobs.manage': "see the event backbone's queue and dead letters, and retry them",
} as const;
export type Permission = keyof typeof PERMISSION_ACTS;
/** Every permission, in the table's order. */
export const PERMISSIONS = Object.keys(PERMISSION_ACTS) as readonly Permission[];

/**
 * The role table's permissions (README, "Roles"). Least privilege: the people serving customers
 * write customers and interactions; marketers and analysts keep segments; the privacy office
 * corrects records; integrations write what their system feeds in; the auditor writes nothing.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS,
  agent: [
    'customers.create',
    'customers.update',
    'customers.rectify',
    'customers.merge',
    'interactions.record',
  ],
  marketer: ['segments.create', 'segments.delete'],
  analyst: ['segments.create', 'segments.delete'],
  privacy_officer: ['customers.rectify'],
  auditor: [],
  integration: ['customers.create', 'customers.update', 'interactions.record'],
};

/** True when the role holds the permission. */
export function mayPerform(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The roles holding a permission, in the order of `ROLES`. */
export function rolesPermitted(permission: Permission): Role[] {
  return ROLES.filter((role) => mayPerform(role, permission));
}

/** Refuses (403 ROLE_NOT_ALLOWED) an actor whose role does not hold the permission. */
export function assertPermitted(actor: { role: Role }, permission: Permission): void {
  if (mayPerform(actor.role, permission)) return;
  const allowed = rolesPermitted(permission);
  throw forbidden(
    'ROLE_NOT_ALLOWED',
    `Role "${actor.role}" may not ${PERMISSION_ACTS[permission]}; use a ${allowed.join(' or ')} key.`,
    { role: actor.role, permission, allowed },
  );
}

/** Roles that may manage the workspace itself (settings, keys). */
export const ADMIN_ROLES: readonly Role[] = rolesPermitted('workspace.configure');

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}
