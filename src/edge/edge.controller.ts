import { Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { EdgeBundleService } from './edge-bundle.service.js';

/** `GET /v1/edge/{endpoint}/bundle`: the signed bundle of the endpoint's live version (docs/edge.md). */
@Controller('v1/edge')
export class EdgeController {
  constructor(private readonly bundles: EdgeBundleService) {}

  @Get(':endpoint/bundle')
  @Can('read', 'EdgeBundle')
  async bundle(
    @Param('endpoint') endpoint: string,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { manifest, spec, size, stream } = await this.bundles.bundle(endpoint, principal);
    void reply
      .header('content-length', String(size))
      .type('application/x-tar')
      .header(
        'content-disposition',
        `attachment; filename="${spec.endpoint}-${spec.model}-${spec.version}.edge.tar"`,
      )
      .header(
        'x-edge-bundle-subject',
        `${manifest.subject[0].name} sha256:${manifest.subject[0].digest.sha256}`,
      )
      .send(Readable.from(stream()));
  }
}
