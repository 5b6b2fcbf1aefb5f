import { Controller, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { receiveUpload, uploadBody } from '../common/upload-body.js';
import { checkDatasetName, DatasetsService, type DatasetInfo } from './datasets.service.js';

@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /** The CSV bytes as the body, `?name=` naming the dataset; streamed and checked as they come. */
  @Put()
  @Can('create', 'Dataset')
  upload(
    @Query('name') name: string | undefined,
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DatasetInfo> {
    return receiveUpload(request, async () =>
      this.datasets.upload(
        checkDatasetName(name),
        uploadBody(request, {
          accept: ['text/csv', 'application/octet-stream'],
          maxBytes: this.datasets.maxBytes,
          what: 'dataset',
        }),
        principal,
      ),
    );
  }
}
