import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_TYPES,
  LIFE_EVENTS,
  parseTimestamp,
  type ValidationOutcome,
  validateInteraction,
  validateInteractions,
} from './interaction.schema.ts';
import { decodeCursor, encodeCursor, toIngestItem } from './interaction.ts';

const NOW = Date.parse('2024-06-01T12:00:00Z');

function item(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'visit',
    channel: 'store',
    occurredAt: '2024-05-01T10:00:00Z',
    source: 'pos',
    externalId: 'e-1',
    customer: { identity: { source: 'pos', externalId: 'L-1' } },
    ...overrides,
  };
}

function problems(outcome: ValidationOutcome): { path: string; message: string }[] {
  return outcome.ok ? [] : outcome.problems;
}

function paths(outcome: ValidationOutcome): string[] {
  return problems(outcome).map((p) => p.path);
}

const check = (overrides: Record<string, unknown>, path = '') =>
  validateInteraction(item(overrides), path, NOW);

describe('validateInteraction: the common shape', () => {
  it('accepts a minimal interaction and fills defaults', () => {
    const outcome = check({});
    expect(outcome).toEqual({
      ok: true,
      value: {
        type: 'visit',
        channel: 'store',
        initiatedBy: 'customer',
        occurredAt: '2024-05-01T10:00:00Z',
        source: 'pos',
        externalId: 'e-1',
        customer: { identity: { source: 'pos', externalId: 'L-1' } },
        amount: null,
        currency: null,
        sentiment: null,
        text: null,
        lineItems: null,
        properties: {},
        declaredFor: null,
      },
    });
  });

  it('accepts every optional field, and null as absent', () => {
    const full = check({
      initiatedBy: 'company',
      amount: 12.5,
      currency: 'EUR',
      sentiment: -0.5,
      text: 'hello',
      lineItems: [{ sku: 'A-1', name: 'Mug', quantity: 2, unitPrice: 6.25 }],
      properties: { note: 'x' },
    });
    expect(full.ok && full.value).toMatchObject({
      initiatedBy: 'company',
      amount: 12.5,
      lineItems: [{ sku: 'A-1' }],
    });
    const nulls = check({
      initiatedBy: null,
      amount: null,
      currency: null,
      text: null,
      lineItems: null,
      properties: null,
    });
    expect(nulls.ok && nulls.value).toMatchObject({ initiatedBy: 'customer', amount: null, properties: {} });
  });

  it('requires type, channel, occurredAt, source, externalId and customer', () => {
    const outcome = validateInteraction({}, '', NOW);
    expect(problems(outcome)).toEqual(
      expect.arrayContaining(
        ['type', 'channel', 'occurredAt', 'source', 'externalId', 'customer'].map((path) => ({
          path,
          message: 'is required',
        })),
      ),
    );
  });

  it('rejects unknown top-level fields with their path', () => {
    expect(problems(check({ colour: 'red', 'odd key': 1 }))).toEqual([
      { path: 'colour', message: 'is not a known field' },
      { path: '["odd key"]', message: 'is not a known field' },
    ]);
    expect(problems(check({ lineItems: [{ sku: 'a', quantity: 1, size: 'L' }] }, 'interactions[3]'))).toEqual(
      [{ path: 'interactions[3].lineItems[0].size', message: 'is not a known field' }],
    );
  });

  it('prefixes every path with the item path, and uses none for a single item', () => {
    expect(paths(check({ currency: 'eur', amount: 1 }, 'interactions[7]'))).toEqual([
      'interactions[7].currency',
    ]);
    expect(paths(check({ currency: 'eur', amount: 1 }))).toEqual(['currency']);
    expect(
      paths(check({ customer: { identity: { source: 'pos', externalId: ' ' } } }, 'interactions[0]')),
    ).toEqual(['interactions[0].customer.identity.externalId']);
  });

  it('checks type and channel names; custom types are allowed with free-form properties', () => {
    expect(
      check({ type: 'loyalty_points_earned', properties: { points: 40, tier: { name: 'gold' } } }).ok,
    ).toBe(true);
    expect(paths(check({ type: 'Purchase' }))).toEqual(['type']);
    expect(paths(check({ type: '9lives' }))).toEqual(['type']);
    expect(paths(check({ type: `a${'b'.repeat(64)}` }))).toEqual(['type']);
    expect(check({ type: `a${'b'.repeat(63)}` }).ok).toBe(true);
    expect(paths(check({ channel: '' }))).toEqual(['channel']);
    expect(paths(check({ channel: 'in store' }))).toEqual(['channel']);
    expect(check({ channel: 'point-of-sale' }).ok).toBe(true);
  });

  it('takes exactly one customer reference of a known kind', () => {
    expect(check({ customer: { id: '0190a1b2-0000-7000-8000-000000000001' } }).ok).toBe(true);
    expect(check({ customer: { email: 'ann@example.com' } }).ok).toBe(true);
    expect(check({ customer: { phone: '+44 20 7946 0958' } }).ok).toBe(true);
    expect(problems(check({ customer: {} }))).toEqual([
      { path: 'customer', message: 'must name the customer by exactly one of id, identity, email or phone' },
    ]);
    expect(paths(check({ customer: { email: 'ann@example.com', phone: '+15555550100' } }))).toEqual([
      'customer',
    ]);
    expect(paths(check({ customer: { id: 'not-a-uuid' } }))).toEqual(['customer.id']);
    expect(paths(check({ customer: { email: 'nope' } }))).toEqual(['customer.email']);
    expect(paths(check({ customer: { name: 'Ann' } }))).toEqual(['customer.name']);
    expect(paths(check({ customer: 'ann@example.com' }))).toEqual(['customer']);
  });

  it('requires occurredAt in ISO 8601 with a zone, a real date, at most one day ahead, not before 1900', () => {
    for (const ok of [
      '2024-05-01T10:00:00Z',
      '2024-05-01T10:00:00.123456+02:00',
      '2024-02-29T00:00:00-0500',
    ]) {
      expect(check({ occurredAt: ok }).ok, ok).toBe(true);
    }
    expect(check({ occurredAt: '2024-05-01t10:00:00z' }).ok && true).toBe(true);
    for (const bad of [
      '2024-05-01T10:00:00',
      '2024-05-01',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T23:59:60Z',
      '2024-05-01T10:00:00+15:00',
      'yesterday',
    ]) {
      expect(paths(check({ occurredAt: bad })), bad).toEqual(['occurredAt']);
    }
    expect(check({ occurredAt: '2024-06-02T11:59:00Z' }).ok).toBe(true);
    expect(problems(check({ occurredAt: '2024-06-02T12:01:00Z' }))).toEqual([
      { path: 'occurredAt', message: 'must not be more than one day in the future' },
    ]);
    expect(paths(check({ occurredAt: '1899-12-31T23:59:59Z' }))).toEqual(['occurredAt']);
    expect(paths(check({ occurredAt: 20240501 }))).toEqual(['occurredAt']);
  });

  it('checks source and externalId: non-empty, not blank, at most 200 characters', () => {
    expect(paths(check({ source: '' }))).toEqual(['source']);
    expect(paths(check({ externalId: '   ' }))).toEqual(['externalId']);
    expect(paths(check({ externalId: 'x'.repeat(201) }))).toEqual(['externalId']);
    expect(check({ externalId: 'x'.repeat(200) }).ok).toBe(true);
  });

  it('checks currency, sentiment, text, initiatedBy and line items', () => {
    expect(problems(check({ amount: 3 }))).toEqual([
      { path: 'currency', message: 'is required when amount is given' },
    ]);
    expect(paths(check({ amount: 3, currency: 'EURO' }))).toEqual(['currency']);
    expect(paths(check({ amount: 'three', currency: 'EUR' }))).toEqual(['amount']);
    expect(paths(check({ amount: 1e15, currency: 'EUR' }))).toEqual(['amount']);
    expect(check({ amount: -3, currency: 'EUR' }).ok).toBe(true);
    expect(paths(check({ sentiment: 1.5 }))).toEqual(['sentiment']);
    expect(check({ sentiment: -1 }).ok).toBe(true);
    expect(check({ text: 'x'.repeat(20_000) }).ok).toBe(true);
    expect(paths(check({ text: 'x'.repeat(20_001) }))).toEqual(['text']);
    expect(problems(check({ initiatedBy: 'robot' }))).toEqual([
      { path: 'initiatedBy', message: 'must be one of customer, company' },
    ]);
    expect(paths(check({ lineItems: [{ sku: 'a', quantity: 0 }, { quantity: 1 }] }))).toEqual([
      'lineItems[0].quantity',
      'lineItems[1].sku',
    ]);
    expect(paths(check({ properties: [1, 2] }))).toEqual(['properties']);
  });

  it('reports a non-object item at its own path', () => {
    expect(validateInteraction([1], 'interactions[2]', NOW)).toEqual({
      ok: false,
      problems: [{ path: 'interactions[2]', message: 'must be a JSON object' }],
    });
  });
});

