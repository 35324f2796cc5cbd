import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  assertEventFilter,
  assertWebhookUrl,
  BACKOFF_CAP_MS,
  computeBackoffMs,
  computeDeliveryPurpose,
  computeShouldDisable,
  computeSignatureHeader,
  DISABLE_AFTER_MS,
  DISABLE_MIN_FAILURES,
  formatSecret,
  generateSecret,
} from './webhook.ts';

// The test vector published with the Standard Webhooks specification.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const vectorBytes = Buffer.from(VECTOR.secret.slice('whsec_'.length), 'base64');

function verifyAt(secret: string, id: string, timestamp: number, body: string, signature: string): unknown {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(timestamp * 1000);
  try {
    return new Webhook(secret).verify(body, {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    });
  } finally {
    vi.useRealTimers();
  }
}

describe('signatures (Standard Webhooks)', () => {
  afterEach(() => vi.useRealTimers());

  it('reproduces the specification reference vector', () => {
    const header = computeSignatureHeader(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body, [
      vectorBytes,
    ]);
    expect(header).toBe(VECTOR.signature);
    expect(formatSecret(vectorBytes)).toBe(VECTOR.secret);
  });

  it('signs as the Standard Webhooks library does, and as HMAC-SHA256 of "id.timestamp.body" is', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        fc.string(),
        fc.nat(4_000_000_000),
        (key, body, ts) => {
          const expected = `v1,${createHmac('sha256', key).update(`${VECTOR.id}.${ts}.${body}`).digest('base64')}`;
          const ours = computeSignatureHeader(VECTOR.id, new Date(ts * 1000), body, [key]);
          expect(ours).toBe(expected);
          expect(ours).toBe(new Webhook(key, { format: 'raw' }).sign(VECTOR.id, new Date(ts * 1000), body));
        },
      ),
    );
  });

  it('verifies with the reference verifier, and refuses a changed body or a wrong secret', () => {
    const { bytes, text } = generateSecret();
    expect(text).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const header = computeSignatureHeader('d-1', new Date(1_800_000_000_000), '{"a":1}', [bytes]);
    expect(verifyAt(text, 'd-1', 1_800_000_000, '{"a":1}', header)).toEqual({ a: 1 });
    expect(() => verifyAt(text, 'd-1', 1_800_000_000, '{"a":2}', header)).toThrow();
    expect(() => verifyAt(generateSecret().text, 'd-1', 1_800_000_000, '{"a":1}', header)).toThrow();
    expect(verifyAt(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body, VECTOR.signature)).toEqual({
      test: 2432232314,
    });
  });

  it('signs with both secrets during a rotation, each verifying on its own', () => {
    const fresh = generateSecret();
    const old = generateSecret();
    const header = computeSignatureHeader('d-2', new Date(1_800_000_000_000), '{}', [fresh.bytes, old.bytes]);
    expect(header.split(' ')).toHaveLength(2);
    expect(verifyAt(fresh.text, 'd-2', 1_800_000_000, '{}', header)).toEqual({});
    expect(verifyAt(old.text, 'd-2', 1_800_000_000, '{}', header)).toEqual({});
  });
});

describe('backoff', () => {
  it('grows with every attempt below the cap, whatever the jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (n, r1, r2) => {
          const a = computeBackoffMs(n, r1);
          const b = computeBackoffMs(n + 1, r2);
          expect(a).toBeGreaterThan(0);
          expect(b).toBeLessThanOrEqual(BACKOFF_CAP_MS * 1.25);
          if (computeBackoffMs(n + 1, 0) < BACKOFF_CAP_MS * 0.75) expect(b).toBeGreaterThan(a);
        },
      ),
    );
  });
});

describe('disabling', () => {
  const start = new Date('2026-01-01T00:00:00Z');
  it('needs both enough failures in a row and enough time without a success', () => {
    const later = new Date(start.getTime() + DISABLE_AFTER_MS);
    expect(
      computeShouldDisable({ consecutiveFailures: DISABLE_MIN_FAILURES, failingSince: start }, later),
    ).toBe(true);
    expect(
      computeShouldDisable({ consecutiveFailures: DISABLE_MIN_FAILURES - 1, failingSince: start }, later),
    ).toBe(false);
    expect(
      computeShouldDisable({ consecutiveFailures: 1000, failingSince: start }, new Date(later.getTime() - 1)),
    ).toBe(false);
    expect(computeShouldDisable({ consecutiveFailures: 1000, failingSince: null }, later)).toBe(false);
  });
});

describe('what an endpoint receives', () => {
  it('chooses a purpose of the recipient that allows the type, within its filter', () => {
    expect(computeDeliveryPurpose('customer_created', ['marketing', 'service'], null)).toBe('marketing');
    expect(computeDeliveryPurpose('customer_created', ['legal'], null)).toBeUndefined();
    expect(computeDeliveryPurpose('field_rectified', ['legal'], null)).toBe('legal');
    expect(computeDeliveryPurpose('customer_created', ['service'], ['field_rectified'])).toBeUndefined();
    expect(computeDeliveryPurpose('no_such_event', ['service'], null)).toBeUndefined();
  });

  it('refuses a filter naming an unknown type or one the purposes do not allow, with paths', () => {
    expect(() => assertEventFilter(['field_rectified'], ['legal'])).not.toThrow();
    expect(() => assertEventFilter(['customer_created', 'nope'], ['legal'])).toThrow(
      expect.objectContaining({
        code: 'WEBHOOK_EVENTS_INVALID',
        details: {
          errors: [
            { path: 'events[0]', message: 'is not allowed for the purposes legal' },
            { path: 'events[1]', message: 'is not an event type' },
          ],
        },
      }),
    );
  });
});

describe('webhook URLs', () => {
  it('accepts http and https only, without credentials or fragments', () => {
    expect(assertWebhookUrl('https://example.com/hooks?x=1')).toBe('https://example.com/hooks?x=1');
    expect(assertWebhookUrl('http://127.0.0.1:8080/h')).toBe('http://127.0.0.1:8080/h');
    for (const bad of [
      'file:///etc/passwd',
      'ftp://example.com/',
      'gopher://example.com/',
      'javascript:alert(1)',
      'data:text/plain,hi',
      'https://user:pw@example.com/',
      'https://example.com/#x',
      '/relative',
      `https://example.com/${'a'.repeat(2100)}`,
    ]) {
      expect(() => assertWebhookUrl(bad), bad).toThrow(
        expect.objectContaining({ code: 'WEBHOOK_URL_INVALID' }),
      );
    }
  });
});
