import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { DeploymentService } from './deployment.service.js';
import { EndpointsRepository } from './endpoints.repository.js';
import { EndpointsResolver } from './endpoints.resolver.js';
import { EndpointsService } from './endpoints.service.js';

/** Endpoints and their traffic state: the only module that reads or writes `endpoints`. */
@Module({
  imports: [RegistryModule],
  providers: [EndpointsRepository, EndpointsService, EndpointsResolver, DeploymentService],
  exports: [EndpointsService, DeploymentService],
})
export class EndpointsModule {}
