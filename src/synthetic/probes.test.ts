import { describe, expect, it } from 'vitest';
import { cardNumber, isLuhnValid, luhnCheckDigit, nationalId } from './probes.ts';
import { Rng } from './random.ts';

describe('Luhn', () => {
  it('accepts the well-known test numbers and rejects a changed digit', () => {
    expect(isLuhnValid('4111 1111 1111 1111')).toBe(true);
    expect(isLuhnValid('5555-5555-5555-4444')).toBe(true);
    expect(isLuhnValid('378282246310005')).toBe(true);
    expect(isLuhnValid('4111 1111 1111 1112')).toBe(false);
    expect(isLuhnValid('1234')).toBe(false);
  });

  it('computes the digit that completes a number', () => {
    expect(luhnCheckDigit('411111111111111')).toBe(1);
    expect(luhnCheckDigit('37828224631000')).toBe(5);
  });

  it('generates card numbers that are Luhn-valid, from test ranges, in typed formats', () => {
    const rng = new Rng(9);
    const formats = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const card = cardNumber(rng);
      expect(isLuhnValid(card)).toBe(true);
      expect(card.replace(/\D/g, '')).toMatch(/^(411111|401288|424242|555555|510510|378282|601111)\d+$/);
      formats.add(card.includes(' ') ? 'spaced' : card.includes('-') ? 'dashed' : 'plain');
    }
    expect(formats).toEqual(new Set(['spaced', 'dashed', 'plain']));
  });
});

describe('national ids', () => {
  it('have the shape of a US social security number or a UK national insurance number', () => {
    const rng = new Rng(10);
    for (let i = 0; i < 200; i++) {
      const us = nationalId(rng, 'US');
      expect(us).toMatch(/^\d{3}-\d{2}-\d{4}$/);
      expect(us.startsWith('000') || us.startsWith('666')).toBe(false);
      expect(nationalId(rng, 'GB')).toMatch(/^[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]$/);
    }
  });
});
