import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { ArtifactEntity } from '../artifacts/artifact.entity.js';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, keysetPage, pageLimit, pageOf } from '../common/pagination.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { ModelEntity, type RiskTier } from './model.entity.js';
import {
  bindScoring,
  checkMetrics,
  checkModel,
  type ModelInput,
  type VersionInput,
} from './registry-rules.js';

export interface RegisterVersionInput extends VersionInput {
  readonly model: string;
  readonly artifactSha256: string;
  readonly parentVersion?: number | null | undefined;
  readonly trainingMetrics?: Record<string, unknown> | null | undefined;
  readonly description?: string | null | undefined;
}

export interface ModelFilter {
  readonly limit?: number;
  readonly cursor?: string | null | undefined;
  readonly riskTier?: RiskTier | null | undefined;
  readonly owner?: string | null | undefined;
  readonly nameContains?: string | null | undefined;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Models and their immutable versions. Every registration is a ledger event. */
@Injectable()
export class RegistryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledger: LedgerService,
  ) {}

  async registerModel(input: ModelInput, principal: Principal): Promise<ModelEntity> {
    const model = checkModel(input);
    return this.ledger.transaction(async (tx) => {
      const existing = await tx.manager.findOneBy(ModelEntity, { name: model.name });
      if (existing)
        throw new ConflictError(`model ${model.name} already exists`, { name: model.name });
      const row = tx.manager.create(ModelEntity, {
        id: randomUUID(),
        ...model,
        protectedAttributes: [...model.protectedAttributes],
        createdBy: principal.sub,
      });
      await tx.manager.insert(ModelEntity, row);
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
    const description = (input.description ?? '').trim().slice(0, 10_000);
    return this.ledger.transaction(async (tx) => {
      // The model row lock numbers versions one at a time, whatever the replica.
      const model = await tx.manager
        .createQueryBuilder(ModelEntity, 'm')
        .setLock('pessimistic_write')
        .where('m.name = :name', { name: input.model })
        .getOne();
      if (!model) throw new NotFoundError('model', input.model);
      const artifact = await tx.manager.findOneBy(ArtifactEntity, {
        sha256: input.artifactSha256,
      });
      if (!artifact)
        throw new BadInputError(
          'artifactSha256',
          'no artifact with this digest was uploaded (PUT /v1/artifacts)',
        );
      const binding = bindScoring(input, artifact.inputs, artifact.outputs);
      const versions = await tx.manager.find(ModelVersionEntity, {
        where: { modelId: model.id },
        order: { version: 'ASC' },
      });
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
      const row = tx.manager.create(ModelVersionEntity, {
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
        createdBy: principal.sub,
      });
      await tx.manager.save(ModelVersionEntity, row);
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
        },
      });
      return this.requireVersion(tx.manager, model.name, version);
    });
  }

  async models(filter: ModelFilter): Promise<{ items: ModelEntity[]; nextCursor: string | null }> {
    const limit = pageLimit(filter.limit);
    const cursor = decodeCursor(filter.cursor);
    const q = keysetPage(
      this.dataSource.manager.createQueryBuilder(ModelEntity, 'm'),
      'm',
      limit,
      cursor,
    );
    if (filter.riskTier) q.andWhere('m.risk_tier = :tier', { tier: filter.riskTier });
    if (filter.owner) q.andWhere('m.owner = :owner', { owner: filter.owner });
    if (filter.nameContains) q.andWhere(`strpos(m.name, :part) > 0`, { part: filter.nameContains });
    return pageOf(await q.getMany(), limit);
  }

  model(name: string): Promise<ModelEntity | null> {
    return this.dataSource.manager.findOneBy(ModelEntity, { name });
  }

  async requireModel(manager: EntityManager, name: string): Promise<ModelEntity> {
    const model = await manager.findOneBy(ModelEntity, { name });
    if (!model) throw new NotFoundError('model', name);
    return model;
  }

  async versionsOf(modelId: string): Promise<ModelVersionEntity[]> {
    return this.dataSource.manager.find(ModelVersionEntity, {
      where: { modelId },
      order: { version: 'ASC' },
    });
  }

  async version(
    model: string,
    version: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ModelVersionEntity | null> {
    return manager
      .createQueryBuilder(ModelVersionEntity, 'v')
      .innerJoin(ModelEntity, 'm', 'm.id = v.model_id')
      .where('m.name = :model AND v.version = :version', { model, version })
      .getOne();
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

  /** Model names by id, for presenting versions (one query for a page of them). */
  async modelNames(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.manager
      .createQueryBuilder(ModelEntity, 'm')
      .select(['m.id', 'm.name'])
      .where('m.id IN (:...ids)', { ids: [...new Set(ids)] })
      .getMany();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  /** The artifacts behind some versions, by digest (one query for all of them). */
  async artifacts(sha256s: readonly string[]): Promise<Map<string, ArtifactEntity>> {
    if (sha256s.length === 0) return new Map();
    const rows = await this.dataSource.manager.findBy(ArtifactEntity, {
      sha256: In([...new Set(sha256s)]),
    });
    return new Map(rows.map((r) => [r.sha256, r]));
  }
}
