import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BadInputError, NotFoundError } from '../common/errors.js';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import { JobQueue } from '../jobs/job-queue.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import { ModelVersionEntity } from '../registry/model-version.entity.js';
import { ModelEntity } from '../registry/model.entity.js';
import { EvaluationEntity } from './evaluation.entity.js';
import { EvaluationRunner } from './evaluation-runner.service.js';

export interface EvaluationRequest {
  readonly model: string;
  readonly version: number;
  readonly dataset: string;
  readonly labelColumn: string;
  readonly protectedAttributes?: readonly string[] | null;
  readonly referenceGroups?: readonly { attribute: string; group: string }[] | null;
  readonly bootstrap?: { resamples?: number | null; seed: number } | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Evaluations are requested here, checked against the dataset's recorded columns before
 * anything runs, and run as jobs on the shared queue (EvaluationRunner).
 */
@Injectable()
export class EvaluationsService implements OnApplicationBootstrap {
  private static readonly logger = new Logger('Evaluations');

  constructor(
    private readonly dataSource: DataSource,
    private readonly ledger: LedgerService,
    private readonly queue: JobQueue,
    private readonly runner: EvaluationRunner,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work('evaluation', (message) => this.runner.run(message.id));
    const queued = await this.dataSource.manager.find(EvaluationEntity, {
      where: { status: 'QUEUED' },
      select: { id: true },
    });
    for (const e of queued) await this.queue.send('evaluation', e.id);
    if (queued.length > 0) EvaluationsService.logger.log(`re-sent ${queued.length} evaluations`);
  }

  async request(input: EvaluationRequest, principal: Principal): Promise<EvaluationEntity> {
    if (!UUID.test(input.dataset)) throw new BadInputError('dataset', 'must be a dataset id');
    const policy = this.policies.evaluation;
    const bootstrap =
      input.bootstrap === undefined || input.bootstrap === null
        ? null
        : {
            resamples: input.bootstrap.resamples ?? policy.value.bootstrap.defaultResamples,
            seed: input.bootstrap.seed,
          };
    if (bootstrap !== null) {
      if (
        !Number.isInteger(bootstrap.resamples) ||
        bootstrap.resamples < 10 ||
        bootstrap.resamples > 10_000
      )
        throw new BadInputError('bootstrap.resamples', 'must be an integer from 10 to 10000');
      if (!Number.isInteger(bootstrap.seed) || bootstrap.seed < 0)
        throw new BadInputError('bootstrap.seed', 'must be a non-negative integer');
    }
    const evaluation = await this.ledger.transaction(async (tx) => {
      const model = await tx.manager.findOneBy(ModelEntity, { name: input.model });
      if (!model) throw new NotFoundError('model', input.model);
      const version = await tx.manager.findOneBy(ModelVersionEntity, {
        modelId: model.id,
        version: input.version,
      });
      if (!version) throw new NotFoundError('model version', `${input.model}@${input.version}`);
      const dataset = await tx.manager.findOneBy(DatasetEntity, { id: input.dataset });
      if (!dataset) throw new NotFoundError('dataset', input.dataset);

      const attributes = [...(input.protectedAttributes ?? model.protectedAttributes)];
      const references = referenceMap(input.referenceGroups ?? [], attributes);
      checkColumns(dataset, version, input.labelColumn, attributes);
      const id = randomUUID();
      await tx.manager.insert(EvaluationEntity, {
        id,
        modelVersionId: version.id,
        datasetId: dataset.id,
        labelColumn: input.labelColumn,
        protectedAttributes: attributes,
        referenceGroups: references,
        bootstrap,
        policySha256: policy.sha256,
        status: 'QUEUED',
        rowsTotal: dataset.rows,
        rowsDone: 0,
        createdBy: principal.sub,
      });
      tx.record({
        type: 'evaluation.requested',
        subject: `model:${model.name}@${version.version}`,
        actor: actorOf(principal),
        payload: {
          evaluationId: id,
          artifactSha256: version.artifactSha256,
          datasetId: dataset.id,
          datasetSha256: dataset.sha256,
          labelColumn: input.labelColumn,
          protectedAttributes: attributes,
          referenceGroups: references,
          bootstrap,
          policySha256: policy.sha256,
        },
      });
      return tx.manager.findOneByOrFail(EvaluationEntity, { id });
    });
    await this.queue.send('evaluation', evaluation.id);
    return evaluation;
  }

  async get(id: string): Promise<EvaluationEntity | null> {
    if (!UUID.test(id)) throw new BadInputError('id', 'must be an evaluation id');
    return this.dataSource.manager.findOneBy(EvaluationEntity, { id });
  }

  /** The model name and version number of a version id. */
  async versionOf(modelVersionId: string): Promise<{ model: string; version: number }> {
    const version = await this.dataSource.manager.findOneByOrFail(ModelVersionEntity, {
      id: modelVersionId,
    });
    const model = await this.dataSource.manager.findOneByOrFail(ModelEntity, {
      id: version.modelId,
    });
    return { model: model.name, version: version.version };
  }
}

function referenceMap(
  references: readonly { attribute: string; group: string }[],
  attributes: readonly string[],
): Record<string, string> {
  // Attribute names are the client's: own members only, so `constructor` is a name like any other.
  const map: Record<string, string> = {};
  references.forEach((r, i) => {
    if (!attributes.includes(r.attribute))
      throw new BadInputError(
        `referenceGroups[${i}].attribute`,
        `${r.attribute} is not one of the protected attributes (${attributes.join(', ')})`,
      );
    if (Object.hasOwn(map, r.attribute))
      throw new BadInputError(`referenceGroups[${i}].attribute`, `names ${r.attribute} twice`);
    Object.defineProperty(map, r.attribute, { value: r.group, enumerable: true, writable: true });
  });
  return map;
}

/** Refused before anything runs: the columns the dataset was registered with must fit. */
function checkColumns(
  dataset: DatasetEntity,
  version: ModelVersionEntity,
  labelColumn: string,
  attributes: readonly string[],
): void {
  const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
  const missing = (field: string, column: string): never => {
    throw new BadInputError(
      field,
      `dataset ${dataset.name} has no column ${JSON.stringify(column)}`,
    );
  };
  if (!types.has(labelColumn)) missing('labelColumn', labelColumn);
  if (types.get(labelColumn) !== 'number')
    throw new BadInputError('labelColumn', `column ${labelColumn} is not numeric`);
  attributes.forEach((a, i) => {
    if (!types.has(a)) missing(`protectedAttributes[${i}]`, a);
  });
  version.featureColumns.forEach((c) => {
    if (!types.has(c)) missing('dataset', c);
    if (types.get(c) !== 'number')
      throw new BadInputError(
        'dataset',
        `feature column ${c} of dataset ${dataset.name} is not numeric`,
      );
  });
}
