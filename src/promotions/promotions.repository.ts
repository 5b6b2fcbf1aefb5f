import { Injectable } from '@nestjs/common';
import { DataSource, In, Not, type EntityManager } from 'typeorm';
import { keysetPage, type Cursor } from '../common/pagination.js';
import { GateEvaluationEntity } from './gate-evaluation.entity.js';
import { PromotionApprovalEntity } from './promotion-approval.entity.js';
import { PromotionRequestEntity } from './promotion-request.entity.js';
import { transition, type PromotionEvent } from './promotion-state.js';
import { REJUDGED_STATUSES } from './repolicy.js';
import { OPEN_STATUSES, type PromotionStatus } from './vocabulary.js';

export type NewRequest = Omit<
  PromotionRequestEntity,
  'createdAt' | 'updatedAt' | 'closedAt' | 'closedBy' | 'closeReason' | 'content'
>;

/** All database access of promotions: requests, approvals and gate evaluations. */
@Injectable()
export class PromotionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  find(id: string, manager = this.manager): Promise<PromotionRequestEntity | null> {
    return manager.findOneBy(PromotionRequestEntity, { id });
  }

  /** The request under a row lock: decisions on one request are taken one at a time. */
  lock(manager: EntityManager, id: string): Promise<PromotionRequestEntity | null> {
    return manager
      .createQueryBuilder(PromotionRequestEntity, 'p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id })
      .getOne();
  }

  openFor(manager: EntityManager, endpointId: string): Promise<PromotionRequestEntity | null> {
    return manager.findOneBy(PromotionRequestEntity, {
      endpointId,
      status: In([...OPEN_STATUSES]),
    });
  }

  /** Stores the content as the canonical text that was hashed. */
  async insert(manager: EntityManager, row: NewRequest, canonical: string): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(PromotionRequestEntity)
      .values({ ...row, content: () => ':content::jsonb', updatedAt: new Date() })
      .setParameter('content', canonical)
      .execute();
  }

  /** Moves a request's status along the promotion state machine (CONFLICT if it may not). */
  async setStatus(
    manager: EntityManager,
    id: string,
    change: { from: PromotionStatus; event: PromotionEvent },
    close?: { by: string; reason: string | null },
  ): Promise<void> {
    const status = transition(change.from, change.event);
    const now = new Date();
    await manager.update(
      PromotionRequestEntity,
      { id },
      close
        ? { status, updatedAt: now, closedAt: now, closedBy: close.by, closeReason: close.reason }
        : { status, updatedAt: now },
    );
  }

  /** Records a re-judgement under another promotion policy (`promotion.repolicied`). */
  async rejudge(
    manager: EntityManager,
    id: string,
    judged: {
      previousStatus: PromotionStatus;
      status: PromotionStatus;
      requiredRoles: readonly string[];
      policySha256: string;
    },
  ): Promise<void> {
    const event = judged.status === 'APPROVED' ? 'rejudge-approved' : 'rejudge-pending';
    await manager.update(
      PromotionRequestEntity,
      { id },
      {
        status: transition(judged.previousStatus, event),
        requiredRoles: [...judged.requiredRoles],
        judgedPolicySha256: judged.policySha256,
        updatedAt: new Date(),
      },
    );
  }

  /** Requests still open to approvals that were last judged under another promotion policy. */
  async judgedUnderAnotherPolicy(policySha256: string): Promise<string[]> {
    const rows = await this.manager.find(PromotionRequestEntity, {
      select: { id: true },
      where: { status: In([...REJUDGED_STATUSES]), judgedPolicySha256: Not(policySha256) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map((r) => r.id);
  }

  /** The evaluation of the latest request to promote this version on this endpoint. */
  async latestEvaluationId(endpointId: string, modelVersionId: string): Promise<string | null> {
    const [row] = await this.manager.query<{ evaluation_id: string }[]>(
      `SELECT pr.evaluation_id FROM promotion_requests pr
        WHERE pr.endpoint_id = $1 AND pr.model_version_id = $2
        ORDER BY pr.created_at DESC LIMIT 1`,
      [endpointId, modelVersionId],
    );
    return row?.evaluation_id ?? null;
  }

  approvals(manager: EntityManager, promotionId: string): Promise<PromotionApprovalEntity[]> {
    return manager.find(PromotionApprovalEntity, {
      where: { promotionId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  async approvalsOf(ids: readonly string[]): Promise<Map<string, PromotionApprovalEntity[]>> {
    const rows =
      ids.length === 0
        ? []
        : await this.manager.find(PromotionApprovalEntity, {
            where: { promotionId: In([...ids]) },
            order: { createdAt: 'ASC', id: 'ASC' },
          });
    const map = new Map<string, PromotionApprovalEntity[]>(ids.map((id) => [id, []]));
    for (const row of rows) map.get(row.promotionId)?.push(row);
    return map;
  }

  async insertApproval(
    manager: EntityManager,
    row: Omit<PromotionApprovalEntity, 'createdAt'>,
  ): Promise<void> {
    await manager.insert(PromotionApprovalEntity, row);
  }

  /** Stores the gates as the canonical text whose digest is ledgered. */
  async insertGateEvaluation(
    manager: EntityManager,
    row: Omit<GateEvaluationEntity, 'createdAt' | 'gates'>,
    canonicalGates: string,
  ): Promise<GateEvaluationEntity> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(GateEvaluationEntity)
      .values({ ...row, gates: () => ':gates::jsonb' })
      .setParameter('gates', canonicalGates)
      .execute();
    return manager.findOneByOrFail(GateEvaluationEntity, { id: row.id });
  }

  gateEvaluations(promotionId: string): Promise<GateEvaluationEntity[]> {
    return this.manager.find(GateEvaluationEntity, {
      where: { promotionId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  page(
    limit: number,
    cursor: Cursor | undefined,
    filter: { status?: PromotionStatus | undefined; endpointId?: string | undefined },
  ): Promise<PromotionRequestEntity[]> {
    const q = keysetPage(
      this.manager.createQueryBuilder(PromotionRequestEntity, 'p'),
      'p',
      limit,
      cursor,
    );
    if (filter.status) q.andWhere('p.status = :status', { status: filter.status });
    if (filter.endpointId) q.andWhere('p.endpoint_id = :endpoint', { endpoint: filter.endpointId });
    return q.getMany();
  }
}
