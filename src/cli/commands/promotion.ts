/**
 * `gatehouse promotion status ID [--wait]`: where a promotion request stands, and with --wait,
 * waiting while it is pending; `gatehouse promotion withdraw ID` takes an open one back.
 */
import {
  PromotionStatusDocument,
  WithdrawPromotionDocument,
  type PromotionStatusQuery,
} from '../../client/generated/graphql.js';
import { ProblemError } from '../../client/problem.js';
import { EXIT, type ExitCode } from '../exit.js';
import { connect, finish, Progress, runVerb, type RemoteOptions } from '../remote/remote.js';
import { pollUntil, type WaitOptions } from '../remote/waiting.js';

export type PromotionView = NonNullable<PromotionStatusQuery['promotionRequest']>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id given on the command line, checked before anything is sent. */
export function checkIdArgument(what: string, id: string): string {
  if (!UUID.test(id))
    throw new ProblemError({
      code: 'BAD_USER_INPUT',
      message: `${what}: ${JSON.stringify(id.slice(0, 80))} is not an id (a UUID)`,
    });
  return id.toLowerCase();
}

/** The exit status of a request's standing: done once approved, by the documented codes. */
export function exitOfPromotion(status: PromotionView['status']): ExitCode {
  switch (status) {
    case 'PENDING':
    case 'APPROVED':
    case 'ROLLING_OUT':
    case 'COMPLETED':
      return EXIT.ok;
    case 'REJECTED':
    case 'WITHDRAWN':
      return EXIT.rejected;
    case 'ROLLED_BACK':
      return EXIT.rolledBack;
  }
}

export interface PromotionStatusOptions extends RemoteOptions, WaitOptions {}

export function promotionStatus(id: string, options: PromotionStatusOptions): Promise<void> {
  return runVerb(options, async () => {
    const promotionId = checkIdArgument('ID', id);
    const client = await connect(options);
    const progress = new Progress(options);
    const started = performance.now();
    const { value, settled } = await pollUntil(
      options,
      async () => {
        const { promotionRequest } = await client.run(PromotionStatusDocument, { id: promotionId });
        if (!promotionRequest)
          throw new ProblemError({
            code: 'NOT_FOUND',
            message: `promotion ${promotionId} does not exist`,
          });
        return promotionRequest;
      },
      (p) => p.status !== 'PENDING',
      (p) => {
        progress.say(
          `${p.status.toLowerCase()}: waiting for ${p.missingRoles.join(', ') || 'nobody'} (${Math.round((performance.now() - started) / 1000)} s)`,
        );
      },
    );
    progress.done();
    const timedOut = options.wait === true && !settled;
    finish(
      options,
      timedOut ? EXIT.timedOut : exitOfPromotion(value.status),
      { promotion: value, timedOut },
      promotionText(value, timedOut),
    );
  });
}

function promotionText(p: PromotionView, timedOut: boolean): string {
  const lines = [
    `Promotion ${p.id} of ${p.model}@${p.version} to ${p.endpoint} (${p.strategy}): ${p.status}`,
  ];
  for (const a of p.approvals)
    lines.push(`  approved as ${a.role} by ${a.approver} at ${a.approvedAt}`);
  if (p.missingRoles.length > 0) lines.push(`  waiting for: ${p.missingRoles.join(', ')}`);
  if (p.closeReason) lines.push(`  closed by ${p.closedBy ?? 'the service'}: ${p.closeReason}`);
  if (p.rollout) lines.push(`  rollout ${p.rollout.id}: ${p.rollout.status}`);
  if (timedOut) lines.push('  gave up waiting at the timeout; the request is unchanged');
  return lines.join('\n');
}

/** `gatehouse promotion withdraw ID`: the requester takes an open request back. */
export function promotionWithdraw(id: string, options: RemoteOptions): Promise<void> {
  return runVerb(options, async () => {
    const promotionId = checkIdArgument('ID', id);
    const client = await connect(options);
    const { withdrawPromotion } = await client.run(WithdrawPromotionDocument, { id: promotionId });
    finish(
      options,
      EXIT.ok,
      { promotion: withdrawPromotion },
      `Promotion ${withdrawPromotion.id}: ${withdrawPromotion.status}`,
    );
  });
}
