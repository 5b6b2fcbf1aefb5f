import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit ledger (format in docs/ledger.md). Four insert-only tables: the events themselves, the public
 * keys that signed them, the complete Merkle subtree hashes (so proofs and checkpoints never
 * recompute the tree), and signed checkpoints. Triggers refuse UPDATE, DELETE and TRUNCATE;
 * docs/security.md gives the grants for a runtime role with INSERT and SELECT only.
 *
 * Writers put events into ledger_pending in the same transaction as their change; the
 * sequencer moves them into the chain in batches (docs/decisions.md, "The ledger sequencer").
 */
export class Ledger1764385200000 implements MigrationInterface {
  name = 'Ledger1764385200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ledger_keys (
        kid         text        PRIMARY KEY,
        public_jwk  jsonb       NOT NULL,
        -- the first event signed with this key; the key stays current until the next one's
        first_seq   bigint      NOT NULL UNIQUE CHECK (first_seq > 0),
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE ledger_events (
        seq        bigint      PRIMARY KEY CHECK (seq > 0),
        id         uuid        NOT NULL UNIQUE,
        ts         timestamptz NOT NULL,
        type       text        NOT NULL,
        subject    text        NOT NULL,
        -- the RFC 8785 form that was hashed and signed, byte for byte
        canonical  text        NOT NULL,
        hash       char(64)    NOT NULL,
        jws        text        NOT NULL
      )`);
    await q.query(`CREATE INDEX ledger_events_subject_idx ON ledger_events (subject, seq)`);
    await q.query(`CREATE INDEX ledger_events_type_idx ON ledger_events (type, seq)`);
    await q.query(`
      CREATE TABLE ledger_merkle_nodes (
        level  smallint NOT NULL CHECK (level >= 0 AND level < 63),
        idx    bigint   NOT NULL CHECK (idx >= 0),
        hash   bytea    NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
      )`);
    await q.query(`
      CREATE TABLE ledger_checkpoints (
        tree_size  bigint      PRIMARY KEY CHECK (tree_size > 0),
        root_hash  char(64)    NOT NULL,
        ts         timestamptz NOT NULL,
        -- the seq of the ledger.checkpoint event that records this checkpoint
        event_seq  bigint      NOT NULL UNIQUE,
        jws        text        NOT NULL
      )`);

    await q.query(`
      CREATE TABLE ledger_pending (
        id          bigserial   PRIMARY KEY,
        event_id    uuid        NOT NULL,
        ts          text        NOT NULL,
        type        text        NOT NULL,
        subject     text        NOT NULL,
        -- RFC 8785 JSON of the actor and the payload, exactly as they will be sealed
        actor       text        NOT NULL,
        payload     text        NOT NULL,
        trace_id    text,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of [
      'ledger_keys',
      'ledger_events',
      'ledger_merkle_nodes',
      'ledger_checkpoints',
    ]) {
      await q.query(`
        CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
    }
    // A queued event may leave the queue (into the chain) but never change while in it.
    await q.query(`
      CREATE TRIGGER ledger_pending_no_update BEFORE UPDATE ON ledger_pending
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);

    // Takes the append lock and reads, under it, everything a sequencer pass needs: the head,
    // the current signing key, the Merkle frontier (the complete subtrees covering [0, n),
    // largest first) and the oldest queued events, in one round trip. Being VOLATILE plpgsql,
    // each statement sees a fresh snapshot, so all of it is read after the lock is held.
    await q.query(`
      CREATE FUNCTION ledger_prepare_append(lock_key bigint, batch integer)
      RETURNS TABLE (head_seq bigint, head_hash text, kid text, frontier bytea[], pending json)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        n bigint;
        h text;
        k text;
        f bytea[] := '{}';
        node bytea;
        start bigint := 0;
        p json;
      BEGIN
        PERFORM pg_advisory_xact_lock(lock_key);
        SELECT e.seq, e.hash INTO n, h FROM ledger_events e ORDER BY e.seq DESC LIMIT 1;
        IF n IS NULL THEN
          n := 0;
          h := repeat('0', 64);
        END IF;
        SELECT lk.kid INTO k FROM ledger_keys lk ORDER BY lk.first_seq DESC LIMIT 1;
        FOR lvl IN REVERSE 62..0 LOOP
          IF (n >> lvl) & 1 = 1 THEN
            SELECT m.hash INTO node FROM ledger_merkle_nodes m WHERE m.level = lvl AND m.idx = start >> lvl;
            IF node IS NULL THEN
              RAISE EXCEPTION 'ledger Merkle node (%, %) is missing', lvl, start >> lvl;
            END IF;
            f := f || node;
            start := start + (1::bigint << lvl);
          END IF;
        END LOOP;
        SELECT coalesce(json_agg(q ORDER BY q.id), '[]'::json) INTO p
          FROM (SELECT lp.id, lp.event_id, lp.ts, lp.type, lp.subject, lp.actor, lp.payload, lp.trace_id
                FROM ledger_pending lp ORDER BY lp.id LIMIT batch) q;
        RETURN QUERY SELECT n, h, k, f, p;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ledger_prepare_append(bigint, integer)`);
    for (const table of [
      'ledger_pending',
      'ledger_checkpoints',
      'ledger_merkle_nodes',
      'ledger_events',
      'ledger_keys',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`DROP FUNCTION ledger_refuse_change()`);
  }
}
