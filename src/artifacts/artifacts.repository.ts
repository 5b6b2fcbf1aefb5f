import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { ArtifactEntity } from './artifact.entity.js';

export type NewArtifact = Omit<ArtifactEntity, 'createdAt'>;

@Injectable()
export class ArtifactsRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(sha256: string, manager: EntityManager = this.dataSource.manager) {
    return manager.findOneBy(ArtifactEntity, { sha256 });
  }

  findMany(sha256s: readonly string[]): Promise<ArtifactEntity[]> {
    return this.dataSource.manager.findBy(ArtifactEntity, { sha256: In([...sha256s]) });
  }

  /**
   * Inserts the row unless the digest is already there (the same bytes uploaded before or at
   * the same moment): true when this call inserted it.
   */
  async insertIfAbsent(manager: EntityManager, row: NewArtifact): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(ArtifactEntity)
      .values(row)
      .orIgnore()
      .returning(['sha256'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }
}
