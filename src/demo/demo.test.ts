import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.ts';
import type { SourceRecord } from '../synthetic/index.ts';
import { parseCustomerCount, parseDemoAsOf, splitFullName, toCustomerInput } from './index.ts';

const record: SourceRecord = {
  source: 'shipping',
  externalId: 'CN-1',
  truePersonId: 'P0000001',
  createdAt: '2025-01-02T03:04:05Z',
  updatedAt: '2025-02-03T04:05:06Z',
  fullName: 'Mrs Ann B. Lee',
  email: 'ann.lee@example.com',
  phone: '07700 900027',
};

describe('splitFullName', () => {
  it.each([
    ['Sarah Clarke', { givenName: 'Sarah', familyName: 'Clarke' }],
    ['Mrs Ann B. Lee', { givenName: 'Ann B.', familyName: 'Lee' }],
    ['Dr. María García López', { givenName: 'María', familyName: 'García López' }],
    ['LEE, ANN B.', { givenName: 'ANN B.', familyName: 'LEE' }],
    ['  Cher  ', { familyName: 'Cher' }],
    ['Mr', { familyName: 'Mr' }],
    ['', {}],
  ])('splits %j', (input, expected) => {
    expect(splitFullName(input)).toEqual(expected);
  });
});

describe('toCustomerInput', () => {
  it('keeps the identity and source, splits a single name field and reads a local phone in its market', () => {
    expect(toCustomerInput(record, 'GB')).toEqual({
      givenName: 'Ann B.',
      familyName: 'Lee',
      emails: ['ann.lee@example.com'],
      phones: ['+447700900027'],
      identities: [{ source: 'shipping', externalId: 'CN-1' }],
      source: 'shipping',
      capturedAt: '2025-02-03T04:05:06Z',
    });
  });

  it('prefers separate name fields and passes an unreadable phone on as typed', () => {
    const input = toCustomerInput(
      {
        ...record,
        givenName: 'Ann',
        familyName: 'Lee',
        phone: '12',
        language: 'en',
        birthDate: '1980-01-02',
      },
      'US',
    );
    expect(input).toMatchObject({
      givenName: 'Ann',
      familyName: 'Lee',
      phones: ['12'],
      language: 'en',
      birthDate: '1980-01-02',
    });
  });
});

describe('parseCustomerCount', () => {
  it('reads whole numbers only', () => {
    expect(parseCustomerCount(' 2000 ')).toBe(2000);
    for (const bad of ['1e3', '12abc', '-5', '', '2.5']) {
      expect(() => parseCustomerCount(bad)).toThrow(AppError);
    }
  });
});

describe('parseDemoAsOf', () => {
  const now = new Date('2026-12-03T11:00:00Z');

  it('takes a calendar date up to today', () => {
    expect(parseDemoAsOf('2026-01-01', now)).toBe('2026-01-01');
    expect(parseDemoAsOf(' 2026-12-03 ', now)).toBe('2026-12-03');
  });

  it.each(['2026-12-04', '1999-12-31', '2025-02-30', '2025-13-01', '01/02/2025', '2025-1-1', ''])(
    'refuses %j with DEMO_OPTIONS_INVALID at asOf',
    (value) => {
      expect(() => parseDemoAsOf(value, now)).toThrow(
        expect.objectContaining({
          code: 'DEMO_OPTIONS_INVALID',
          details: { errors: [expect.objectContaining({ path: 'asOf' })] },
        }),
      );
    },
  );
});
