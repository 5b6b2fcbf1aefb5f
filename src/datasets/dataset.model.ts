import { ArgsType, Field, Float, ObjectType } from '@nestjs/graphql';
import { PageArgs } from '../common/pagination.js';

@ObjectType('DatasetColumn')
export class DatasetColumnModel {
  @Field()
  name!: string;

  @Field({
    description:
      '`number` when the column has values and every non-empty one is a finite number (a CSV), or is of a numeric type with values (Parquet); else `string`.',
  })
  type!: string;
}

@ObjectType('Dataset', {
  description: 'An uploaded CSV or Parquet file (PUT /v1/datasets) and its summary.',
})
export class DatasetModel {
  @Field()
  id!: string;

  @Field()
  name!: string;

  @Field({ description: "SHA-256 of the uploaded bytes: the dataset's identity." })
  sha256!: string;

  @Field({ description: '`csv` or `parquet`: the file uploaded.' })
  format!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'SHA-256 of its columns stored as an Arrow IPC file, which evaluations and batch jobs read; null for a CSV uploaded before Gatehouse stored columns (read from the CSV).',
  })
  columnarSha256!: string | null;

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
