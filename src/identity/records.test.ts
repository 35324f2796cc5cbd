import { describe, expect, it } from 'vitest';
import { computeGovernmentIdHash, parseFieldMap, readCsvRecords, readFebrlRecords } from './records.ts';

const FEBRL = `rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id
rec-1-org, kate, leslie, 169, quinlivan crescent, inishmore, campsie, 0453, vic, 19250416, 1026159
rec-1-dup-0, , lesley, 169, quinlivan crescent, , campsie, 0453, vic, , 1026159
`;

describe('readFebrlRecords', () => {
  it('maps the FEBRL columns, keeps codes as text and leaves missing values null', () => {
    const [org, dup] = readFebrlRecords(FEBRL, { hashKey: 'k' });
    expect(org).toMatchObject({
      id: 'rec-1-org',
      givenName: 'kate',
      surname: 'leslie',
      streetNumber: '169',
      address1: 'quinlivan crescent',
      address2: 'inishmore',
      city: 'campsie',
      postcode: '0453',
      state: 'vic',
      birthDate: '19250416',
    });
    expect(dup?.givenName).toBeNull();
    expect(dup?.birthDate).toBeNull();
  });

  it('keeps the government id only as its keyed hash', () => {
    const [org, dup] = readFebrlRecords(FEBRL, { hashKey: 'k' });
    expect(org?.governmentIdHash).toBe(computeGovernmentIdHash('1026159', 'k'));
    expect(org?.governmentIdHash).toBe(dup?.governmentIdHash);
    expect(JSON.stringify([org, dup])).not.toContain('1026159');
    const [other] = readFebrlRecords(FEBRL, { hashKey: 'another key' });
    expect(other?.governmentIdHash).not.toBe(org?.governmentIdHash);
  });

  it('rejects a row with the wrong number of values', () => {
    expect(() => readFebrlRecords(`${FEBRL}rec-2-org, only, three\n`, { hashKey: 'k' })).toThrow(
      expect.objectContaining({ code: 'FORMAT_INVALID' }),
    );
  });
});

describe('readCsvRecords', () => {
  const CSV =
    'customer,First Name,last_name,dob,ssn,Mobile\nc1,Ann,Lee,1980-02-03,123-45-6789,0400 000 000\n';

  it('recognises common column names and applies --map over them', () => {
    const [record] = readCsvRecords(CSV, { hashKey: 'k', map: parseFieldMap('customer=id, Mobile=phone') });
    expect(record).toMatchObject({
      id: 'c1',
      givenName: 'Ann',
      surname: 'Lee',
      birthDate: '1980-02-03',
      phone: '0400 000 000',
    });
    expect(record?.governmentIdHash).toBe(computeGovernmentIdHash('123456789', 'k'));
  });

  it('reports a map naming an unknown field or a missing column', () => {
    expect(() => parseFieldMap('customer=nonsense')).toThrow(
      expect.objectContaining({ code: 'MAP_INVALID' }),
    );
    expect(() => parseFieldMap('customer')).toThrow(expect.objectContaining({ code: 'MAP_INVALID' }));
    expect(() => readCsvRecords(CSV, { hashKey: 'k', map: { nowhere: 'email' } })).toThrow(
      expect.objectContaining({ code: 'MAP_INVALID' }),
    );
    expect(() => readCsvRecords(CSV, { hashKey: 'k', map: { customer: 'surname' } })).toThrow(
      expect.objectContaining({ code: 'MAP_INVALID' }),
    );
  });
});
