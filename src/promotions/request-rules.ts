import { BadInputError } from '../common/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function checkId(field: string, id: string): string {
  if (!UUID.test(id)) throw new BadInputError(field, 'must be a UUID');
  return id;
}

export interface EvaluationSeen {
  readonly id: string;
  readonly modelVersionId: string;
  readonly status: string;
  readonly finishedAt: Date | null;
  readonly resultSha256: string | null;
}

/**
 * A request names the evaluation its approvers rely on: it must be of this exact version, have
 * succeeded, and be no older than the tier allows. Refused when the request is made, not only
 * when the gates are evaluated, so no one reviews a request that could never pass.
 */
export function checkEvaluation(
  e: EvaluationSeen,
  version: { readonly id: string; readonly label: string },
  maxAgeSeconds: number,
  now: Date,
): { resultSha256: string } {
  if (e.modelVersionId !== version.id)
    throw new BadInputError('evaluationId', `evaluation ${e.id} is not of ${version.label}`);
  if (e.status !== 'SUCCEEDED' || e.finishedAt === null || e.resultSha256 === null)
    throw new BadInputError(
      'evaluationId',
      `evaluation ${e.id} is ${e.status}: only a successful evaluation can support a promotion`,
    );
  const age = Math.floor((now.getTime() - e.finishedAt.getTime()) / 1000);
  if (age > maxAgeSeconds)
    throw new BadInputError(
      'evaluationId',
      `evaluation ${e.id} finished ${age} s ago and has expired: the policy accepts evaluations up to ${maxAgeSeconds} s old; run a new one`,
    );
  return { resultSha256: e.resultSha256 };
}
