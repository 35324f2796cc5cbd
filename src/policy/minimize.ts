import { createHmac } from 'node:crypto';
import { resolveCategory, type Taxonomy } from './taxonomy.ts';

/**
 * Minimisation at ingest (SPEC §5.1): payload keys classified to categories the policy refuses are
 * rejected or stripped, government ids never stay in clear, special categories are reported for the
 * caller's consent check, and every string is scanned for card numbers, national ids and IBANs.
 *
 * Masking keeps the text's length and shape: each masked letter or digit becomes `*`, separators stay.
 * - card numbers (financial.card): all digits but the last four, `4111 1111 1111 1111` →
 *   `**** **** **** 1111`, `4111111111111111` → `************1111`;
 * - IBANs (financial.bank_account): all characters but the last four, `DE89 3704 0044 0532 0130 00` →
 *   `**** **** **** **** **30 00`;
 * - national ids (government_id.national_id): every letter and digit, `123-45-6789` → `***-**-****`.
 * Offsets therefore stay valid between input and output.
 */

/** What a masked run of text was. */
export type MaskKind = 'card_number' | 'national_id' | 'bank_account';

/** One masked run in a text: its kind, category and UTF-16 offsets (the same in input and output). */
export interface TextMask {
  kind: MaskKind;
  category: string;
  start: number;
  end: number;
}

const CATEGORY_OF_MASK: Record<MaskKind, string> = {
  card_number: 'financial.card',
  national_id: 'government_id.national_id',
  bank_account: 'financial.bank_account',
};

/** Whether a string of digits passes the Luhn check. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The remainder of a long decimal (or IBAN-converted) digit string modulo 97. */
function mod97(digits: string): number {
  let rest = 0;
  for (const ch of digits) rest = (rest * 10 + (ch.charCodeAt(0) - 48)) % 97;
  return rest;
}

const isAlnum = (ch: string | undefined) => ch !== undefined && /[0-9A-Za-z]/.test(ch);

// ---------------------------------------------------------------------------------------------------
// Detectors. Each reads the current text and marks positions to mask in `out`.

interface Pass {
  text: string;
  out: string[];
  masks: TextMask[];
}

function maskRange(pass: Pass, kind: MaskKind, start: number, end: number, keepLast = 0): void {
  let kept = 0;
  for (let i = end - 1; i >= start; i--) {
    if (!isAlnum(pass.text[i])) continue;
    if (kept < keepLast) {
      kept++;
      continue;
    }
    pass.out[i] = '*';
  }
  pass.masks.push({ kind, category: CATEGORY_OF_MASK[kind], start, end });
}

/** IBAN lengths by country; an IBAN of another country is not recognised (a guessed length is unsafe). */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  [
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 ',
    'EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 ',
    'KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 ',
    'PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 ',
    'XK20',
  ]
    .join('')
    .split(' ')
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))] as const),
);

/** Whether an IBAN (letters and digits only) has a valid mod-97 check. */
export function isValidIban(iban: string): boolean {
  const upper = iban.toUpperCase();
  if (IBAN_LENGTHS.get(upper.slice(0, 2)) !== upper.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(upper))
    return false;
  const rearranged = upper.slice(4) + upper.slice(0, 4);
  let digits = '';
  for (const ch of rearranged) digits += /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
  return mod97(digits) === 1;
}

function detectIbans(pass: Pass): void {
  const { text } = pass;
  for (const match of text.matchAll(/[A-Za-z]{2}\d{2}/g)) {
    const start = match.index;
    if (isAlnum(text[start - 1])) continue;
    const length = IBAN_LENGTHS.get(match[0].slice(0, 2).toUpperCase());
    if (length === undefined) continue;
    let collected = '';
    let i = start;
    // Characters may be grouped by single spaces (groups of four, as printed).
    while (collected.length < length && i < text.length) {
      const ch = text[i] ?? '';
      if (isAlnum(ch)) collected += ch;
      else if (ch === ' ' && collected.length > 0 && isAlnum(text[i + 1])) {
        // a single space between groups
      } else break;
      i++;
    }
    if (collected.length !== length || isAlnum(text[i])) continue;
    if (isValidIban(collected)) maskRange(pass, 'bank_account', start, i, 4);
  }
}

