import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `ledgerEvents` filters by actor as well as by subject, type and time (time through
 * ledger_events_ts_idx, which audit reports already read periods by). The actor lives only in
 * the signed canonical text: the table has no column for it, and a new column would change
 * every writer of the chain. So it is indexed as an expression that the reader repeats word for
 * word; with seq beside it, one actor's events page in seq order straight from the index, as
 * subject and type do.
 *
 * `text::jsonb` is immutable, as an index expression must be; the cost is one parse of each
 * event's canonical text when it is appended.
 */
export class LedgerEventFilters1764570000000 implements MigrationInterface {
  name = 'LedgerEventFilters1764570000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX ledger_events_actor_idx ON ledger_events (((canonical::jsonb) -> 'actor' ->> 'sub'), seq)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ledger_events_actor_idx`);
  }
}
