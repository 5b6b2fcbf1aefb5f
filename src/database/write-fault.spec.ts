import { describe, expect, it } from '@jest/globals';
import { sqlStateOf, writeErrorMessage, writeFaultOf } from './write-fault.js';

/** What node-postgres throws for an error the server reported. */
function databaseError(code: string, message = 'refused'): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

describe('whose fault a failed write is', () => {
  it('blames the row for data exceptions and integrity violations', () => {
    expect(writeFaultOf(databaseError('22P05', 'unsupported Unicode escape sequence'))).toBe('row');
    expect(writeFaultOf(databaseError('22021'))).toBe('row');
    expect(writeFaultOf(databaseError('23514'))).toBe('row');
    expect(writeFaultOf(databaseError('23505'))).toBe('row');
  });

  it('blames the database for lost connections, shutdowns, deadlocks and exhaustion', () => {
    for (const code of ['08006', '08P01', '40001', '40P01', '53300', '57P01', '57014', '58030'])
      expect(writeFaultOf(databaseError(code))).toBe('transient');
    expect(writeFaultOf(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(writeFaultOf(Object.assign(new Error('read EPIPE'), { code: 'EPIPE' }))).toBe(
      'transient',
    );
    expect(writeFaultOf('timeout')).toBe('transient');
  });

  it('blames nobody for anything else: a trigger, a privilege, a read-only server', () => {
    for (const code of ['P0001', '42501', '25006', '42P01', 'XX000'])
      expect(writeFaultOf(databaseError(code))).toBe('other');
  });

  it("reads the SQLSTATE through TypeORM's QueryFailedError", () => {
    const wrapped = Object.assign(new Error('query failed'), {
      driverError: databaseError('22P05'),
    });
    expect(sqlStateOf(wrapped)).toBe('22P05');
    expect(writeFaultOf(wrapped)).toBe('row');
  });

  it('says the message with its SQLSTATE', () => {
    expect(writeErrorMessage(databaseError('23514', 'check violated'))).toBe(
      'check violated (SQLSTATE 23514)',
    );
    expect(writeErrorMessage(new Error('Connection terminated'))).toBe('Connection terminated');
  });
});
