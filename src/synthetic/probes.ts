/**
 * Policy probes: what a careless form or a worried customer puts where it must not be stored (SPEC §5.1).
 * Card numbers are drawn from the well-known test ranges (4111 11…, 5555 55…, 3782 82…) with a valid Luhn
 * check digit; national ids have the shape of a US social security number or a UK national insurance
 * number and are random, not anyone's.
 */
import type { Rng } from './random.ts';
import type { MarketCode } from './tables/places.ts';

/** The kinds of forbidden data the generator plants, for evaluating a governance layer. */
export type PolicyProbeKind =
  | 'card_number_in_text'
  | 'card_number_in_property'
  | 'national_id_in_text'
  | 'national_id_in_property';

/** True when the digits of `value` (spaces and dashes ignored) pass the Luhn check. */
export function isLuhnValid(value: string): boolean {
  const digits = value.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that completes `partial`. */
export function luhnCheckDigit(partial: string): number {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = partial.charCodeAt(partial.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

const CARD_PREFIXES: readonly (readonly [string, number])[] = [
  ['411111', 16],
  ['401288', 16],
  ['424242', 16],
  ['555555', 16],
  ['510510', 16],
  ['378282', 15],
  ['601111', 16],
];

/** A Luhn-valid card number from a test range, formatted the way people type them. */
export function cardNumber(rng: Rng): string {
  const [prefix, length] = rng.pick(CARD_PREFIXES);
  let partial = prefix;
  while (partial.length < length - 1) partial += String(rng.int(10));
  const digits = partial + String(luhnCheckDigit(partial));
  const style = rng.int(10);
  if (style < 3) return digits;
  const separator = style < 8 ? ' ' : '-';
  const groups = length === 15 ? [4, 6, 5] : [4, 4, 4, 4];
  const parts: string[] = [];
  let at = 0;
  for (const size of groups) {
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  return parts.join(separator);
}

/** A national id of the market's shape: `NNN-NN-NNNN` (US) or `AB 12 34 56 C` (UK). */
export function nationalId(rng: Rng, market: MarketCode): string {
  if (market === 'US') {
    if (rng.chance(0.1)) return '123-45-6789';
    let area = rng.intBetween(1, 898);
    if (area === 666) area = 667;
    const group = rng.intBetween(1, 99);
    const serial = rng.intBetween(1, 9999);
    return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
  }
  const first = 'ABCEGHJKLMNOPRSTWXYZ';
  const second = 'ABCEGHJKLMNPRSTWXYZ';
  const pair = () => String(rng.intBetween(0, 99)).padStart(2, '0');
  const prefix = `${rng.pick([...first])}${rng.pick([...second])}`;
  const spaced = rng.chance(0.5);
  const suffix = 'ABCD'[rng.int(4)] ?? 'A';
  return spaced
    ? `${prefix} ${pair()} ${pair()} ${pair()} ${suffix}`
    : `${prefix}${pair()}${pair()}${pair()}${suffix}`;
}

const CARD_SENTENCES: readonly string[] = [
  'I was charged twice on my card {card}.',
  'Please refund to card {card}.',
  'The card I used was {card}, expiry 09/27.',
  'My card number is {card} if you need it to find the payment.',
];

const NATIONAL_ID_SENTENCES: Readonly<Record<MarketCode, readonly string[]>> = {
  US: ['My SSN is {id} if you need to check my identity.', 'Social security number {id}, for your records.'],
  GB: ['My national insurance number is {id}.', 'NI number {id} in case you need it.'],
};

/** A sentence a customer might add to a message, with a card number in it. */
export function cardSentence(rng: Rng): string {
  return rng.pick(CARD_SENTENCES).replace('{card}', cardNumber(rng));
}

/** A sentence a customer might add to a message, with a national id in it. */
export function nationalIdSentence(rng: Rng, market: MarketCode): string {
  return rng.pick(NATIONAL_ID_SENTENCES[market]).replace('{id}', nationalId(rng, market));
}

/** Property names forms use for card numbers and national ids. */
export const CARD_PROPERTY_KEYS: readonly string[] = ['cardNumber', 'paymentCard', 'card'];
export const NATIONAL_ID_PROPERTY_KEYS: Readonly<Record<MarketCode, readonly string[]>> = {
  US: ['nationalId', 'ssn', 'socialSecurityNumber', 'taxId'],
  GB: ['nationalId', 'nationalInsuranceNumber', 'niNumber'],
};
