import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { actorOf } from '../ledger/actor.js';
import {
  CheckpointService,
  StoredTreeError,
  type Checkpoint,
} from '../ledger/checkpoint.service.js';
import { WitnessingService } from '../witnessing/witnessing.service.js';
import { ReportIntegrityError } from './report.errors.js';
import type { SignedCheckpoint } from './report-document.js';
import { atMost } from './report-checkpoint.js';

/**
 * How long an export waits for the witnesses to cosign the checkpoint it made: long enough
 * for witnesses that are up to answer, short enough that one down never holds an export.
 */
const ASK_WITNESSES_MS = 3000;
/** Older witnessed checkpoints looked at when the newest ones no longer verify (a truncation). */
const MAX_WITNESSED_CANDIDATES = 16;

/** The checkpoint a report is proved against, in both its forms. */
export interface ReportCheckpoint {
  readonly checkpoint: SignedCheckpoint;
  /** The signed note of the same tree, with the cosignatures that verify over it. */
  readonly note: string;
  /** How many distinct witnesses cosigned it. */
  readonly witnesses: number;
}

/**
 * Chooses the checkpoint an export is proved against, and proves the events in it. With
 * witnesses, the latest checkpoint that covers the events and that the quorum cosigned: an
 * auditor holding the witnesses' keys can then tell the report's history from a truncated or
 * forked one. With none such, the covering checkpoint as before, offered to the witnesses for a
 * few seconds, and carried witnessed or not — an export never waits on a witness that is down.
 */
@Injectable()
export class ReportCheckpointService {
  constructor(
    private readonly checkpoints: CheckpointService,
    private readonly witnessing: WitnessingService,
  ) {}

  async covering(seq: number, principal: Principal): Promise<ReportCheckpoint> {
    const witnessed = await this.witnessedCovering(seq);
    if (witnessed) return witnessed;
    const latest = await this.checkpoints.latest();
    const chosen =
      latest && latest.checkpoint.treeSize >= seq
        ? latest
        : await this.checkpoints.create(actorOf(principal));
    if (this.witnessing.quorum > 0) await atMost(ASK_WITNESSES_MS, this.witnessing.submitNow());
    return this.anchored(chosen);
  }

  /** Inclusion proofs of every event in the checkpoint's tree, from the ledger's stored nodes. */
  async proofs(seqs: readonly number[], cp: SignedCheckpoint): Promise<string[][]> {
    try {
      return await this.checkpoints.inclusionProofsAt(cp.checkpoint, seqs);
    } catch (error) {
      if (error instanceof StoredTreeError) throw new ReportIntegrityError(error.message);
      throw error;
    }
  }

  private async witnessedCovering(seq: number): Promise<ReportCheckpoint | undefined> {
    if (this.witnessing.quorum === 0) return undefined;
    let below = (await this.checkpoints.latest())?.checkpoint.treeSize ?? 0;
    for (let i = 0; i < MAX_WITNESSED_CANDIDATES && below >= seq; i++) {
      const size = await this.witnessing.latestWitnessedSize(below);
      if (size === undefined || size < seq) return undefined;
      const found = await this.checkpoints.latest(size);
      if (found) {
        const anchored = await this.anchored(found);
        if (anchored.witnesses >= this.witnessing.quorum) return anchored;
      }
      below = size - 1;
    }
    return undefined;
  }

  private async anchored(found: {
    checkpoint: Checkpoint;
    jws: string;
  }): Promise<ReportCheckpoint> {
    const { note, cosignatures } = await this.witnessing.cosignedNote(found.checkpoint);
    return {
      checkpoint: { checkpoint: { ...found.checkpoint }, jws: found.jws },
      note,
      witnesses: new Set(cosignatures.map((c) => c.witness)).size,
    };
  }
}
