import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { FeedbackService, feedbackOf, type FeedbackView } from './feedback.service.js';

/**
 * Ground truth for an answered request. The application that sent the request sends its
 * outcome, so the same permission as inference suffices (roles.yaml: inference-client).
 */
@Controller('v1/endpoints')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  /** 201 for a new label, 200 for a repeat of the same one. */
  @Post(':endpoint/feedback')
  @Can('infer', 'Inference')
  async create(
    @Param('endpoint') endpoint: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FeedbackView> {
    const view = await this.feedback.record(endpoint, feedbackOf(body), principal);
    void reply.status(view.created ? 201 : 200);
    return view;
  }
}
