import { Injectable, Module } from '@nestjs/common';
import type { VerifyFailure } from '../ledger/ledger-verifier.js';
import { LedgerVerifierService } from '../ledger/ledger-verifier.service.js';
import { LedgerVerifyModule } from '../ledger/ledger.module.js';
import { CosignaturesRepository } from './cosignatures.repository.js';
import { claimFailure, fetchClaim, storedClaim, type WitnessClaim } from './witnessed-verify.js';
import type { WitnessEndpoint } from './witnesses-file.js';

/** What the witnesses say of the ledger, and whether the ledger still holds what they saw. */
export interface WitnessAuditReport {
  readonly origin: string;
  readonly quorum: number;
  /** The latest checkpoint the ledger keeps cosigned by the quorum, each cosignature checked. */
  readonly witnessed: {
    readonly treeSize: number;
    readonly by: readonly { readonly witness: string; readonly timestamp: number }[];
  } | null;
  /** Each witness's latest cosigned checkpoint, asked of it and as the ledger keeps it. */
  readonly claims: readonly WitnessClaim[];
  /** Witnesses that answered they have cosigned nothing of this origin. */
  readonly silent: readonly string[];
  readonly unreachable: readonly { readonly witness: string; readonly reason: string }[];
  /** The first truncation or fork a claim shows. */
  readonly failure: VerifyFailure | undefined;
}

/**
 * The ledger checked against its witnesses (`gatehouse ledger verify --witnesses`). The
 * witnesses are asked directly — what a database superuser can delete, the cosignatures the
 * ledger keeps included, they still remember — and the cosignatures kept are checked too. Each
 * claim's tree must be the ledger's: as many events at least, and the same root at that size,
 * recomputed from the events' hashes. It only reads.
 */
@Injectable()
export class WitnessAudit {
  constructor(
    private readonly verifier: LedgerVerifierService,
    private readonly cosignatures: CosignaturesRepository,
  ) {}

  async check(
    witnesses: readonly WitnessEndpoint[],
    quorum: number,
    origin: string,
    options: { offline: boolean },
  ): Promise<WitnessAuditReport> {
    const head = await this.verifier.headSeq();
    const claims: WitnessClaim[] = [];
    const silent: string[] = [];
    const unreachable: { witness: string; reason: string }[] = [];
    if (!options.offline)
      await Promise.all(
        witnesses.map(async (witness) => {
          try {
            const claim = await fetchClaim(witness, origin);
            if (claim) claims.push(claim);
            else silent.push(witness.name);
          } catch (error) {
            unreachable.push({ witness: witness.name, reason: messageOf(error) });
          }
        }),
      );
    for (const witness of witnesses) {
      const size = await this.cosignatures.latestCosignedSize(witness.vkey);
      if (size === undefined) continue;
      const checkpoint = await this.verifier.checkpointAt(size);
      if (!checkpoint) continue;
      for (const row of await this.cosignatures.ofCheckpoint(size)) {
        const claim = row.origin === origin ? storedClaim(row, checkpoint.rootHash, witness) : null;
        if (claim) claims.push(claim);
      }
    }
    const roots = new Map<number, string | undefined>();
    let failure: VerifyFailure | undefined;
    for (const claim of claims) {
      if (claim.treeSize <= head && !roots.has(claim.treeSize))
        roots.set(claim.treeSize, await this.verifier.rootAt(claim.treeSize));
      const found = claimFailure(claim, head, roots.get(claim.treeSize));
      if (found && (failure === undefined || found.seq < failure.seq)) failure = found;
    }
    return {
      origin,
      quorum,
      witnessed: await this.witnessed(witnesses, quorum, head, origin),
      claims: claims.sort(
        (a, b) => a.witness.localeCompare(b.witness) || a.source.localeCompare(b.source),
      ),
      silent: silent.sort(),
      unreachable: unreachable.sort((a, b) => a.witness.localeCompare(b.witness)),
      failure,
    };
  }

  /** The latest kept checkpoint at or below the head whose cosignatures by the quorum check. */
  private async witnessed(
    witnesses: readonly WitnessEndpoint[],
    quorum: number,
    head: number,
    origin: string,
  ): Promise<WitnessAuditReport['witnessed']> {
    const latest = await this.cosignatures.latestWitnessed(
      head,
      quorum,
      witnesses.map((w) => w.vkey),
    );
    if (!latest) return null;
    const checkpoint = await this.verifier.checkpointAt(latest.treeSize);
    if (!checkpoint) return null;
    const by = latest.cosignatures.flatMap((row) => {
      const witness = witnesses.find((w) => w.vkey === row.vkey);
      const claim =
        witness && row.origin === origin ? storedClaim(row, checkpoint.rootHash, witness) : null;
      return claim ? [{ witness: claim.witness, timestamp: claim.timestamp }] : [];
    });
    return new Set(by.map((b) => b.witness)).size >= quorum
      ? { treeSize: latest.treeSize, by }
      : null;
  }
}

/** The audit for commands that only read: the verifier and the kept cosignatures. */
@Module({
  imports: [LedgerVerifyModule],
  providers: [CosignaturesRepository, WitnessAudit],
  exports: [WitnessAudit],
})
export class WitnessAuditModule {}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
