import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { REPORT_FORMATS, type ReportFormat } from './report-document.js';

export const ReportFormatEnum = Object.fromEntries(REPORT_FORMATS.map((f) => [f, f])) as {
  [K in ReportFormat]: K;
};
registerEnumType(ReportFormatEnum, {
  name: 'ReportFormat',
  description:
    'JSON is the signed, machine-verifiable report; PDF and CSV are rendered from it. Any of the three can be fetched whatever was asked for.',
});

@ObjectType('AuditReport', {
  description:
    'A signed audit report: the ledger events of its subject with inclusion proofs against one signed checkpoint, and the sections derived from them.',
})
export class AuditReportModel {
  @Field(() => ID)
  id!: string;

  @Field({
    description:
      'e.g. model:credit-risk, model:credit-risk@2, promotion:<id>, rollout:<id>, period:<from>/<to>',
  })
  subject!: string;

  @Field(() => ReportFormatEnum)
  format!: ReportFormat;

  @Field({
    description:
      'Where to fetch it: GET this path (with a bearer token); .json, .pdf and .csv all work.',
  })
  url!: string;

  @Field({ description: 'SHA-256 of the JSON file, as recorded in report.exported.' })
  sha256!: string;

  @Field(() => Int)
  eventCount!: number;

  @Field(() => Int, { description: 'The tree size of the signed checkpoint the proofs lead to.' })
  treeSize!: number;

  @Field()
  rootHash!: string;

  @Field(() => String, { nullable: true })
  periodFrom!: string | null;

  @Field(() => String, { nullable: true })
  periodTo!: string | null;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;
}
