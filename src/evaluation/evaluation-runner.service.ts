import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ArtifactsService } from '../artifacts/artifacts.service.js';
import { BlobStore } from '../blobs/blob-store.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { DatasetEntity } from '../datasets/dataset.entity.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { readDatasetChunks } from '../datasets/dataset-reader.js';
import { ModelRuntime } from '../runtime/model-runtime.service.js';
import { canonicalize } from '../ledger/canonical-json.js';
import type { JsonObject } from '../ledger/event-catalogue.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { ModelVersionEntity } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import { strideFor, type EvaluationData, type EvaluationFigures } from './evaluation-compute.js';
import { FAIRNESS_FIGURES, PERFORMANCE_FIGURES } from './metrics/index.js';
import type { EvaluationEntity } from './evaluation.entity.js';
import { EvaluationsRepository } from './evaluations.repository.js';
import { computeOffThread } from './evaluation-threads.js';
import { withSpan } from '../telemetry/tracing.js';

const SYSTEM = { sub: 'system:evaluation' };

/** A row that cannot be evaluated: named by data row and column. */
class RowError extends Error {}

/**
 * Runs one evaluation: the registered artifact scores the dataset chunk by chunk (the same
 * ONNX Runtime session as serving), labels and protected attributes are collected alongside,
 * then every figure is computed on a worker thread. The result, its digest and the
 * `evaluation.completed` event (with the dataset, artifact, result and policy digests) commit
 * together; after that the row can no longer change.
 */
@Injectable()
export class EvaluationRunner {
  private static readonly logger = new Logger('EvaluationRunner');

