import { parsePostalAddress } from '../customers/index.ts';
import type { CustomerForMatching, SourceRecordForMatching } from './identity.repository.ts';
import { isVerifyingSource } from './merge.ts';
import type { PersonRecord } from './records.ts';

/**
 * The engine's records of a workspace, pure: what each source system holds of each active customer,
 * as the offline engine's person records. Shared by workspace resolution and the benchmark that scores
 * the product path on generated worlds.
 */

const GOVERNMENT_ID_KINDS = ['national_id', 'tax_id', 'passport'];

/** The id of an engine record: its customer's id (a UUID, 36 characters) and its source. */
export function recordId(customerId: string, source: string): string {
  return `${customerId}/${source}`;
}

export function customerOfRecord(id: string): string {
  return id.slice(0, 36);
}

function governmentIdOf(c: CustomerForMatching): string | null {
  // The engine compares one government id per record: the first kind in a fixed order, tagged with its
  // kind so ids of different kinds never look alike. The customer-level guard compares kind by kind.
  const gov = [...c.governmentIds].sort(
    (x, y) =>
      (GOVERNMENT_ID_KINDS.indexOf(x.kind) + 1 || 99) - (GOVERNMENT_ID_KINDS.indexOf(y.kind) + 1 || 99),
  )[0];
  return gov ? `${gov.kind}:${gov.hash}` : null;
}

function addressFields(
  canonical: string | undefined,
): Pick<PersonRecord, 'streetNumber' | 'address1' | 'address2' | 'city' | 'postcode' | 'state'> {
  const address = canonical === undefined ? undefined : parsePostalAddress(canonical);
  return {
    streetNumber: null,
    address1: address?.line1 ?? null,
    address2: address?.line2 ?? null,
    city: address?.city ?? null,
    postcode: address?.postcode || null,
    state: address?.region ?? null,
  };
}

/**
 * The engine's records of a workspace: one per customer and source system (what that system holds:
 * names, birth date, its newest email, phone and postal address, the golden value where the source
 * wrote none), each carrying its customer's government id; a customer with no sourced value is one
 * record of its golden fields. `groups` names
 * each record's customer, so a customer's own records start as one cluster.
 */
export function toPersonRecords(
  customers: readonly CustomerForMatching[],
  sourced: readonly SourceRecordForMatching[],
): { records: PersonRecord[]; groups: string[] } {
  const byCustomer = new Map<string, SourceRecordForMatching[]>();
  for (const r of sourced) byCustomer.set(r.customerId, [...(byCustomer.get(r.customerId) ?? []), r]);
  const records: PersonRecord[] = [];
  const groups: string[] = [];
  for (const c of customers) {
    const governmentIdHash = governmentIdOf(c);
    const own = byCustomer.get(c.id) ?? [];
    const parts: SourceRecordForMatching[] =
      own.length > 0
        ? own
        : [
            {
              customerId: c.id,
              source: '',
              givenName: c.givenName,
              familyName: c.familyName,
              birthDate: c.birthDate,
              emails: c.emails,
              phones: c.phones,
              addresses: [],
            },
          ];
    for (const r of parts) {
      // A field its source never wrote (a value without provenance, a record made of contact points)
      // is the customer's own golden value.
      const birthDate = r.birthDate ?? c.birthDate;
      records.push({
        id: recordId(c.id, r.source),
        givenName: r.givenName ?? c.givenName,
        surname: r.familyName ?? c.familyName,
        birthDate,
        birthDateVerified:
          birthDate !== null && isVerifyingSource(r.birthDate === null ? c.birthDateSource : r.source),
        ...addressFields(r.addresses[0]),
        phone: r.phones[0] ?? null,
        email: r.emails[0] ?? null,
        governmentIdHash,
        governmentIdVerified: governmentIdHash !== null,
      });
      groups.push(c.id);
    }
  }
  return { records, groups };
}

/**
 * The links between customers (pairs of customer ids) as links between their engine records: every
 * record of one with every record of the other.
 */
export function toRecordLinks(
  records: readonly PersonRecord[],
  customerLinks: Iterable<readonly [string, string]>,
): [string, string][] {
  const byCustomer = new Map<string, string[]>();
  for (const r of records) {
    const customer = customerOfRecord(r.id);
    byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), r.id]);
  }
  const out: [string, string][] = [];
  for (const [a, b] of customerLinks) {
    for (const x of byCustomer.get(a) ?? []) for (const y of byCustomer.get(b) ?? []) out.push([x, y]);
  }
  return out;
}
