import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BadInputError, NotFoundError } from '../common/errors.js';
import type { DatasetEntity } from '../datasets/dataset.entity.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { JobQueue } from '../jobs/job-queue.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { ModelVersionEntity } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import type { DriftBaseline } from './metrics/drift.js';
import type { EvaluationEntity } from './evaluation.entity.js';
import { EvaluationRunner } from './evaluation-runner.service.js';
import { EvaluationsRepository, type RecordedDrift } from './evaluations.repository.js';

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
 * anything runs, and run as jobs on the shared queue (EvaluationRunner). Other modules read
 * evaluations through the lookups here.
 */
@Injectable()
export class EvaluationsService implements OnApplicationBootstrap {
  private static readonly logger = new Logger('Evaluations');

  constructor(
    private readonly repository: EvaluationsRepository,
    private readonly registry: RegistryService,
    private readonly datasets: DatasetsService,
    private readonly ledger: LedgerService,
    private readonly queue: JobQueue,
    private readonly runner: EvaluationRunner,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work('evaluation', (message) => this.runner.run(message.id));
    const queued = await this.repository.queuedIds();
    for (const id of queued) await this.queue.send('evaluation', id);
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
      const model = await this.registry.model(input.model, tx.manager);
      if (!model) throw new NotFoundError('model', input.model);
      const version = await this.registry.versionOfModel(model.id, input.version, tx.manager);
      if (!version) throw new NotFoundError('model version', `${input.model}@${input.version}`);
      const dataset = await this.datasets.get(input.dataset, tx.manager);

      const attributes = [...(input.protectedAttributes ?? model.protectedAttributes)];
      const references = referenceMap(input.referenceGroups ?? [], attributes);
      checkColumns(dataset, version, input.labelColumn, attributes);
      const id = randomUUID();
      const row = await this.repository.insert(tx.manager, {
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
      return row;
    });
    await this.queue.send('evaluation', evaluation.id);
    return evaluation;
  }

  async get(id: string): Promise<EvaluationEntity | null> {
    if (!UUID.test(id)) throw new BadInputError('id', 'must be an evaluation id');
    return this.repository.find(id);
  }

  /** An evaluation a stored row refers to (a promotion request), inside the caller's work. */
  byId(id: string, manager?: EntityManager): Promise<EvaluationEntity | null> {
    return this.repository.find(id, manager);
  }

  /**
   * The latest successful evaluation of a version, preferring one on the dataset with the
   * given digest, so the live version is compared on the same data where that is possible.
   */
  baseline(
    manager: EntityManager,
    modelVersionId: string,
    datasetSha256: string | null,
  ): Promise<EvaluationEntity | null> {
    return this.repository.baseline(manager, modelVersionId, datasetSha256);
  }

  /** The latest successful evaluation of a version over the dataset `datasetId`, if any. */
  async latestOnDataset(
    modelVersionId: string,
    datasetId: string,
  ): Promise<EvaluationEntity | null> {
    if (!UUID.test(datasetId)) throw new BadInputError('dataset', 'must be a dataset id');
    return this.repository.latestOnDataset(modelVersionId, datasetId);
  }

  /**
   * The drift figures of a version's successful evaluations: those of `preferred` when it is
   * one of them, or else of the latest.
   */
  driftBaseline(
    modelVersionId: string,
    preferred: string | null,
  ): Promise<{ evaluationId: string; drift: RecordedDrift } | null> {
    return this.repository.driftBaseline(modelVersionId, preferred);
  }

  /** The score distribution an evaluation recorded (its drift baseline), if any. */
  scoreBaseline(id: string): Promise<DriftBaseline | null> {
    return this.repository.scoreBaseline(id);
  }

  /** The model name and version number of a version id. */
  async versionOf(modelVersionId: string): Promise<{ model: string; version: number }> {
    const version = await this.registry.versionById(modelVersionId);
    const model = await this.registry.modelById(version.modelId);
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
