import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { NotFoundError } from '../common/errors.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { PromotionRequestModel } from './promotion.model.js';
import { PromotionsRepository } from './promotions.repository.js';
import { promotionApproved } from './promotion-events.js';
import { PromotionsService } from './promotions.service.js';
import { approvalRefusalOf, recordingRefusals } from './refusals.js';
import { RepolicyService } from './repolicy.service.js';
import { checkId } from './request-rules.js';
import { checkApproval } from './separation-of-duties.js';

export interface ApprovalInput {
  readonly id: string;
  readonly role: string;
  readonly statement?: string | null | undefined;
  readonly requestDigest: string;
}

/**
 * Approvals. Each is checked under the request's row lock against separation of
 * duties and bound to the digest the approver saw; the last required one approves the request.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly repository: PromotionsRepository,
    private readonly promotions: PromotionsService,
    private readonly repolicy: RepolicyService,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  approve(input: ApprovalInput, principal: Principal): Promise<PromotionRequestModel> {
    checkId('id', input.id);
    const policy = this.policies.promotion;
    const attempt = { role: input.role, digestSeen: input.requestDigest };
    return recordingRefusals(
      this.ledger,
      (e) => approvalRefusalOf(input.id, principal, e, attempt, policy.sha256),
      async () => {
        await this.repolicy.refresh(input.id);
        await this.ledger.transaction(async (tx) => {
          const locked = await this.repository.lock(tx.manager, input.id);
          if (!locked) throw new NotFoundError('promotion request', input.id);
          const request = await this.repolicy.judge(tx, locked);
          const approvals = await this.repository.approvals(tx.manager, request.id);
          const checked = checkApproval(
            {
              approver: principal.sub,
              tokenRoles: principal.roles,
              role: input.role,
              maySignOff: principal.ability.can('sign-off', 'PromotionRequest'),
              statement: input.statement ?? null,
              requestDigest: input.requestDigest,
            },
            {
              status: request.status,
              requestDigest: request.requestSha256,
              requestedBy: request.requestedBy,
              requiredRoles: request.requiredRoles,
              approvals,
              signOff: policy.value.signOff,
            },
          );
          await this.repository.insertApproval(tx.manager, {
            id: randomUUID(),
            promotionId: request.id,
            role: checked.role,
            approver: principal.sub,
            approverRoles: [...principal.roles],
            requestSha256: request.requestSha256,
            statement: checked.statement,
            signOff: checked.isSignOff,
            policySha256: policy.sha256,
          });
          tx.record({
            type: 'promotion.approval.recorded',
            subject: `promotion:${request.id}`,
            actor: actorOf(principal),
            payload: {
              promotionId: request.id,
              role: checked.role,
              signOff: checked.isSignOff,
              statement: checked.statement,
              requestDigest: request.requestSha256,
              remainingRoles: [...checked.remainingRoles],
              policySha256: policy.sha256,
            },
          });
          if (checked.remainingRoles.length > 0) return;
          await this.repository.setStatus(tx.manager, request.id, {
            from: request.status,
            event: 'last-approval',
          });
          tx.record(
            promotionApproved(
              request,
              [...approvals, { role: checked.role, approver: principal.sub }],
              policy.sha256,
              actorOf(principal),
            ),
          );
        });
        return this.promotions.require(input.id);
      },
    );
  }
}
