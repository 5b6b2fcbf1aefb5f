import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A sequencer pass in one round trip (docs/decisions.md, "The ledger sequencer"). The process
 * that sealed last knows the head it left; it seals its next events against that head in
 * memory and hands them to `ledger_seal`, which takes the append lock, reads the head under it
 * and inserts only if the head is still the one the events were chained to. Otherwise (another
 * process appended meanwhile) it changes nothing and returns the head it found, and the
 * process makes a pass of the two-round-trip kind (`ledger_prepare_append`).
 *
 * Called as a single statement, it runs in a transaction of its own that commits with it: the
 * lock is held until that commit, as in the two-round-trip pass.
 */
export class LedgerSeal1764500000000 implements MigrationInterface {
  name = 'LedgerSeal1764500000000';

  async up(q: QueryRunner): Promise<void> {
    // VOLATILE plpgsql: each statement takes a fresh snapshot, so the head is read after the
    // lock is held. Queue rows named in the document must all still be queued (a sweep of
    // another process may have sealed them): otherwise the whole call fails and nothing is
    // written. Rows with ids are deleted before the events are inserted, so a failure inserts
    // nothing.
    await q.query(`
      CREATE FUNCTION ledger_seal(lock_key bigint, expected_seq bigint, expected_hash text, doc json)
      RETURNS TABLE (sealed boolean, head_seq bigint)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        n bigint;
        h text;
        wanted integer;
        deleted integer;
      BEGIN
        PERFORM pg_advisory_xact_lock(lock_key);
        SELECT e.seq, e.hash INTO n, h FROM ledger_events e ORDER BY e.seq DESC LIMIT 1;
        IF n IS NULL THEN
          n := 0;
          h := repeat('0', 64);
        END IF;
        IF n <> expected_seq OR h <> expected_hash THEN
          RETURN QUERY SELECT false, n;
          RETURN;
        END IF;
        wanted := json_array_length(doc->'pending');
        IF wanted > 0 THEN
          DELETE FROM ledger_pending
            WHERE id IN (SELECT json_array_elements_text(doc->'pending')::bigint);
          GET DIAGNOSTICS deleted = ROW_COUNT;
          IF deleted <> wanted THEN
            RAISE EXCEPTION 'ledger_seal: % of % queued events are no longer queued', wanted - deleted, wanted
              USING ERRCODE = 'serialization_failure';
          END IF;
        END IF;
        INSERT INTO ledger_events (seq, id, ts, type, subject, canonical, hash, jws)
          SELECT x.seq, x.id, x.ts, x.type, x.subject, x.canonical, x.hash, x.jws
          FROM json_to_recordset(doc->'events')
            AS x(seq bigint, id uuid, ts timestamptz, type text, subject text, canonical text, hash text, jws text);
        INSERT INTO ledger_merkle_nodes (level, idx, hash)
          SELECT y.level, y.idx, decode(y.hash, 'hex')
          FROM json_to_recordset(doc->'nodes') AS y(level smallint, idx bigint, hash text);
        RETURN QUERY SELECT true, (doc->'events'->(json_array_length(doc->'events') - 1)->>'seq')::bigint;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ledger_seal(bigint, bigint, text, json)`);
  }
}
