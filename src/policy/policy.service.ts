import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { POLICIES, policyFiles, type Policies } from './policies.js';
import { PolicyRepository } from './policy.repository.js';

export interface PolicyDocumentView {
  readonly name: string;
  readonly sha256: string;
  readonly content: string;
  readonly firstLoadedAt: Date | undefined;
}

@Injectable()
export class PolicyService implements OnApplicationBootstrap {
  constructor(
    @Inject(POLICIES) private readonly policies: Policies,
    private readonly repository: PolicyRepository,
  ) {}

  /** Keeps the text of every policy ever applied, so a recorded digest can always be resolved. */
  async onApplicationBootstrap(): Promise<void> {
    await this.repository.recordLoaded(policyFiles(this.policies));
  }

  async list(): Promise<PolicyDocumentView[]> {
    return Promise.all(
      policyFiles(this.policies).map(async (file) => ({
        name: file.name.split('/').pop() ?? file.name,
        sha256: file.sha256,
        content: file.content,
        firstLoadedAt: await this.repository.firstLoadedAt(file.sha256),
      })),
    );
  }
}
