import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The observed time of a rollout's stage in progress: its minimum duration counts only time a
 * driver holding the lease watched with metrics arriving, so the clock and the driver's last
 * tick that advanced it live beside the lease. A stage in progress when this runs starts its
 * clock at zero on the next tick: how much of its past was watched is not known.
 */
export class RolloutStageClock1764590000000 implements MigrationInterface {
  name = 'RolloutStageClock1764590000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rollouts
        ADD COLUMN stage_observed_ms double precision NOT NULL DEFAULT 0,
        ADD COLUMN stage_clock_at timestamptz,
        ADD COLUMN stage_clock_by text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rollouts
        DROP COLUMN stage_clock_by,
        DROP COLUMN stage_clock_at,
        DROP COLUMN stage_observed_ms`);
  }
}
