import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { keysetPage, type Cursor } from '../common/pagination.js';
import { ModelVersionEntity } from './model-version.entity.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import { ModelEntity } from './model.entity.js';

export type NewModel = Omit<ModelEntity, 'createdAt'>;
export type NewVersion = Omit<ModelVersionEntity, 'createdAt'>;

/**
 * All database access of the registry: `models` and `model_versions`. Methods that take an
 * EntityManager run inside the caller's unit of work (a ledger transaction, possibly another
 * module's).
 */
@Injectable()
export class RegistryRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get manager(): EntityManager {
    return this.dataSource.manager;
  }

  model(name: string, manager = this.manager): Promise<ModelEntity | null> {
    return manager.findOneBy(ModelEntity, { name });
  }

  modelById(id: string, manager = this.manager): Promise<ModelEntity> {
    return manager.findOneByOrFail(ModelEntity, { id });
  }

  /** The model under a row lock: its versions are numbered one at a time, whatever the replica. */
  lockModel(manager: EntityManager, name: string): Promise<ModelEntity | null> {
    return manager
      .createQueryBuilder(ModelEntity, 'm')
      .setLock('pessimistic_write')
      .where('m.name = :name', { name })
      .getOne();
  }

  async insertModel(manager: EntityManager, row: NewModel): Promise<void> {
    await manager.insert(ModelEntity, manager.create(ModelEntity, row));
  }

  /** Up to `limit` + 1 models after the cursor, in (created_at, id) order. */
  modelsPage(
    limit: number,
    cursor: Cursor | undefined,
    filter: {
      riskTier?: RiskTier | null | undefined;
      owner?: string | null | undefined;
      nameContains?: string | null | undefined;
    },
  ): Promise<ModelEntity[]> {
    const q = keysetPage(this.manager.createQueryBuilder(ModelEntity, 'm'), 'm', limit, cursor);
    if (filter.riskTier) q.andWhere('m.risk_tier = :tier', { tier: filter.riskTier });
    if (filter.owner) q.andWhere('m.owner = :owner', { owner: filter.owner });
    if (filter.nameContains) q.andWhere(`strpos(m.name, :part) > 0`, { part: filter.nameContains });
    return q.getMany();
  }

  async modelNames(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.manager
      .createQueryBuilder(ModelEntity, 'm')
      .select(['m.id', 'm.name'])
      .where('m.id IN (:...ids)', { ids: [...new Set(ids)] })
      .getMany();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  versionsOf(modelId: string, manager = this.manager): Promise<ModelVersionEntity[]> {
    return manager.find(ModelVersionEntity, { where: { modelId }, order: { version: 'ASC' } });
  }

  async insertVersion(manager: EntityManager, row: NewVersion): Promise<void> {
    await manager.save(ModelVersionEntity, manager.create(ModelVersionEntity, row));
  }

  /** A version by its model's name and number. */
  versionByName(
    model: string,
    version: number,
    manager = this.manager,
  ): Promise<ModelVersionEntity | null> {
    return manager
      .createQueryBuilder(ModelVersionEntity, 'v')
      .innerJoin(ModelEntity, 'm', 'm.id = v.model_id')
      .where('m.name = :model AND v.version = :version', { model, version })
      .getOne();
  }

  version(
    modelId: string,
    version: number,
    manager = this.manager,
  ): Promise<ModelVersionEntity | null> {
    return manager.findOneBy(ModelVersionEntity, { modelId, version });
  }

  /** The versions named by (model, number); none for an empty list. */
  versionsByNumber(
    keys: readonly { modelId: string; version: number }[],
  ): Promise<ModelVersionEntity[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.manager.find(ModelVersionEntity, {
      where: keys.map((k) => ({ modelId: k.modelId, version: k.version })),
    });
  }

  versionById(id: string, manager = this.manager): Promise<ModelVersionEntity> {
    return manager.findOneByOrFail(ModelVersionEntity, { id });
  }

  versionExists(modelId: string, version: number, manager = this.manager): Promise<boolean> {
    return manager.existsBy(ModelVersionEntity, { modelId, version });
  }
}
