import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How long each phase of an evaluation took (reading, inference, metrics, bootstrap, storing),
 * as the service measured it. Kept beside the result, never in it: the result and its digest
 * are evidence and the same data gives the same figures, whereas timings differ on every run.
 * Written in the transaction that stores the result, by the statement that finishes the row,
 * so the trigger that keeps finished evaluations immutable covers them too. Evaluations that
 * finished before have none.
 */
export class EvaluationTimings1764630000000 implements MigrationInterface {
  name = 'EvaluationTimings1764630000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE evaluations
        ADD COLUMN timings jsonb CHECK (timings IS NULL OR jsonb_typeof(timings) = 'object')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evaluations DROP COLUMN timings`);
  }
}
