import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { EvaluationModule } from '../evaluation/evaluation.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { ApprovalsService } from './approvals.service.js';
import { GatesService } from './gates.service.js';
import { PromotionsRepository } from './promotions.repository.js';
import { PromotionsResolver } from './promotions.resolver.js';
import { PromotionsService } from './promotions.service.js';
import { RepolicyService } from './repolicy.service.js';

/** Promotion requests, approvals with separation of duties, and gates. */
@Module({
  imports: [EndpointsModule, RegistryModule, EvaluationModule],
  providers: [
    PromotionsRepository,
    PromotionsService,
    RepolicyService,
    ApprovalsService,
    GatesService,
    PromotionsResolver,
  ],
  exports: [PromotionsRepository, PromotionsService, GatesService, RepolicyService],
})
export class PromotionsModule {}
