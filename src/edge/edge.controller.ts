import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { requestingDevice } from './edge-assignment.js';
import { EdgeBundleService } from './edge-bundle.service.js';

/**
 * `GET /v1/edge/{endpoint}/bundle`: the signed bundle a device is to run, following the
 * endpoint's rollout (docs/edge.md). Its ETag is the manifest's subject digest, so a device
 * polling with `If-None-Match` gets a 304 until its bundle changes.
 */
@Controller('v1/edge')
export class EdgeController {
  constructor(private readonly bundles: EdgeBundleService) {}

  @Get(':endpoint/bundle')
  @Can('read', 'EdgeBundle')
  async bundle(
    @Param('endpoint') endpoint: string,
    @Query('device') asked: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const device = requestingDevice(principal, asked);
    const bundle = await this.bundles.bundle(endpoint, principal, device);
    const { manifest, spec, size, stream, assignment } = bundle;
    const subject = manifest.subject[0];
    const etag = `"${subject.digest.sha256}"`;
    void reply
      .header('etag', etag)
      // Shared by every device of the assignment; a cache must ask again before reusing it.
      .header('cache-control', 'no-cache')
      .header('x-edge-assignment', assignment?.mode ?? 'live');
    if (matches(ifNoneMatch, etag)) {
      void reply.code(304).send();
      return;
    }
    await this.bundles.checkModels(bundle);
    const name = assignment
      ? `${spec.endpoint}-${spec.model}-${spec.version}-${assignment.mode}-${assignment.candidateVersion}`
      : `${spec.endpoint}-${spec.model}-${spec.version}`;
    void reply
      .header('content-length', String(size))
      .type('application/x-tar')
      .header('content-disposition', `attachment; filename="${name}.edge.tar"`)
      .header('x-edge-bundle-subject', `${subject.name} sha256:${subject.digest.sha256}`)
      .send(Readable.from(stream()));
  }
}

/** RFC 9110 §13.1.2: a list of entity tags, weak ones compared weakly, or `*`. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}
