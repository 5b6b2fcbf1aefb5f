import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('PolicyDocument', {
  description: 'A policy file the service runs under, with its digest.',
})
export class PolicyDocumentModel {
  @Field({ description: 'File name, e.g. roles.yaml' })
  name!: string;

  @Field({ description: 'Lowercase hex SHA-256 of the file bytes; recorded with every decision.' })
  sha256!: string;

  @Field()
  content!: string;

  @Field(() => Date, {
    nullable: true,
    description: 'When a file with this digest was first loaded.',
  })
  firstLoadedAt?: Date;
}
