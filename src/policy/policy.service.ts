import { basename } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LedgerService } from '../ledger/ledger.service.js';
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
    private readonly ledger: LedgerService,
  ) {}

  /**
   * Keeps the text of every policy ever applied, so a recorded digest can always be resolved,
   * and ledgers the first load of each version (`policy.loaded`).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.ledger.transaction(async (tx) => {
      for (const file of await this.repository.recordLoaded(
        tx.manager,
        policyFiles(this.policies),
      )) {
        const name = basename(file.name);
        tx.record({
          type: 'policy.loaded',
          subject: `policy:${name}`,
          actor: { sub: 'system:policy' },
          payload: { name, sha256: file.sha256 },
        });
      }
    });
  }

  async list(): Promise<PolicyDocumentView[]> {
    return Promise.all(
      policyFiles(this.policies).map(async (file) => ({
        name: basename(file.name),
        sha256: file.sha256,
        content: file.content,
        firstLoadedAt: await this.repository.firstLoadedAt(file.sha256),
      })),
    );
  }
}
