import { ConflictError, DomainError } from '../common/errors.js';

/** The endpoint exists but nothing answers on it yet. */
export class NoLiveVersionError extends ConflictError {
  constructor(endpoint: string) {
    super(
      `endpoint ${endpoint} has no live version: a version goes live through an approved promotion`,
      { endpoint },
    );
  }
}

/**
 * The model ran and failed, or answered something the protocol cannot carry. Not the
 * client's fault: a 500 that names the endpoint and version, with the reason.
 */
export class ModelFailureError extends DomainError {
  constructor(endpoint: string, version: number, reason: string) {
    super('INTERNAL', `endpoint ${endpoint}, version ${version}: the model failed: ${reason}`, {
      endpoint,
      version,
    });
  }
}

/**
 * The endpoint requires every prediction it serves to be logged, and the log can take no more
 * now (the database away and the spool full, or the log turned off): the request is refused
 * before an unlogged answer leaves. Sent again later, it can succeed.
 */
export class PredictionLogUnavailableError extends DomainError {
  constructor(endpoint: string) {
    super(
      'UNAVAILABLE',
      `endpoint ${endpoint} requires every prediction to be logged, and the prediction log cannot take more now: send the request again later`,
      { endpoint, predictionLogPolicy: 'REQUIRED' },
    );
  }
}
