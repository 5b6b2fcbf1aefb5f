import { PolicyDocuments1764381600000 } from './1764381600000-PolicyDocuments.js';
import { Ledger1764385200000 } from './1764385200000-Ledger.js';
import { Registry1764468000000 } from './1764468000000-Registry.js';
import { Evaluations1764471600000 } from './1764471600000-Evaluations.js';
import { Promotions1764475200000 } from './1764475200000-Promotions.js';
import { RolloutEngine1764490000000 } from './1764490000000-RolloutEngine.js';
import { AuditReports1764510000000 } from './1764510000000-AuditReports.js';
import { LedgerSeal1764500000000 } from './1764500000000-LedgerSeal.js';
import { DriftMonitoring1764520000000 } from './1764520000000-DriftMonitoring.js';
import { PredictionBatchDefault1764530000000 } from './1764530000000-PredictionBatchDefault.js';
import { ArmMetricsHeartbeats1764540000000 } from './1764540000000-ArmMetricsHeartbeats.js';
import { PromotionRequiredRoles1764550000000 } from './1764550000000-PromotionRequiredRoles.js';
import { ConsoleSessions1764560000000 } from './1764560000000-ConsoleSessions.js';
import { LedgerEventFilters1764570000000 } from './1764570000000-LedgerEventFilters.js';
import { LedgerActorSub1764580000000 } from './1764580000000-LedgerActorSub.js';
import { RolloutStageClock1764590000000 } from './1764590000000-RolloutStageClock.js';
import { PredictionLogPolicy1764600000000 } from './1764600000000-PredictionLogPolicy.js';
import { ModelVersionMetadata1764610000000 } from './1764610000000-ModelVersionMetadata.js';
import { DatasetColumnarFile1764620000000 } from './1764620000000-DatasetColumnarFile.js';
import { EvaluationTimings1764630000000 } from './1764630000000-EvaluationTimings.js';
import { StreamBindings1764640000000 } from './1764640000000-StreamBindings.js';
import { EdgeDevices1764650000000 } from './1764650000000-EdgeDevices.js';
import { LedgerCosignatures1764660000000 } from './1764660000000-LedgerCosignatures.js';
import { EdgeBundleCandidates1764670000000 } from './1764670000000-EdgeBundleCandidates.js';

/**
 * Every migration, oldest first. A landed migration is never edited: a schema change is a new
 * file here and a new line below.
 */
export const MIGRATIONS = [
  PolicyDocuments1764381600000,
  Ledger1764385200000,
  Registry1764468000000,
  Evaluations1764471600000,
  Promotions1764475200000,
  RolloutEngine1764490000000,
  AuditReports1764510000000,
  LedgerSeal1764500000000,
  DriftMonitoring1764520000000,
  PredictionBatchDefault1764530000000,
  ArmMetricsHeartbeats1764540000000,
  PromotionRequiredRoles1764550000000,
  ConsoleSessions1764560000000,
  LedgerEventFilters1764570000000,
  LedgerActorSub1764580000000,
  RolloutStageClock1764590000000,
  PredictionLogPolicy1764600000000,
  ModelVersionMetadata1764610000000,
  DatasetColumnarFile1764620000000,
  EvaluationTimings1764630000000,
  StreamBindings1764640000000,
  EdgeDevices1764650000000,
  LedgerCosignatures1764660000000,
  EdgeBundleCandidates1764670000000,
];
