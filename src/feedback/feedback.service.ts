import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { PredictionLog } from '../prediction-log/prediction-log.service.js';
import { RegistryService } from '../registry/registry.service.js';
import { FeedbackRepository, type ArmScope, type LabelledScore } from './feedback.repository.js';

export interface FeedbackInput {
  readonly requestId: string;
  readonly label: number;
}

export interface FeedbackView {
  readonly endpoint: string;
  readonly requestId: string;
  readonly label: number;
  readonly modelVersion: number;
  readonly receivedBy: string;
  readonly receivedAt: string;
  /** False when the same label had been received before (a retry). */
  readonly created: boolean;
}

const MAX_REQUEST_ID_LENGTH = 256;

/**
 * Ground truth that arrives after the prediction (`POST /v1/endpoints/{endpoint}/feedback`):
 * the outcome of a request the endpoint answered, joined later with the logged prediction for
 * labelled accuracy and AUC per arm. One label per request; sending the same label again is
 * a harmless retry, a different one is a conflict (a label is evidence, not a setting).
 */
@Injectable()
export class FeedbackService {
  constructor(
    private readonly repository: FeedbackRepository,
    private readonly predictions: PredictionLog,
    private readonly endpoints: EndpointsService,
    private readonly registry: RegistryService,
  ) {}

  async record(
    endpoint: string,
    input: FeedbackInput,
    principal: Principal,
  ): Promise<FeedbackView> {
    const prediction = await this.answered(endpoint, input.requestId);
    if (!prediction)
      throw new NotFoundError(
        'prediction',
        `${input.requestId} on endpoint ${endpoint} (predictions reach the log within about a second of the answer)`,
      );
    if (prediction.rows !== null && Number(prediction.rows) !== 1)
      throw new BadInputError(
        'requestId',
        `the request scored ${prediction.rows} rows: feedback labels one-row requests`,
      );
    if (prediction.task === 'BINARY_CLASSIFICATION' && input.label !== 0 && input.label !== 1)
      throw new BadInputError('label', 'must be 0 or 1 for a binary classifier');
    const inserted = await this.repository.insertIfAbsent(
      endpoint,
      input.requestId,
      input.label,
      principal.sub,
    );
    const created = inserted !== undefined;
    const row = inserted ?? (await this.repository.find(endpoint, input.requestId));
    if (!row) throw new Error('feedback vanished between its insert and its read');
    if (!created && row.label !== input.label)
      throw new ConflictError(
        `request ${input.requestId} already has the label ${row.label}: a label is not changed`,
        { label: row.label },
      );
    return {
      endpoint,
      requestId: input.requestId,
      label: row.label,
      modelVersion: prediction.modelVersion,
      receivedBy: row.received_by,
      receivedAt: row.received_at.toISOString(),
      created,
    };
  }

  /** Scores with their labels, by which a rollout judges an arm's accuracy. */
  labelledScores(
    scope: ArmScope,
    score: { output: string; index: number },
    since: Date,
    limit: number,
  ): Promise<LabelledScore[]> {
    return this.repository.labelledScores(scope, score, since, limit);
  }

  /** The logged answer to a request, with the task of the version that gave it. */
  private async answered(
    endpoint: string,
    requestId: string,
  ): Promise<{ modelVersion: number; rows: string | null; task: string } | null> {
    const prediction = await this.predictions.answered(endpoint, requestId);
    if (!prediction) return null;
    const row = await this.endpoints.byName(endpoint);
    const version =
      row && (await this.registry.versionOfModel(row.modelId, prediction.modelVersion));
    return version ? { ...prediction, task: version.task } : null;
  }
}

/** The JSON body: `{requestId, label}`; a boolean label is taken as 1 or 0. */
export function feedbackOf(body: unknown): FeedbackInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadInputError('body', 'expected a JSON object {"requestId": …, "label": …}');
  const { requestId, label } = body as Record<string, unknown>;
  if (typeof requestId !== 'string' || requestId.length === 0)
    throw new BadInputError('requestId', 'must be the id of the answered request (a string)');
  if (requestId.length > MAX_REQUEST_ID_LENGTH)
    throw new BadInputError('requestId', `must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
  if (typeof label === 'boolean') return { requestId, label: label ? 1 : 0 };
  if (typeof label !== 'number' || !Number.isFinite(label))
    throw new BadInputError(
      'label',
      'must be a finite number (0 or 1 for a classifier) or a boolean',
    );
  return { requestId, label };
}
