import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { InferenceModule } from '../inference/inference.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { StreamBindingsRepository } from './stream-bindings.repository.js';
import { StreamBindingsResolver } from './stream-bindings.resolver.js';
import { StreamBindingsService } from './stream-bindings.service.js';
import { StreamConsumers } from './stream-consumers.service.js';

/**
 * Streaming inference: endpoints bound to NATS JetStream inputs (owns `stream_bindings`), and
 * the subscriptions that answer them on every replica.
 */
@Module({
  imports: [EndpointsModule, RegistryModule, InferenceModule],
  providers: [
    StreamBindingsRepository,
    StreamBindingsService,
    StreamBindingsResolver,
    StreamConsumers,
  ],
  exports: [StreamBindingsService],
})
export class StreamingModule {}
