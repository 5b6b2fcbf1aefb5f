import type { PredictionArm } from '../prediction-log/prediction.js';
import type { EdgeAssignmentMode } from './edge-bundle-format.js';

/** A bundle the service served: its endpoint's live version, and the candidate it carries. */
export interface IssuedBundle {
  readonly subjectSha256: string;
  readonly model: string;
  readonly version: number;
  /** Null for a live bundle. */
  readonly mode: EdgeAssignmentMode | null;
  /** The candidate's version; null exactly when `mode` is. */
  readonly candidateVersion: number | null;
}

/** What a record claims answered it: the arm, and the model version behind it. */
export interface ArmClaim {
  readonly seq: number;
  readonly arm: PredictionArm;
  readonly model: string;
  readonly modelVersion: number;
}

/**
 * The arms a bundle gives a device, each with its version: a live bundle only its live
 * version; a shadow bundle the live version answering and the candidate beside it as `shadow`;
 * a canary bundle only the candidate, answering as `candidate`.
 */
export function armsOf(bundle: IssuedBundle): ReadonlyMap<PredictionArm, number> {
  const candidate = bundle.candidateVersion;
  if (bundle.mode === null || candidate === null) return new Map([['live', bundle.version]]);
  switch (bundle.mode) {
    case 'shadow':
      return new Map<PredictionArm, number>([
        ['live', bundle.version],
        ['shadow', candidate],
      ]);
    case 'canary':
      return new Map([['candidate', candidate]]);
  }
}

/**
 * Why the record cannot have come from its bundle, or null when it can: its arm is one the
 * bundle gives, of the version and model the bundle gives it. A record outside its bundle
 * would feed the rollout's arm metrics with predictions of a version the device was never
 * given.
 */
export function armRefusal(
  bundle: IssuedBundle,
  record: ArmClaim,
): { readonly field: 'arm' | 'model' | 'modelVersion'; readonly reason: string } | null {
  const arms = armsOf(bundle);
  const claim = `seq ${record.seq}: a ${record.arm} record of ${record.model}@${record.modelVersion}`;
  const carries = [...arms].map(([arm, v]) => `${arm} ${bundle.model}@${v}`).join(' and ');
  const kind = bundle.mode ?? 'live';
  const version = arms.get(record.arm);
  if (version === undefined)
    return {
      field: 'arm',
      reason: `${claim}, but its ${kind} bundle ${bundle.subjectSha256} carries no ${record.arm} arm (only ${carries})`,
    };
  if (record.model !== bundle.model)
    return {
      field: 'model',
      reason: `${claim}, but its ${kind} bundle ${bundle.subjectSha256} is of model ${bundle.model} (${carries})`,
    };
  if (record.modelVersion !== version)
    return {
      field: 'modelVersion',
      reason: `${claim}, but the ${record.arm} arm of its ${kind} bundle ${bundle.subjectSha256} is ${bundle.model}@${version}`,
    };
  return null;
}
