import { ArtifactEntity } from './artifacts/artifact.entity.js';
import { BatchJobEntity } from './batch/batch-job.entity.js';
import { ConsoleSessionEntity } from './console-auth/console-session.entity.js';
import { ConsoleSignInEntity } from './console-auth/console-sign-in.entity.js';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { EvaluationEntity } from './evaluation/evaluation.entity.js';
import { EndpointEntity } from './endpoints/endpoint.entity.js';
import { PolicyDocumentEntity } from './policy/policy-document.entity.js';
import { GateEvaluationEntity } from './promotions/gate-evaluation.entity.js';
import { PromotionApprovalEntity } from './promotions/promotion-approval.entity.js';
import { PromotionRequestEntity } from './promotions/promotion-request.entity.js';
import { ModelVersionEntity } from './registry/model-version.entity.js';
import { ModelEntity } from './registry/model.entity.js';
import { RolloutEntity } from './rollouts/rollout.entity.js';
import { StreamBindingEntity } from './streaming/stream-binding.entity.js';

/**
 * Every TypeORM entity, in one list: each domain folder owns its tables, and the data source
 * is given them all here, where the application is composed (as app.module.ts composes the
 * modules), so that database/ depends on no domain folder.
 */
export const ENTITIES = [
  PolicyDocumentEntity,
  ArtifactEntity,
  DatasetEntity,
  ModelEntity,
  ModelVersionEntity,
  EndpointEntity,
  BatchJobEntity,
  EvaluationEntity,
  PromotionRequestEntity,
  PromotionApprovalEntity,
  GateEvaluationEntity,
  RolloutEntity,
  ConsoleSessionEntity,
  ConsoleSignInEntity,
  StreamBindingEntity,
];
