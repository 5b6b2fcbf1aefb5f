import { DomainError } from '../common/errors.js';

export class UnauthenticatedError extends DomainError {
  constructor(
    /** Why, without the "authentication required" the message begins with. */
    readonly why: string,
  ) {
    super('UNAUTHENTICATED', `authentication required: ${why}`);
  }
}

export class ForbiddenError extends DomainError {
  constructor(action: string, subject: string, details?: Record<string, unknown>) {
    super('FORBIDDEN', `not allowed to ${action} ${subject}`, { action, subject, ...details });
  }
}
