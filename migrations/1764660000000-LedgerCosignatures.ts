import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Witnesses' cosignatures of the ledger's checkpoints, as each witness returned it: the whole
 * signature line, its timestamp, the witness's name and verifier key, and the origin the
 * checkpoint text named (a cosignature signs the origin too). Keyed by the checkpoint and the
 * key, so a witness that changed its key keeps both. Append-only like the ledger's own tables:
 * a cosignature is evidence about the past, never corrected. No foreign key to
 * `ledger_checkpoints`: the service writes a cosignature only of a checkpoint it holds, and a
 * key would make TRUNCATE of the checkpoints fail on the key before the ledger's own refusal.
 */
export class LedgerCosignatures1764660000000 implements MigrationInterface {
  name = 'LedgerCosignatures1764660000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ledger_cosignatures (
        tree_size   bigint      NOT NULL CHECK (tree_size > 0),
        witness     text        NOT NULL,
        vkey        text        NOT NULL,
        origin      text        NOT NULL,
        signature   text        NOT NULL CHECK (signature LIKE '— % %'),
        signed_at   bigint      NOT NULL CHECK (signed_at > 0),
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tree_size, vkey)
      )`);
    await q.query(
      `CREATE INDEX ledger_cosignatures_witness ON ledger_cosignatures (witness, tree_size)`,
    );
    await q.query(`
      CREATE TRIGGER ledger_cosignatures_no_update_delete BEFORE UPDATE OR DELETE ON ledger_cosignatures
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await q.query(`
      CREATE TRIGGER ledger_cosignatures_no_truncate BEFORE TRUNCATE ON ledger_cosignatures
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_cosignatures`);
  }
}
