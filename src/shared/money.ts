/**
 * Money: the ISO 4217 currencies and how an amount is written. Amounts travel as JSON numbers (CSV:
 * decimal text) with at most the currency's minor-unit decimals and at most 15 significant digits, so
 * every amount is exactly the decimal that was written (a double holds any decimal of 15 digits and
 * prints it back unchanged); the database keeps them as `numeric` and sums them there, never as floats.
 */

/**
 * The current codes of ISO 4217 (list one) with their minor units (null: the unit has none, as for gold
 * or the SDR). XTS (reserved for testing) and XXX (no currency) are left out, and so are codes
 * withdrawn from the list (HRK, BGN, SLL, ZWL, CUC, ANG…): a purchase in them is refused.
 */
const CODES_BY_MINOR_UNIT: readonly (readonly [number | null, string])[] = [
  [0, 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'],
  [
    2,
    'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
      'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP ' +
      'GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK ' +
      'LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO ' +
      'NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS ' +
      'SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST ' +
      'XCD XCG YER ZAR ZMW ZWG',
  ],
  [3, 'BHD IQD JOD KWD LYD OMR TND'],
  [4, 'CLF UYW'],
  [null, 'XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XUA'],
];

const MINOR_UNITS: ReadonlyMap<string, number | null> = new Map(
  CODES_BY_MINOR_UNIT.flatMap(([unit, codes]) => codes.split(' ').map((code) => [code, unit] as const)),
);

/** The scale amounts are stored with (`numeric(18, 4)`): the most decimals any amount may have. */
export const AMOUNT_SCALE = 4;

/** The most significant digits of an amount: what a JSON number carries exactly. */
export const AMOUNT_MAX_DIGITS = 15;

/** True for a current ISO 4217 code (upper case, as the standard writes it). */
export function isCurrencyCode(code: string): boolean {
  return MINOR_UNITS.has(code);
}

/** The decimals an amount in the currency may have: its minor unit, or the storage scale when it has none. */
export function currencyDecimals(code: string): number {
  return MINOR_UNITS.get(code) ?? AMOUNT_SCALE;
}

/** Every current ISO 4217 code, sorted. */
export function listCurrencyCodes(): string[] {
  return [...MINOR_UNITS.keys()].sort();
}

/**
 * What is wrong with an amount written in a currency, or undefined: more decimals than the currency's
 * minor unit (a cent has no thousandths), or more significant digits than travel exactly. An unknown
 * currency is the currency's problem, reported apart; its amount is held to the storage scale.
 */
export function checkAmount(amount: number, currency: string | null): string | undefined {
  if (!Number.isFinite(amount)) return 'must be a finite number';
  const decimals = currency !== null && isCurrencyCode(currency) ? currencyDecimals(currency) : AMOUNT_SCALE;
  // The shortest text that reads back as the same double: the decimal the sender wrote.
  const text = String(Math.abs(amount));
  if (text.includes('e')) {
    // Below 1e-6 (too many decimals for any currency) or above 1e21 (far beyond any limit).
    return Math.abs(amount) < 1 ? tooManyDecimals(decimals, currency) : 'is too large';
  }
  const [whole = '', fraction = ''] = text.split('.');
  if (fraction.length > decimals) return tooManyDecimals(decimals, currency);
  const digits = `${whole}${fraction}`.replace(/^0+/, '').length;
  if (digits > AMOUNT_MAX_DIGITS) return `must have at most ${AMOUNT_MAX_DIGITS} significant digits`;
  return undefined;
}

function tooManyDecimals(decimals: number, currency: string | null): string {
  const unit = decimals === 1 ? 'decimal' : 'decimals';
  return currency !== null && isCurrencyCode(currency)
    ? `must have at most ${decimals} ${unit} in ${currency}`
    : `must have at most ${decimals} ${unit}`;
}

const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/**
 * Reads an amount written as decimal text (`1234.50`, `-3`): no exponent, no thousands separators,
 * no currency sign, so nothing is guessed. Undefined when it is not such a text.
 */
export function parseDecimalText(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL_TEXT.test(trimmed)) return undefined;
  return Number(trimmed);
}
