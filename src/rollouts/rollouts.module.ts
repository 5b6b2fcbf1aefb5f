import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { PromotionsModule } from '../promotions/promotions.module.js';
import { RolloutsRepository } from './rollouts.repository.js';
import { PromotionRolloutResolver, RolloutsResolver } from './rollouts.resolver.js';
import { RolloutsService } from './rollouts.service.js';

/** Rollouts of approved promotions: the INITIAL go-live now, the staged engine next. */
@Module({
  imports: [PromotionsModule, EndpointsModule],
  providers: [RolloutsRepository, RolloutsService, RolloutsResolver, PromotionRolloutResolver],
  exports: [RolloutsService],
})
export class RolloutsModule {}
