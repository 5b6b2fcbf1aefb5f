/**
 * The error codes a client can see, part of the public API. Each module throws a subclass of DomainError
 * with one of these; the global filter turns it into `extensions.code` for GraphQL and a status
 * for REST. Anything that is not a DomainError is a bug: logged in full, answered as INTERNAL.
 */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'GATE_FAILED',
  'SEPARATION_OF_DUTIES',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable particulars a client may show (field names, failing gates…). */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: always names the field and the reason. */
export class BadInputError extends DomainError {
  constructor(
    readonly field: string,
    reason: string,
    details?: Record<string, unknown>,
  ) {
    super('BAD_USER_INPUT', `${field}: ${reason}`, { field, ...details });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, key: string) {
    super('NOT_FOUND', `${what} ${key} does not exist`, { what, key });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONFLICT', message, details);
  }
}

/** A body larger than the configured limit: answered 413 and nothing is kept. */
export class TooLargeError extends DomainError {
  constructor(what: string, limit: number) {
    super('PAYLOAD_TOO_LARGE', `${what} is larger than the limit of ${limit} bytes`, {
      limit,
    });
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
    case 'SEPARATION_OF_DUTIES':
      return 403;
    case 'BAD_USER_INPUT':
      return 400;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'GATE_FAILED':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
  }
}
