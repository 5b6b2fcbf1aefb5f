import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drift monitoring: per endpoint and live version, the last window's PSI against the
 * evaluation baseline and whether a drift episode is open. Every replica checks; the row is
 * locked while an episode opens or closes, so one `drift.alert` is written per episode however
 * many replicas see it, and a restart does not alert again.
 */
export class DriftMonitoring1764520000000 implements MigrationInterface {
  name = 'DriftMonitoring1764520000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE drift_status (
        endpoint            text             NOT NULL,
        model_version       integer          NOT NULL,
        -- the evaluation whose stored baseline the traffic is compared with
        evaluation_id       uuid             NOT NULL,
        alerting            boolean          NOT NULL DEFAULT false,
        -- when the open episode began (its drift.alert), null outside an episode
        episode_started_at  timestamptz,
        checked_at          timestamptz      NOT NULL,
        window_start        timestamptz      NOT NULL,
        window_end          timestamptz      NOT NULL,
        rows                integer          NOT NULL CHECK (rows >= 0),
        threshold           double precision NOT NULL,
        score_psi           double precision,
        -- [{feature, psi}] in the order of the version's feature columns
        feature_psi         jsonb            NOT NULL DEFAULT '[]',
        PRIMARY KEY (endpoint, model_version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE drift_status`);
  }
}
