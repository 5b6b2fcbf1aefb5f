import { Injectable } from '@nestjs/common';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { EvaluationsService } from '../evaluation/evaluations.service.js';
import { PredictionLog } from '../prediction-log/prediction-log.service.js';
import { PromotionsService } from '../promotions/promotions.service.js';
import { RegistryService } from '../registry/registry.service.js';
import type { ScoringSpec } from '../runtime/scoring.js';
import type { ServedPrediction, StoredDrift } from './drift-window.js';

/** An endpoint with a live version, and how that version is scored. */
export interface LiveVersion extends ScoringSpec {
  readonly endpoint: string;
  readonly endpointId: string;
  readonly modelVersionId: string;
  readonly version: number;
}

/**
 * What a drift check reads from other modules, each asked of the module that owns it: live
 * versions (endpoints, registry), the baseline (promotions, evaluations), served predictions
 * (the prediction log).
 */
@Injectable()
export class DriftInputs {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly registry: RegistryService,
    private readonly evaluations: EvaluationsService,
    private readonly promotions: PromotionsService,
    private readonly predictions: PredictionLog,
  ) {}

  /** Endpoints with a live version (one, when named), by name. */
  async liveVersions(endpoint?: string): Promise<LiveVersion[]> {
    const live: LiveVersion[] = [];
    for (const e of await this.endpoints.withLiveVersion(endpoint)) {
      if (e.liveVersion === null) continue;
      const v = await this.registry.versionOfModel(e.modelId, e.liveVersion);
      if (!v) continue;
      live.push({
        endpoint: e.name,
        endpointId: e.id,
        modelVersionId: v.id,
        version: v.version,
        inputName: v.inputName,
        featureColumns: v.featureColumns,
        scoreOutput: v.scoreOutput,
        scoreIndex: v.scoreIndex,
        threshold: v.threshold,
      });
    }
    return live;
  }

  /**
   * The baseline of a live version: the evaluation its latest promotion to this endpoint was
   * made on, or else its latest successful evaluation.
   */
  async baseline(live: LiveVersion): Promise<{ evaluationId: string; drift: StoredDrift } | null> {
    const promoted = await this.promotions.latestEvaluationId(live.endpointId, live.modelVersionId);
    return this.evaluations.driftBaseline(live.modelVersionId, promoted);
  }

  /** The most recent `limit` answered predictions of the live arm since `from`. */
  served(
    endpoint: string,
    version: number,
    from: Date,
    limit: number,
  ): Promise<ServedPrediction[]> {
    return this.predictions.servedLive(endpoint, version, from, limit);
  }
}
