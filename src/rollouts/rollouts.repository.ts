import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { EndpointEntity } from '../endpoints/endpoint.entity.js';
import type { DriftBaseline } from '../evaluation/metrics/drift.js';
import { RolloutEntity } from './rollout.entity.js';
import type { RolloutVersion } from './rollout-measurements.repository.js';

/** What a rollout's decisions read besides its own row. */
export interface RolloutFacts {
  readonly endpoint: string;
  readonly candidate: RolloutVersion;
  readonly candidateSha256: string;
  /** The version live when it started; null for INITIAL. */
  readonly previous: RolloutVersion | null;
  readonly baseline: DriftBaseline | null;
}

interface ScoringRow {
  version: number;
  artifact_sha256: string;
  input_name: string;
  feature_columns: string[];
  score_output: string;
  score_index: number;
  threshold: number | string | null;
}

@Injectable()
export class RolloutsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    row: Omit<RolloutEntity, 'createdAt'>,
  ): Promise<RolloutEntity> {
    await manager.insert(RolloutEntity, row);
    return manager.findOneByOrFail(RolloutEntity, { id: row.id });
  }

  find(id: string): Promise<RolloutEntity | null> {
    return this.dataSource.manager.findOneBy(RolloutEntity, { id });
  }

  /** The row under a lock: transitions of one rollout happen one at a time. */
  lock(manager: EntityManager, id: string): Promise<RolloutEntity | null> {
    return manager
      .createQueryBuilder(RolloutEntity, 'r')
      .setLock('pessimistic_write')
      .where('r.id = :id', { id })
      .getOne();
  }

  async update(
    manager: EntityManager,
    id: string,
    patch: Partial<Omit<RolloutEntity, 'id' | 'createdAt'>>,
  ): Promise<void> {
    await manager.update(RolloutEntity, { id }, { ...patch, updatedAt: new Date() });
  }

  ofPromotion(promotionId: string): Promise<RolloutEntity | null> {
    return this.dataSource.manager.findOneBy(RolloutEntity, { promotionId });
  }

  async endpointName(endpointId: string): Promise<string> {
    return (await this.endpoint(endpointId)).name;
  }

  endpoint(endpointId: string): Promise<EndpointEntity> {
    return this.dataSource.manager.findOneByOrFail(EndpointEntity, { id: endpointId });
  }

  async facts(rollout: RolloutEntity, evaluationId: string): Promise<RolloutFacts> {
    const endpoint = await this.endpointName(rollout.endpointId);
    const versions = [rollout.candidateVersion, rollout.previousVersion].filter(
      (v): v is number => v !== null,
    );
    const rows = await this.dataSource.query<ScoringRow[]>(
      `SELECT v.version, v.artifact_sha256, v.input_name, v.feature_columns, v.score_output,
              v.score_index, v.threshold
         FROM endpoints e JOIN model_versions v ON v.model_id = e.model_id
        WHERE e.id = $1 AND v.version = ANY($2::int[])`,
      [rollout.endpointId, versions],
    );
    const scoring = (version: number | null): RolloutVersion | null => {
      const row = rows.find((r) => r.version === version);
      return row
        ? {
            version: row.version,
            inputName: row.input_name,
            featureColumns: row.feature_columns,
            scoreOutput: row.score_output,
            scoreIndex: row.score_index,
            threshold: row.threshold === null ? null : Number(row.threshold),
          }
        : null;
    };
    const candidate = scoring(rollout.candidateVersion);
    if (!candidate) throw new Error(`rollout ${rollout.id}: its candidate version is gone`);
    const [evaluation] = await this.dataSource.query<{ baseline: DriftBaseline | null }[]>(
      `SELECT result -> 'drift' -> 'score' AS baseline FROM evaluations WHERE id = $1`,
      [evaluationId],
    );
    const candidateSha256 =
      rows.find((r) => r.version === rollout.candidateVersion)?.artifact_sha256.trim() ?? '';
    return {
      endpoint,
      candidate,
      candidateSha256,
      previous: scoring(rollout.previousVersion),
      baseline: evaluation?.baseline ?? null,
    };
  }

  /** Rollouts in progress that `owner` holds or may take (no lease, or an expired one). */
  async claimable(owner: string): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM rollouts
        WHERE status IN ('RUNNING', 'PAUSED')
          AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at < now())
        ORDER BY created_at`,
      [owner],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Takes or renews the lease; returns the previous holder (null when there was none or it
   * was `owner`), or undefined when someone else holds a live lease. SKIP LOCKED: a rollout
   * another replica is deciding on right now is left to it.
   */
  async claim(
    manager: EntityManager,
    id: string,
    owner: string,
    leaseSeconds: number,
  ): Promise<{ previousOwner: string | null } | undefined> {
    const rows = await manager.query<{ lease_owner: string | null; free: boolean }[]>(
      `SELECT lease_owner,
              (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < now()) AS free
         FROM rollouts WHERE id = $1 AND status IN ('RUNNING', 'PAUSED')
         FOR UPDATE SKIP LOCKED`,
      [id, owner],
    );
    const row = rows[0];
    if (!row || !row.free) return undefined;
    await manager.query(
      `UPDATE rollouts SET lease_owner = $2,
              lease_expires_at = now() + make_interval(secs => $3)
        WHERE id = $1`,
      [id, owner, leaseSeconds],
    );
    return { previousOwner: row.lease_owner === owner ? null : row.lease_owner };
  }

  /** Gives up every lease `owner` holds (a clean shutdown): another replica takes over at once. */
  async release(owner: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE rollouts SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1`,
      [owner],
    );
  }
}
