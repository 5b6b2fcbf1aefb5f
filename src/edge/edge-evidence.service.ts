import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { ConflictError } from '../common/errors.js';
import { actorOf } from '../ledger/actor.js';
import { CheckpointService } from '../ledger/checkpoint.service.js';
import { signDetached } from '../ledger/jws.js';
import { LedgerKeysService } from '../ledger/ledger-keys.service.js';
import { LedgerReader, MAX_PAGE, type ReadEvent } from '../ledger/ledger-reader.service.js';
import { KeyRing } from '../ledger/signing-keys.js';
import type { EdgeBundleInput, EdgeCandidateInput, ManifestSigner } from './edge-bundle-build.js';
import type { EdgeInclusionProof, SignedCheckpoint } from './edge-bundle-format.js';

/**
 * The ledger's part of a bundle: the go-live event (and a candidate's stage event) with its
 * inclusion proof against a signed checkpoint (a new one when none covers them yet), and the signer of the manifest, the
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

  /**
   * The go-live of the live version and, for a candidate bundle, the event of the stage the
   * candidate is in, each with its inclusion proof against one checkpoint. The checkpoint
   * also covers the endpoint's `deployment.*` event of `revision`, the state the bundle is
   * built from, so that a bundle of a later state always has a larger tree size than one of
   * an earlier state: a device that refuses a smaller tree size never steps back.
   */
  async gather(
    at: { readonly endpoint: string; readonly revision: number; readonly liveVersion: number },
    stage: { readonly rolloutId: string; readonly index: number } | null,
    principal: Principal,
  ): Promise<{
    live: EdgeBundleInput['evidence'];
    candidate: EdgeCandidateInput['evidence'] | null;
  }> {
    const { endpoint, revision, liveVersion } = at;
    const { goLive, state, lastSeq } = await this.endpointEvents(endpoint, revision);
    const to = goLive?.payload['to'] as { liveVersion?: unknown } | undefined;
    if (!goLive || to?.liveVersion !== liveVersion)
      // The endpoint row commits a moment before the sequencer seals its event.
      throw new ConflictError(
        `the ledger does not yet hold the deployment.live.changed event that put version ${liveVersion} live on endpoint ${endpoint}: try again in a second`,
        { endpoint, version: liveVersion },
      );
    if (!state)
      throw new ConflictError(
        `the ledger does not yet hold the deployment event of revision ${revision} of endpoint ${endpoint}: try again in a second`,
        { endpoint, revision },
      );
    const entered = stage && (await this.stageEntered(stage.rolloutId, stage.index));
    if (stage && !entered)
      throw new ConflictError(
        `the ledger does not yet hold the rollout.stage.entered event of stage ${stage.index} of rollout ${stage.rolloutId}: try again in a second`,
        { endpoint, rolloutId: stage.rolloutId },
      );
    const covered = Math.max(goLive.seq, state.seq, entered?.seq ?? 0);
    const checkpoint = await this.checkpointCovering(covered, principal);
    // Only while its state is current may a bundle take a checkpoint: one that also covers the
    // next state's event would let a device take this bundle for the newer one.
    for await (const e of this.events(`endpoint:${endpoint}`, undefined, lastSeq))
      if (e.seq <= checkpoint.checkpoint.treeSize && e.type.startsWith('deployment.'))
        throw new ConflictError(
          `endpoint ${endpoint} changed while its bundle was built: try again`,
          { endpoint, revision },
        );
    const seqs = entered ? [goLive.seq, entered.seq] : [goLive.seq];
    const proofs = await this.checkpoints.inclusionProofsAt(checkpoint.checkpoint, seqs);
    const proofOf = (event: ReadEvent, i: number): EdgeInclusionProof => ({
      seq: event.seq,
      treeSize: checkpoint.checkpoint.treeSize,
      leafHash: event.hash,
      rootHash: checkpoint.checkpoint.rootHash,
      proof: proofs[i] ?? [],
    });
    const { canonical, hash, jws } = goLive;
    return {
      live: { canonical, hash, jws, checkpoint, proof: proofOf(goLive, 0) },
      candidate: entered
        ? {
            canonical: entered.canonical,
            hash: entered.hash,
            jws: entered.jws,
            proof: proofOf(entered, 1),
          }
        : null,
    };
  }

  /** The kid of the ledger's current key: a bundle signed by an older one is built again. */
  async currentKid(): Promise<string | undefined> {
    return (await this.keys.jwks()).keys.at(-1)?.kid;
  }

  /** Signs with the ledger's current key: the newest the JWKS lists. */
  async signer(): Promise<ManifestSigner> {
    const { keys } = await this.keys.jwks();
    const current = keys.at(-1);
    const key = current && this.ring.get(current.kid);
    if (!key) throw new Error('the ledger has no current signing key here');
    return (manifest) => signDetached(manifest, key.privateKey, key.kid);
  }

  /** The endpoint's latest go-live, and its `deployment.*` event of `revision`. */
  private async endpointEvents(
    endpoint: string,
    revision: number,
  ): Promise<{ goLive: ReadEvent | undefined; state: ReadEvent | undefined; lastSeq: number }> {
    let goLive: ReadEvent | undefined;
    let state: ReadEvent | undefined;
    let lastSeq = 0;
    for await (const e of this.events(`endpoint:${endpoint}`)) {
      if (e.type === 'deployment.live.changed') goLive = e;
      if (e.type.startsWith('deployment.') && e.payload['revision'] === revision) state = e;
      // A state read before a change, its events read after: the bundle would be of the past.
      if (e.type.startsWith('deployment.') && Number(e.payload['revision']) > revision)
        throw new ConflictError(
          `endpoint ${endpoint} changed while its bundle was built: try again`,
          { endpoint, revision },
        );
      lastSeq = e.seq;
    }
    return { goLive, state, lastSeq };
  }

  /** The latest entry of the rollout's stage `index`. */
  private async stageEntered(rolloutId: string, index: number): Promise<ReadEvent | undefined> {
    let found: ReadEvent | undefined;
    for await (const e of this.events(`rollout:${rolloutId}`, 'rollout.stage.entered'))
      if (e.payload['index'] === index) found = e;
    return found;
  }

  private async *events(subject: string, type?: string, from = 0): AsyncGenerator<ReadEvent> {
    let afterSeq = from;
    for (;;) {
      const page = await this.reader.page({ afterSeq, limit: MAX_PAGE, subject, type });
      yield* page.events;
      if (page.nextAfterSeq === null) return;
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
