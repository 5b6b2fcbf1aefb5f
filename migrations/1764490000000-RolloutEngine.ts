import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rollout engine: what every replica measures per endpoint, version and arm
 * (flushed as small windows, summed by the controller), ground truth that arrives after the
 * prediction, the version kept warm after a go-live for an instant rollback, and a rollout's
 * outcome (the A/B result or what rolled it back).
 */
export class RolloutEngine1764490000000 implements MigrationInterface {
  name = 'RolloutEngine1764490000000';

  async up(q: QueryRunner): Promise<void> {
    // The previous live version after a go-live: loaded on every replica, answering nothing,
    // so a rollback after completion is a switch, not a model load.
    await q.query(`ALTER TABLE endpoints ADD COLUMN standby_version integer`);
    await q.query(`ALTER TABLE rollouts ADD COLUMN outcome jsonb`);
    await q.query(`
      CREATE TABLE arm_metrics (
        id               bigserial   PRIMARY KEY,
        endpoint         text        NOT NULL,
        model_version    integer     NOT NULL,
        arm              text        NOT NULL CHECK (arm IN ('live', 'candidate', 'shadow')),
        -- the replica that measured it (host:pid:random), so a window is never counted twice
        replica          text        NOT NULL,
        window_start     timestamptz NOT NULL,
        window_end       timestamptz NOT NULL,
        requests         integer     NOT NULL CHECK (requests >= 0),
        errors           integer     NOT NULL CHECK (errors >= 0),
        -- rows scored (a request may carry many) and rows at or above the decision threshold
        rows             integer     NOT NULL CHECK (rows >= 0),
        selected         integer     NOT NULL CHECK (selected >= 0),
        -- request counts per latency bucket (src/rollouts/latency-histogram.ts)
        latency_buckets  integer[]   NOT NULL,
        -- shadow rows whose decision was compared with the live answer to the same request
        compared         integer     NOT NULL DEFAULT 0,
        agreed           integer     NOT NULL DEFAULT 0,
        -- {attribute: {group: [rows, selected]}} for requests that named protected attributes
        groups           jsonb       NOT NULL DEFAULT '{}',
        -- mirrored requests dropped because the shadow queue was full
        shadow_dropped   integer     NOT NULL DEFAULT 0
      )`);
    await q.query(
      `CREATE INDEX arm_metrics_window_idx ON arm_metrics (endpoint, model_version, window_start)`,
    );
    await q.query(`
      CREATE TABLE feedback (
        endpoint     text        NOT NULL,
        request_id   text        NOT NULL,
        label        double precision NOT NULL,
        received_by  text        NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        PRIMARY KEY (endpoint, request_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE feedback`);
    await q.query(`DROP TABLE arm_metrics`);
    await q.query(`ALTER TABLE rollouts DROP COLUMN outcome`);
    await q.query(`ALTER TABLE endpoints DROP COLUMN standby_version`);
  }
}
