import type {
  AbTestResultPayload,
  Actor,
  EventInput,
  JsonObject,
} from '../ledger/event-catalogue.js';
import type { PromotionRequestEntity } from '../promotions/promotion-request.entity.js';
import type { RolloutEntity } from './rollout.entity.js';
import type { RolloutStage } from './rollout-stages.js';

/**
 * The rollout events that more than one writer records: a start (INITIAL or staged), a
 * completion (three kinds) and a passed stage (by the controller, a person, or an A/B test's
 * conclusion). Each is assembled here only, so its payload has one definition.
 */

export interface StartedRollout {
  readonly rolloutId: string;
  readonly request: PromotionRequestEntity;
  readonly endpoint: string;
  /** The version live when it started; null for INITIAL. */
  readonly previousVersion: number | null;
  readonly stages: readonly RolloutStage[];
  readonly gateEvaluationId: string;
  readonly evidenceSha256: string;
  readonly policySha256: string;
}

/**
 * `rollout.started`. A staged rollout's stages carry their settings; an INITIAL rollout's one
 * `LIVE` stage has none and is recorded as `{name, kind}`.
 */
export function rolloutStarted(s: StartedRollout, actor: Actor): EventInput<'rollout.started'> {
  const initial = s.request.strategy === 'INITIAL';
  return {
    type: 'rollout.started',
    subject: `rollout:${s.rolloutId}`,
    actor,
    payload: {
      rolloutId: s.rolloutId,
      promotionId: s.request.id,
      endpoint: s.endpoint,
      model: s.request.content.model,
      version: s.request.content.version,
      strategy: s.request.strategy,
      requestDigest: s.request.requestSha256,
      policySha256: s.policySha256,
      previousVersion: s.previousVersion,
      stages: s.stages.map((stage) =>
        initial
          ? { name: stage.name, kind: stage.kind }
          : { name: stage.name, kind: stage.kind, settings: { ...stage.settings } },
      ),
      gateEvaluationId: s.gateEvaluationId,
      evidenceSha256: s.evidenceSha256,
    },
  };
}

/** `rollout.completed` of an INITIAL rollout: the request's version is live at once. */
export function initialGoLive(
  rolloutId: string,
  request: PromotionRequestEntity,
  endpoint: string,
  policySha256: string,
  actor: Actor,
): EventInput<'rollout.completed'> {
  return {
    type: 'rollout.completed',
    subject: `rollout:${rolloutId}`,
    actor,
    payload: {
      rolloutId,
      promotionId: request.id,
      endpoint,
      model: request.content.model,
      version: request.content.version,
      strategy: request.strategy,
      requestDigest: request.requestSha256,
      policySha256,
      liveVersion: request.content.version,
    },
  };
}

/** `rollout.completed` at the end of a staged rollout: the candidate live, the previous standby. */
export function stagedGoLive(
  rollout: RolloutEntity,
  endpoint: string,
  actor: Actor,
): EventInput<'rollout.completed'> {
  return {
    type: 'rollout.completed',
    subject: `rollout:${rollout.id}`,
    actor,
    payload: {
      rolloutId: rollout.id,
      endpoint,
      version: rollout.candidateVersion,
      liveVersion: rollout.candidateVersion,
      previousVersion: rollout.previousVersion,
      standbyVersion: rollout.previousVersion,
    },
  };
}

/** `rollout.completed` of an A/B test: its result; the live version stays. */
export function abTestConcluded(
  rollout: RolloutEntity,
  endpoint: string,
  result: AbTestResultPayload,
  actor: Actor,
): EventInput<'rollout.completed'> {
  return {
    type: 'rollout.completed',
    subject: `rollout:${rollout.id}`,
    actor,
    payload: {
      rolloutId: rollout.id,
      endpoint,
      version: rollout.candidateVersion,
      liveVersion: rollout.previousVersion,
      abTest: result,
      note: 'an A/B test changes no live version: a winning candidate needs a promotion of its own',
    },
  };
}

/** `rollout.stage.passed`, with what the stage showed. */
export function stagePassed(
  rollout: RolloutEntity,
  endpoint: string,
  stage: { readonly name: string; readonly index: number; readonly kind: string },
  evidence: JsonObject,
  cause: { readonly actor: Actor; readonly manual: boolean; readonly reason?: string },
): EventInput<'rollout.stage.passed'> {
  return {
    type: 'rollout.stage.passed',
    subject: `rollout:${rollout.id}`,
    actor: cause.actor,
    payload: {
      rolloutId: rollout.id,
      endpoint,
      version: rollout.candidateVersion,
      stage: stage.name,
      index: stage.index,
      kind: stage.kind,
      manual: cause.manual,
      ...(cause.reason === undefined ? {} : { reason: cause.reason }),
      evidence,
    },
  };
}
