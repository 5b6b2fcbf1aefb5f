import { Inject, Injectable } from '@nestjs/common';
import { POLICIES, type Policies } from '../policy/policies.js';
import { permissionsOf } from '../policy/roles-policy.js';
import { buildAbility } from './ability.js';
import { UnauthenticatedError } from './auth.errors.js';
import type { Principal } from './principal.js';
import { TokenVerifier } from './token-verifier.js';

@Injectable()
export class AuthService {
  constructor(
    private readonly verifier: TokenVerifier,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization === '')
      throw new UnauthenticatedError('no bearer token');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) throw new UnauthenticatedError('authorization header is not "Bearer <token>"');
    const identity = await this.verifier.verify(match[1]);
    if (identity.sub === '') throw new UnauthenticatedError('token has no subject');
    const permissions = permissionsOf(this.policies.roles.value, identity.roles);
    return { ...identity, permissions, ability: buildAbility(permissions) };
  }
}
