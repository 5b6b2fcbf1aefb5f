import { Module } from '@nestjs/common';
import { ArmMetricsModule } from '../arm-metrics/arm-metrics.module.js';
import { BlobsModule } from '../blobs/blobs.module.js';
import { InferenceModule } from '../inference/inference.module.js';
import { PromotionsModule } from '../promotions/promotions.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { RolloutsModule } from '../rollouts/rollouts.module.js';
import { EdgeBundleService } from './edge-bundle.service.js';
import { EdgeEvidenceService } from './edge-evidence.service.js';
import { EdgeDevicesRepository } from './edge-devices.repository.js';
import { EdgeUploadsController } from './edge-uploads.controller.js';
import { EdgeUploadsService } from './edge-uploads.service.js';
import { EdgeController } from './edge.controller.js';

@Module({
  imports: [
    ArmMetricsModule,
    BlobsModule,
    InferenceModule,
    PromotionsModule,
    RegistryModule,
    RolloutsModule,
  ],
  providers: [EdgeEvidenceService, EdgeBundleService, EdgeDevicesRepository, EdgeUploadsService],
  controllers: [EdgeController, EdgeUploadsController],
})
export class EdgeModule {}
