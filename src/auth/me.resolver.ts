import { Query, Resolver } from '@nestjs/graphql';
import { Authenticated, CurrentPrincipal } from './decorators.js';
import { MeModel } from './me.model.js';
import type { Principal } from './principal.js';

@Resolver(() => MeModel)
export class MeResolver {
  @Query(() => MeModel, { description: 'Who the caller is and what they may do.' })
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal): MeModel {
    return {
      sub: principal.sub,
      roles: [...principal.roles],
      issuer: principal.issuer,
      abilities: principal.permissions.map((p) => ({ action: p.action, subject: p.subject })),
    };
  }
}
