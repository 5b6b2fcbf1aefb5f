import { DynamicModule, Global, Module } from '@nestjs/common';
import { POLICIES, type Policies } from './policies.js';
import { PolicyRepository } from './policy.repository.js';
import { PolicyResolver } from './policy.resolver.js';
import { PolicyService } from './policy.service.js';

@Global()
@Module({})
export class PolicyModule {
  static forRoot(policies: Policies): DynamicModule {
    return {
      module: PolicyModule,
      providers: [
        { provide: POLICIES, useValue: policies },
        PolicyRepository,
        PolicyService,
        PolicyResolver,
      ],
      exports: [POLICIES, PolicyService],
    };
  }
}
