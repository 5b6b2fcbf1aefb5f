import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { checkOut } from '../database/checked-out-client.js';
import { Database } from '../database/database.module.js';
import type { EventInput } from '../ledger/event-catalogue.js';
import { queueEvents, queuedEventOf } from '../ledger/ledger-queue.js';
import type { QueuedEvent } from '../ledger/ledger-sequencer.service.js';
import { predictionIdsOf, writeBatchIn, type StoredBatch } from '../prediction-log/batch-store.js';
import type { PreparedBatch } from '../prediction-log/prediction-digest.js';
import { CHAIN_START, type ChainHead } from './device-log.js';
import type { IssuedBundle } from './issued-bundle.js';

/** What an upload's transaction may do while it holds the device's position. */
export interface PositionTx {
  readonly position: ChainHead;
  /** The hashes of the accepted records of seqs `from` to `to`, by seq. */
  acceptedHashes(from: number, to: number): Promise<Map<number, string>>;
  /**
   * Writes the batch (its predictions, its row, its `predictions.logged` event), one
   * `edge_device_records` row per record (in the batch's order), the new position, and the
   * upload's own event with the batch's id.
   */
  accept(
    batch: PreparedBatch,
    records: readonly { readonly seq: number; readonly hash: string }[],
    event: (batchId: number) => EventInput,
  ): Promise<StoredBatch>;
}

/**
 * The SQL of devices and their uploads. An upload is written on a connection of this
 * repository's own (the COPY of its batch needs the driver's client) in one transaction with
 * the device's position row locked: two uploads of one device and endpoint, on any replicas,
 * are taken one after the other, and the second is judged against what the first wrote.
 */
@Injectable()
export class EdgeDevicesRepository implements OnApplicationShutdown {
  private readonly pool: pg.Pool;

  constructor(
    private readonly dataSource: DataSource,
    database: Database,
  ) {
    this.pool = new pg.Pool({
      connectionString: database.url,
      max: 4,
      application_name: 'gatehouse-edge-uploads',
      allowExitOnIdle: true,
    });
    // A connection lost while idle is replaced at the next upload, which reports its own error.
    this.pool.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }

  async recordIssued(endpoint: string, bundle: IssuedBundle): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO edge_bundles_issued (endpoint, subject_sha256, model, version, mode, candidate_version)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [
        endpoint,
        bundle.subjectSha256,
        bundle.model,
        bundle.version,
        bundle.mode,
        bundle.candidateVersion,
      ],
    );
  }

  async issued(endpoint: string, digests: readonly string[]): Promise<Map<string, IssuedBundle>> {
    const rows = await this.dataSource.query<
      {
        subject_sha256: string;
        model: string;
        version: number;
        mode: IssuedBundle['mode'];
        candidate_version: number | null;
      }[]
    >(
      `SELECT subject_sha256, model, version, mode, candidate_version FROM edge_bundles_issued
        WHERE endpoint = $1 AND subject_sha256 = ANY($2::text[])`,
      [endpoint, [...digests]],
    );
    return new Map(
      rows.map((r) => [
        r.subject_sha256,
        {
          subjectSha256: r.subject_sha256,
          model: r.model,
          version: r.version,
          mode: r.mode,
          candidateVersion: r.candidate_version,
        },
      ]),
    );
  }

  async position(deviceId: string, endpoint: string): Promise<ChainHead> {
    const [row] = await this.dataSource.query<{ last_seq: string; last_hash: string }[]>(
      `SELECT last_seq, last_hash FROM edge_device_positions WHERE device_id = $1 AND endpoint = $2`,
      [deviceId, endpoint],
    );
    return row ? { seq: Number(row.last_seq), hash: row.last_hash } : CHAIN_START;
  }

  /**
   * Runs `work` in a transaction holding the device's position for the endpoint. It commits
   * only when `work` called `accept`; a refusal (thrown) and an upload with nothing new roll
   * back, so nothing of them is written. Returns, with what `work` returned, the ledger events
   * queued, once committed: only then may the sequencer seal them.
   */
  async underPosition<T>(
    deviceId: string,
    endpoint: string,
    work: (tx: PositionTx) => Promise<T>,
  ): Promise<{ readonly value: T; readonly events: readonly QueuedEvent[] }> {
    const connection = await checkOut(this.pool, () => undefined);
    const client = connection.client;
    let broken: unknown;
    const queued: QueuedEvent[] = [];
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO edge_device_positions (device_id, endpoint, last_seq, last_hash)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [deviceId, endpoint, CHAIN_START.seq, CHAIN_START.hash],
      );
      const locked = await client.query<{ last_seq: string; last_hash: string }>(
        `SELECT last_seq, last_hash FROM edge_device_positions
          WHERE device_id = $1 AND endpoint = $2 FOR UPDATE`,
        [deviceId, endpoint],
      );
      const row = locked.rows[0];
      if (!row) throw new Error('the device position row vanished under its lock');
      const tx: PositionTx = {
        position: { seq: Number(row.last_seq), hash: row.last_hash },
        acceptedHashes: async (from, to) => {
          const found = await client.query<{ seq: string; hash: string }>(
            `SELECT seq, hash FROM edge_device_records
              WHERE device_id = $1 AND endpoint = $2 AND seq BETWEEN $3 AND $4`,
            [deviceId, endpoint, from, to],
          );
          return new Map(found.rows.map((r) => [Number(r.seq), r.hash]));
        },
        accept: async (batch, records, event) => {
          const stored = await writeBatchIn(client, batch);
          const ids = await predictionIdsOf(client, stored.sealed.batchId);
          if (ids.length !== records.length)
            throw new Error(
              `batch ${stored.sealed.batchId}: ${ids.length} predictions for ${records.length} records`,
            );
          await client.query(
            `INSERT INTO edge_device_records (device_id, endpoint, seq, hash, prediction_id, batch_id)
             SELECT $1, $2, s, h, p, $3
               FROM unnest($4::bigint[], $5::text[], $6::bigint[]) AS u(s, h, p)`,
            [
              deviceId,
              endpoint,
              stored.sealed.batchId,
              records.map((r) => r.seq),
              records.map((r) => r.hash),
              ids,
            ],
          );
          const last = records[records.length - 1];
          if (!last) throw new Error('an upload with no records to accept');
          await client.query(
            `UPDATE edge_device_positions SET last_seq = $3, last_hash = $4, updated_at = now()
              WHERE device_id = $1 AND endpoint = $2`,
            [deviceId, endpoint, last.seq, last.hash],
          );
          const row = queuedEventOf(event(stored.sealed.batchId), null);
          const [id] = await queueEvents(
            {
              query: async <R>(sql: string, params?: unknown[]) =>
                (await client.query(sql, params)).rows as R,
            },
            [row],
          );
          if (id === undefined) throw new Error('the upload event was not queued');
          queued.push(stored.event, { ...row, id });
          return stored;
        },
      };
      const value = await work(tx);
      await client.query(queued.length > 0 ? 'COMMIT' : 'ROLLBACK');
      return { value, events: queued };
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback;
      });
      throw error;
    } finally {
      connection.release(broken !== undefined);
    }
  }
}
