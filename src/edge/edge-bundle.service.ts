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
import {
  buildEdgeBundle,
  type BuiltEdgeBundle,
  type EdgeModelSource,
} from './edge-bundle-build.js';
import type { EdgePromotion, EdgeSpec } from './edge-bundle-format.js';
import { EdgeDevicesRepository } from './edge-devices.repository.js';
import { EdgeEvidenceService } from './edge-evidence.service.js';

export interface EdgeBundleDownload extends BuiltEdgeBundle {
  readonly spec: EdgeSpec;
}

/**
 * Gathers what a device needs to serve an endpoint's live version (the model, the binding the
 * inference path scores it with, the model card, the promotion that put it live and its
 * approvals, the ledger's record of the go-live) and writes the signed bundle.
 */
@Injectable()
export class EdgeBundleService {
  constructor(
    private readonly states: EndpointStateReader,
    private readonly registry: RegistryService,
    private readonly blobs: BlobStore,
    private readonly rollouts: RolloutsService,
    private readonly promotions: PromotionsService,
    private readonly evidence: EdgeEvidenceService,
    private readonly devices: EdgeDevicesRepository,
  ) {}

  async bundle(endpoint: string, principal: Principal): Promise<EdgeBundleDownload> {
    checkSlug('endpoint', endpoint);
    const state = await this.states.byName(endpoint);
    if (!state) throw new NotFoundError('endpoint', endpoint);
    const live = state.live;
    if (!live)
      throw new ConflictError(
        `endpoint ${endpoint} has no live version: a bundle carries the version a completed promotion put live`,
        { endpoint },
      );
    const [model, version] = await Promise.all([
      this.registry.model(state.model),
      this.registry.version(state.model, live.version),
    ]);
    if (!model || !version)
      throw new NotFoundError('model version', `${state.model}@${live.version}`);
    const rollout = await this.wentLiveBy(endpoint, live.version);
    const promotion = await this.promotions.require(rollout.promotionId);
    const evidence = await this.evidence.ofGoLive(endpoint, live.version, principal);
    const spec: EdgeSpec = {
      v: 1,
      endpoint,
      model: state.model,
      version: live.version,
      task: version.task,
      artifactSha256: live.artifactSha256,
      inputName: live.inputName,
      featureColumns: [...live.featureColumns],
      scoreOutput: live.scoreOutput,
      scoreIndex: live.scoreIndex,
      threshold: live.threshold,
      signature: { inputs: live.signature.inputs, outputs: live.signature.outputs },
    };
    const built = await buildEdgeBundle(
      {
        model: await this.modelSource(live.artifactSha256),
        spec,
        modelCard: { ...model.modelCard },
        promotion: edgePromotion(promotion, rollout),
        evidence,
      },
      await this.evidence.signer(),
    );
    // A device's records name the bundle they came from; the upload accepts only one served here.
    await this.devices.recordIssued(endpoint, {
      subjectSha256: built.manifest.subject[0].digest.sha256,
      model: spec.model,
      version: spec.version,
    });
    return { ...built, spec };
  }

  /**
   * The stored artifact, checked against its digest before a byte is sent (as a batch job's
   * output is), then streamed: a model is never held whole to be bundled.
   */
  private async modelSource(sha256: string): Promise<EdgeModelSource> {
    await this.blobs.verify(sha256);
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
