import { Controller, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { receiveUpload, uploadBody } from '../common/upload-body.js';
import { ArtifactsService, type ArtifactInfo } from './artifacts.service.js';

@Controller('v1/artifacts')
export class ArtifactsController {
  constructor(private readonly artifacts: ArtifactsService) {}

  /** The ONNX bytes as the body; streamed, so the global body limit does not apply. */
  @Put()
  @Can('create', 'Artifact')
  upload(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ArtifactInfo> {
    return receiveUpload(request, () =>
      this.artifacts.upload(
        uploadBody(request, {
          accept: ['application/octet-stream'],
          maxBytes: this.artifacts.maxBytes,
          what: 'artifact',
        }),
        principal,
      ),
    );
  }
}
