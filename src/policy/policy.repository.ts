import { basename } from 'node:path';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { LoadedPolicyFile } from './policy-file.js';
import { PolicyDocumentEntity } from './policy-document.entity.js';

@Injectable()
export class PolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores each document once per digest; returns the digests seen for the first time. */
  async recordLoaded(
    tx: EntityManager,
    files: readonly LoadedPolicyFile<unknown>[],
  ): Promise<LoadedPolicyFile<unknown>[]> {
    const inserted: LoadedPolicyFile<unknown>[] = [];
    for (const file of files) {
      const rows = await tx
        .createQueryBuilder()
        .insert()
        .into(PolicyDocumentEntity)
        .values({
          sha256: file.sha256,
          name: basename(file.name),
          content: file.content,
          firstLoadedAt: new Date(),
        })
        .orIgnore()
        .returning(['sha256'])
        .execute();
      if ((rows.raw as unknown[]).length > 0) inserted.push(file);
    }
    return inserted;
  }

  async firstLoadedAt(sha256: string): Promise<Date | undefined> {
    const row = await this.dataSource.getRepository(PolicyDocumentEntity).findOneBy({ sha256 });
    return row?.firstLoadedAt;
  }
}
