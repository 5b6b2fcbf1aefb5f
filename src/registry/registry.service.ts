import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ArtifactsService } from '../artifacts/artifacts.service.js';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { ModelVersionEntity } from './model-version.entity.js';
import type { ModelEntity } from './model.entity.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import {
  bindScoring,
  checkMetadata,
  checkMetrics,
  checkModel,
  type ModelInput,
  type VersionInput,
} from './registry-rules.js';
import { RegistryRepository } from './registry.repository.js';

export interface RegisterVersionInput extends VersionInput {
  readonly model: string;
  readonly artifactSha256: string;
  readonly parentVersion?: number | null | undefined;
  readonly trainingMetrics?: Record<string, unknown> | null | undefined;
  readonly description?: string | null | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | null | undefined;
}

export interface ModelFilter {
  readonly limit?: number;
  readonly cursor?: string | null | undefined;
  readonly riskTier?: RiskTier | null | undefined;
  readonly owner?: string | null | undefined;
  readonly nameContains?: string | null | undefined;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Models and their immutable versions; every registration is a ledger event. Other modules
 * read models and versions through the lookups here, passing their transaction's manager when
 * the read belongs to their unit of work.
 */
@Injectable()
export class RegistryService {
  constructor(
    private readonly repository: RegistryRepository,
    private readonly artifacts: ArtifactsService,
    private readonly ledger: LedgerService,
  ) {}

  async registerModel(input: ModelInput, principal: Principal): Promise<ModelEntity> {
    const model = checkModel(input);
    return this.ledger.transaction(async (tx) => {
      const existing = await this.repository.model(model.name, tx.manager);
      if (existing)
        throw new ConflictError(`model ${model.name} already exists`, { name: model.name });
      const row = {
        id: randomUUID(),
        ...model,
        protectedAttributes: [...model.protectedAttributes],
        createdBy: principal.sub,
      };
      await this.repository.insertModel(tx.manager, row);
      tx.record({
        type: 'model.registered',
        subject: `model:${model.name}`,
        actor: actorOf(principal),
        payload: {
          id: row.id,
          name: model.name,
          riskTier: model.riskTier,
          owner: model.owner,
          protectedAttributes: [...model.protectedAttributes],
          modelCard: { ...model.modelCard, outOfScopeUses: [...model.modelCard.outOfScopeUses] },
        },
      });
      return this.requireModel(tx.manager, model.name);
    });
  }

  async registerVersion(
    input: RegisterVersionInput,
    principal: Principal,
  ): Promise<ModelVersionEntity> {
    if (!SHA256.test(input.artifactSha256))
      throw new BadInputError('artifactSha256', 'must be 64 lowercase hex digits');
    const metrics = checkMetrics(input.trainingMetrics);
    const metadata = checkMetadata(input.metadata);
    const description = (input.description ?? '').trim().slice(0, 10_000);
    return this.ledger.transaction(async (tx) => {
      const model = await this.repository.lockModel(tx.manager, input.model);
      if (!model) throw new NotFoundError('model', input.model);
      const artifact = await this.artifacts.find(input.artifactSha256, tx.manager);
      if (!artifact)
        throw new BadInputError(
          'artifactSha256',
          'no artifact with this digest was uploaded (PUT /v1/artifacts)',
        );
      const binding = bindScoring(input, artifact.inputs, artifact.outputs);
      const versions = await this.repository.versionsOf(model.id, tx.manager);
      const same = versions.find((v) => v.artifactSha256 === artifact.sha256);
      if (same)
        throw new ConflictError(
          `artifact ${artifact.sha256} is already version ${same.version} of ${model.name}`,
          { version: same.version },
        );
      const parent = input.parentVersion ?? null;
      if (parent !== null && !versions.some((v) => v.version === parent))
        throw new BadInputError('parentVersion', `${model.name} has no version ${parent}`);
      const version = (versions.at(-1)?.version ?? 0) + 1;
      const row = {
        id: randomUUID(),
        modelId: model.id,
        version,
        artifactSha256: artifact.sha256,
        task: input.task,
        ...binding,
        featureColumns: [...binding.featureColumns],
        parentVersion: parent,
        trainingMetrics: metrics,
        description,
        metadata: { ...metadata },
        createdBy: principal.sub,
      };
      await this.repository.insertVersion(tx.manager, row);
      tx.record({
        type: 'model.version.registered',
        subject: `model:${model.name}@${version}`,
        actor: actorOf(principal),
        payload: {
          id: row.id,
          model: model.name,
          version,
          artifactSha256: artifact.sha256,
          task: input.task,
          featureColumns: binding.featureColumns,
          inputName: binding.inputName,
          scoreOutput: binding.scoreOutput,
          scoreIndex: binding.scoreIndex,
          threshold: binding.threshold,
          parentVersion: parent,
          trainingMetrics: metrics,
          metadata,
        },
      });
      return this.requireVersion(tx.manager, model.name, version);
    });
  }

  async models(filter: ModelFilter): Promise<{ items: ModelEntity[]; nextCursor: string | null }> {
    const limit = pageLimit(filter.limit);
    const cursor = decodeCursor(filter.cursor);
    return pageOf(await this.repository.modelsPage(limit, cursor, filter), limit);
  }

  model(name: string, manager?: EntityManager): Promise<ModelEntity | null> {
    return this.repository.model(name, manager);
  }

  /** The model a stored row refers to (an endpoint, a version): it always exists. */
  modelById(id: string, manager?: EntityManager): Promise<ModelEntity> {
    return this.repository.modelById(id, manager);
  }

  async requireModel(manager: EntityManager, name: string): Promise<ModelEntity> {
    const model = await this.repository.model(name, manager);
    if (!model) throw new NotFoundError('model', name);
    return model;
  }

  versionsOf(modelId: string): Promise<ModelVersionEntity[]> {
    return this.repository.versionsOf(modelId);
  }

  /** A version by its model's name and number. */
  version(
    model: string,
    version: number,
    manager?: EntityManager,
  ): Promise<ModelVersionEntity | null> {
    return this.repository.versionByName(model, version, manager);
  }

  async requireVersion(
    manager: EntityManager,
    model: string,
    version: number,
  ): Promise<ModelVersionEntity> {
    const row = await this.version(model, version, manager);
    if (!row) throw new NotFoundError('model version', `${model}@${version}`);
    return row;
  }

  /** A version by its model's id and number. */
  versionOfModel(
    modelId: string,
    version: number,
    manager?: EntityManager,
  ): Promise<ModelVersionEntity | null> {
    return this.repository.version(modelId, version, manager);
  }

  /** The versions named by (model, number), in one query (an endpoint's arms, say). */
  versionsByNumber(
    keys: readonly { modelId: string; version: number }[],
  ): Promise<ModelVersionEntity[]> {
    return this.repository.versionsByNumber(keys);
  }

  /** The version a stored row refers to (an evaluation, a promotion request): it always exists. */
  versionById(id: string, manager?: EntityManager): Promise<ModelVersionEntity> {
    return this.repository.versionById(id, manager);
  }

  versionExists(modelId: string, version: number, manager?: EntityManager): Promise<boolean> {
    return this.repository.versionExists(modelId, version, manager);
  }

  /** Model names by id, for presenting versions (one query for a page of them). */
  modelNames(ids: readonly string[]): Promise<Map<string, string>> {
    return this.repository.modelNames(ids);
  }
}
