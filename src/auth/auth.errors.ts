import { DomainError } from '../common/errors.js';

export class UnauthenticatedError extends DomainError {
  constructor(reason: string) {
    super('UNAUTHENTICATED', `authentication required: ${reason}`);
  }
}

export class ForbiddenError extends DomainError {
  constructor(action: string, subject: string, details?: Record<string, unknown>) {
    super('FORBIDDEN', `not allowed to ${action} ${subject}`, { action, subject, ...details });
  }
}