describe('validateInteraction: built-in type rules', () => {
  const money = { amount: 10, currency: 'EUR' };

  it('defaults initiatedBy by type: company for billing and delivery events, customer otherwise', () => {
    const by = (type: string, extra: Record<string, unknown> = {}) => {
      const outcome = check({ type, ...extra });
      return outcome.ok ? outcome.value.initiatedBy : outcome.problems;
    };
    expect(by('payment_failed', money)).toBe('company');
    expect(by('shipment')).toBe('company');
    expect(by('delivery_failed')).toBe('company');
    expect(by('billing_event')).toBe('company');
    expect(by('complaint')).toBe('customer');
    expect(by('my_custom_type')).toBe('customer');
    expect(check({ type: 'shipment', initiatedBy: 'customer' }).ok && true).toBe(true);
  });

  it('purchase, return and payment_failed need amount ≥ 0 and currency', () => {
    for (const type of ['purchase', 'return', 'payment_failed']) {
      expect(check({ type, ...money }).ok, type).toBe(true);
      expect(paths(check({ type })), type).toEqual(['amount', 'currency']);
      expect(paths(check({ type, amount: -1, currency: 'EUR' })), type).toEqual(['amount']);
      expect(paths(check({ type, amount: 0 })), type).toEqual(['currency']);
    }
  });

  it('complaint severity is low, medium or high when given', () => {
    expect(check({ type: 'complaint' }).ok).toBe(true);
    expect(check({ type: 'complaint', properties: { severity: 'high' } }).ok).toBe(true);
    expect(problems(check({ type: 'complaint', properties: { severity: 'urgent' } }))).toEqual([
      { path: 'properties.severity', message: 'must be one of low, medium, high' },
    ]);
  });

  it('survey_response needs a numeric properties.score', () => {
    expect(check({ type: 'survey_response', properties: { score: 9, survey: 'nps' } }).ok).toBe(true);
    expect(problems(check({ type: 'survey_response' }))).toEqual([
      { path: 'properties.score', message: 'is required' },
    ]);
    expect(paths(check({ type: 'survey_response', properties: { score: '9' } }))).toEqual([
      'properties.score',
    ]);
  });

  it('preference_stated needs properties.key and a non-null properties.value', () => {
    expect(check({ type: 'preference_stated', properties: { key: 'receipt', value: 'paper' } }).ok).toBe(
      true,
    );
    expect(check({ type: 'preference_stated', properties: { key: 'sizes', value: ['M', 'L'] } }).ok).toBe(
      true,
    );
    expect(paths(check({ type: 'preference_stated', properties: { value: 'paper' } }))).toEqual([
      'properties.key',
    ]);
    expect(paths(check({ type: 'preference_stated', properties: { key: '', value: 1 } }))).toEqual([
      'properties.key',
    ]);
    expect(problems(check({ type: 'preference_stated', properties: { key: 'k', value: null } }))).toEqual([
      { path: 'properties.value', message: 'must not be null' },
    ]);
    expect(paths(check({ type: 'preference_stated', properties: { key: 'k' } }))).toEqual([
      'properties.value',
    ]);
  });

  it('life_event_declared needs properties.event from the list', () => {
    for (const event of LIFE_EVENTS) {
      expect(check({ type: 'life_event_declared', properties: { event } }).ok, event).toBe(true);
    }
    expect(paths(check({ type: 'life_event_declared' }))).toEqual(['properties.event']);
    expect(
      problems(check({ type: 'life_event_declared', properties: { event: 'won_lottery' } }))[0]?.message,
    ).toBe(`must be one of ${LIFE_EVENTS.join(', ')}`);
  });

  it('consent_changed needs properties.purpose and a status granted, denied or withdrawn', () => {
    for (const status of ['granted', 'denied', 'withdrawn']) {
      expect(check({ type: 'consent_changed', properties: { purpose: 'marketing', status } }).ok).toBe(true);
    }
    expect(paths(check({ type: 'consent_changed', properties: { purpose: 'marketing' } }))).toEqual([
      'properties.status',
    ]);
    expect(paths(check({ type: 'consent_changed', properties: { status: 'granted' } }))).toEqual([
      'properties.purpose',
    ]);
    expect(
      paths(check({ type: 'consent_changed', properties: { purpose: 'Marketing!', status: 'maybe' } })),
    ).toEqual(['properties.purpose', 'properties.status']);
  });

  it('suggestion needs text', () => {
    expect(check({ type: 'suggestion', text: 'Open earlier on Sundays' }).ok).toBe(true);
    expect(paths(check({ type: 'suggestion' }))).toEqual(['text']);
    expect(paths(check({ type: 'suggestion', text: '' }))).toEqual(['text']);
  });

  it('checks the optional typed properties of the other built-in types', () => {
    expect(paths(check({ type: 'call', properties: { durationSeconds: -5 } }))).toEqual([
      'properties.durationSeconds',
    ]);
    expect(check({ type: 'call', properties: { durationSeconds: 65 } }).ok).toBe(true);
    expect(paths(check({ type: 'shipment', properties: { trackingNumber: 42 } }))).toEqual([
      'properties.trackingNumber',
    ]);
    expect(paths(check({ type: 'delivery_failed', properties: { reason: '' } }))).toEqual([
      'properties.reason',
    ]);
    expect(paths(check({ type: 'service_request', properties: { category: 7 } }))).toEqual([
      'properties.category',
    ]);
    expect(paths(check({ type: 'cancellation_request', properties: { subject: '' } }))).toEqual([
      'properties.subject',
    ]);
    expect(paths(check({ type: 'billing_event', properties: { event: 3 } }))).toEqual(['properties.event']);
    expect(paths(check({ type: 'payment_failed', ...money, properties: { reason: 5 } }))).toEqual([
      'properties.reason',
    ]);
  });

  it('accepts every built-in type with what the table asks for, and extra properties', () => {
    const minimal: Record<string, Record<string, unknown>> = {
      purchase: money,
      return: money,
      payment_failed: money,
      suggestion: { text: 'idea' },
      survey_response: { properties: { score: 1 } },
      preference_stated: { properties: { key: 'k', value: true } },
      life_event_declared: { properties: { event: 'married' } },
      consent_changed: { properties: { purpose: 'marketing', status: 'granted' } },
      intimacy_chosen: { properties: { level: 3 } },
    };
    expect(Object.keys(BUILT_IN_TYPES)).toHaveLength(21);
    for (const type of Object.keys(BUILT_IN_TYPES)) {
      const extra = minimal[type] ?? {};
      const props = { ...((extra.properties as Record<string, unknown>) ?? {}), extraField: 1 };
      expect(check({ type, ...extra, properties: props }).ok, type).toBe(true);
    }
  });
});

