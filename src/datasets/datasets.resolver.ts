import { Args, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../auth/decorators.js';
import { DatasetModel, DatasetPageModel, DatasetsArgs } from './dataset.model.js';
import type { DatasetEntity } from './dataset.entity.js';
import { DatasetsService } from './datasets.service.js';

@Resolver(() => DatasetModel)
export class DatasetsResolver {
  constructor(private readonly service: DatasetsService) {}

  @Query(() => DatasetPageModel, {
    description: 'Uploaded datasets, oldest first.',
    complexity: ({ args, childComplexity }) => Number(args['limit'] ?? 50) * childComplexity,
  })
  @Can('read', 'Dataset')
  datasets(@Args() args: DatasetsArgs): Promise<DatasetPageModel> {
    return this.service.page(args);
  }

  @Query(() => DatasetModel, { nullable: true })
  @Can('read', 'Dataset')
  dataset(@Args('id') id: string): Promise<DatasetEntity | null> {
    return this.service.find(id);
  }
}
