import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, Not, type EntityManager } from 'typeorm';
import { keysetPage, type Cursor } from '../common/pagination.js';
import { DatasetEntity } from './dataset.entity.js';

export type NewDataset = Omit<DatasetEntity, 'createdAt'>;

@Injectable()
export class DatasetsRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(id: string, manager = this.dataSource.manager): Promise<DatasetEntity | null> {
    return manager.findOneBy(DatasetEntity, { id });
  }

  findByContent(
    name: string,
    sha256: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<DatasetEntity | null> {
    return manager.findOneBy(DatasetEntity, { name, sha256 });
  }

  /** A dataset of these bytes whose columns are already stored, under any name. */
  findWithColumns(sha256: string, format: DatasetEntity['format']): Promise<DatasetEntity | null> {
    return this.dataSource.manager.findOneBy(DatasetEntity, {
      sha256,
      format,
      columnarSha256: Not(IsNull()),
    });
  }

  /**
   * Inserts the row unless this name already holds these bytes (a retried upload, or two at
   * once): true when this call inserted it.
   */
  async insertIfAbsent(manager: EntityManager, row: NewDataset): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(DatasetEntity)
      .values(row)
      .orIgnore()
      .returning(['id'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** Up to `limit` + 1 rows after the cursor, in (created_at, id) order. */
  page(limit: number, cursor: Cursor | undefined, name: string | undefined) {
    const q = keysetPage(
      this.dataSource.manager.createQueryBuilder(DatasetEntity, 'd'),
      'd',
      limit,
      cursor,
    );
    if (name !== undefined) q.andWhere('d.name = :name', { name });
    return q.getMany();
  }
}
