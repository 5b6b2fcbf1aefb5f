import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { TooLargeError } from '../common/errors.js';
import { receiveUpload, uploadBody } from '../common/upload-body.js';
import {
  EdgeUploadsService,
  MAX_UPLOAD_BYTES,
  type DevicePosition,
  type UploadAnswer,
} from './edge-uploads.service.js';

/** A device's log coming home (docs/edge.md, "Sync"): the device is the token's `sub`. */
@Controller('v1/edge')
export class EdgeUploadsController {
  constructor(private readonly uploads: EdgeUploadsService) {}

  /** Where the device stands: the last of its records the service accepted for the endpoint. */
  @Get(':endpoint/predictions/position')
  @Can('create', 'EdgePrediction')
  position(
    @Param('endpoint') endpoint: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DevicePosition> {
    return this.uploads.position(endpoint, principal);
  }

  /** NDJSON of device log records, at most MAX_UPLOAD_BYTES. */
  @Post(':endpoint/predictions')
  @HttpCode(200)
  @Can('create', 'EdgePrediction')
  upload(
    @Param('endpoint') endpoint: string,
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<UploadAnswer> {
    return receiveUpload(request, async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of uploadBody(request, {
        accept: ['application/x-ndjson'],
        howToSend: 'send the device log records as application/x-ndjson',
        maxBytes: MAX_UPLOAD_BYTES,
        what: 'body: a device log upload',
      })) {
        size += chunk.length;
        if (size > MAX_UPLOAD_BYTES)
          throw new TooLargeError('body: a device log upload', MAX_UPLOAD_BYTES);
        chunks.push(chunk);
      }
      return this.uploads.upload(endpoint, principal, Buffer.concat(chunks, size));
    });
  }
}
