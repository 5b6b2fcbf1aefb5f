import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';

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

interface PredictionRow {
  model_version: number;
  rows: string | null;
  task: string;
}

interface FeedbackRow {
  label: number;
  received_by: string;
  received_at: Date;
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
  constructor(private readonly dataSource: DataSource) {}

  async record(
    endpoint: string,
    input: FeedbackInput,
    principal: Principal,
  ): Promise<FeedbackView> {
    const [prediction] = await this.dataSource.query<PredictionRow[]>(
      `SELECT p.model_version, p.inputs -> 0 -> 'shape' ->> 0 AS rows, v.task
         FROM predictions p
         JOIN endpoints e ON e.name = p.endpoint
         JOIN model_versions v ON v.model_id = e.model_id AND v.version = p.model_version
        WHERE p.endpoint = $1 AND p.request_id = $2
        ORDER BY p.id LIMIT 1`,
      [endpoint, input.requestId],
    );
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
    const inserted = await this.dataSource.query<FeedbackRow[]>(
      `INSERT INTO feedback (endpoint, request_id, label, received_by)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (endpoint, request_id) DO NOTHING
       RETURNING label, received_by, received_at`,
      [endpoint, input.requestId, input.label, principal.sub],
    );
    const created = inserted.length > 0;
    const row =
      inserted[0] ??
      (
        await this.dataSource.query<FeedbackRow[]>(
          `SELECT label, received_by, received_at FROM feedback
            WHERE endpoint = $1 AND request_id = $2`,
          [endpoint, input.requestId],
        )
      )[0];
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
      modelVersion: prediction.model_version,
      receivedBy: row.received_by,
      receivedAt: row.received_at.toISOString(),
      created,
    };
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
