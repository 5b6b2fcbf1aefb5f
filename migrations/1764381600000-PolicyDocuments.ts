import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every policy file the service has ever loaded, by digest, so that a decision recorded with a
 * policy digest can always be traced back to the exact text that was applied.
 */
export class PolicyDocuments1764381600000 implements MigrationInterface {
  name = 'PolicyDocuments1764381600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policy_documents (
        sha256        char(64)    PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        name          text        NOT NULL,
        content       text        NOT NULL,
        first_loaded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX policy_documents_name_idx ON policy_documents (name, first_loaded_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE policy_documents`);
  }
}
