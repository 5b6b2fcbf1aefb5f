import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { LedgerRepository, type CheckpointRow } from './ledger.repository.js';
import { LedgerSequencer, type Actor } from './ledger-sequencer.service.js';
import {
  consistencyProofFromNodes,
  inclusionProofFromNodes,
  nodesForConsistency,
  nodesForInclusion,
  nodesForRoot,
  rootFromNodes,
  type NodeId,
} from './merkle.js';

/** The signed statement "the tree of `treeSize` events has root `rootHash`", signed. */
export interface Checkpoint {
  readonly v: 1;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly ts: string;
}

export interface InclusionProof {
  readonly seq: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly proof: string[];
}

export interface ConsistencyProof {
  readonly first: number;
  readonly second: number;
  readonly firstRootHash: string;
  readonly secondRootHash: string;
  readonly proof: string[];
}

/**
 * Checkpoints, made on demand and periodically when the tree grew, and proofs against any
 * tree size, computed from the stored complete-subtree hashes in O(log² n) reads.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Checkpoints');
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((checkpoint: Checkpoint) => void)[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly repository: LedgerRepository,
    private readonly sequencer: LedgerSequencer,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.ledger.checkpointIntervalSeconds;
    if (seconds === 0) return;
    this.timer = setInterval(() => {
      this.create({ sub: 'system:ledger' }).catch((error: unknown) => {
        this.logger.error(`periodic checkpoint failed: ${String(error)}`);
      });
    }, seconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * Calls `listener` after each checkpoint this process makes, so that whoever acts on new
   * checkpoints (the witnesses' submission) need not poll for them; checkpoints other replicas
   * make are theirs to announce.
   */
  onCreated(listener: (checkpoint: Checkpoint) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Checkpoints the tree as it stands (after sealing anything queued), recording a
   * `ledger.checkpoint` event in the same transaction. When nothing was appended since the last
   * checkpoint, returns that one.
   */
  async create(actor: Actor): Promise<{ checkpoint: Checkpoint; jws: string; created: boolean }> {
    const { checkpoint: made } = await this.sequencer.run({ kind: 'checkpoint', actor });
    if (made) {
      const checkpoint = checkpointOf(made);
      for (const listener of this.listeners) listener(checkpoint);
      return { checkpoint, jws: made.jws, created: true };
    }
    const latest = await this.latest();
    if (!latest) throw new BadInputError('ledger', 'is empty; there is nothing to checkpoint');
    return { ...latest, created: false };
  }

  async latest(treeSize?: number): Promise<{ checkpoint: Checkpoint; jws: string } | undefined> {
    const row = await this.repository.checkpoint(treeSize);
    return row === undefined ? undefined : { checkpoint: checkpointOf(row), jws: row.jws };
  }

  async inclusionProof(seq: number, treeSize?: number): Promise<InclusionProof> {
    const size = treeSize ?? (await this.repository.headSeq());
    await this.assertTreeSize('treeSize', size);
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > size) {
      throw new BadInputError('seq', `must be from 1 to the tree size ${size}`);
    }
    const index = seq - 1;
    const lookup = await this.lookup([
      ...nodesForInclusion(index, size),
      ...nodesForRoot(size),
      { level: 0, index },
    ]);
    return {
      seq,
      treeSize: size,
      leafHash: lookup({ level: 0, index }).toString('hex'),
      rootHash: rootFromNodes(size, lookup).toString('hex'),
      proof: inclusionProofFromNodes(index, size, lookup).map((h) => h.toString('hex')),
    };
  }

  async consistencyProof(first: number, second: number): Promise<ConsistencyProof> {
    await this.assertTreeSize('second', second);
    if (!Number.isSafeInteger(first) || first < 1 || first > second) {
      throw new BadInputError('first', `must be from 1 to second (${second})`);
    }
    const lookup = await this.lookup([
      ...nodesForConsistency(first, second),
      ...nodesForRoot(first),
      ...nodesForRoot(second),
    ]);
    return {
      first,
      second,
      firstRootHash: rootFromNodes(first, lookup).toString('hex'),
      secondRootHash: rootFromNodes(second, lookup).toString('hex'),
      proof: consistencyProofFromNodes(first, second, lookup).map((h) => h.toString('hex')),
    };
  }

  /**
   * Inclusion proofs of many events in the tree a checkpoint signed, from one read of the
   * stored nodes, each as hex hashes bottom up. Throws StoredTreeError when the stored tree
   * cannot back the checkpoint: a node the proofs need is missing, or the nodes give another root.
   */
  async inclusionProofsAt(
    checkpoint: { readonly treeSize: number; readonly rootHash: string },
    seqs: readonly number[],
  ): Promise<string[][]> {
    const size = checkpoint.treeSize;
    const wanted = new Map<string, NodeId>();
    for (const id of nodesForRoot(size)) wanted.set(`${id.level}:${id.index}`, id);
    for (const seq of seqs)
      for (const id of nodesForInclusion(seq - 1, size)) wanted.set(`${id.level}:${id.index}`, id);
    const nodes = await this.repository.nodes([...wanted.values()]);
    const lookup = (id: NodeId): Buffer => {
      const hash = nodes.get(`${id.level}:${id.index}`);
      if (!hash) throw new StoredTreeError(`Merkle node ${id.level}:${id.index} is missing`);
      return hash;
    };
    if (rootFromNodes(size, lookup).toString('hex') !== checkpoint.rootHash)
      throw new StoredTreeError(`the stored tree does not have the root of checkpoint ${size}`);
    return seqs.map((seq) =>
      inclusionProofFromNodes(seq - 1, size, lookup).map((h) => h.toString('hex')),
    );
  }

  private async assertTreeSize(field: string, size: number): Promise<void> {
    const head = await this.repository.headSeq();
    if (!Number.isSafeInteger(size) || size < 1 || size > head) {
      throw new BadInputError(field, `must be a tree size from 1 to ${head}`);
    }
  }

  private async lookup(ids: readonly NodeId[]): Promise<(id: NodeId) => Buffer> {
    const nodes = await this.repository.nodes(ids);
    return (id) => {
      const hash = nodes.get(`${id.level}:${id.index}`);
      if (!hash) throw new NotFoundError('Merkle node', `${id.level}:${id.index}`);
      return hash;
    };
  }
}

/** The stored Merkle tree cannot back a signed checkpoint: the database disagrees with the ledger. */
export class StoredTreeError extends ConflictError {}

export function checkpointOf(row: CheckpointRow): Checkpoint {
  return { v: 1, treeSize: row.treeSize, rootHash: row.rootHash, ts: row.ts };
}
