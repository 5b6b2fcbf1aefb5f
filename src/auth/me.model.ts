import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('Permission')
export class PermissionModel {
  @Field()
  action!: string;

  @Field({ description: '`all` means every subject.' })
  subject!: string;
}

@ObjectType('Me', {
  description: 'The caller, as the verified token and the roles policy see them.',
})
export class MeModel {
  @Field()
  sub!: string;

  @Field(() => [String])
  roles!: string[];

  @Field()
  issuer!: string;

  @Field(() => [PermissionModel], {
    description: 'What the roles allow, from policies/roles.yaml.',
  })
  abilities!: PermissionModel[];
}
