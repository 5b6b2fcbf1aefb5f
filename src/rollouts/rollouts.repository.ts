import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { keysetPage, type Cursor } from '../common/pagination.js';
import { RolloutEntity, type RolloutStatus } from './rollout.entity.js';
import type { StageClock } from './stage-clock.js';

/** A claim of a rollout's lease: who held it before, and the stage's clock as it stood. */
export interface Claim {
  /** The previous holder, null when there was none or it was the claimant. */
  readonly previousOwner: string | null;
  readonly now: Date;
  /** The stage in progress, under the claim's lock, and its clock. */
  readonly currentStage: number;
  readonly clock: StageClock;
}

/** All database access of rollouts, their stages and their controller leases. */
@Injectable()
export class RolloutsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    // The stage clock starts stopped (the columns' defaults).
    row: Omit<RolloutEntity, 'createdAt' | 'stageObservedMs' | 'stageClockAt' | 'stageClockBy'>,
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

  /** Up to limit+1 rollouts, newest first, after the cursor. */
  page(
    limit: number,
    cursor: Cursor | undefined,
    filter: { status?: RolloutStatus | undefined; endpointId?: string | undefined },
  ): Promise<RolloutEntity[]> {
    const q = keysetPage(
      this.dataSource.manager.createQueryBuilder(RolloutEntity, 'r'),
      'r',
      limit,
      cursor,
      'DESC',
    );
    if (filter.status) q.andWhere('r.status = :status', { status: filter.status });
    if (filter.endpointId) q.andWhere('r.endpoint_id = :endpoint', { endpoint: filter.endpointId });
    return q.getMany();
  }

  ofPromotion(promotionId: string): Promise<RolloutEntity | null> {
    return this.dataSource.manager.findOneBy(RolloutEntity, { promotionId });
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
   * Takes or renews the lease; returns the claim, or undefined when someone else holds a live
   * lease. SKIP LOCKED: a rollout another replica is deciding on right now is left to it.
   * Times are PostgreSQL's, like the lease's and the metrics heartbeats'.
   */
  async claim(
    manager: EntityManager,
    id: string,
    owner: string,
    leaseSeconds: number,
  ): Promise<Claim | undefined> {
    const rows = await manager.query<
      {
        lease_owner: string | null;
        free: boolean;
        now: Date;
        current_stage: number;
        stage_observed_ms: number;
        stage_clock_at: Date | null;
        stage_clock_by: string | null;
      }[]
    >(
      `SELECT lease_owner,
              (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < now()) AS free,
              now() AS now, current_stage, stage_observed_ms, stage_clock_at, stage_clock_by
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
    return {
      previousOwner: row.lease_owner === owner ? null : row.lease_owner,
      now: row.now,
      currentStage: row.current_stage,
      clock: { observedMs: row.stage_observed_ms, at: row.stage_clock_at, by: row.stage_clock_by },
    };
  }

  /**
   * Stores the clock of stage `index` as `owner` advanced it: only while `owner` holds the
   * lease and the stage is still in progress, so a tick that lost either changes nothing.
   */
  async setClock(id: string, owner: string, index: number, clock: StageClock): Promise<void> {
    await this.dataSource.query(
      `UPDATE rollouts SET stage_observed_ms = $4, stage_clock_at = $5, stage_clock_by = $6
        WHERE id = $1 AND lease_owner = $2 AND current_stage = $3
          AND status IN ('RUNNING', 'PAUSED')`,
      [id, owner, index, clock.observedMs, clock.at, clock.by],
    );
  }

  /** Gives up every lease `owner` holds (a clean shutdown): another replica takes over at once. */
  async release(owner: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE rollouts SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1`,
      [owner],
    );
  }
}
