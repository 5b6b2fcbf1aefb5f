import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The actor index of ledger_events, computed so that it can never refuse an append. Casting the
 * canonical text to jsonb (or json) throws on a `\u0000` escape or an unpaired surrogate
 * anywhere in the event, and an index expression that throws fails the insert: one such event
 * would stop the sequencer's batches. The entry points refuse such text already; the chain must
 * not depend on it.
 *
 * `ledger_actor_sub` reads the actor's `sub` by position instead: RFC 8785 sorts members, so
 * `actor` comes first and, inside it, `roles` (an array of strings) before `sub`. It answers
 * the JSON-escaped text of `sub`, exactly as the canonical form writes it (the reader escapes
 * the filter the same way), or NULL for text of another shape; a regular expression never
 * throws. IMMUTABLE, as an index expression must be.
 */
export class LedgerActorSub1764580000000 implements MigrationInterface {
  name = 'LedgerActorSub1764580000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION ledger_actor_sub(canonical text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT substring(canonical FROM
          '^\\{"actor":\\{(?:"roles":\\[(?:"(?:[^"\\\\]|\\\\.)*"(?:,"(?:[^"\\\\]|\\\\.)*")*)?\\],)?"sub":"((?:[^"\\\\]|\\\\.)*)"\\}')
      $$`);
    await q.query(`DROP INDEX ledger_events_actor_idx`);
    await q.query(
      `CREATE INDEX ledger_events_actor_idx ON ledger_events (ledger_actor_sub(canonical), seq)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ledger_events_actor_idx`);
    await q.query(`DROP FUNCTION ledger_actor_sub(text)`);
    await q.query(
      `CREATE INDEX ledger_events_actor_idx ON ledger_events (((canonical::jsonb) -> 'actor' ->> 'sub'), seq)`,
    );
  }
}
