import { Controller, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { mediaTypeOf, receiveUpload, uploadBody } from '../common/upload-body.js';
import {
  checkDatasetName,
  DATASET_MEDIA_TYPES,
  datasetFormatOf,
  DatasetsService,
  HOW_TO_SEND_DATASETS,
  type DatasetInfo,
} from './datasets.service.js';

function declaredLength(request: FastifyRequest): number | undefined {
  const declared = Number(request.headers['content-length']);
  return Number.isFinite(declared) ? declared : undefined;
}

@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /**
   * The file as the body (a CSV, or Parquet with its media type), `?name=` naming the dataset;
   * streamed to the blob store.
   */
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
        datasetFormatOf(mediaTypeOf(request)),
        uploadBody(request, {
          accept: DATASET_MEDIA_TYPES,
          howToSend: HOW_TO_SEND_DATASETS,
          maxBytes: this.datasets.maxBytes,
          what: 'dataset',
        }),
        principal,
        declaredLength(request),
      ),
    );
  }
}
