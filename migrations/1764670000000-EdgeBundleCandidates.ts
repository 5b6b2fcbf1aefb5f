import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an issued bundle gives a device besides its live version: the assignment's mode
 * (`shadow` or `canary`) and the candidate's version, both null for a live bundle. An upload's
 * `shadow` and `candidate` records are accepted only of the candidate version their bundle
 * carries (docs/edge.md, "Sync"). Bundles issued before this recorded no candidate and are
 * read as live bundles: their candidate records are refused, and a device polling gets a
 * bundle of the current state recorded in full.
 */
export class EdgeBundleCandidates1764670000000 implements MigrationInterface {
  name = 'EdgeBundleCandidates1764670000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE edge_bundles_issued
        ADD COLUMN mode text CHECK (mode IN ('shadow', 'canary')),
        ADD COLUMN candidate_version integer CHECK (candidate_version > 0),
        ADD CONSTRAINT edge_bundles_issued_candidate_check
          CHECK ((mode IS NULL) = (candidate_version IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE edge_bundles_issued
        DROP CONSTRAINT edge_bundles_issued_candidate_check,
        DROP COLUMN candidate_version,
        DROP COLUMN mode`);
  }
}
