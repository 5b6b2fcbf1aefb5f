import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { BlobStore } from '../blobs/blob-store.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { EndpointStateReader } from '../inference/endpoint-state-reader.service.js';
import { formatTimestamp } from '../ledger/ledger-event.js';
import { PromotionsService } from '../promotions/promotions.service.js';
import type { PromotionRequestModel } from '../promotions/promotion.model.js';
import { checkSlug } from '../registry/registry-rules.js';
import { RegistryService } from '../registry/registry.service.js';
import type { RolloutEntity } from '../rollouts/rollout.entity.js';
import { RolloutsService } from '../rollouts/rollouts.service.js';
import type { EndpointState, ServedVersion } from '../inference/endpoint-state.js';
import type { RolloutStage } from '../rollouts/rollout-stages.js';
import { assignmentMode, deviceBucket } from './edge-assignment.js';
import {
  buildEdgeBundle,
  type BuiltEdgeBundle,
  type EdgeCandidateInput,
  type EdgeModelSource,
} from './edge-bundle-build.js';
import { BundleCache } from './edge-bundle-cache.js';
import type {
  EdgeAssignment,
  EdgeAssignmentMode,
  EdgePromotion,
  EdgeSpec,
} from './edge-bundle-format.js';
import { EdgeDevicesRepository } from './edge-devices.repository.js';
import { EdgeEvidenceService } from './edge-evidence.service.js';

export interface EdgeBundleDownload extends BuiltEdgeBundle {
  readonly spec: EdgeSpec;
  /** Null for a live bundle. */
  readonly assignment: EdgeAssignment | null;
  /** The SHA-256 of each model the archive streams from the store. */
  readonly models: readonly string[];
}

/**
 * Bundles of recent endpoint states kept built. Each holds a few kilobytes of signed JSON
 * (the models are streamed from the store at each download), so a few hundred endpoints'
 * live, shadow and canary bundles fit.
 */
const CACHED_BUNDLES = 256;

/** The rollout in flight and the stage its candidate is in, as a device takes part in it. */
interface Flight {
  readonly rollout: RolloutEntity;
  readonly stage: RolloutStage;
  readonly mode: EdgeAssignmentMode;
  readonly basisPoints: number;
}

/**
 * Gathers what a device needs to serve an endpoint (the live version, and the candidate of a
 * rollout in flight where the device's assignment takes it: the model, the binding the
 * inference path scores it with, the model card, the promotion and its approvals, the
 * ledger's record of the go-live and of the stage) and writes the signed bundle, once per
 * endpoint state and assignment.
 */
@Injectable()
export class EdgeBundleService {
  private readonly cache = new BundleCache<EdgeBundleDownload>(CACHED_BUNDLES);

  constructor(
    private readonly states: EndpointStateReader,
    private readonly registry: RegistryService,
    private readonly blobs: BlobStore,
    private readonly rollouts: RolloutsService,
    private readonly promotions: PromotionsService,
    private readonly evidence: EdgeEvidenceService,
    private readonly devices: EdgeDevicesRepository,
  ) {}

  /**
   * The bundle of `device`: the live bundle when no rollout is in flight or its stage does not
   * cover the device, else the candidate bundle of its assignment. Without a device (an
   * operator's download), the live bundle.
   */
  async bundle(
    endpoint: string,
    principal: Principal,
    device: string | null = null,
  ): Promise<EdgeBundleDownload> {
    checkSlug('endpoint', endpoint);
    const state = await this.states.byName(endpoint);
    if (!state) throw new NotFoundError('endpoint', endpoint);
    const live = state.live;
    if (!live)
      throw new ConflictError(
        `endpoint ${endpoint} has no live version: a bundle carries the version a completed promotion put live`,
        { endpoint },
      );
    const flight = device === null ? null : await this.flightOf(endpoint, state, device);
    const kid = await this.evidence.currentKid();
    if (kid === undefined) throw new Error('the ledger has no signing key');
    return this.cache.get(
      {
        endpoint,
        revision: state.revision,
        kid,
        assignment: flight
          ? `${flight.mode} ${flight.rollout.id} ${flight.rollout.currentStage}`
          : 'live',
      },
      () => this.build(state, live, flight, principal),
    );
  }

  private async build(
    state: EndpointState,
    live: ServedVersion,
    flight: Flight | null,
    principal: Principal,
  ): Promise<EdgeBundleDownload> {
    const endpoint = state.name;
    const [model, version] = await Promise.all([
      this.registry.model(state.model),
      this.registry.version(state.model, live.version),
    ]);
    if (!model || !version)
      throw new NotFoundError('model version', `${state.model}@${live.version}`);
    const rollout = await this.wentLiveBy(endpoint, live.version);
    const promotion = await this.promotions.require(rollout.promotionId);
    const evidence = await this.evidence.gather(
      { endpoint, revision: state.revision, liveVersion: live.version },
      flight && { rolloutId: flight.rollout.id, index: flight.rollout.currentStage },
      principal,
    );
    const spec = edgeSpec(endpoint, state.model, version.task, live);
    let candidate: EdgeCandidateInput | undefined;
    let assignment: EdgeAssignment | null = null;
    const served = state.candidate;
    if (flight && evidence.candidate && served) {
      const candidateVersion = await this.registry.version(state.model, served.version);
      if (!candidateVersion)
        throw new NotFoundError('model version', `${state.model}@${served.version}`);
      assignment = {
        v: 1,
        endpoint,
        mode: flight.mode,
        rolloutId: flight.rollout.id,
        stage: flight.stage.name,
        stageIndex: flight.rollout.currentStage,
        basisPoints: flight.basisPoints,
        liveVersion: live.version,
        candidateVersion: served.version,
      };
      candidate = {
        model: await this.modelSource(served.artifactSha256),
        spec: edgeSpec(endpoint, state.model, candidateVersion.task, served),
        promotion: edgePromotion(
          await this.promotions.require(flight.rollout.promotionId),
          flight.rollout,
        ),
        evidence: evidence.candidate,
        assignment,
      };
    }
    const built = await buildEdgeBundle(
      {
        model: await this.modelSource(live.artifactSha256),
        spec,
        modelCard: { ...model.modelCard },
        promotion: edgePromotion(promotion, rollout),
        evidence: evidence.live,
        ...(candidate ? { candidate } : {}),
      },
      await this.evidence.signer(),
    );
    // A device's records name the bundle they came from; the upload accepts only one served
    // here, and of it only the arms it carries.
    await this.devices.recordIssued(endpoint, {
      subjectSha256: built.manifest.subject[0].digest.sha256,
      model: spec.model,
      version: spec.version,
      mode: assignment?.mode ?? null,
      candidateVersion: assignment?.candidateVersion ?? null,
    });
    const models = [live.artifactSha256, ...(candidate ? [candidate.spec.artifactSha256] : [])];
    return { ...built, spec, assignment, models };
  }

