import type { AppAbility } from './ability.js';
import type { Permission } from './permissions.js';

/** Who is calling, as established by a verified bearer token. */
export interface Principal {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly issuer: string;
  readonly permissions: readonly Permission[];
  readonly ability: AppAbility;
}
