import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A logged prediction's batch id comes from its transaction: the prediction log sets
 * `gatehouse.prediction_batch` once per batch (`set_config(…, true)`, transaction-local) and
 * COPY leaves the column to this default, instead of the client writing the same number into
 * every row. An insert outside a batch's transaction finds the setting unset (an error) or
 * empty (not a bigint: an error), so no prediction is ever written without its batch.
 */
export class PredictionBatchDefault1764530000000 implements MigrationInterface {
  name = 'PredictionBatchDefault1764530000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE predictions
        ALTER COLUMN batch_id SET DEFAULT current_setting('gatehouse.prediction_batch')::bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions ALTER COLUMN batch_id DROP DEFAULT`);
  }
}
