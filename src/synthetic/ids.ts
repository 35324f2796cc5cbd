/**
 * Identifiers that look like each source system's own and are unique without any shared state: every
 * id is a bijection (a keyed permutation) of a (person index, slot or sequence) pair, so two people
 * can never get the same id, and the generator needs no memory of ids already handed out.
 */
import { mix32 } from './random.ts';

const HEX = '0123456789abcdef';

function hex8(value: number): string {
  let out = '';
  for (let shift = 28; shift >= 0; shift -= 4) out += HEX[(value >>> shift) & 15];
  return out;
}

/** A keyed 64-bit permutation of (high, low), as 16 hexadecimal digits (a four-round Feistel network). */
export function permute64(high: number, low: number, key: number): string {
  let left = high >>> 0;
  let right = low >>> 0;
  for (let round = 0; round < 4; round++) {
    const f = mix32((right ^ Math.imul(key ^ round, 0x9e3779b1)) >>> 0);
    const next = (left ^ f) >>> 0;
    left = right;
    right = next;
  }
  return hex8(left) + hex8(right);
}

/**
 * A keyed permutation of [0, modulus) for a modulus that is a power of ten: an affine map with a
 * multiplier coprime to ten. Decimal ids (loyalty numbers, billing accounts) look scattered, not sequential.
 */
export function permuteDecimal(value: number, modulus: number, key: number): number {
  // 7_654_321 and its key-dependent offset keep every product below 2^53 for moduli up to 10^9.
  return (value * 7_654_321 + (key % modulus)) % modulus;
}

/** The smallest power of ten with at least `minDigits` digits that exceeds `capacity`. */
export function decimalModulus(capacity: number, minDigits: number): { modulus: number; digits: number } {
  let digits = minDigits;
  while (10 ** digits <= capacity) digits++;
  if (digits > 9) throw new RangeError('too many records for decimal identifiers');
  return { modulus: 10 ** digits, digits };
}

/** A zero-padded decimal string. */
export function padDecimal(value: number, digits: number): string {
  return String(value).padStart(digits, '0');
}
