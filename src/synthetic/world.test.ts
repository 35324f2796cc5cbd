import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.ts';
import type { LabelledInteraction, SyntheticCustomer, SyntheticInteraction } from './index.ts';
import { CHANNELS, generateWorld, INTERACTION_TYPES, isLuhnValid, SOURCE_SYSTEMS } from './index.ts';

function hashOfLines(items: Iterable<unknown>, limit: number): string {
  const hash = createHash('sha256');
  let n = 0;
  for (const item of items) {
    hash.update(`${JSON.stringify(item)}\n`);
    if (++n >= limit) break;
  }
  return hash.digest('hex');
}

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const CARD_IN_TEXT = /\b(?:\d[ -]?){12,18}\d\b/g;
const NATIONAL_ID_IN_TEXT = /\b\d{3}-\d{2}-\d{4}\b|\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/;

// One shared mid-sized world keeps the suite fast; the distribution checks are sized for it.
const CUSTOMERS = 2000;
const world = generateWorld({ seed: 2024, customers: CUSTOMERS, complaintRate: 0.05, policyProbeRate: 0.02 });
const customers: SyntheticCustomer[] = [...world.customers()];
const labelled: LabelledInteraction[] = [...world.labelledInteractions()];

describe('determinism', () => {
  it('produces byte-identical output for the same seed and different output for another', () => {
    const first = hashOfLines(generateWorld({ seed: 'same', customers: 300 }).interactions(), 3000);
    const again = hashOfLines(generateWorld({ seed: 'same', customers: 300 }).interactions(), 3000);
    const other = hashOfLines(generateWorld({ seed: 'other', customers: 300 }).interactions(), 3000);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    const people = hashOfLines(generateWorld({ seed: 'same', customers: 500 }).customers(), 500);
    expect(hashOfLines(generateWorld({ seed: 'same', customers: 500 }).customers(), 500)).toBe(people);
  });

  it('moved to end elsewhere, is the same world with every date shifted', () => {
    const here = generateWorld({ seed: 'moved', customers: 200 });
    const there = generateWorld({ seed: 'moved', customers: 200, end: '2026-12-03' });
    expect(there.config.endMs).toBe(Date.parse('2026-12-03T00:00:00Z'));
    const shift = there.config.endMs - here.config.endMs;
    expect(there.config.startMs - here.config.startMs).toBe(shift);
    // Every date and time moves by the shift; a billing period label ("2025-07") follows its date.
    const move = (value: unknown): unknown => {
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value))
        return new Date(Date.parse(`${value}T00:00:00Z`) + shift).toISOString().slice(0, 10);
      if (typeof value === 'string' && ISO_SECONDS.test(value))
        return new Date(Date.parse(value) + shift).toISOString().replace('.000Z', 'Z');
      if (Array.isArray(value)) return value.map(move);
      if (value !== null && typeof value === 'object')
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, k === 'period' ? 'label' : move(v)]),
        );
      return value;
    };
    const label = (value: unknown) =>
      JSON.parse(JSON.stringify(value), (k, v) => (k === 'period' ? 'label' : v));
    const a = [...here.interactions()];
    const b = [...there.interactions()];
    expect(b).toHaveLength(a.length);
    for (const [i, item] of a.entries()) expect(label(b[i])).toEqual(move(item));
    const people = [...there.customers()];
    for (const [i, person] of [...here.customers()].entries()) {
      expect(people[i]?.givenName).toBe(person.givenName);
      expect(people[i]?.records.map((r) => `${r.source}/${r.externalId}`)).toEqual(
        person.records.map((r) => `${r.source}/${r.externalId}`),
      );
    }
    expect(() => generateWorld({ end: 'soon' })).toThrow(
      expect.objectContaining({ code: 'SYNTHETIC_OPTIONS_INVALID' }),
    );
  });

  it('gives every person the same data whatever the order or slice they are generated in', () => {
    const whole = hashOfLines(world.interactions({ from: 100, to: 300 }), 1e9);
    const parts = createHash('sha256');
    for (const [from, to] of [
      [100, 170],
      [170, 300],
    ] as const) {
      for (const item of world.interactions({ from, to })) parts.update(`${JSON.stringify(item)}\n`);
    }
    expect(parts.digest('hex')).toBe(whole);
    expect(JSON.stringify(world.customer(1234))).toBe(JSON.stringify(customers[1234]));
  });
});

