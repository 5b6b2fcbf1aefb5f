import { Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can } from '../auth/decorators.js';
import { InferenceService, type ModelMetadata, type ModelReadiness } from './inference.service.js';

/**
 * Open Inference Protocol (KServe v2) REST, the endpoint name standing for the model name.
 * Metadata and readiness need the same permission as inference: they are what an inference
 * client calls before it sends traffic. `POST /v2/models/{endpoint}/infer` itself is answered
 * ahead of Fastify and Nest, by src/inference/infer-lane.ts. (The health paths are in
 * src/health.)
 */
@Controller('v2/models')
export class OipController {
  constructor(private readonly inference: InferenceService) {}

  @Get(':endpoint')
  @Can('infer', 'Inference')
  metadata(@Param('endpoint') endpoint: string): Promise<ModelMetadata> {
    return this.inference.metadata(endpoint);
  }

  /** 200 when ready, 503 when not (KServe clients treat any non-200 as not ready). */
  @Get(':endpoint/ready')
  @Can('infer', 'Inference')
  async ready(
    @Param('endpoint') endpoint: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelReadiness> {
    const readiness = await this.inference.readiness(endpoint);
    void reply.status(readiness.ready ? 200 : 503);
    return readiness;
  }
}
