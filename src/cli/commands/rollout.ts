/**
 * `gatehouse rollout start PROMOTION_ID` and `gatehouse rollout status ID [--wait] [--follow]`:
 * a pipeline starts an approved promotion's rollout and follows it to its end.
 */
import {
  PromotionStatusDocument,
  RolloutStatusDocument,
  StartRolloutDocument,
  type RolloutStatusQuery,
} from '../../client/generated/graphql.js';
import { ProblemError } from '../../client/problem.js';
import type { GatehouseClient } from '../../client/gatehouse-client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { connect, finish, Progress, runVerb, type RemoteOptions } from '../remote/remote.js';
import { pollUntil, type WaitOptions } from '../remote/waiting.js';
import { checkIdArgument, exitOfPromotion } from './promotion.js';

export type RolloutView = NonNullable<RolloutStatusQuery['rollout']>;

export function rolloutStart(promotionId: string, options: RemoteOptions): Promise<void> {
  return runVerb(options, async () => {
    const id = checkIdArgument('PROMOTION_ID', promotionId);
    const client = await connect(options);
    const { startRollout } = await client.run(StartRolloutDocument, { promotionId: id });
    finish(
      options,
      EXIT.ok,
      { rollout: startRollout },
      `Rollout ${startRollout.id} of version ${startRollout.candidateVersion} on ${startRollout.endpoint}: ${startRollout.status}`,
    );
  });
}

export function exitOfRollout(status: RolloutView['status']): ExitCode {
  switch (status) {
    case 'RUNNING':
    case 'PAUSED':
    case 'COMPLETED':
      return EXIT.ok;
    case 'ROLLED_BACK':
      return EXIT.rolledBack;
    case 'FAILED':
      return EXIT.failed;
  }
}

const SETTLED: readonly RolloutView['status'][] = ['COMPLETED', 'ROLLED_BACK', 'FAILED'];

export interface RolloutStatusOptions extends RemoteOptions, WaitOptions {
  readonly follow?: boolean;
}

type Reading =
  | { readonly kind: 'rollout'; readonly rollout: RolloutView }
  | { readonly kind: 'unstarted'; readonly promotionStatus: string };

/**
 * Readings of the rollout that ID names. ID is a rollout's, or its promotion's: a pipeline holds
 * the promotion id from `release apply`, and may wait on it before the rollout has started.
 * Once the rollout is found, later readings ask for it alone.
 */
function rolloutReader(client: GatehouseClient, id: string): () => Promise<Reading> {
  let rolloutId: string | undefined;
  return async () => {
    const { rollout } = await client.run(RolloutStatusDocument, { id: rolloutId ?? id });
    if (rollout) {
      rolloutId = rollout.id;
      return { kind: 'rollout', rollout };
    }
    const { promotionRequest } = await client.run(PromotionStatusDocument, { id });
    if (!promotionRequest)
      throw new ProblemError({
        code: 'NOT_FOUND',
        message: `no rollout or promotion has id ${id}`,
      });
    if (promotionRequest.rollout) {
      const started = await client.run(RolloutStatusDocument, { id: promotionRequest.rollout.id });
      if (started.rollout) {
        rolloutId = started.rollout.id;
        return { kind: 'rollout', rollout: started.rollout };
      }
    }
    return { kind: 'unstarted', promotionStatus: promotionRequest.status };
  };
}

/** A promotion closed without a rollout (rejected, withdrawn) will never have one. */
const NEVER_STARTS = ['REJECTED', 'WITHDRAWN', 'ROLLED_BACK', 'COMPLETED'];

export function rolloutStatus(id: string, options: RolloutStatusOptions): Promise<void> {
  return runVerb(options, async () => {
    const rolloutId = checkIdArgument('ID', id);
    const client = await connect(options);
    const progress = new Progress(options);
    let last = '';
    const { value, settled } = await pollUntil(
      options,
      rolloutReader(client, rolloutId),
      (r) =>
        r.kind === 'rollout'
          ? SETTLED.includes(r.rollout.status)
          : NEVER_STARTS.includes(r.promotionStatus),
      (r) => {
        const line =
          r.kind === 'rollout'
            ? followLine(r.rollout)
            : `not started: the promotion is ${r.promotionStatus}`;
        if (options.follow && line !== last) {
          process.stdout.write(
            options.json
              ? `${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`
              : `${new Date().toISOString()} ${line}\n`,
          );
        } else progress.say(line);
        last = line;
      },
    );
    progress.done();
    const timedOut = options.wait === true && !settled;
    if (value.kind === 'unstarted') {
      const status = value.promotionStatus as Parameters<typeof exitOfPromotion>[0];
      finish(
        options,
        timedOut ? EXIT.timedOut : exitOfPromotion(status),
        { rollout: null, promotionStatus: status, timedOut },
        `No rollout yet: the promotion is ${status}${timedOut ? '; gave up waiting at the timeout' : ''}`,
      );
      return;
    }
    finish(
      options,
      timedOut ? EXIT.timedOut : exitOfRollout(value.rollout.status),
      { rollout: value.rollout, timedOut },
      rolloutText(value.rollout, timedOut),
    );
  });
}

/** One line of where a rollout is: printed again only when it changes. */
function followLine(r: RolloutView): string {
  const stage = r.stages[r.currentStage];
  const where = stage
    ? `stage ${r.currentStage + 1} of ${r.stages.length}, ${stage.name} (${stage.status})`
    : 'no stage';
  const traffic = `${r.traffic.mode.toLowerCase()}, candidate weight ${r.traffic.candidateWeight}%`;
  const waiting =
    r.progress && r.progress.waitingFor.length > 0
      ? `; waiting for ${r.progress.waitingFor.join(', ')}`
      : '';
  const decision = r.progress ? `; ${r.progress.decision}` : '';
  return `rollout ${r.status}: ${where}; ${traffic}${decision}${waiting}`;
}

function rolloutText(r: RolloutView, timedOut: boolean): string {
  const lines = [
    `Rollout ${r.id} of version ${r.candidateVersion} on ${r.endpoint} (${r.strategy}): ${r.status}`,
    ...r.stages.map(
      (s, i) => `  ${i + 1}. ${s.name}: ${s.status}${s.passedAt ? ` (passed ${s.passedAt})` : ''}`,
    ),
  ];
  if (r.outcome) lines.push(`  outcome: ${JSON.stringify(r.outcome)}`);
  if (timedOut) lines.push('  gave up waiting at the timeout; the rollout goes on');
  return lines.join('\n');
}
