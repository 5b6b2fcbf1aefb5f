import type { Permission } from './permissions.js';

/**
 * Injection token for what roles grant. The roles are policy (policies/roles.yaml, loaded
 * and provided by the policy module); authentication only asks what a token's roles may do.
 */
export const ROLE_GRANTS = Symbol('gatehouse.role-grants');

/** The permissions of a caller holding `roles`; a role the policy does not define grants none. */
export type RoleGrants = (roles: readonly string[]) => Permission[];
