import { Module } from '@nestjs/common';
import { ArtifactsController } from './artifacts.controller.js';
import { ArtifactsRepository } from './artifacts.repository.js';
import { ArtifactsResolver } from './artifacts.resolver.js';
import { ArtifactsService } from './artifacts.service.js';

/** ONNX uploads: `PUT /v1/artifacts`, the `artifact` query, and ArtifactsService for others. */
@Module({
  providers: [ArtifactsRepository, ArtifactsService, ArtifactsResolver],
  controllers: [ArtifactsController],
  exports: [ArtifactsService],
})
export class ArtifactsModule {}
