import { DomainError } from '../common/errors.js';

/**
 * What the database holds no longer agrees with the ledger (a stored figure whose digest is
 * not the one recorded, a missing Merkle node): the report is refused rather than signed, and
 * the message says what disagrees so that `gatehouse ledger verify` can be run next.
 */
export class ReportIntegrityError extends DomainError {
  constructor(message: string) {
    super('CONFLICT', `the report cannot be signed: ${message}`);
  }
}
