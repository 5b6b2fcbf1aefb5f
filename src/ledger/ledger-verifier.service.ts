import { Injectable } from '@nestjs/common';
import { BadInputError } from '../common/errors.js';
import { KEY_ROTATED } from './event-catalogue.js';
import { LedgerRepository } from './ledger.repository.js';
import { verifyLedger, type LedgerSource, type VerifyReport } from './ledger-verifier.js';
import { frontierLevels, MerkleFrontier } from './merkle-append.js';
import { EMPTY_ROOT, rangeNodes } from './merkle.js';
import { truncationOf, type Truncation } from './truncation.js';

/** Hashes read at a time to recompute a root: 3 MB of text. */
const ROOT_PAGE = 50_000;

/**
 * Verification of the stored ledger (GraphQL `verifyLedger`, `gatehouse ledger verify`): the
 * range, event by event, and the head against what the other ledger tables say it reached.
 * It only reads.
 */
@Injectable()
export class LedgerVerifierService {
  constructor(private readonly repository: LedgerRepository) {}

  async verify(
    fromSeq?: number,
    toSeq?: number,
    options: { signatures?: boolean; workers?: number } = {},
  ): Promise<VerifyReport> {
    // The head and the traces a truncation leaves, in one snapshot: read apart, an append in
    // between would look like one.
    const extent = await this.repository.extent();
    const head = extent.headSeq;
    const truncation = truncationOf(extent);
    const from = fromSeq ?? 1;
    const to = toSeq ?? head;
    if (!Number.isSafeInteger(from) || from < 1)
      throw new BadInputError('fromSeq', 'must be 1 or more');
    if (!Number.isSafeInteger(to) || to > head)
      throw new BadInputError('toSeq', `must be at most the head (${head})`);
    if (to < from) {
      if (head === 0) return withTruncation(emptyReport(), truncation);
      throw new BadInputError('toSeq', `must not be below fromSeq (${from})`);
    }
    const report = await verifyLedger(this.source(), { fromSeq: from, toSeq: to }, options);
    return withTruncation(report, truncation);
  }

  /** The last event's seq (0 for an empty ledger). */
  async headSeq(): Promise<number> {
    return (await this.repository.extent()).headSeq;
  }

  /**
   * The root of the first `treeSize` events, recomputed from their stored hashes (not from the
   * stored Merkle nodes): undefined when fewer events are held. Meaningful once `verify` has
   * found every hash to be its event's.
   */
  async rootAt(treeSize: number): Promise<string | undefined> {
    const frontier = new MerkleFrontier(0, []);
    let done = 0;
    while (done < treeSize) {
      const hashes = await this.repository.hashesAfter(done, Math.min(ROOT_PAGE, treeSize - done));
      if (hashes.length === 0) return undefined;
      for (const hash of hashes) frontier.push(Buffer.from(hash, 'hex'));
      done += hashes.length;
    }
    return frontier.root()?.toString('hex') ?? EMPTY_ROOT.toString('hex');
  }

  /** The stored checkpoint of exactly `treeSize`, if any. */
  async checkpointAt(
    treeSize: number,
  ): Promise<{ treeSize: number; rootHash: string } | undefined> {
    const [row] = await this.repository.checkpoints(treeSize, treeSize);
    return row && { treeSize: row.treeSize, rootHash: row.rootHash };
  }

  private source(): LedgerSource {
    const repository = this.repository;
    return {
      keys: () => repository.keys(),
      events: (afterSeq, toSeq) => repository.copyForVerify(afterSeq, toSeq),
      hashAt: (seq) => repository.hashAt(seq),
      rotationsBefore: (seq) => repository.eventsOfTypeBefore(KEY_ROTATED, seq),
      frontier: async (size) => {
        const ids = rangeNodes(0, size);
        const nodes = await repository.nodes(ids);
        const levels = frontierLevels(size);
        return ids.map((id, i) => ({
          level: levels[i] ?? id.level,
          hash: nodes.get(`${id.level}:${id.index}`) ?? Buffer.alloc(32),
        }));
      },
      checkpoints: (fromSize, toSize) => repository.checkpoints(fromSize, toSize),
    };
  }
}

/**
 * A truncation is reported whatever the range (a truncated ledger is not intact), at the first
 * missing seq, unless the range failed first: its failures are at seqs before that one.
 */
function withTruncation(report: VerifyReport, truncation: Truncation | undefined): VerifyReport {
  if (truncation === undefined || report.failure !== undefined) return report;
  return {
    ...report,
    ok: false,
    failure: { seq: truncation.headSeq + 1, reason: 'truncated', detail: truncation.detail },
  };
}

function emptyReport(): VerifyReport {
  return {
    ok: true,
    fromSeq: 1,
    toSeq: 0,
    eventsChecked: 0,
    signaturesChecked: 0,
    checkpointsChecked: 0,
    failure: undefined,
    durationMs: 0,
  };
}
