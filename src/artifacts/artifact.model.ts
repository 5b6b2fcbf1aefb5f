import { Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { TensorSpecModel } from '../registry/registry.model.js';

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
