import { Args, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../auth/decorators.js';
import type { ArtifactEntity } from './artifact.entity.js';
import { ArtifactModel } from './artifact.model.js';
import { ArtifactsService } from './artifacts.service.js';

@Resolver(() => ArtifactModel)
export class ArtifactsResolver {
  constructor(private readonly artifacts: ArtifactsService) {}

  @Query(() => ArtifactModel, {
    nullable: true,
    description: 'An uploaded artifact by digest (PUT /v1/artifacts uploads one).',
  })
  @Can('read', 'Artifact')
  async artifact(@Args('sha256') sha256: string): Promise<ArtifactModel | null> {
    const row = await this.artifacts.find(sha256);
    return row ? artifactModelOf(row) : null;
  }
}

function artifactModelOf(row: ArtifactEntity): ArtifactModel {
  return {
    sha256: row.sha256,
    size: row.size,
    format: row.format,
    inputs: row.inputs,
    outputs: row.outputs,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    opsets: Object.entries(row.opsets).map(([domain, version]) => ({ domain, version })),
  };
}