describe('customers and source records', () => {
  it('keeps the ground truth on every record and ids unique per source', () => {
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const customer of customers) {
      if (customer.records.length === 0) problems.push(`${customer.personId} has no record`);
      for (const record of customer.records) {
        const key = `${record.source}:${record.externalId}`;
        if (record.truePersonId !== customer.personId) problems.push(`${key} lost its person`);
        if (!SOURCE_SYSTEMS.includes(record.source)) problems.push(`${key} has an unknown source`);
        if (ids.has(key)) problems.push(`${key} is not unique`);
        if (record.givenName === undefined && record.fullName === undefined)
          problems.push(`${key} has no name`);
        ids.add(key);
      }
    }
    expect(problems).toEqual([]);
  });

  it('formats ids the way each system does', () => {
    const patterns: Record<string, RegExp> = {
      pos: /^L\d{7}$/,
      web: /^w_[0-9a-f]{16}$/,
      callcentre: /^U\d{8}$/,
      billing: /^B-\d{6}$/,
      shipping: /^CN-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/,
    };
    const wrong = customers
      .flatMap((c) => c.records)
      .filter((r) => !(patterns[r.source] as RegExp).test(r.externalId))
      .map((r) => r.externalId);
    expect(wrong).toEqual([]);
  });

  it('gives each mailbox to one person only, on reserved domains', () => {
    const owner = new Map<string, string>();
    const problems: string[] = [];
    for (const customer of customers) {
      for (const email of [customer.email, customer.secondaryEmail]) {
        if (email === undefined) continue;
        if (!/^[a-z0-9._]+@([a-z]+\.)?example\.(com|net|org)$/.test(email))
          problems.push(`${email} looks wrong`);
        const previous = owner.get(email);
        if (previous !== undefined && previous !== customer.personId) problems.push(`${email} is shared`);
        owner.set(email, customer.personId);
      }
    }
    expect(problems).toEqual([]);
  });

  it('uses only fictional telephone ranges', () => {
    const fictional = /^\+1\d{3}55501\d{2}$|^\+44(207946|1(1\d|\d1)49[68]|292018|7700900)\d{3,4}$/;
    const phones = customers.flatMap((c) => (c.phone === undefined ? [] : [c.phone]));
    expect(phones.length).toBeGreaterThan(CUSTOMERS / 2);
    expect(phones.filter((p) => !fictional.test(p))).toEqual([]);
  });

  it('duplicates people across or within systems at the configured rate', () => {
    const share = customers.filter((c) => c.records.length >= 2).length / CUSTOMERS;
    expect(Math.abs(share - world.config.duplicateRate)).toBeLessThan(0.04);
    // The messes identity resolution has to cope with are all present.
    const records = customers.flatMap((c) => c.records.map((r) => ({ c, r })));
    const swapped = records.filter(
      ({ c, r }) => r.givenName !== undefined && r.familyName?.toLowerCase() === c.givenName.toLowerCase(),
    );
    const nicknamed = records.filter(
      ({ c, r }) => c.preferredName !== undefined && r.givenName === c.preferredName,
    );
    const misspelt = records.filter(
      ({ c, r }) =>
        r.source === 'pos' &&
        r.givenName !== undefined &&
        r.givenName.toLowerCase() !== c.givenName.toLowerCase() &&
        r.givenName
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, '')
          .toLowerCase() !==
          c.givenName
            .normalize('NFD')
            .replace(/[\u0300-\u036f]/g, '')
            .toLowerCase() &&
        r.givenName !== c.preferredName,
    );
    const stale = customers.filter(
      (c) =>
        c.previousAddress !== undefined &&
        c.records.some((r) => r.address?.postcode === c.previousAddress?.postcode),
    );
    const missingBirthDate = records.filter(({ r }) => r.birthDate === undefined);
    expect(swapped.length).toBeGreaterThan(0);
    expect(nicknamed.length).toBeGreaterThan(0);
    expect(misspelt.length).toBeGreaterThan(0);
    expect(stale.length).toBeGreaterThan(0);
    expect(missingBirthDate.length).toBeGreaterThan(records.length / 2);
  });

  it('draws the purchase process from the configured BG/NBD and Gamma-Gamma parameters', () => {
    const { r, alpha, a, b } = world.config.purchases;
    const { p, q, gamma } = world.config.spend;
    const meanRate = customers.reduce((s, c) => s + c.behaviour.purchaseRate, 0) / CUSTOMERS;
    expect(Math.abs(meanRate - r / alpha)).toBeLessThan(0.012);
    const meanSpend = customers.reduce((s, c) => s + c.behaviour.meanSpend, 0) / CUSTOMERS;
    expect(Math.abs(meanSpend - (p * gamma) / (q - 1))).toBeLessThan(3);
    // Dropout right after the first repeat purchase happens with probability E[p] = a / (a + b).
    const reachedFirstRepeat = customers.filter((c) => c.behaviour.repeatPurchases >= 1);
    const droppedAtFirst = reachedFirstRepeat.filter(
      (c) => c.behaviour.repeatPurchases === 1 && c.behaviour.droppedOutAt !== undefined,
    );
    expect(Math.abs(droppedAtFirst.length / reachedFirstRepeat.length - a / (a + b))).toBeLessThan(0.04);
  });

  it('churns more customers when the dropout probability is higher', () => {
    const churnShare = (a: number, b: number) => {
      const w = generateWorld({ seed: 5, customers: 1000, purchases: { a, b } });
      let churned = 0;
      for (const c of w.customers()) if (c.behaviour.droppedOutAt !== undefined) churned++;
      return churned / 1000;
    };
    const low = churnShare(0.2, 5);
    const high = churnShare(3, 3);
    expect(low).toBeGreaterThan(0.02);
    expect(high).toBeGreaterThan(low + 0.2);
    const churned = customers.filter((c) => c.behaviour.droppedOutAt !== undefined).length / CUSTOMERS;
    expect(churned).toBeGreaterThan(0.15);
    expect(churned).toBeLessThan(0.7);
  });
});

