import { describe, expect, it } from 'vitest';
import { APPEND_ONLY_STATE, classifyDatabaseError } from './errors.ts';

/** What a driver raises: a message that quotes values and names, and a SQLSTATE. */
function driverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, constraint: 'customers_pkey', detail: 'Key (id)=(42)' });
}

describe('classifyDatabaseError', () => {
  it('never passes a driver message, value or constraint name to the client', () => {
    const cases: [string, string, string][] = [
      ['22P05', 'invalid byte sequence for encoding "UTF8": 0x00', 'DB_INVALID_VALUE'],
      ['22003', '"5e-324" is out of range for type real', 'DB_INVALID_VALUE'],
      ['23505', 'duplicate key value violates unique constraint "customers_pkey"', 'DB_UNIQUE_VIOLATION'],
      ['23503', 'insert violates foreign key constraint "x_fkey"', 'DB_REFERENCE_VIOLATION'],
      ['42501', 'permission denied for table audit_inbox', 'DB_PERMISSION_DENIED'],
      [APPEND_ONLY_STATE, 'table consent_records is append-only', 'LEDGER_APPEND_ONLY'],
    ];
    for (const [state, message, code] of cases) {
      const error = classifyDatabaseError(driverError(state, message));
      expect(error.code).toBe(code);
      const shown = JSON.stringify({ message: error.message, details: error.details });
      for (const secret of [
        'UTF8',
        '5e-324',
        'customers_pkey',
        'x_fkey',
        'audit_inbox',
        'consent_records',
        '42',
      ]) {
        expect(shown, `${state} shows ${secret}`).not.toContain(secret);
      }
    }
  });

  it('recognises the append-only refusal by its SQLSTATE, not by its words', () => {
    expect(classifyDatabaseError(driverError('P0001', 'table x is append-only')).code).toBe('DB_ERROR');
    expect(classifyDatabaseError(driverError(APPEND_ONLY_STATE, 'anything')).code).toBe('LEDGER_APPEND_ONLY');
  });
});
