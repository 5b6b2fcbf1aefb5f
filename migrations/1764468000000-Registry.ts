import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The model registry and what serves it: stored artifacts and datasets (the bytes
 * live content-addressed under the data folder; these rows hold what was learned from them),
 * models with their model cards, immutable numbered versions, endpoints with their traffic
 * state, the prediction log sealed into the ledger batch by batch, and batch-inference jobs.
 *
 * created_at is kept to the millisecond, as JavaScript dates are: list cursors carry it, and
 * a microsecond the cursor lost would repeat a row across pages.
 */
export class Registry1764468000000 implements MigrationInterface {
  name = 'Registry1764468000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE artifacts (
        sha256      char(64)    PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size        bigint      NOT NULL CHECK (size > 0),
        format      text        NOT NULL DEFAULT 'onnx',
        -- [{name, datatype, shape}] as ONNX Runtime reads the model's signature (free dims -1)
        inputs      jsonb       NOT NULL,
        outputs     jsonb       NOT NULL,
        -- {"ai.onnx": 17, "ai.onnx.ml": 3}: the opset of each domain the model imports
        opsets      jsonb       NOT NULL,
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);

    await q.query(`
      CREATE TABLE datasets (
        id          uuid        PRIMARY KEY,
        name        text        NOT NULL,
        sha256      char(64)    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size        bigint      NOT NULL,
        rows        bigint      NOT NULL,
        -- [{name, type}] in file order; type is 'number' or 'string'
        columns     jsonb       NOT NULL,
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        -- the same bytes under the same name are one dataset (a retried upload is idempotent)
        UNIQUE (name, sha256)
      )`);
    await q.query(`CREATE INDEX datasets_created_idx ON datasets (created_at, id)`);

    await q.query(`
      CREATE TABLE models (
        id                    uuid        PRIMARY KEY,
        name                  text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
        risk_tier             text        NOT NULL CHECK (risk_tier IN ('LOW', 'MEDIUM', 'HIGH')),
        owner                 text        NOT NULL,
        protected_attributes  jsonb       NOT NULL,
        model_card            jsonb       NOT NULL,
        created_by            text        NOT NULL,
        created_at            timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);

    await q.query(`
      CREATE TABLE model_versions (
        id                uuid        PRIMARY KEY,
        model_id          uuid        NOT NULL REFERENCES models (id),
        version           integer     NOT NULL CHECK (version > 0),
        artifact_sha256   char(64)    NOT NULL REFERENCES artifacts (sha256),
        task              text        NOT NULL CHECK (task IN ('BINARY_CLASSIFICATION', 'REGRESSION')),
        -- dataset column names, in the order of the input tensor's last dimension
        feature_columns   jsonb       NOT NULL,
        input_name        text        NOT NULL,
        score_output      text        NOT NULL,
        score_index       integer     NOT NULL CHECK (score_index >= 0),
        threshold         double precision,
        parent_version    integer,
        training_metrics  jsonb       NOT NULL,
        description       text        NOT NULL DEFAULT '',
        created_by        text        NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        UNIQUE (model_id, version)
      )`);
    // Versions are immutable once registered: what was audited is what serves.
    await q.query(`
      CREATE FUNCTION model_versions_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'model versions are immutable: % is refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER model_versions_immutable BEFORE UPDATE OR DELETE ON model_versions
      FOR EACH ROW EXECUTE FUNCTION model_versions_refuse_change()`);

    await q.query(`
      CREATE TABLE endpoints (
        id                 uuid        PRIMARY KEY,
        name               text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
        model_id           uuid        NOT NULL REFERENCES models (id),
        live_version       integer,
        candidate_version  integer,
        -- how the candidate takes traffic: NONE, SHADOW (mirrored, never answers), CANARY,
        -- BLUE_GREEN or AB_TEST (a weighted split by routing key)
        mode               text        NOT NULL DEFAULT 'NONE'
                                       CHECK (mode IN ('NONE', 'SHADOW', 'CANARY', 'BLUE_GREEN', 'AB_TEST')),
        -- the candidate's share of traffic in basis points (0..10000)
        candidate_weight   integer     NOT NULL DEFAULT 0 CHECK (candidate_weight BETWEEN 0 AND 10000),
        -- SHADOW: the share of live requests mirrored to the candidate, in basis points
        shadow_sample      integer     NOT NULL DEFAULT 10000 CHECK (shadow_sample BETWEEN 0 AND 10000),
        -- bumped on every traffic change; replicas compare it to refresh their routing cache
        revision           bigint      NOT NULL DEFAULT 1,
        created_by         text        NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);

    // A batch of predictions is sealed into the ledger in the transaction that writes it:
    // its row carries the digest of its predictions (src/prediction-log/prediction-digest.ts)
    // and stays when retention deletes the predictions themselves.
    await q.query(`
      CREATE TABLE prediction_batches (
        id          bigserial   PRIMARY KEY,
        endpoint    text        NOT NULL,
        first_id    bigint      NOT NULL,
        last_id     bigint      NOT NULL,
        count       integer     NOT NULL CHECK (count > 0),
        -- SHA-256 of the batch's rows in their canonical serialization
        sha256      char(64)    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        created_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);

    await q.query(`
      CREATE TABLE predictions (
        -- numbered as COPY writes a batch in, so a batch's rows are in its order
        id                bigserial   PRIMARY KEY,
        -- its prediction_batches row, written after its predictions in the same transaction
        -- (no foreign key: checking one per row costs the writer more than the log's
        -- transaction needs, which writes both or neither)
        batch_id          bigint      NOT NULL,
        -- the request's OIP id: the client's own, or a UUID the service gave it
        request_id        text        NOT NULL,
        endpoint          text        NOT NULL,
        model_version     integer     NOT NULL,
        -- live, candidate or shadow
        arm               text        NOT NULL CHECK (arm IN ('live', 'candidate', 'shadow')),
        -- json, not jsonb: the text as written (the batch digest covers it) and no parsing of
        -- every number into a numeric on the way in
        inputs            json        NOT NULL,
        outputs           json,
        error             text,
        -- double precision, rounded to the microsecond: it reads back exactly as written,
        -- so the batch digest can be recomputed from the rows
        latency_ms        double precision NOT NULL,
        -- SHA-256 of the routing key, never the key itself
        routing_key_hash  char(64),
        -- to the millisecond, as written (the digest carries it at that precision)
        created_at        timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX predictions_batch_idx ON predictions (batch_id)`);
    // also what retention deletes by, endpoint by endpoint
    await q.query(`CREATE INDEX predictions_endpoint_idx ON predictions (endpoint, created_at)`);
    await q.query(`CREATE INDEX predictions_request_idx ON predictions (request_id)`);

    await q.query(`
      CREATE TABLE batch_jobs (
        id               uuid        PRIMARY KEY,
        endpoint         text,
        model_version_id uuid        NOT NULL REFERENCES model_versions (id),
        dataset_id       uuid        NOT NULL REFERENCES datasets (id),
        status           text        NOT NULL DEFAULT 'QUEUED'
                                     CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        rows_total       bigint      NOT NULL,
        rows_done        bigint      NOT NULL DEFAULT 0,
        output_sha256    char(64),
        output_size      bigint,
        error            text,
        cancel_requested boolean     NOT NULL DEFAULT false,
        created_by       text        NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        started_at       timestamptz,
        finished_at      timestamptz
      )`);
    await q.query(`CREATE INDEX batch_jobs_created_idx ON batch_jobs (created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'batch_jobs',
      'predictions',
      'prediction_batches',
      'endpoints',
      'model_versions',
      'models',
      'datasets',
      'artifacts',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`DROP FUNCTION model_versions_refuse_change()`);
  }
}
