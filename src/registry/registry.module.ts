import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module.js';
import { RegistryRepository } from './registry.repository.js';
import { RegistryResolver } from './registry.resolver.js';
import { RegistryService } from './registry.service.js';

/** Models and versions: the only module that reads or writes `models` and `model_versions`. */
@Module({
  imports: [ArtifactsModule],
  providers: [RegistryRepository, RegistryService, RegistryResolver],
  exports: [RegistryService],
})
export class RegistryModule {}
