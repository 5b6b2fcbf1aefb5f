import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per replica and endpoint, whether the replica's arm metrics are reaching `arm_metrics`:
 * written by each replica's flush in a statement of its own, apart from the counts, so that
 * it is there when the counts cannot be written. The rollout controller reads it to tell "no
 * traffic" from "traffic whose counts are not arriving", and pauses a rollout on the second
 * instead of waiting on it in silence.
 */
export class ArmMetricsHeartbeats1764540000000 implements MigrationInterface {
  name = 'ArmMetricsHeartbeats1764540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE arm_metrics_heartbeats (
        endpoint         text        NOT NULL,
        -- the replica that counts (host:pid:random, as in arm_metrics)
        replica          text        NOT NULL,
        -- the last flush in which the replica had counted requests of the endpoint
        seen_at          timestamptz,
        -- the last flush that wrote every count of the endpoint the replica held
        written_at       timestamptz,
        -- since when the replica holds (or has given up) counts of the endpoint it could not
        -- write; null while everything it counted was written
        unwritten_since  timestamptz,
        -- why the last write of those counts failed
        cause            text,
        updated_at       timestamptz NOT NULL,
        PRIMARY KEY (endpoint, replica)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE arm_metrics_heartbeats`);
  }
}