  constructor(
    private readonly repository: EvaluationsRepository,
    private readonly registry: RegistryService,
    private readonly datasets: DatasetsService,
    private readonly artifacts: ArtifactsService,
    private readonly ledger: LedgerService,
    private readonly blobs: BlobStore,
    private readonly runtime: ModelRuntime,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  /** A trace of its own (the job runs off any request): `evaluation.completed` carries its id. */
  run(id: string): Promise<void> {
    return withSpan('gatehouse.evaluation.run', { 'gatehouse.evaluation.id': id }, () =>
      this.runTraced(id),
    );
  }

  private async runTraced(id: string): Promise<void> {
    const started = performance.now();
    if (!(await this.repository.claim(id))) return;
    const evaluation = await this.repository.find(id);
    if (!evaluation) throw new Error(`evaluation ${id} vanished after it was claimed`);
    const version = await this.registry.versionById(evaluation.modelVersionId);
    const model = await this.registry.modelById(version.modelId);
    const dataset = await this.datasets.get(evaluation.datasetId);
    try {
      const { data, readMs, inferenceMs } = await this.collect(evaluation, version, dataset);
      const policy = this.policies.evaluation.value;
      const computing = performance.now();
      const { figures, bootstrapMs } = await computeOffThread(data, {
        fairness: policy.fairness,
        bootstrap: evaluation.bootstrap && {
          ...evaluation.bootstrap,
          confidenceLevel: policy.bootstrap.confidenceLevel,
        },
        driftBins: policy.drift.bins,
      });
      const storing = performance.now();
      const metricsMs = storing - computing - bootstrapMs;
      const result = {
        evaluationId: id,
        model: model.name,
        version: version.version,
        artifactSha256: version.artifactSha256,
        dataset: { id: dataset.id, name: dataset.name, sha256: dataset.sha256, rows: dataset.rows },
        labelColumn: evaluation.labelColumn,
        protectedAttributes: evaluation.protectedAttributes,
        referenceGroups: evaluation.referenceGroups,
        policySha256: evaluation.policySha256,
        ...figures,
      };
      const canonical = canonicalize(result);
      const resultSha256 = createHash('sha256').update(canonical, 'utf8').digest('hex');
      await this.ledger.transaction(async (tx) => {
        await this.repository.storeResult(tx.manager, id, {
          rowsDone: dataset.rows,
          canonicalResult: canonical,
          resultSha256,
        });
        tx.record({
          type: 'evaluation.completed',
          subject: `model:${model.name}@${version.version}`,
          actor: SYSTEM,
          payload: {
            evaluationId: id,
            resultSha256,
            artifactSha256: version.artifactSha256,
            datasetSha256: dataset.sha256,
            policySha256: evaluation.policySha256,
            rows: dataset.rows,
            headline: headline(figures),
          },
        });
        const stored = performance.now();
        await this.repository.succeed(tx.manager, id, {
          readMs,
          inferenceMs,
          metricsMs,
          bootstrapMs,
          storeMs: stored - storing,
          totalMs: stored - started,
        });
      });
      EvaluationRunner.logger.log(
        `evaluation ${id} of ${model.name}@${version.version}: ${dataset.rows} rows in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      EvaluationRunner.logger.warn(`evaluation ${id} failed: ${message}`);
      await this.ledger.transaction(async (tx) => {
        await this.repository.fail(tx.manager, id, message.slice(0, 2000));
        tx.record({
          type: 'evaluation.failed',
          subject: `model:${model.name}@${version.version}`,
          actor: SYSTEM,
          payload: { evaluationId: id, error: message.slice(0, 2000) },
        });
      });
    }
  }

  /**
   * Streams the dataset through the model; bounded by the row count's typed arrays. Reading
   * and inference alternate chunk by chunk, so each is timed as the sum of its own spans.
   */
  private async collect(
    evaluation: EvaluationEntity,
    version: ModelVersionEntity,
    dataset: DatasetEntity,
  ): Promise<{ data: EvaluationData; readMs: number; inferenceMs: number }> {
    const rows = dataset.rows;
    const width = version.featureColumns.length;
    const stride = strideFor(rows);
    const sampleRows = Math.ceil(rows / stride);
    const scores = new Float64Array(rows);
    const labels = new Float64Array(rows);
    const featureSample = new Float32Array(sampleRows * width);
    const groups = evaluation.protectedAttributes.map(() => new Int32Array(rows));
    const dictionaries: (readonly string[])[] = evaluation.protectedAttributes.map(() => []);
    const classification = version.task === 'BINARY_CLASSIFICATION';
    // A numeric label column is read as numbers; one inferred as text holds a value that is no
    // number, and is read as text so that the error can quote it.
    const label = evaluation.labelColumn;
    const labelIsText = dataset.columns.find((c) => c.name === label)?.type !== 'number';
    let done = 0;
    let readMs = 0;
    let inferenceMs = 0;
    let lastProgress = performance.now();
    let reading = performance.now();
    for await (const chunk of readDatasetChunks(this.blobs, dataset, {
      features: version.featureColumns,
      ...(labelIsText ? { strings: [label] } : { numbers: [label] }),
      groups: evaluation.protectedAttributes,
      chunkRows: this.config.batch.chunkRows,
    })) {
      const scoring = performance.now();
      readMs += scoring - reading;
      const chunkScores = await this.runtime.score(version, chunk.features, chunk.rows);
      const collecting = performance.now();
      inferenceMs += collecting - scoring;
      scores.set(chunkScores, done);
      const labelText = chunk.strings[label];
      const labelValues = chunk.numbers[label];
      for (let i = 0; i < chunk.rows; i++) {
        const text = labelText?.[i];
        const value =
          text === undefined
            ? (labelValues?.[i] ?? Number.NaN)
            : text.trim() === ''
              ? Number.NaN
              : Number(text);
        if (classification ? value !== 0 && value !== 1 : !Number.isFinite(value))
          throw new RowError(
            `data row ${chunk.firstRow + i}, column ${label}: ${JSON.stringify(text ?? (Number.isNaN(value) ? '' : String(value)))} is not ${classification ? 'a binary label (0 or 1)' : 'a number'}`,
          );
        labels[done + i] = value;
      }
      for (let i = done % stride === 0 ? 0 : stride - (done % stride); i < chunk.rows; i += stride)
        featureSample.set(
          chunk.features.subarray(i * width, (i + 1) * width),
          ((done + i) / stride) * width,
        );
      evaluation.protectedAttributes.forEach((name, a) => {
        const read = chunk.groups[name];
        if (read === undefined) return;
        groups[a]?.set(read.codes, done);
        dictionaries[a] = read.dictionary;
      });
      done += chunk.rows;
      reading = performance.now();
      readMs += reading - collecting;
      if (reading - lastProgress > 500) {
        lastProgress = reading;
        await this.repository.progress(evaluation.id, done);
        reading = performance.now();
      }
    }
    // The pull that finds the end: the digest of the whole file is checked there.
    readMs += performance.now() - reading;
    if (done !== rows)
      throw new Error(`dataset ${dataset.id} has ${done} rows, ${rows} were registered`);
    const data: EvaluationData = {
      task: version.task,
      rows,
      scores,
      labels,
      threshold: version.threshold,
      scoreDatatype:
        (await this.artifacts.get(version.artifactSha256)).outputs.find(
          (o) => o.name === version.scoreOutput,
        )?.datatype ?? 'FP32',
      attributes: evaluation.protectedAttributes.map((name, a) => ({
        name,
        groups: { dictionary: [...(dictionaries[a] ?? [])], codes: groups[a] ?? new Int32Array(0) },
        referenceGroup: evaluation.referenceGroups[name] ?? null,
      })),
      features: version.featureColumns,
      featureSample,
      sampleRows,
      sampleStride: stride,
    };
    return { data, readMs, inferenceMs };
  }
}

/** The figures a reader of the ledger wants without fetching the whole result. */
function headline(figures: EvaluationFigures): JsonObject {
  const c = figures.classification;
  if (c === null) {
    const r = figures.regression;
    return r === null ? {} : { rmse: r.rmse, mae: r.mae, r2: r.r2 };
  }
  return {
    ...Object.fromEntries(PERFORMANCE_FIGURES.map((f) => [f, c.performance[f]])),
    fairness: c.fairness.map((a) => ({
      attribute: a.attribute,
      ...Object.fromEntries(FAIRNESS_FIGURES.map((f) => [f, a[f]])),
      passesFourFifths: a.passesFourFifths,
    })),
  };
}
