import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { actorOf } from './actor.js';
import { CheckpointService } from './checkpoint.service.js';
import { LedgerKeysService } from './ledger-keys.service.js';
import { LedgerReader } from './ledger-reader.service.js';
import { LedgerVerifierService } from './ledger-verifier.service.js';
import {
  ConsistencyProofModel,
  InclusionProofModel,
  LedgerCheckpointModel,
  LedgerEventPageModel,
  LedgerEventsArgs,
  LedgerVerifyReportModel,
  SigningKeyRotationModel,
} from './ledger.model.js';

@Resolver()
export class LedgerResolver {
  constructor(
    private readonly reader: LedgerReader,
    private readonly checkpoints: CheckpointService,
    private readonly verifier: LedgerVerifierService,
    private readonly keys: LedgerKeysService,
  ) {}

  @Query(() => LedgerEventPageModel, {
    description:
      'Events in seq order, optionally of one subject, type or actor, and within [from, to).',
    complexity: ({ args, childComplexity }) => Number(args['limit'] ?? 100) * childComplexity,
  })
  @Can('read', 'Ledger')
  ledgerEvents(@Args() args: LedgerEventsArgs): Promise<LedgerEventPageModel> {
    return this.reader.page(args);
  }

  @Query(() => LedgerCheckpointModel, {
    nullable: true,
    description: 'The checkpoint at a tree size, or the latest.',
  })
  @Can('read', 'Ledger')
  async ledgerCheckpoint(
    @Args('treeSize', { type: () => Int, nullable: true }) treeSize?: number,
  ): Promise<LedgerCheckpointModel | null> {
    const found = await this.checkpoints.latest(treeSize ?? undefined);
    return found ? { ...found.checkpoint, jws: found.jws } : null;
  }

  @Query(() => LedgerVerifyReportModel, {
    description: 'Recomputes hashes, links, signatures and checkpoint roots.',
  })
  @Can('verify', 'Ledger')
  verifyLedger(
    @Args('fromSeq', { type: () => Int, nullable: true }) fromSeq?: number,
    @Args('toSeq', { type: () => Int, nullable: true }) toSeq?: number,
  ): Promise<LedgerVerifyReportModel> {
    return this.verifier.verify(fromSeq ?? undefined, toSeq ?? undefined);
  }

  @Query(() => InclusionProofModel, {
    description: 'Audit path of event `seq` in the tree of `treeSize` events.',
  })
  @Can('read', 'Ledger')
  inclusionProof(
    @Args('seq', { type: () => Int }) seq: number,
    @Args('treeSize', { type: () => Int, nullable: true }) treeSize?: number,
  ): Promise<InclusionProofModel> {
    return this.checkpoints.inclusionProof(seq, treeSize ?? undefined);
  }

  @Query(() => ConsistencyProofModel, {
    description: 'Proof that the tree of `second` events extends that of `first`.',
  })
  @Can('read', 'Ledger')
  consistencyProof(
    @Args('first', { type: () => Int }) first: number,
    @Args('second', { type: () => Int }) second: number,
  ): Promise<ConsistencyProofModel> {
    return this.checkpoints.consistencyProof(first, second);
  }

  @Mutation(() => LedgerCheckpointModel, {
    description: 'Checkpoints the ledger now (a no-op if nothing changed).',
  })
  @Can('checkpoint', 'Ledger')
  async createCheckpoint(@CurrentPrincipal() principal: Principal): Promise<LedgerCheckpointModel> {
    const made = await this.checkpoints.create(actorOf(principal));
    return { ...made.checkpoint, jws: made.jws };
  }

  @Mutation(() => SigningKeyRotationModel, {
    description: 'Rotates the ledger signing key to a new Ed25519 key.',
  })
  @Can('rotate', 'SigningKey')
  async rotateSigningKey(
    @CurrentPrincipal() principal: Principal,
  ): Promise<SigningKeyRotationModel> {
    const { seq, previousKid, key } = await this.keys.rotate(actorOf(principal));
    return { kid: key.kid, previousKid, eventSeq: seq };
  }
}
