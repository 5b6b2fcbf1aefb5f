import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { DeploymentService } from './deployment.service.js';
import { EndpointsResolver } from './endpoints.resolver.js';
import { EndpointsService } from './endpoints.service.js';

@Module({
  imports: [RegistryModule],
  providers: [EndpointsService, EndpointsResolver, DeploymentService],
  exports: [EndpointsService, DeploymentService],
})
export class EndpointsModule {}
