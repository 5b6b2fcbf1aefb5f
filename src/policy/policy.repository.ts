import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LoadedPolicyFile } from './policy-file.js';
import { PolicyDocumentEntity } from './policy-document.entity.js';

@Injectable()
export class PolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores each document once per digest; returns the digests seen for the first time. */
  async recordLoaded(files: readonly LoadedPolicyFile<unknown>[]): Promise<string[]> {
    const inserted: string[] = [];
    for (const file of files) {
      const rows = await this.dataSource
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
      if ((rows.raw as unknown[]).length > 0) inserted.push(file.sha256);
    }
    return inserted;
  }

  async firstLoadedAt(sha256: string): Promise<Date | undefined> {
    const row = await this.dataSource.getRepository(PolicyDocumentEntity).findOneBy({ sha256 });
    return row?.firstLoadedAt;
  }
}

function basename(path: string): string {
  return path.split('/').pop() ?? path;
}
