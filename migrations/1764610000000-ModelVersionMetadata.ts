import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where a model version came from (an MLflow run, a commit), as `key: text` pairs given at
 * registration. Versions registered before have none: an empty object, not null, so every
 * reader sees one shape. Adding a column with a constant default rewrites no row, so the
 * trigger that keeps versions immutable is not involved.
 */
export class ModelVersionMetadata1764610000000 implements MigrationInterface {
  name = 'ModelVersionMetadata1764610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE model_versions
        ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
          CHECK (jsonb_typeof(metadata) = 'object')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_versions DROP COLUMN metadata`);
  }
}
