import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Promotion governance: requests to put a version on an endpoint with their rollout
 * plan and rollback criteria, the approvals that bind a request's digest, the gate evaluations
 * with their evidence, and rollouts — the INITIAL go-live here; the staged engine's state
 * (stages, current stage, a lease so one replica drives a rollout) in RolloutEngine.
 *
 * What was requested, approved and found is evidence: a request's content never changes (only
 * its status does), and approvals and gate evaluations are never updated or deleted.
 */
export class Promotions1764475200000 implements MigrationInterface {
  name = 'Promotions1764475200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE promotion_requests (
        id                 uuid        PRIMARY KEY,
        endpoint_id        uuid        NOT NULL REFERENCES endpoints (id),
        model_version_id   uuid        NOT NULL REFERENCES model_versions (id),
        evaluation_id      uuid        NOT NULL REFERENCES evaluations (id),
        risk_tier          text        NOT NULL CHECK (risk_tier IN ('LOW', 'MEDIUM', 'HIGH')),
        strategy           text        NOT NULL CHECK (strategy IN ('INITIAL', 'SHADOW_THEN_CANARY',
                                         'CANARY', 'SHADOW', 'BLUE_GREEN', 'AB_TEST')),
        -- the version live on the endpoint when the request was made; null for INITIAL
        live_version       integer,
        -- the RFC 8785 text whose SHA-256 is request_sha256, as jsonb; approvers approve it
        content            jsonb       NOT NULL,
        request_sha256     char(64)    NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
        -- SHA-256 of policies/promotion.yaml when the request was made
        policy_sha256      char(64)    NOT NULL,
        status             text        NOT NULL DEFAULT 'PENDING'
                                       CHECK (status IN ('PENDING', 'APPROVED', 'ROLLING_OUT',
                                         'COMPLETED', 'ROLLED_BACK', 'REJECTED', 'WITHDRAWN')),
        requested_by       text        NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        updated_at         timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        closed_at          timestamptz,
        closed_by          text,
        close_reason       text
      )`);
    // One open request per endpoint, whatever the replica that takes it.
    await q.query(`
      CREATE UNIQUE INDEX promotion_requests_one_open ON promotion_requests (endpoint_id)
      WHERE status IN ('PENDING', 'APPROVED', 'ROLLING_OUT')`);
    await q.query(
      `CREATE INDEX promotion_requests_created_idx ON promotion_requests (created_at, id)`,
    );
    await q.query(
      `CREATE INDEX promotion_requests_status_idx ON promotion_requests (status, created_at, id)`,
    );
    await q.query(`
      CREATE FUNCTION promotion_requests_keep_content() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'a promotion request is evidence: DELETE is refused'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (NEW.id, NEW.endpoint_id, NEW.model_version_id, NEW.evaluation_id, NEW.risk_tier,
            NEW.strategy, NEW.live_version, NEW.content, NEW.request_sha256, NEW.policy_sha256,
            NEW.requested_by, NEW.created_at)
           IS DISTINCT FROM
           (OLD.id, OLD.endpoint_id, OLD.model_version_id, OLD.evaluation_id, OLD.risk_tier,
            OLD.strategy, OLD.live_version, OLD.content, OLD.request_sha256, OLD.policy_sha256,
            OLD.requested_by, OLD.created_at) THEN
          RAISE EXCEPTION 'what was requested never changes: only the status of a request does'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER promotion_requests_content BEFORE UPDATE OR DELETE ON promotion_requests
      FOR EACH ROW EXECUTE FUNCTION promotion_requests_keep_content()`);

    await q.query(`
      CREATE TABLE promotion_approvals (
        id              uuid        PRIMARY KEY,
        promotion_id    uuid        NOT NULL REFERENCES promotion_requests (id),
        role            text        NOT NULL,
        approver        text        NOT NULL,
        -- the roles the approver's token carried
        approver_roles  jsonb       NOT NULL,
        -- the request digest this approval is for
        request_sha256  char(64)    NOT NULL,
        statement       text,
        sign_off        boolean     NOT NULL,
        policy_sha256   char(64)    NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        -- one approval per role, and one role per person (separation of duties)
        UNIQUE (promotion_id, role),
        UNIQUE (promotion_id, approver)
      )`);

    await q.query(`
      CREATE TABLE gate_evaluations (
        id               uuid        PRIMARY KEY,
        promotion_id     uuid        NOT NULL REFERENCES promotion_requests (id),
        passed           boolean     NOT NULL,
        -- why the gates were evaluated: a review (evaluateGates) or a rollout start
        purpose          text        NOT NULL CHECK (purpose IN ('REVIEW', 'ROLLOUT_START')),
        -- [{gate, passed, summary, evidence}]: the RFC 8785 text of evidence_sha256, as jsonb
        gates            jsonb       NOT NULL,
        evidence_sha256  char(64)    NOT NULL,
        policy_sha256    char(64)    NOT NULL,
        request_sha256   char(64)    NOT NULL,
        evaluated_by     text        NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);
    await q.query(
      `CREATE INDEX gate_evaluations_promotion_idx ON gate_evaluations (promotion_id, created_at)`,
    );

    await q.query(`
      CREATE FUNCTION promotions_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% rows are evidence: % is refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['promotion_approvals', 'gate_evaluations'])
      await q.query(`
        CREATE TRIGGER ${table}_final BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION promotions_refuse_change()`);

    await q.query(`
      CREATE TABLE rollouts (
        id                  uuid        PRIMARY KEY,
        promotion_id        uuid        NOT NULL UNIQUE REFERENCES promotion_requests (id),
        endpoint_id         uuid        NOT NULL REFERENCES endpoints (id),
        strategy            text        NOT NULL,
        candidate_version   integer     NOT NULL,
        -- the live version when the rollout started (kept warm for a rollback); null for INITIAL
        previous_version    integer,
        status              text        NOT NULL CHECK (status IN ('RUNNING', 'PAUSED',
                                          'COMPLETED', 'ROLLED_BACK', 'FAILED')),
        -- index into stages of the stage in progress (or the last one, once finished)
        current_stage       integer     NOT NULL DEFAULT 0 CHECK (current_stage >= 0),
        -- [{name, kind, settings, status, enteredAt, passedAt}] in order
        stages              jsonb       NOT NULL,
        -- the gate evaluation that let it start
        gate_evaluation_id  uuid        NOT NULL REFERENCES gate_evaluations (id),
        -- the replica driving it, until when; another may take over after expiry
        lease_owner         text,
        lease_expires_at    timestamptz,
        started_by          text        NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        updated_at          timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        finished_at         timestamptz
      )`);
    // At most one rollout in progress per endpoint.
    await q.query(`
      CREATE UNIQUE INDEX rollouts_one_active ON rollouts (endpoint_id)
      WHERE status IN ('RUNNING', 'PAUSED')`);
    // The engine's sweep: rollouts in progress whose lease is free or expired.
    await q.query(`
      CREATE INDEX rollouts_lease_idx ON rollouts (lease_expires_at)
      WHERE status IN ('RUNNING', 'PAUSED')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rollouts`);
    await q.query(`DROP TABLE gate_evaluations`);
    await q.query(`DROP TABLE promotion_approvals`);
    await q.query(`DROP FUNCTION promotions_refuse_change()`);
    await q.query(`DROP TABLE promotion_requests`);
    await q.query(`DROP FUNCTION promotion_requests_keep_content()`);
  }
}
