import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('LedgerCosignature', {
  description: 'A witness’s cosignature of a checkpoint (c2sp.org/tlog-cosignature, Ed25519).',
})
export class LedgerCosignatureModel {
  @Field({ description: 'The witness’s name: the key name of its cosignature.' })
  witness!: string;

  @Field({
    description: 'The witness’s verifier key (type 0x04) that the cosignature verifies with.',
  })
  vkey!: string;

  @Field(() => Date, { description: 'When the witness cosigned, as the cosignature states.' })
  timestamp!: Date;

  @Field({ description: 'The signature line, to append to the checkpoint note.' })
  signature!: string;
}
