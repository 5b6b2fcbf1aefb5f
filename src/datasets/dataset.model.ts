import { ArgsType, Field, Float, ObjectType } from '@nestjs/graphql';
import { PageArgs } from '../common/pagination.js';

@ObjectType('DatasetColumn')
export class DatasetColumnModel {
  @Field()
  name!: string;

  @Field({
    description:
      '`number` when the column has values and every non-empty one is a finite number, else `string`.',
  })
  type!: string;
}

@ObjectType('Dataset', { description: 'An uploaded CSV file (PUT /v1/datasets) and its summary.' })
export class DatasetModel {
  @Field()
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'SHA-256 of the stored bytes.' })
  sha256!: string;

  @Field(() => Float, { description: 'Bytes.' })
  size!: number;

  @Field(() => Float, { description: 'Data rows, the header not counted.' })
  rows!: number;

  @Field(() => [DatasetColumnModel], { description: 'In file order.' })
  columns!: DatasetColumnModel[];

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType('DatasetPage')
export class DatasetPageModel {
  @Field(() => [DatasetModel])
  items!: DatasetModel[];

  @Field(() => String, { nullable: true })
  nextCursor!: string | null;
}

@ArgsType()
export class DatasetsArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Only datasets of this name.' })
  name?: string | null;
}
