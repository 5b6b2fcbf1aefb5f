import { Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Can } from '../auth/decorators.js';
import { CheckpointService } from '../ledger/checkpoint.service.js';
import { LedgerCheckpointModel } from '../ledger/ledger.model.js';
import { LedgerCosignatureModel } from './witnessing.model.js';
import { WitnessingService } from './witnessing.service.js';

/** `LedgerCheckpoint.witnessed` and `.cosignatures`, resolved here so the ledger need not know. */
@Resolver(() => LedgerCheckpointModel)
export class WitnessingResolver {
  constructor(
    private readonly witnessing: WitnessingService,
    private readonly checkpoints: CheckpointService,
  ) {}

  @ResolveField(() => Boolean, {
    description:
      'Cosigned by at least GATEHOUSE_WITNESS_QUORUM of the configured witnesses; false without witnesses.',
  })
  @Can('read', 'Ledger')
  async witnessed(@Parent() checkpoint: LedgerCheckpointModel): Promise<boolean> {
    return this.witnessing.witnessed(await this.witnessing.cosignaturesOf(checkpoint.treeSize));
  }

  @ResolveField(() => [LedgerCosignatureModel], {
    description: 'The configured witnesses’ cosignatures of this checkpoint, by witness.',
  })
  @Can('read', 'Ledger')
  async cosignatures(
    @Parent() checkpoint: LedgerCheckpointModel,
  ): Promise<LedgerCosignatureModel[]> {
    const rows = await this.witnessing.cosignaturesOf(checkpoint.treeSize);
    return rows.map((r) => ({
      witness: r.witness,
      vkey: r.vkey,
      timestamp: new Date(r.timestamp * 1000),
      signature: r.signature,
    }));
  }

  @Mutation(() => LedgerCheckpointModel, {
    nullable: true,
    description:
      'Submits the latest checkpoint to every witness that has not cosigned it, now; null when the ledger has no checkpoint.',
  })
  @Can('checkpoint', 'Ledger')
  async witnessCheckpoint(): Promise<LedgerCheckpointModel | null> {
    await this.witnessing.submitNow();
    const found = await this.checkpoints.latest();
    return found ? { ...found.checkpoint, jws: found.jws } : null;
  }
}
