import { DomainError } from '../common/errors.js';

/** The requester approving, or one person filling two required roles. */
export class SeparationOfDutiesError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('SEPARATION_OF_DUTIES', message, details);
  }
}

/** A caller the guard let through who may still not take this decision (e.g. a role not held). */
export class PromotionForbiddenError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('FORBIDDEN', message, details);
  }
}

/** Starting a rollout while gates fail: names every failing gate and why. */
export class GateFailedError extends DomainError {
  constructor(
    readonly failed: readonly { readonly gate: string; readonly summary: string }[],
    gateEvaluationId: string,
  ) {
    super(
      'GATE_FAILED',
      `gates failed: ${failed.map((g) => `${g.gate} (${g.summary})`).join('; ')}`,
      { gates: failed.map((g) => ({ ...g })), gateEvaluationId },
    );
  }
}
