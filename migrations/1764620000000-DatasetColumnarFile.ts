import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A dataset's format (the CSV or Parquet file uploaded, still its identity) and the digest of
 * its columns stored as an Arrow IPC file beside it, which evaluations and batch jobs read.
 * Datasets uploaded before were CSV and have no columnar file: they are read from the CSV. A
 * Parquet dataset always has one (nothing reads Parquet after the upload).
 */
export class DatasetColumnarFile1764620000000 implements MigrationInterface {
  name = 'DatasetColumnarFile1764620000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE datasets
        ADD COLUMN format text NOT NULL DEFAULT 'csv' CHECK (format IN ('csv', 'parquet')),
        ADD COLUMN columnar_sha256 char(64) CHECK (columnar_sha256 ~ '^[0-9a-f]{64}$'),
        ADD CONSTRAINT datasets_parquet_has_columns
          CHECK (format = 'csv' OR columnar_sha256 IS NOT NULL)`);
    // The default only fills the rows already there: every upload names its format.
    await q.query(`ALTER TABLE datasets ALTER COLUMN format DROP DEFAULT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE datasets
        DROP CONSTRAINT datasets_parquet_has_columns,
        DROP COLUMN columnar_sha256,
        DROP COLUMN format`);
  }
}
