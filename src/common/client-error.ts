import { HttpException, Logger } from '@nestjs/common';
import { BadInputError, DomainError, httpStatusOf, type ErrorCode } from './errors.js';

/** What a client is told of an error, and the HTTP status that goes with it. */
export interface ClientError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly status: number;
}

const logger = new Logger('Errors');

/**
 * The one mapping from a thrown error to what the client sees, for the global filter and the
 * inference path alike. A DomainError keeps its code; anything that is not a DomainError or one
 * of Nest's HttpExceptions is a bug: logged in full here, answered as INTERNAL.
 */
export function clientErrorOf(exception: unknown): ClientError {
  if (exception instanceof DomainError) {
    return {
      code: exception.code,
      message: exception.message,
      details: exception.details,
      status: httpStatusOf(exception.code),
    };
  }
  const framework = frameworkClientError(
    exception instanceof HttpException ? exception.cause : exception,
  );
  if (framework) return framework;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return { code: codeOfStatus(status), message: exception.message, status };
  }
  logger.error(
    exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
  );
  return { code: 'INTERNAL', message: 'internal error', status: 500 };
}

/** The REST body of an error: `{"error": {code, message, details}}`. */
export function errorBody(error: ClientError): {
  error: { code: ErrorCode; message: string; details: ClientError['details'] };
} {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

/**
 * Fastify's own client errors (a 4xx `statusCode`, raised before any handler: a body that is
 * not JSON, an empty JSON body, an unsupported media type), named as our errors name a field.
 * Fastify's status stands: 415 stays 415.
 */
function frameworkClientError(error: unknown): ClientError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  const domain =
    statusCode === 413
      ? new DomainError('PAYLOAD_TOO_LARGE', `body: ${error.message}`, { field: 'body' })
      : statusCode === 415
        ? new BadInputError('content-type', error.message)
        : code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? new BadInputError('body', 'is empty; send a JSON object')
          : error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY'
            ? new BadInputError('body', `is not valid JSON: ${error.message}`)
            : new DomainError(codeOfStatus(statusCode), error.message);
  return {
    code: domain.code,
    message: domain.message,
    details: domain.details,
    status: statusCode,
  };
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status >= 400 && status < 500) return 'BAD_USER_INPUT';
  return 'INTERNAL';
}
