import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can } from '../auth/decorators.js';
import {
  InferenceService,
  type InferResponse,
  type ModelMetadata,
  type ModelReadiness,
} from './inference.service.js';

/**
 * Open Inference Protocol (KServe v2) REST, the endpoint name standing for the model name.
 * Metadata and readiness need the same permission as inference: they are what an inference
 * client calls before it sends traffic. (The health paths are in src/health.)
 */
@Controller('v2/models')
export class OipController {
  constructor(private readonly inference: InferenceService) {}

  @Post(':endpoint/infer')
  @HttpCode(200)
  @Can('infer', 'Inference')
  infer(
    @Param('endpoint') endpoint: string,
    @Body() body: unknown,
    @Headers('x-routing-key') routingKey: string | undefined,
  ): Promise<InferResponse> {
    return this.inference.infer(endpoint, body, routingKey);
  }

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