const NIR =
  /(?<![0-9A-Za-z+])([1-478]) ?(\d{2}) ?(\d{2}) ?(\d{2}|2[ABab]) ?(\d{3}) ?(\d{3}) ?(\d{2})(?![0-9A-Za-z])/g;

/** French social security number: 13 characters and a key, 97 − (number mod 97); Corsica is 2A/2B. */
function detectNir(pass: Pass): void {
  for (const m of pass.text.matchAll(NIR)) {
    const [, sex, year, month, dept, commune, order, key] = m;
    if (month === '00' || dept === undefined || key === undefined) continue;
    const deptDigits = dept.toUpperCase() === '2A' ? '19' : dept.toUpperCase() === '2B' ? '18' : dept;
    const number = `${sex}${year}${month}${deptDigits}${commune}${order}`;
    if (97 - mod97(number) === Number(key)) maskRange(pass, 'national_id', m.index, m.index + m[0].length);
  }
}

const NINO =
  /(?<![0-9A-Za-z])([A-Z])([A-Z])[ -]?(\d{2}[ -]?\d{2}[ -]?\d{2}|\d{3}[ -]?\d{3})(?:[ -]?([A-D]))?(?![0-9A-Za-z])/gi;
const NINO_FIRST = /^[A-CEGHJ-PR-TW-Z]$/i;
const NINO_SECOND = /^[A-CEGHJ-NPR-TW-Z]$/i;
const NINO_NEVER = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);
/** A label just before a number saying it is a National Insurance number ("NI no.", "NINO:", "national insurance"). */
const NINO_LABEL =
  /(?:national\s+insurance|\bnino\b|\bn\.?i\.?(?=[\s:#.]))[^0-9A-Za-z]{0,3}(?:(?:no|number|num)\b\.?)?[^0-9A-Za-z]{0,3}(?:is\s+)?$/i;

/**
 * UK National Insurance number: two letters (not every pair is issued), six digits (in pairs, in
 * threes or together, spaces or dashes between), a suffix A–D. After a label ("NI number is …") the
 * shape alone is enough: the suffix may be missing and the prefix one never issued (QQ, the usual
 * example).
 */
function detectNino(pass: Pass): void {
  for (const m of pass.text.matchAll(NINO)) {
    const [, first = '', second = '', , suffix] = m;
    const issued =
      NINO_FIRST.test(first) &&
      NINO_SECOND.test(second) &&
      !NINO_NEVER.has(`${first}${second}`.toUpperCase());
    const labelled = NINO_LABEL.test(pass.text.slice(Math.max(0, m.index - 40), m.index));
    if ((issued && suffix !== undefined) || labelled)
      maskRange(pass, 'national_id', m.index, m.index + m[0].length);
  }
}

const DNI = /(?<![0-9A-Za-z+])([XYZxyz]?)(\d{7,8})-?([A-Za-z])(?![0-9A-Za-z])/g;
const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits and a check letter) and NIE (X, Y or Z, 7 digits and a check letter). */
function detectDni(pass: Pass): void {
  for (const m of pass.text.matchAll(DNI)) {
    const [, prefix = '', digits = '', letter = ''] = m;
    if (prefix === '' ? digits.length !== 8 : digits.length !== 7) continue;
    const lead = prefix === '' ? '' : String('XYZ'.indexOf(prefix.toUpperCase()));
    if (DNI_LETTERS[Number(lead + digits) % 23] !== letter.toUpperCase()) continue;
    maskRange(pass, 'national_id', m.index, m.index + m[0].length);
  }
}

const SSN = /(?<![0-9A-Za-z+-])(\d{3})-(\d{2})-(\d{4})(?![0-9A-Za-z]|-\d)/g;

/** US Social Security number, dashed only (nine bare digits are too often something else). */
function detectSsn(pass: Pass): void {
  for (const m of pass.text.matchAll(SSN)) {
    const [, area = '', group, serial] = m;
    if (area === '000' || area === '666' || area.startsWith('9') || group === '00' || serial === '0000')
      continue;
    maskRange(pass, 'national_id', m.index, m.index + m[0].length);
  }
}

/**
 * Card numbers: in a run of digit groups joined by single spaces or dashes, every window of whole groups
 * with 13–19 digits that passes Luhn, where the window is one group or all its groups have at least
 * three digits (so dates and short codes side by side are not read as one number). A run that follows
 * `+` is a phone number in international form, so windows starting at its first group are skipped,
 * unless the window is that one group with more than 15 digits (more than E.164 allows).
 * Digits in any window except its last four are masked.
 */
function detectCards(pass: Pass): void {
  const { text } = pass;
  for (const run of text.matchAll(/\d+(?:[ -]\d+)*/g)) {
    const groups: Array<{ start: number; digits: string }> = [];
    for (const g of run[0].matchAll(/\d+/g)) groups.push({ start: run.index + g.index, digits: g[0] });
    const afterPlus = text[run.index - 1] === '+';
    for (let i = 0; i < groups.length; i++) {
      let digits = '';
      for (let j = i; j < groups.length; j++) {
        const group = groups[j];
        if (group === undefined) break;
        if (j > i && (group.digits.length < 3 || (groups[i]?.digits.length ?? 0) < 3)) break;
        digits += group.digits;
        if (digits.length > 19) break;
        // E.164 numbers have at most 15 digits, so one longer group after `+` is no phone.
        const phone = i === 0 && afterPlus && (j > i || digits.length <= 15);
        if (digits.length >= 13 && !phone && passesLuhn(digits)) {
          maskRange(pass, 'card_number', groups[i]?.start ?? 0, group.start + group.digits.length, 4);
        }
      }
    }
  }
}

const DETECTORS = [detectIbans, detectNir, detectNino, detectDni, detectSsn, detectCards];

/**
 * Masks card numbers, IBANs and national ids in free text (also for the CSV import path). Repeats until
 * nothing new is found, so the output never holds a number the scanner would mask.
 */
export function maskFreeText(text: string): { text: string; masked: TextMask[] } {
  // Cheap exit: every pattern holds at least six digits, at most one character apart.
  if (!/\d(?:\D?\d){5}/.test(text)) return { text, masked: [] };
  let current = text;
  const masked: TextMask[] = [];
  for (;;) {
    const pass: Pass = { text: current, out: current.split(''), masks: [] };
    for (const detect of DETECTORS) {
      detect(pass);
      pass.text = pass.out.join('');
    }
    if (pass.text === current) break;
    masked.push(...pass.masks);
    current = pass.text;
  }
  masked.sort((a, b) => a.start - b.start || a.end - b.end);
  return { text: current, masked };
}

/** A card number held in a JSON number: an integer of 13–19 digits, from a card network (2–6), Luhn. */
function maskCardNumber(value: number): string | undefined {
  if (!Number.isInteger(value) || value <= 0 || value >= 1e19) return undefined;
  const digits = value.toFixed(0);
  if (digits.length < 13 || !/^[2-6]/.test(digits) || !passesLuhn(digits)) return undefined;
  return '*'.repeat(digits.length - 4) + digits.slice(-4);
}

// ---------------------------------------------------------------------------------------------------
// Keyed hashes

/** The normal form hashed for matching: no spaces or dashes, upper case. */
export function normaliseForHash(value: string): string {
  return value.replace(/[\s-]+/g, '').toUpperCase();
}

/**
 * A keyed hash for matching without keeping the value: HMAC-SHA256 over `kind:` and the normalised value,
 * as `hmac-sha256:<hex>`. The kind (a category such as `government_id.passport`) keeps equal numbers of
 * different kinds apart.
 */
export function keyedHash(secret: Buffer | string, kind: string, value: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${kind}:${normaliseForHash(value)}`)
    .digest('hex');
  return `hmac-sha256:${mac}`;
}

// ---------------------------------------------------------------------------------------------------
// Payloads

/** Escapes one reference token of a JSON pointer (RFC 6901). */
export function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

export interface ScanOptions {
  /** `reject`: do-not-store keys are violations; `strip`: they are dropped and listed. */
  mode: 'reject' | 'strip';
  /** JSON pointer of the payload in its envelope, e.g. `/properties`; `` for the root. */
  basePath: string;
  /** The category of a key at a JSON pointer, or undefined (`categoryOfPropertyKey` fits). */
  classify: (key: string, path: string) => string | undefined;
  taxonomy: Taxonomy;
  /** With a secret, a hash-only string or number is replaced by its keyed hash; without, it is removed. */
  hashSecret?: Buffer | string;
}

export interface CategoryAt {
  path: string;
  category: string;
}

export interface ScanResult {
  /** A new value: do-not-store and hash-only keys removed (hash-only ones hashed with a secret), text masked. */
  value: unknown;
  /** Do-not-store keys removed in strip mode. */
  dropped: CategoryAt[];
  masked: Array<{ path: string; kind: MaskKind; category: string }>;
  /** Do-not-store keys found in reject mode (also removed from `value`): the payload must be refused. */
  violations: Array<CategoryAt & { code: 'POLICY_DO_NOT_STORE'; message: string }>;
  /** Special-category keys, left in place: the caller checks the declared consent. */
  special: CategoryAt[];
  /** Government ids: never left in clear; `hashed` when replaced by a keyed hash. */
  hashOnly: Array<CategoryAt & { hashed: boolean }>;
  /** Keys of categories stored only when the customer declared them (demographic, life events, …). */
  declaredOnly: CategoryAt[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Walks a payload (nested objects and arrays) and applies the storage policy to every classified key
 * and the free-text masks to every string, including keys and values of unknown keys. Pure: the input
 * is not changed.
 */
export function scanPayload(value: unknown, options: ScanOptions): ScanResult {
  const result: ScanResult = {
    value: undefined,
    dropped: [],
    masked: [],
    violations: [],
    special: [],
    hashOnly: [],
    declaredOnly: [],
  };
  const { taxonomy, classify, mode, hashSecret } = options;

  const maskText = (text: string, path: string): string => {
    const { text: out, masked } = maskFreeText(text);
    for (const m of masked) result.masked.push({ path, kind: m.kind, category: m.category });
    return out;
  };

  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') return maskText(node, path);
    if (typeof node === 'number') {
      const masked = maskCardNumber(node);
      if (masked === undefined) return node;
      result.masked.push({ path, kind: 'card_number', category: CATEGORY_OF_MASK.card_number });
      return masked;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, `${path}/${index}`));
    if (!isPlainObject(node)) return node;
    const entries: Array<[string, unknown]> = [];
    for (const [rawKey, child] of Object.entries(node)) {
      // A key is free text too; its masks are reported at the masked path, never the clear one.
      const { text: key, masked: keyMasks } = maskFreeText(rawKey);
      const childPath = `${path}/${escapePointerToken(key)}`;
      for (const m of keyMasks) result.masked.push({ path: childPath, kind: m.kind, category: m.category });
      const category = classify(rawKey, childPath);
      const policy = category === undefined ? undefined : resolveCategory(taxonomy, category)?.policy;
      if (category === undefined || policy === undefined) {
        entries.push([key, walk(child, childPath)]);
        continue;
      }
      switch (policy) {
        case 'do_not_store':
          if (mode === 'strip') result.dropped.push({ path: childPath, category });
          else {
            result.violations.push({
              path: childPath,
              category,
              code: 'POLICY_DO_NOT_STORE',
              message: `is of category "${category}", which must not be stored: remove it, or set the workspace's doNotStore to "strip" to drop it`,
            });
          }
          break;
        case 'hash_only': {
          const clear = typeof child === 'string' || typeof child === 'number' ? String(child) : undefined;
          const hashed = clear !== undefined && hashSecret !== undefined;
          result.hashOnly.push({ path: childPath, category, hashed });
          if (hashed) entries.push([key, keyedHash(hashSecret, category, clear)]);
          break;
        }
        case 'special':
          result.special.push({ path: childPath, category });
          entries.push([key, walk(child, childPath)]);
          break;
        case 'declared_only':
          result.declaredOnly.push({ path: childPath, category });
          entries.push([key, walk(child, childPath)]);
          break;
        case 'store':
          entries.push([key, walk(child, childPath)]);
          break;
      }
    }
    // fromEntries defines own properties, so a `__proto__` key stays data and never becomes a prototype.
    return Object.fromEntries(entries);
  };

  result.value = walk(value, options.basePath);
  return result;
}
