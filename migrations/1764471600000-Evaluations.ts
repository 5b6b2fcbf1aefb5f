import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evaluations: a registered version run by Gatehouse itself over a labelled
 * dataset, with every performance and fairness figure, their bootstrap intervals and the drift
 * baseline. A finished evaluation is evidence: a trigger refuses to change or delete it.
 */
export class Evaluations1764471600000 implements MigrationInterface {
  name = 'Evaluations1764471600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evaluations (
        id                    uuid        PRIMARY KEY,
        model_version_id      uuid        NOT NULL REFERENCES model_versions (id),
        dataset_id            uuid        NOT NULL REFERENCES datasets (id),
        label_column          text        NOT NULL,
        protected_attributes  jsonb       NOT NULL,
        -- {attribute: group} to compare every other group against
        reference_groups      jsonb       NOT NULL,
        -- {resamples, seed} or null
        bootstrap             jsonb,
        -- SHA-256 of policies/evaluation.yaml as applied
        policy_sha256         char(64)    NOT NULL,
        status                text        NOT NULL DEFAULT 'QUEUED'
                                          CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
        rows_total            bigint      NOT NULL,
        rows_done             bigint      NOT NULL DEFAULT 0,
        result                jsonb,
        -- SHA-256 of the RFC 8785 form of result, as recorded in evaluation.completed
        result_sha256         char(64),
        error                 text,
        created_by            text        NOT NULL,
        created_at            timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        started_at            timestamptz,
        finished_at           timestamptz
      )`);
    await q.query(`CREATE INDEX evaluations_created_idx ON evaluations (created_at, id)`);
    await q.query(
      `CREATE INDEX evaluations_version_idx ON evaluations (model_version_id, created_at)`,
    );
    await q.query(`
      CREATE FUNCTION evaluations_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.status IN ('SUCCEEDED', 'FAILED') THEN
          RAISE EXCEPTION 'a finished evaluation is evidence: % is refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER evaluations_final BEFORE UPDATE OR DELETE ON evaluations
      FOR EACH ROW EXECUTE FUNCTION evaluations_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE evaluations`);
    await q.query(`DROP FUNCTION evaluations_refuse_change()`);
  }
}
