-- Grants for the service's runtime role (docs/security.md#the-ledger-cannot-be-changed-by-the-service,
-- docs/operations.md#runtime-grants). Run as the owner role after every `gatehouse migrate`:
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f deploy/postgres/grants.sql
-- Idempotent. The roles are gatehouse_owner (owns the schema, runs migrations) and
-- gatehouse_runtime (runs `gatehouse serve`); rename them here if yours differ.

GRANT USAGE ON SCHEMA public TO gatehouse_runtime;
GRANT SELECT ON schema_migrations TO gatehouse_runtime;

-- The ledger: read and append, never change. Triggers refuse UPDATE, DELETE and TRUNCATE
-- whoever asks; without the privilege the runtime role cannot even try.
GRANT SELECT, INSERT ON ledger_events, ledger_keys, ledger_merkle_nodes, ledger_checkpoints
  TO gatehouse_runtime;
-- The queue of events waiting for the sequencer: rows are deleted as they are sealed.
GRANT SELECT, INSERT, DELETE ON ledger_pending TO gatehouse_runtime;
GRANT EXECUTE ON FUNCTION ledger_prepare_append(bigint, integer) TO gatehouse_runtime;
GRANT EXECUTE ON FUNCTION ledger_seal(bigint, bigint, text, json) TO gatehouse_runtime;

-- Records whose history is in the ledger. Rows that must never change after a point
-- (registered versions, finished evaluations, request content, approvals, gate evaluations,
-- audit reports) are guarded by triggers as well; UPDATE is needed for status columns.
GRANT SELECT, INSERT ON policy_documents TO gatehouse_runtime;
GRANT SELECT, INSERT ON artifacts, datasets, model_versions TO gatehouse_runtime;
-- UPDATE on models only for the row lock (SELECT … FOR UPDATE) that numbers versions.
GRANT SELECT, INSERT, UPDATE ON models TO gatehouse_runtime;
GRANT SELECT, INSERT, UPDATE ON evaluations, batch_jobs, endpoints TO gatehouse_runtime;
GRANT SELECT, INSERT, UPDATE ON promotion_requests, promotion_approvals, gate_evaluations,
  rollouts TO gatehouse_runtime;
GRANT SELECT, INSERT ON audit_reports TO gatehouse_runtime;

-- Live measurements: per-arm counts from every replica, ground-truth labels, drift status.
GRANT SELECT, INSERT, UPDATE ON arm_metrics, feedback, drift_status TO gatehouse_runtime;
-- Whether each replica's per-arm counts reach arm_metrics; a replica deletes its own rows when
-- it shuts down.
GRANT SELECT, INSERT, UPDATE, DELETE ON arm_metrics_heartbeats TO gatehouse_runtime;

-- The prediction log; DELETE for retention (GATEHOUSE_PREDICTION_RETENTION_DAYS), whose
-- batches' digests stay in the ledger.
GRANT SELECT, INSERT ON prediction_batches TO gatehouse_runtime;
GRANT SELECT, INSERT, DELETE ON predictions TO gatehouse_runtime;

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO gatehouse_runtime;