describe('validateInteractions', () => {
  it('reports item i under interactions[i], or under a chosen prefix', () => {
    const outcomes = validateInteractions([item(), item({ channel: 1 }), 'x'], 'interactions', NOW);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false]);
    expect(paths(outcomes[1] as ValidationOutcome)).toEqual(['interactions[1].channel']);
    expect(paths(outcomes[2] as ValidationOutcome)).toEqual(['interactions[2]']);
    expect(paths(validateInteractions([item({ channel: 1 })], 'rows', NOW)[0] as ValidationOutcome)).toEqual([
      'rows[0].channel',
    ]);
    expect(paths(validateInteractions([item({ channel: 1 })], '', NOW)[0] as ValidationOutcome)).toEqual([
      'channel',
    ]);
  });

  it('never throws on arbitrary JSON: it answers ok or a list of problems with string paths', () => {
    const anything = fc.oneof(
      fc.jsonValue(),
      fc.record({
        type: fc.oneof(fc.constantFrom(...Object.keys(BUILT_IN_TYPES)), fc.string()),
        channel: fc.jsonValue(),
        occurredAt: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.jsonValue(),
        ),
        source: fc.jsonValue(),
        externalId: fc.string(),
        customer: fc.jsonValue(),
        amount: fc.jsonValue(),
        currency: fc.jsonValue(),
        properties: fc.jsonValue(),
        lineItems: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(anything, (value) => {
        const outcome = validateInteraction(value, 'interactions[0]', NOW);
        if (outcome.ok) return typeof outcome.value.type === 'string';
        return (
          outcome.problems.length > 0 &&
          outcome.problems.every(
            (p) => typeof p.path === 'string' && typeof p.message === 'string' && p.message !== '',
          )
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseTimestamp', () => {
  it('agrees with the platform parser on every valid ISO timestamp', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1900-01-01T00:00:00Z'),
          max: new Date('2999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (date, offset) => {
          const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
          const sign = offset < 0 ? '-' : '+';
          const abs = Math.abs(offset);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          return parseTimestamp(`${local}${zone}`) === date.getTime();
        },
      ),
    );
  });
});

describe('cursors and export items', () => {
  it('round-trips a cursor and refuses tampered ones or another order', () => {
    const position = {
      order: 'desc' as const,
      occurredAt: '2024-05-01T10:00:00.123456Z',
      id: '0190a1b2-0000-7000-8000-000000000001',
    };
    expect(decodeCursor(encodeCursor(position), 'desc')).toEqual(position);
    expect(() => decodeCursor(encodeCursor(position), 'asc')).toThrow(
      expect.objectContaining({ code: 'CURSOR_ORDER_MISMATCH' }),
    );
    expect(() => decodeCursor('garbage', 'desc')).toThrow(
      expect.objectContaining({ code: 'CURSOR_INVALID' }),
    );
    const forged = Buffer.from(JSON.stringify(['desc', '1', 'x'])).toString('base64url');
    expect(() => decodeCursor(forged, 'desc')).toThrow(expect.objectContaining({ code: 'CURSOR_INVALID' }));
  });

  it('turns a stored interaction into a valid ingest item', () => {
    const stored = {
      id: '0190a1b2-0000-7000-8000-000000000009',
      customerId: '0190a1b2-0000-7000-8000-000000000001',
      type: 'purchase',
      channel: 'web',
      initiatedBy: 'customer' as const,
      occurredAt: '2024-05-01T10:00:00.000Z',
      source: 'shop',
      externalId: 'o-1',
      amount: 10,
      currency: 'EUR',
      sentiment: null,
      text: null,
      lineItems: [{ sku: 'a', quantity: 1 }],
      properties: {},
      declaredFor: ['service'],
      receivedAt: '2024-05-01T10:00:01.000Z',
    };
    const outcome = validateInteraction(toIngestItem(stored), '', NOW);
    expect(outcome.ok && outcome.value).toMatchObject({
      customer: { id: stored.customerId },
      amount: 10,
      type: 'purchase',
      declaredFor: ['service'],
    });
  });
});
