/**
 * The vocabulary of permissions. Roles in policies/roles.yaml grant (action, subject) pairs
 * from these lists; anything else in the file is refused at start-up.
 */
export const ACTIONS = [
  'read',
  'create',
  'update',
  'approve',
  'sign-off',
  'reject',
  'withdraw',
  'evaluate',
  'start',
  'advance',
  'pause',
  'rollback',
  'export',
  'verify',
  'rotate',
  'checkpoint',
  'infer',
  'manage',
] as const;

export const SUBJECTS = [
  'Model',
  'ModelVersion',
  'Artifact',
  'Dataset',
  'Evaluation',
  'Endpoint',
  'PromotionRequest',
  'Gate',
  'Rollout',
  'Inference',
  'BatchJob',
  'EdgeBundle',
  'EdgePrediction',
  'Ledger',
  'Report',
  'SigningKey',
  'Policy',
  'all',
] as const;

export type Action = (typeof ACTIONS)[number];
export type Subject = (typeof SUBJECTS)[number];

export interface Permission {
  readonly action: Action;
  readonly subject: Subject;
}
