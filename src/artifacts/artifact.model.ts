import { Field, Float, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('TensorSpec')
export class TensorSpecModel {
  @Field()
  name!: string;

  @Field({ description: 'Open Inference Protocol datatype: FP32, FP64, INT64, BOOL…' })
  datatype!: string;

  @Field(() => [Int], { description: '-1 for a dimension the model leaves free.' })
  shape!: number[];
}

@ObjectType('Opset', { description: 'An operator set the model imports.' })
export class OpsetModel {
  @Field({ description: 'ai.onnx (the default domain) or ai.onnx.ml.' })
  domain!: string;

  @Field(() => Int)
  version!: number;
}

@ObjectType('Artifact', {
  description: 'An uploaded ONNX model file, named by the SHA-256 of its bytes.',
})
export class ArtifactModel {
  @Field()
  sha256!: string;

  @Field(() => Float, { description: 'Bytes.' })
  size!: number;

  @Field({ description: 'onnx' })
  format!: string;

  @Field(() => [TensorSpecModel], { description: 'As ONNX Runtime reads them.' })
  inputs!: TensorSpecModel[];

  @Field(() => [TensorSpecModel])
  outputs!: TensorSpecModel[];

  @Field(() => [OpsetModel])
  opsets!: OpsetModel[];

  @Field({ description: 'Who uploaded these bytes first.' })
  createdBy!: string;

  @Field()
  createdAt!: Date;
}
