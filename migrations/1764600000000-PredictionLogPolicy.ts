import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an endpoint does when the prediction log can take no more: `best-effort` answers and
 * counts the prediction as dropped, `required` refuses the request. An endpoint of a HIGH-tier
 * model requires the log; the others start best-effort, as they behaved before.
 *
 * A batch written again after a failed attempt is looked up by its digest first (its commit
 * may have got through): the index keeps that lookup cheap however long the log grows.
 */
export class PredictionLogPolicy1764600000000 implements MigrationInterface {
  name = 'PredictionLogPolicy1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE endpoints
        ADD COLUMN prediction_log_policy text NOT NULL DEFAULT 'best-effort'
          CHECK (prediction_log_policy IN ('best-effort', 'required'))`);
    await q.query(`
      UPDATE endpoints e SET prediction_log_policy = 'required'
      FROM models m WHERE m.id = e.model_id AND m.risk_tier = 'HIGH'`);
    await q.query(`ALTER TABLE endpoints ALTER COLUMN prediction_log_policy DROP DEFAULT`);
    await q.query(`CREATE INDEX prediction_batches_sha256 ON prediction_batches (sha256)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX prediction_batches_sha256`);
    await q.query(`ALTER TABLE endpoints DROP COLUMN prediction_log_policy`);
  }
}
