import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exported audit reports. The signed JSON document is kept byte for byte, so that a
 * report fetched again is the one whose digest `report.exported` recorded; the PDF and CSV are
 * rendered from it on each request. A report never changes once exported.
 */
export class AuditReports1764510000000 implements MigrationInterface {
  name = 'AuditReports1764510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_reports (
        id           uuid        PRIMARY KEY,
        subject      text        NOT NULL,
        format       text        NOT NULL CHECK (format IN ('JSON', 'PDF', 'CSV')),
        -- the RFC 8785 text of {"report": …, "signature": …}
        document     text        NOT NULL,
        sha256       char(64)    NOT NULL,
        event_count  integer     NOT NULL,
        tree_size    bigint      NOT NULL,
        root_hash    char(64)    NOT NULL,
        period_from  timestamptz,
        period_to    timestamptz,
        created_by   text        NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);
    await q.query(`CREATE INDEX audit_reports_created_idx ON audit_reports (created_at, id)`);
    await q.query(`
      CREATE FUNCTION audit_reports_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit reports are immutable: % refused', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_reports_immutable BEFORE UPDATE OR DELETE ON audit_reports
      FOR EACH ROW EXECUTE FUNCTION audit_reports_refuse_change()`);
    // Reading a period's events by time.
    await q.query(`CREATE INDEX IF NOT EXISTS ledger_events_ts_idx ON ledger_events (ts)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ledger_events_ts_idx`);
    await q.query(`DROP TABLE audit_reports`);
    await q.query(`DROP FUNCTION audit_reports_refuse_change()`);
  }
}
