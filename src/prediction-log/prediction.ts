/** Who produced a prediction: the live version, the candidate answering, or a shadow copy. */
export type PredictionArm = 'live' | 'candidate' | 'shadow';

/** A tensor as logged: the members in RFC 8785 order, so serializing needs no sorting. */
export interface LoggedTensor {
  readonly data: readonly (number | boolean | string)[];
  readonly datatype: string;
  readonly name: string;
  readonly shape: readonly number[];
}

/** One answered (or failed) request, as queued for the log. */
export interface PredictionRecord {
  /** The request's OIP id. */
  readonly requestId: string;
  readonly endpoint: string;
  readonly modelVersion: number;
  readonly arm: PredictionArm;
  readonly inputs: readonly LoggedTensor[];
  /** Null when the model failed; `error` says why. */
  readonly outputs: readonly LoggedTensor[] | null;
  readonly error: string | null;
  readonly latencyMs: number;
  /** SHA-256 of the routing key, never the key itself; null without one. */
  readonly routingKeyHash: string | null;
  readonly createdAt: Date;
}
