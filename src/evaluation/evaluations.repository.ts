import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { DriftBaseline } from './metrics/drift.js';
import { EvaluationEntity, type EvaluationTimings } from './evaluation.entity.js';

/** The drift figures an evaluation recorded: the score's and each feature's distribution. */
export interface RecordedDrift {
  readonly score: DriftBaseline;
  readonly features: Readonly<Record<string, DriftBaseline>>;
}

export type NewEvaluation = Omit<
  EvaluationEntity,
  'createdAt' | 'startedAt' | 'finishedAt' | 'result' | 'resultSha256' | 'timings' | 'error'
>;

/**
 * All database access of evaluations. Methods that take an EntityManager run inside the
 * caller's unit of work (a ledger transaction, possibly another module's).
 */
@Injectable()
export class EvaluationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get manager(): EntityManager {
    return this.dataSource.manager;
  }

  find(id: string, manager = this.manager): Promise<EvaluationEntity | null> {
    return manager.findOneBy(EvaluationEntity, { id });
  }

  async queuedIds(): Promise<string[]> {
    const rows = await this.manager.find(EvaluationEntity, {
      where: { status: 'QUEUED' },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async insert(manager: EntityManager, row: NewEvaluation): Promise<EvaluationEntity> {
    await manager.insert(EvaluationEntity, row);
    return manager.findOneByOrFail(EvaluationEntity, { id: row.id });
  }

  /** Marks it RUNNING unless it has finished (a job delivered again): true when it may run. */
  async claim(id: string): Promise<boolean> {
    const claimed = await this.manager
      .createQueryBuilder()
      .update(EvaluationEntity)
      .set({ status: 'RUNNING', rowsDone: 0, startedAt: () => 'now()' })
      .where(`id = :id AND status IN ('QUEUED', 'RUNNING')`, { id })
      .execute();
    return claimed.affected === 1;
  }

  async progress(id: string, rowsDone: number): Promise<void> {
    await this.manager.update(EvaluationEntity, { id }, { rowsDone });
  }

  /**
   * Stores the result as the canonical text whose digest is ledgered. The row stays RUNNING
   * until `succeed`, in the same transaction, so that the time this write takes can be counted
   * in the timings that finish the row.
   */
  async storeResult(
    manager: EntityManager,
    id: string,
    done: { rowsDone: number; canonicalResult: string; resultSha256: string },
  ): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(EvaluationEntity)
      .set({
        rowsDone: done.rowsDone,
        // jsonb of the canonical text that was hashed
        result: () => ':result::jsonb',
        resultSha256: done.resultSha256,
      })
      .where('id = :id', { id })
      .setParameter('result', done.canonicalResult)
      .execute();
  }

  /** After `storeResult`: from here on the row is immutable, its timings with it. */
  async succeed(manager: EntityManager, id: string, timings: EvaluationTimings): Promise<void> {
    await manager.update(
      EvaluationEntity,
      { id },
      { status: 'SUCCEEDED', timings, finishedAt: new Date() },
    );
  }

  async fail(manager: EntityManager, id: string, error: string): Promise<void> {
    await manager.update(
      EvaluationEntity,
      { id },
      { status: 'FAILED', error, finishedAt: new Date() },
    );
  }

  /**
   * The latest successful evaluation of a version, preferring one on the dataset with the
   * given digest, so the live version is compared on the same data where that is possible.
   */
  async baseline(
    manager: EntityManager,
    modelVersionId: string,
    datasetSha256: string | null,
  ): Promise<EvaluationEntity | null> {
    const q = () =>
      manager
        .createQueryBuilder(EvaluationEntity, 'e')
        .where(`e.model_version_id = :modelVersionId AND e.status = 'SUCCEEDED'`, {
          modelVersionId,
        })
        .orderBy('e.finished_at', 'DESC')
        .addOrderBy('e.id', 'DESC')
        .limit(1);
    if (datasetSha256 !== null) {
      const same = await q()
        .andWhere(`e.result -> 'dataset' ->> 'sha256' = :sha`, { sha: datasetSha256 })
        .getOne();
      if (same) return same;
    }
    return q().getOne();
  }

  /** The latest successful evaluation of a version over one dataset (by id), if any. */
  latestOnDataset(modelVersionId: string, datasetId: string): Promise<EvaluationEntity | null> {
    return this.manager
      .createQueryBuilder(EvaluationEntity, 'e')
      .where(`e.model_version_id = :modelVersionId AND e.status = 'SUCCEEDED'`, {
        modelVersionId,
      })
      .andWhere('e.dataset_id = :datasetId', { datasetId })
      .orderBy('e.finished_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(1)
      .getOne();
  }

  /**
   * The drift figures of a version's successful evaluations: those of `preferred` when it is
   * one of them, or else of the latest.
   */
  async driftBaseline(
    modelVersionId: string,
    preferred: string | null,
  ): Promise<{ evaluationId: string; drift: RecordedDrift } | null> {
    const [row] = await this.manager.query<{ id: string; drift: RecordedDrift }[]>(
      `SELECT ev.id, ev.result -> 'drift' AS drift
         FROM evaluations ev
        WHERE ev.model_version_id = $1 AND ev.status = 'SUCCEEDED' AND ev.result ? 'drift'
        ORDER BY ev.id = $2::uuid DESC NULLS LAST,
                 ev.finished_at DESC
        LIMIT 1`,
      [modelVersionId, preferred],
    );
    return row ? { evaluationId: row.id, drift: row.drift } : null;
  }

  /** The score distribution an evaluation recorded, the baseline of drift and of rollouts. */
  async scoreBaseline(id: string): Promise<DriftBaseline | null> {
    const [evaluation] = await this.manager.query<{ baseline: DriftBaseline | null }[]>(
      `SELECT result -> 'drift' -> 'score' AS baseline FROM evaluations WHERE id = $1`,
      [id],
    );
    return evaluation?.baseline ?? null;
  }
}
