import { DynamicModule, Global, Module } from '@nestjs/common';
import { ROLE_GRANTS, type RoleGrants } from '../auth/role-grants.js';
import { POLICIES, type Policies } from './policies.js';
import { PolicyRepository } from './policy.repository.js';
import { PolicyResolver } from './policy.resolver.js';
import { PolicyService } from './policy.service.js';
import { permissionsOf } from './roles-policy.js';

@Global()
@Module({})
export class PolicyModule {
  static forRoot(policies: Policies): DynamicModule {
    const grants: RoleGrants = (roles) => permissionsOf(policies.roles.value, roles);
    return {
      module: PolicyModule,
      providers: [
        { provide: POLICIES, useValue: policies },
        { provide: ROLE_GRANTS, useValue: grants },
        PolicyRepository,
        PolicyService,
        PolicyResolver,
      ],
      exports: [POLICIES, ROLE_GRANTS, PolicyService],
    };
  }
}
