import { Query, Resolver } from '@nestjs/graphql';
import { Can } from '../auth/decorators.js';
import { PolicyDocumentModel } from './policy.model.js';
import { PolicyService } from './policy.service.js';

@Resolver(() => PolicyDocumentModel)
export class PolicyResolver {
  constructor(private readonly service: PolicyService) {}

  @Query(() => [PolicyDocumentModel], {
    description: 'The policy files in force, with their SHA-256 digests.',
  })
  @Can('read', 'Policy')
  policies(): Promise<PolicyDocumentModel[]> {
    return this.service.list();
  }
}
