import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { LedgerService, type Actor, type LedgerTx } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import { promotionApproved } from './promotion-events.js';
import type { PromotionRequestEntity } from './promotion-request.entity.js';
import { PromotionsRepository } from './promotions.repository.js';
import { REJUDGED_STATUSES, repolicy } from './repolicy.js';

/** No person decides a re-judgement: the policy in force does. */
const POLICY_ACTOR: Actor = { sub: 'system:policy' };

/**
 * Keeps every open request judged under the promotion policy this process runs with
 * (src/promotions/repolicy.ts says why): all of them before the service answers, and each one
 * again under its row lock before a decision on it, since a replica with another policy may
 * have judged it meanwhile. Each change is a `promotion.repolicied` event, with
 * `promotion.approved` when it completes the request's approvals.
 */
@Injectable()
export class RepolicyService implements OnApplicationBootstrap {
  private static readonly logger = new Logger('Promotions');

  constructor(
    private readonly repository: PromotionsRepository,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const policy = this.policies.promotion;
    const ids = await this.repository.judgedUnderAnotherPolicy(policy.sha256);
    for (const id of ids) await this.refresh(id);
    if (ids.length > 0)
      RepolicyService.logger.log(
        `${ids.length} open promotion requests judged under promotion policy ${policy.sha256}`,
      );
  }

  /**
   * Before a decision on one request, in a unit of work of its own, so that the re-judgement
   * stands even when the decision is refused (the refusal then names the roles the request
   * shows as missing).
   */
  async refresh(id: string): Promise<void> {
    const row = await this.repository.find(id);
    if (!row || !this.mayChange(row)) return;
    await this.ledger.transaction(async (tx) => {
      const locked = await this.repository.lock(tx.manager, id);
      if (locked) await this.judge(tx, locked);
    });
  }

  /**
   * The request as the policy in force judges it, in the caller's unit of work, under its row
   * lock: the row given, updated in place.
   */
  async judge(tx: LedgerTx, request: PromotionRequestEntity): Promise<PromotionRequestEntity> {
    const policy = this.policies.promotion;
    if (!this.mayChange(request)) return request;
    const approvals = await this.repository.approvals(tx.manager, request.id);
    const change = repolicy(
      {
        status: request.status,
        requiredRoles: request.requiredRoles,
        policySha256: request.judgedPolicySha256,
        approvals,
      },
      { sha256: policy.sha256, requiredRoles: policy.value.tiers[request.riskTier].approvers },
    );
    if (change === null) return request;
    await this.repository.rejudge(tx.manager, request.id, change);
    tx.record({
      type: 'promotion.repolicied',
      subject: `promotion:${request.id}`,
      actor: POLICY_ACTOR,
      payload: {
        promotionId: request.id,
        requestDigest: request.requestSha256,
        previousPolicySha256: change.previousPolicySha256,
        policySha256: change.policySha256,
        previousRequiredRoles: [...change.previousRequiredRoles],
        requiredRoles: [...change.requiredRoles],
        addedRoles: [...change.addedRoles],
        removedRoles: [...change.removedRoles],
        previousStatus: change.previousStatus,
        status: change.status,
        missingRoles: [...change.missingRoles],
      },
    });
    if (change.status === 'APPROVED' && change.previousStatus !== 'APPROVED')
      // The same event as when the last required approver approves: the approvals recorded.
      tx.record(promotionApproved(request, approvals, policy.sha256, POLICY_ACTOR));
    return Object.assign(request, {
      status: change.status,
      requiredRoles: [...change.requiredRoles],
      judgedPolicySha256: change.policySha256,
    });
  }

  /** Whether a re-judgement could change anything: saves a transaction on every decision. */
  private mayChange(request: PromotionRequestEntity): boolean {
    return (
      request.judgedPolicySha256 !== this.policies.promotion.sha256 &&
      (REJUDGED_STATUSES as readonly string[]).includes(request.status)
    );
  }
}
