import { Injectable } from '@nestjs/common';
import type { ArtifactEntity } from '../artifacts/artifact.entity.js';
import { ArtifactsService } from '../artifacts/artifacts.service.js';
import type { EndpointEntity } from '../endpoints/endpoint.entity.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import type { ModelVersionEntity } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import { servedSignature, type EndpointState, type ServedVersion } from './endpoint-state.js';

/**
 * Reads endpoints' traffic state with the versions and signatures they serve, each part from
 * the module that owns it. Versions and artifacts never change once registered, so reading
 * them after the endpoint row still gives the state that row describes.
 */
@Injectable()
export class EndpointStateReader {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly registry: RegistryService,
    private readonly artifacts: ArtifactsService,
  ) {}

  all(): Promise<EndpointState[]> {
    return this.endpoints.all().then((rows) => this.statesOf(rows));
  }

  async byName(name: string): Promise<EndpointState | undefined> {
    const row = await this.endpoints.byName(name);
    return row ? (await this.statesOf([row]))[0] : undefined;
  }

  private async statesOf(rows: readonly EndpointEntity[]): Promise<EndpointState[]> {
    const models = await this.registry.modelNames(rows.map((r) => r.modelId));
    const versions = await this.registry.versionsByNumber(
      rows.flatMap((r) =>
        [r.liveVersion, r.candidateVersion, r.standbyVersion]
          .filter((v): v is number => v !== null)
          .map((version) => ({ modelId: r.modelId, version })),
      ),
    );
    const artifacts = await this.artifacts.bySha256(versions.map((v) => v.artifactSha256));
    const served = (modelId: string, version: number | null): ServedVersion | null => {
      const row = versions.find((v) => v.modelId === modelId && v.version === version);
      const artifact = row && artifacts.get(row.artifactSha256);
      return row && artifact ? servedVersionOf(row, artifact) : null;
    };
    return rows.flatMap((r) => {
      const model = models.get(r.modelId);
      if (model === undefined) return [];
      const candidate = served(r.modelId, r.candidateVersion);
      return [
        {
          name: r.name,
          model,
          revision: r.revision,
          mode: r.mode,
          candidateWeight: r.candidateWeight,
          shadowSample: r.shadowSample,
          live: served(r.modelId, r.liveVersion),
          candidate,
          standby: served(r.modelId, r.standbyVersion),
          split: {
            mode: r.mode,
            candidateWeight: r.candidateWeight,
            shadowSample: r.shadowSample,
            hasCandidate: candidate !== null,
          },
          predictionLogPolicy: r.predictionLogPolicy,
        },
      ];
    });
  }
}

function servedVersionOf(row: ModelVersionEntity, artifact: ArtifactEntity): ServedVersion {
  return {
    version: row.version,
    artifactSha256: row.artifactSha256.trim(),
    signature: servedSignature(
      artifact.inputs,
      artifact.outputs,
      row.inputName,
      row.featureColumns.length,
    ),
    inputName: row.inputName,
    featureColumns: row.featureColumns,
    scoreOutput: row.scoreOutput,
    scoreIndex: row.scoreIndex,
    threshold: row.threshold,
  };
}