describe('interactions', () => {
  const config = world.config;
  const interactions: SyntheticInteraction[] = labelled.map((l) => l.interaction);

  it('are well-formed, within the window, with ids unique per source', () => {
    expect(interactions.length).toBeGreaterThan(CUSTOMERS * 5);
    const ids = new Set<string>();
    const problems: string[] = [];
    const types = new Set<string>(INTERACTION_TYPES);
    const channels = new Set<string>(CHANNELS);
    const sources = new Set<string>(SOURCE_SYSTEMS);
    for (const i of interactions) {
      const key = `${i.source}:${i.externalId}`;
      const problem = (what: string) => problems.push(`${key}: ${what}`);
      if (!types.has(i.type)) problem(`type ${i.type}`);
      if (!channels.has(i.channel)) problem(`channel ${i.channel}`);
      if (!sources.has(i.source)) problem(`source ${i.source}`);
      if (i.initiatedBy !== 'customer' && i.initiatedBy !== 'company')
        problem(`initiatedBy ${i.initiatedBy}`);
      const at = Date.parse(i.occurredAt);
      if (!ISO_SECONDS.test(i.occurredAt) || !(at >= config.startMs && at < config.endMs)) {
        problem(`occurredAt ${i.occurredAt}`);
      }
      if (ids.has(key)) problem('externalId not unique');
      ids.add(key);
      const ref = i.customer;
      if (Object.keys(ref).length !== 1) problem('customer reference has several keys');
      if ('identity' in ref && !sources.has(ref.identity.source)) problem('identity source');
      if ('email' in ref && !ref.email.includes('@')) problem('email reference');
      if ('phone' in ref && !/^\+\d{10,13}$/.test(ref.phone)) problem('phone reference');
      if (typeof i.properties !== 'object' || i.properties === null) problem('properties');
      if (i.amount !== undefined) {
        if (!(i.amount > 0) || Math.round(i.amount * 100) / 100 !== i.amount) problem(`amount ${i.amount}`);
        if (i.currency !== 'USD' && i.currency !== 'GBP') problem(`currency ${i.currency}`);
      }
      if (i.type === 'purchase') {
        if (!((i.amount ?? 0) > 0)) problem('purchase without a positive amount');
        const lines = i.lineItems ?? [];
        const total = lines.reduce((sum, l) => sum + Math.round(l.unitPrice * 100) * l.quantity, 0);
        if (lines.length === 0 || total !== Math.round((i.amount ?? 0) * 100))
          problem('line items do not add up');
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(new Set(interactions.map((i) => i.type))).toEqual(types);
  });

  it('are ordered by time per person and reference their own records and purchases', () => {
    const byPerson = new Map(customers.map((c) => [c.personId, c]));
    const problems: string[] = [];
    let previousPerson = '';
    let previousAt = 0;
    const seenIds = new Set<string>();
    for (const { truePersonId, interaction } of labelled) {
      const at = Date.parse(interaction.occurredAt);
      const problem = (what: string) => problems.push(`${interaction.externalId}: ${what}`);
      if (truePersonId === previousPerson) {
        if (at < previousAt) problem('out of order');
      } else {
        seenIds.clear();
      }
      previousPerson = truePersonId;
      previousAt = at;
      seenIds.add(interaction.externalId);
      const person = byPerson.get(truePersonId) as SyntheticCustomer;
      const ref = interaction.customer;
      if ('identity' in ref) {
        const { source, externalId } = ref.identity;
        if (!person.records.some((r) => r.source === source && r.externalId === externalId))
          problem('identity');
      } else if ('email' in ref) {
        if (ref.email !== person.email && ref.email !== person.secondaryEmail) problem('email');
      } else if (ref.phone !== person.phone) {
        problem('phone');
      }
      // Effects never precede their causes.
      const related = interaction.properties.originalExternalId ?? interaction.properties.orderExternalId;
      if (
        typeof related === 'string' &&
        interaction.type !== 'cancellation_request' &&
        !seenIds.has(related)
      ) {
        problem(`effect before its cause ${related}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('send newsletters only while marketing consent stands', () => {
    let current = '';
    let marketing = 'unknown';
    let newsletters = 0;
    for (const { truePersonId, interaction } of labelled) {
      if (truePersonId !== current) {
        current = truePersonId;
        marketing = 'unknown';
      }
      if (interaction.type === 'consent_changed' && interaction.properties.purpose === 'marketing') {
        marketing = String(interaction.properties.status);
      }
      if (interaction.type === 'email' && interaction.properties.kind === 'newsletter') {
        newsletters++;
        expect(marketing).toBe('granted');
      }
    }
    expect(newsletters).toBeGreaterThan(0);
  });

  it('follow purchases with complaints at the configured rate', () => {
    const purchases = interactions.filter((i) => i.type === 'purchase').length;
    const purchaseComplaints = interactions.filter(
      (i) =>
        i.type === 'complaint' &&
        ['product_quality', 'refund', 'staff', 'wait_time'].includes(String(i.properties.category)),
    ).length;
    const rate = purchaseComplaints / purchases;
    expect(rate).toBeGreaterThan(config.complaintRate * 0.8);
    expect(rate).toBeLessThan(config.complaintRate * 1.2);
  });

  it('plant Luhn-valid card numbers and national ids at the configured rate, and nowhere else', () => {
    const probes = labelled.filter((l) => l.probe !== null);
    const rate = probes.length / labelled.length;
    expect(rate).toBeGreaterThan(config.policyProbeRate * 0.85);
    expect(rate).toBeLessThan(config.policyProbeRate * 1.15);
    const kinds = new Set(probes.map((p) => p.probe));
    expect(kinds.size).toBe(4);
    const problems: string[] = [];
    for (const { probe, interaction } of labelled) {
      const text = interaction.text ?? '';
      const cards = [...text.matchAll(CARD_IN_TEXT)].map((m) => m[0]).filter(isLuhnValid);
      const values = Object.values(interaction.properties).filter((v): v is string => typeof v === 'string');
      const ok =
        probe === 'card_number_in_text'
          ? cards.length === 1
          : probe === 'national_id_in_text'
            ? NATIONAL_ID_IN_TEXT.test(text)
            : probe === 'card_number_in_property'
              ? values.some((v) => isLuhnValid(v))
              : probe === 'national_id_in_property'
                ? values.some((v) => NATIONAL_ID_IN_TEXT.test(v))
                : cards.length === 0 && !NATIONAL_ID_IN_TEXT.test(text);
      if (!ok) problems.push(`${interaction.externalId} (${probe ?? 'no probe'}): ${text}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('options', () => {
  it('rejects invalid options with one error listing every problem', () => {
    let caught: unknown;
    try {
      generateWorld({ customers: -1, duplicateRate: 2, start: 'soon', markets: { US: 0 } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    const error = caught as AppError;
    expect(error.code).toBe('SYNTHETIC_OPTIONS_INVALID');
    expect(error.message).toContain('customers');
    expect(error.message).toContain('duplicateRate');
    expect(error.message).toContain('start');
    expect(error.message).toContain('markets');
  });

  it('honours the window, market and line-item options', () => {
    const w = generateWorld({
      seed: 1,
      customers: 200,
      start: '2022-03-01',
      months: 6,
      markets: { GB: 1 },
      lineItems: false,
    });
    expect(new Date(w.config.endMs).toISOString()).toBe('2022-09-01T00:00:00.000Z');
    for (const c of w.customers()) expect(c.market).toBe('GB');
    for (const i of w.interactions()) {
      expect(i.occurredAt >= '2022-03-01' && i.occurredAt < '2022-09-01').toBe(true);
      expect(i.lineItems).toBeUndefined();
      if (i.currency !== undefined) expect(i.currency).toBe('GBP');
    }
  });
});