  /**
   * Checks the stored models of a bundle against their digests before it is sent: a bundle
   * is kept built, but its models are read from the store at each download.
   */
  async checkModels(bundle: EdgeBundleDownload): Promise<void> {
    for (const sha256 of bundle.models) await this.blobs.verify(sha256);
  }

  /**
   * The rollout in flight on the endpoint, when the device's bucket puts it in the stage's
   * sample (shadow) or weight (canary); null otherwise. The endpoint's split decides, as it
   * does for a request routed by the device id; the stage must be the one that set it.
   */
  private async flightOf(
    endpoint: string,
    state: EndpointState,
    device: string,
  ): Promise<Flight | null> {
    const candidate = state.candidate;
    if (!candidate) return null;
    const mode = assignmentMode(state.split, deviceBucket(device));
    if (mode === 'live') return null;
    for (const status of ['RUNNING', 'PAUSED'] as const) {
      const { items } = await this.rollouts.list({ endpoint, status, limit: 10 });
      const rollout = items.find((r) => r.candidateVersion === candidate.version);
      const stage = rollout?.stages[rollout.currentStage];
      if (!rollout || !stage) continue;
      if (stage.kind !== (mode === 'shadow' ? 'SHADOW' : 'CANARY')) return null;
      const basisPoints = mode === 'shadow' ? state.shadowSample : state.candidateWeight;
      return { rollout, stage, mode, basisPoints };
    }
    return null;
  }

  /**
   * The stored artifact, streamed: a model is never held whole to be bundled. Its digest is
   * checked before each download (checkModels), as a batch job's output is.
   */
  private async modelSource(sha256: string): Promise<EdgeModelSource> {
    const blobs = this.blobs;
    return {
      sha256,
      size: await blobs.size(sha256),
      chunks: () => blobs.createReadStream(sha256),
    };
  }

  /** The completed rollout, newest first, that made `version` the endpoint's live version. */
  private async wentLiveBy(endpoint: string, version: number): Promise<RolloutEntity> {
    let cursor: string | null = null;
    do {
      const page = await this.rollouts.list({ endpoint, status: 'COMPLETED', limit: 200, cursor });
      const found = page.items.find((r) => r.candidateVersion === version);
      if (found) return found;
      cursor = page.nextCursor;
    } while (cursor !== null);
    throw new ConflictError(
      `version ${version} of endpoint ${endpoint} was not put live by a completed promotion: there are no approvals to bundle`,
      { endpoint, version },
    );
  }
}

/** How the inference path scores `served`, for a device. */
function edgeSpec(endpoint: string, model: string, task: string, served: ServedVersion): EdgeSpec {
  return {
    v: 1,
    endpoint,
    model,
    version: served.version,
    task,
    artifactSha256: served.artifactSha256,
    inputName: served.inputName,
    featureColumns: [...served.featureColumns],
    scoreOutput: served.scoreOutput,
    scoreIndex: served.scoreIndex,
    threshold: served.threshold,
    signature: { inputs: served.signature.inputs, outputs: served.signature.outputs },
  };
}

/** The approvals that count: those given to the request digest the promotion was decided on. */
function edgePromotion(p: PromotionRequestModel, rollout: RolloutEntity): EdgePromotion {
  return {
    v: 1,
    promotionId: p.id,
    rolloutId: rollout.id,
    endpoint: p.endpoint,
    model: p.model,
    version: p.version,
    strategy: p.strategy,
    riskTier: p.riskTier,
    requestedBy: p.requestedBy,
    requestDigest: p.requestDigest,
    policySha256: p.policySha256,
    judgedUnderPolicySha256: p.judgedUnderPolicySha256,
    requiredRoles: [...p.requiredRoles],
    approvals: p.approvals
      .filter((a) => a.requestDigest === p.requestDigest)
      .map((a) => ({
        role: a.role,
        approver: a.approver,
        approverRoles: [...a.approverRoles],
        approvedAt: formatTimestamp(a.approvedAt),
        requestDigest: a.requestDigest,
        signOff: a.signOff,
        statement: a.statement,
        statementSha256:
          a.statement === null
            ? null
            : createHash('sha256').update(a.statement, 'utf8').digest('hex'),
        policySha256: a.policySha256,
      })),
  };
}
