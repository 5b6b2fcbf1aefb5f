import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { StreamBindingsRepository } from './stream-bindings.repository.js';
import { StreamBindingsResolver } from './stream-bindings.resolver.js';
import { StreamBindingsService } from './stream-bindings.service.js';

/** Streaming inference: endpoints bound to NATS JetStream inputs; owns `stream_bindings`. */
@Module({
  imports: [EndpointsModule, RegistryModule],
  providers: [StreamBindingsRepository, StreamBindingsService, StreamBindingsResolver],
  exports: [StreamBindingsService],
})
export class StreamingModule {}
