import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { ArtifactsService } from '../artifacts/artifacts.service.js';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import type { ModelVersionEntity } from './model-version.entity.js';
import type { ModelEntity } from './model.entity.js';
import {
  ModelModel,
  ModelPageModel,
  ModelsArgs,
  ModelVersionModel,
  RegisterModelInput,
  RegisterModelVersionInput,
} from './registry.model.js';
import { RegistryService } from './registry.service.js';

@Resolver(() => ModelModel)
export class RegistryResolver {
  constructor(
    private readonly registry: RegistryService,
    private readonly artifacts: ArtifactsService,
  ) {}

  @Query(() => ModelPageModel, {
    description: 'Registered models, oldest first, with optional filters.',
    complexity: ({ args, childComplexity }) => Number(args['limit'] ?? 50) * childComplexity,
  })
  @Can('read', 'Model')
  models(@Args() args: ModelsArgs): Promise<ModelPageModel> {
    return this.registry.models(args);
  }

  @Query(() => ModelModel, { nullable: true })
  @Can('read', 'Model')
  model(@Args('name') name: string): Promise<ModelEntity | null> {
    return this.registry.model(name);
  }

  @Query(() => ModelVersionModel, { nullable: true })
  @Can('read', 'ModelVersion')
  async modelVersion(
    @Args('model') model: string,
    @Args('version', { type: () => Int }) version: number,
  ): Promise<ModelVersionModel | null> {
    const row = await this.registry.version(model, version);
    return row ? ((await this.present(model, [row]))[0] ?? null) : null;
  }

  @Mutation(() => ModelModel, { description: 'Registers a model with its model card.' })
  @Can('create', 'Model')
  registerModel(
    @Args('input') input: RegisterModelInput,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ModelEntity> {
    return this.registry.registerModel(input, principal);
  }

  @Mutation(() => ModelVersionModel, {
    description: 'Registers the next version of a model from an uploaded artifact.',
  })
  @Can('create', 'ModelVersion')
  async registerModelVersion(
    @Args('input') input: RegisterModelVersionInput,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ModelVersionModel> {
    const row = await this.registry.registerVersion(input, principal);
    const [view] = await this.present(input.model, [row]);
    if (!view) throw new Error(`version ${row.id} vanished after its registration`);
    return view;
  }

  @ResolveField(() => [ModelVersionModel])
  @Can('read', 'ModelVersion')
  async versions(@Parent() model: ModelEntity): Promise<ModelVersionModel[]> {
    const rows = await this.registry.versionsOf(model.id);
    return this.present(model.name, rows);
  }

  private async present(model: string, rows: ModelVersionEntity[]): Promise<ModelVersionModel[]> {
    const artifacts = await this.artifacts.bySha256(rows.map((r) => r.artifactSha256));
    return rows.map((row) => {
      const artifact = artifacts.get(row.artifactSha256);
      return {
        id: row.id,
        model,
        version: row.version,
        artifactSha256: row.artifactSha256,
        task: row.task,
        featureColumns: row.featureColumns,
        inputName: row.inputName,
        scoreOutput: row.scoreOutput,
        scoreIndex: row.scoreIndex,
        threshold: row.threshold,
        parentVersion: row.parentVersion,
        trainingMetrics: row.trainingMetrics,
        description: row.description,
        metadata: row.metadata,
        inputs: artifact?.inputs ?? [],
        outputs: artifact?.outputs ?? [],
        createdBy: row.createdBy,
        createdAt: row.createdAt,
      };
    });
  }
}
