import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the service needs to take a device's log home (docs/edge.md):
 *
 * - `edge_bundles_issued`: the manifest subject digest of every bundle served for an endpoint.
 *   A device's record names the bundle its model came from; one the service never issued is
 *   refused, whoever signed it.
 * - `edge_device_positions`: per device and endpoint, the last accepted record's seq and hash,
 *   the point the next upload must continue from. Written in the transaction that writes the
 *   records, so it never runs ahead of them or behind.
 * - `edge_device_records`: every accepted record's seq and hash, and the prediction (and batch)
 *   it became. A record sent again is compared with it (the same hash: already there; another:
 *   refused), and it is how a device's predictions are told from the service's own in
 *   `predictions`, whose columns (covered by the batch digest) carry no origin.
 */
export class EdgeDevices1764650000000 implements MigrationInterface {
  name = 'EdgeDevices1764650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE edge_bundles_issued (
        endpoint        text        NOT NULL,
        subject_sha256  char(64)    NOT NULL CHECK (subject_sha256 ~ '^[0-9a-f]{64}$'),
        model           text        NOT NULL,
        version         integer     NOT NULL CHECK (version > 0),
        first_issued_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (endpoint, subject_sha256)
      )`);
    await q.query(`
      CREATE TABLE edge_device_positions (
        device_id   text        NOT NULL,
        endpoint    text        NOT NULL,
        last_seq    bigint      NOT NULL CHECK (last_seq >= 0),
        last_hash   char(64)    NOT NULL CHECK (last_hash ~ '^[0-9a-f]{64}$'),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, endpoint)
      )`);
    await q.query(`
      CREATE TABLE edge_device_records (
        device_id     text     NOT NULL,
        endpoint      text     NOT NULL,
        seq           bigint   NOT NULL CHECK (seq >= 1),
        hash          char(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
        prediction_id bigint   NOT NULL,
        batch_id      bigint   NOT NULL,
        PRIMARY KEY (device_id, endpoint, seq)
      )`);
    await q.query(
      `CREATE INDEX edge_device_records_prediction_idx ON edge_device_records (prediction_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE edge_device_records`);
    await q.query(`DROP TABLE edge_device_positions`);
    await q.query(`DROP TABLE edge_bundles_issued`);
  }
}
