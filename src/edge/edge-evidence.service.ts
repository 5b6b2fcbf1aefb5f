import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { ConflictError } from '../common/errors.js';
import { actorOf } from '../ledger/actor.js';
import { CheckpointService } from '../ledger/checkpoint.service.js';
import { signDetached } from '../ledger/jws.js';
import { LedgerKeysService } from '../ledger/ledger-keys.service.js';
import { LedgerReader, MAX_PAGE, type ReadEvent } from '../ledger/ledger-reader.service.js';
import { KeyRing } from '../ledger/signing-keys.js';
import type { EdgeBundleInput, ManifestSigner } from './edge-bundle-build.js';
import type { SignedCheckpoint } from './edge-bundle-format.js';

/**
 * The ledger's part of a bundle: the go-live event with its inclusion proof against a signed
 * checkpoint (a new one when none covers the event yet), and the signer of the manifest, the
 * ledger's current key, so that the keys a device pins are the ones GET /.well-known/jwks.json
 * serves.
 */
@Injectable()
export class EdgeEvidenceService {
  constructor(
    private readonly reader: LedgerReader,
    private readonly checkpoints: CheckpointService,
    private readonly keys: LedgerKeysService,
    private readonly ring: KeyRing,
  ) {}

  async ofGoLive(
    endpoint: string,
    version: number,
    principal: Principal,
  ): Promise<EdgeBundleInput['evidence']> {
    const event = await this.latestGoLive(endpoint);
    const to = event?.payload['to'] as { liveVersion?: unknown } | undefined;
    if (!event || to?.liveVersion !== version)
      // The endpoint row commits a moment before the sequencer seals its event.
      throw new ConflictError(
        `the ledger does not yet hold the deployment.live.changed event that put version ${version} live on endpoint ${endpoint}: try again in a second`,
        { endpoint, version },
      );
    const checkpoint = await this.checkpointCovering(event.seq, principal);
    const [proof = []] = await this.checkpoints.inclusionProofsAt(checkpoint.checkpoint, [
      event.seq,
    ]);
    return {
      canonical: event.canonical,
      hash: event.hash,
      jws: event.jws,
      checkpoint,
      proof: {
        seq: event.seq,
        treeSize: checkpoint.checkpoint.treeSize,
        leafHash: event.hash,
        rootHash: checkpoint.checkpoint.rootHash,
        proof,
      },
    };
  }

  /** Signs with the ledger's current key: the newest the JWKS lists. */
  async signer(): Promise<ManifestSigner> {
    const { keys } = await this.keys.jwks();
    const current = keys.at(-1);
    const key = current && this.ring.get(current.kid);
    if (!key) throw new Error('the ledger has no current signing key here');
    return (manifest) => signDetached(manifest, key.privateKey, key.kid);
  }

  private async latestGoLive(endpoint: string): Promise<ReadEvent | undefined> {
    let last: ReadEvent | undefined;
    let afterSeq = 0;
    for (;;) {
      const page = await this.reader.page({
        afterSeq,
        limit: MAX_PAGE,
        subject: `endpoint:${endpoint}`,
        type: 'deployment.live.changed',
      });
      last = page.events.at(-1) ?? last;
      if (page.nextAfterSeq === null) return last;
      afterSeq = page.nextAfterSeq;
    }
  }

  private async checkpointCovering(seq: number, principal: Principal): Promise<SignedCheckpoint> {
    const latest = await this.checkpoints.latest();
    if (latest && latest.checkpoint.treeSize >= seq)
      return { checkpoint: { ...latest.checkpoint }, jws: latest.jws };
    const made = await this.checkpoints.create(actorOf(principal));
    return { checkpoint: { ...made.checkpoint }, jws: made.jws };
  }
}
