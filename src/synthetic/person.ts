/**
 * One person of the synthetic world: who they truly are (name, contacts, address history, life events,
 * habits, purchase process) and the records each source system keeps about them, with each system's
 * habits of spelling, formatting and staleness. Everything is drawn from the person's own random stream,
 * so a person can be rebuilt from (seed, index) alone.
 */
import type { WorldContext } from './context.ts';
import { padDecimal, permute64, permuteDecimal } from './ids.ts';
import { choosePersona, PERSONA_STREAM, type RelationshipPersona } from './personas.ts';
import { mix32, Rng } from './random.ts';
import type { Category } from './tables/catalog.ts';
import type { CultureCode } from './tables/names.ts';
import {
  ADOPTED_NAMES,
  FEMININE_ENDINGS,
  NAME_CULTURES,
  NICKNAMES,
  SPELLING_VARIANTS,
  TITLES,
} from './tables/names.ts';
import type { City, MarketCode } from './tables/places.ts';
import {
  GB_MOBILE_PREFIX,
  GB_POSTCODE_UNIT_LETTERS,
  MARKET_TABLE,
  WORK_EMAIL_DOMAINS,
} from './tables/places.ts';
import type { PhoneParts, PostalAddress } from './text.ts';
import {
  abbreviateStreet,
  emailStem,
  foldToAscii,
  misspell,
  phoneE164,
  phoneLocal,
  phoneTyped,
  transliterateGerman,
} from './text.ts';
import type {
  HeldPreference,
  LifeEventKind,
  SourceRecord,
  SourceSystem,
  SyntheticCustomer,
} from './types.ts';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const YEAR_MS = 365.25 * DAY_MS;

/** Random streams of a person: one for who they are, one for what they do. */
export const PERSON_STREAM = 1;
export const EVENT_STREAM = 2;

/** A source record with the internal times the event generator needs. */
export interface RecordModel {
  record: SourceRecord;
  source: SourceSystem;
  slot: number;
  createdMs: number;
  /** When the record caught up with the person's move (or was created after it); undefined if never. */
  addressCurrentFromMs: number | undefined;
}

/** Habits and propensities that shape a person's interactions. */
export interface Traits {
  complaint: number;
  service: number;
  warmth: number;
  suggester: number;
  paymentRisk: number;
  /** Mean survey score, 0–10. */
  satisfaction: number;
  webShare: number;
  appShare: number;
  /** Hour of day the person likes to shop online (local time). */
  onlineHour: number;
  paymentMethod: 'card' | 'cash' | 'mobile';
  receipt: 'paper' | 'email' | 'none';
  homeStore: number;
  categoryWeights: Float64Array;
}

/** A person with their ground truth and the internal quantities the event generator needs. */
export interface PersonModel {
  personId: string;
  index: number;
  name: NameTruth;
  language: string;
  birthDate: string;
  email: string | undefined;
  secondaryEmail: string | undefined;
  address: PostalAddress;
  previousAddress: PostalAddress | undefined;
  preferences: HeldPreference[];
  purchaseRate: number;
  dropoutProbability: number;
  repeatPurchases: number;
  market: MarketCode;
  /** Home city at the start, and after a move (the same city when the person did not move away). */
  city: City;
  cityAfterMove: City;
  utcOffsetMs: number;
  acquiredMs: number;
  purchaseTimes: number[];
  droppedOutMs: number | undefined;
  spendRate: number;
  lifeEvents: { kind: LifeEventKind; atMs: number; declared: boolean }[];
  moveMs: number | undefined;
  marriedMs: number | undefined;
  records: RecordModel[];
  traits: Traits;
  phone: PhoneParts | undefined;
  /** The relationship persona planted in this person, if any (personas.ts). */
  persona: RelationshipPersona | undefined;
}

export interface NameTruth {
  given: string;
  middle: string | undefined;
  family: string;
  second: string | undefined;
  former: string | undefined;
  preferred: string | undefined;
  familyFirst: boolean;
  culture: CultureCode;
  gender: 'female' | 'male' | 'unspecified';
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** Civil date of a day count since 1970-01-01 (proleptic Gregorian), as `YYYY-MM-DD`. */
function civilDate(days: number): string {
  // Arithmetic from days to (year, month, day): much faster than going through Date and toISOString.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/** Formats a time as ISO 8601 in UTC with whole seconds: `2024-03-05T14:22:10Z`. */
export function isoSeconds(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  let rest = seconds - days * 86400;
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  return `${civilDate(days)}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[rest - minute * 60]}Z`;
}

function isoDate(ms: number): string {
  return civilDate(Math.floor(ms / DAY_MS));
}

function feminine(family: string): string {
  for (const [masculine, feminineEnding] of FEMININE_ENDINGS) {
    if (family.endsWith(masculine)) return family.slice(0, -masculine.length) + feminineEnding;
  }
  return family;
}

function pickOther(rng: Rng, items: readonly string[], not: string): string {
  for (let i = 0; i < 4; i++) {
    const candidate = rng.pick(items);
    if (candidate !== not) return candidate;
  }
  return rng.pick(items);
}

function drawName(ctx: WorldContext, rng: Rng, market: MarketCode): NameTruth {
  const culture = ctx.cultures[market].pick(rng);
  const table = NAME_CULTURES[culture];
  const roll = rng.next();
  const gender = roll < 0.49 ? 'female' : roll < 0.985 ? 'male' : 'unspecified';
  const femaleForm = gender === 'female' || (gender === 'unspecified' && rng.chance(0.5));
  const givenList = femaleForm ? table.female : table.male;
  const given = rng.pick(givenList);
  let family = rng.pick(table.family);
  if (femaleForm) family = feminine(family);
  let middle: string | undefined;
  if (rng.chance(table.middleNameRate)) {
    const middleList = (femaleForm ? table.femaleMiddle : table.maleMiddle) ?? givenList;
    middle = pickOther(rng, middleList, given);
  }
  const second = rng.chance(table.secondFamilyNameRate) ? pickOther(rng, table.family, family) : undefined;
  let preferred: string | undefined;
  if (rng.chance(table.adoptedNameRate)) {
    preferred = rng.pick(femaleForm ? ADOPTED_NAMES.female : ADOPTED_NAMES.male);
  } else {
    const nicknames = NICKNAMES[given];
    if (nicknames !== undefined && rng.chance(0.45)) preferred = rng.pick(nicknames);
  }
  return {
    given,
    middle,
    family,
    second,
    former: undefined,
    preferred,
    familyFirst: table.familyFirst,
    culture,
    gender,
  };
}

function drawAddress(rng: Rng, market: MarketCode, city: City): PostalAddress {
  const table = MARKET_TABLE[market];
  const street = `${rng.pick(table.streetNames)} ${rng.pick(table.streetTypes)}`;
  if (market === 'US') {
    const number = rng.chance(0.7) ? rng.intBetween(1, 999) : rng.intBetween(1000, 9999);
    const line1 = `${number} ${street}`;
    const line2 = rng.chance(0.25) ? `Apt ${rng.intBetween(1, 30)}${'ABCDEF'[rng.int(6)] ?? 'A'}` : undefined;
    const postcode = `${rng.pick(city.postcodes)}${padDecimal(rng.intBetween(1, 99), 2)}`;
    return line2 === undefined
      ? { line1, city: city.name, region: city.region, postcode, country: market }
      : { line1, line2, city: city.name, region: city.region, postcode, country: market };
  }
  const letters = GB_POSTCODE_UNIT_LETTERS;
  const line1 = `${rng.intBetween(1, 250)} ${street}`;
  const postcode = `${rng.pick(city.postcodes)} ${rng.int(10)}${letters[rng.int(letters.length)]}${letters[rng.int(letters.length)]}`;
  const line2 = rng.chance(0.15) ? `Flat ${rng.intBetween(1, 40)}` : undefined;
  return line2 === undefined
    ? { line1, city: city.name, postcode, country: market }
    : { line1, line2, city: city.name, postcode, country: market };
}

function drawPhone(rng: Rng, market: MarketCode, city: City): PhoneParts {
  const digits2 = padDecimal(rng.int(100), 2);
  if (market === 'US') return { market, area: rng.pick(city.phone), local: `555-01${digits2}` };
  const last3 = padDecimal(rng.int(1000), 3);
  if (rng.chance(0.6))
    return {
      market,
      area: `0${GB_MOBILE_PREFIX.slice(0, 4)}`,
      local: `${GB_MOBILE_PREFIX.slice(5)}${last3}`,
    };
  return { market, area: city.phone[0] ?? '020', local: `${city.phone[1] ?? '7946 0'}${last3}` };
}

function drawEmail(ctx: WorldContext, rng: Rng, name: NameTruth, index: number, domain: string): string {
  const first = emailStem(name.preferred !== undefined && rng.chance(0.3) ? name.preferred : name.given);
  const last = emailStem(name.family);
  const serial = ctx.emailSerial.offset + permuteDecimal(index, ctx.emailSerial.modulus, ctx.keys.email);
  const n = String(serial);
  let local: string;
  switch (rng.int(6)) {
    case 0:
      local = `${first}.${last}${n}`;
      break;
    case 1:
      local = `${first[0] ?? 'x'}${last}${n}`;
      break;
    case 2:
      local = `${last}.${first}${n}`;
      break;
    case 3:
      local = `${first}_${last[0] ?? 'x'}${n}`;
      break;
    case 4:
      local = `${first}${last}${n}`;
      break;
    default:
      local = `${first}.${last}.${n}`;
  }
  return `${local}@${domain}`;
}

/**
 * The BG/NBD generative process (Fader, Hardie & Lee 2005): purchases at exponential gaps with rate λ
 * per week from the first one; after each repeat purchase the person drops out with probability p.
 */
function drawPurchases(
  ctx: WorldContext,
  rng: Rng,
  acquisitionMs: number,
  lambda: number,
  dropout: number,
): { raw: number[]; droppedOutMs: number | undefined } {
  const { endMs } = ctx.config;
  const raw = [acquisitionMs];
  let t = acquisitionMs;
  for (;;) {
    t += rng.exponential(lambda) * WEEK_MS;
    if (t >= endMs) return { raw, droppedOutMs: undefined };
    raw.push(t);
    if (rng.chance(dropout)) return { raw, droppedOutMs: t };
  }
}

/** Moves a time to a local hour within the same local day, keeping it inside the window. */
export function placeInDay(ctx: WorldContext, ms: number, utcOffsetMs: number, hour: number): number {
  const local = ms + utcOffsetMs;
  const dayStart = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  const placed = dayStart + hour * 3_600_000 - utcOffsetMs;
  return placed >= ctx.config.startMs && placed < ctx.config.endMs ? placed : ms;
}

function shopHour(rng: Rng): number {
  // Store footfall: late morning and late afternoon peaks, open 9:00–21:00.
  return rng.chance(0.5) ? rng.normal(12, 1.6) : rng.normal(17.5, 1.8);
}

function clampHour(hour: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, hour));
}

interface RecordPlan {
  source: SourceSystem;
  slot: number;
  createdMs: number;
}

const SINGLE_SYSTEM: readonly SourceSystem[][] = [['pos'], ['web']];
const SINGLE_WEIGHTS = [0.62, 0.38];

const MULTI_PROFILES: readonly SourceSystem[][] = [
  ['pos', 'web'],
  ['web', 'shipping'],
  ['pos', 'web', 'shipping'],
  ['pos', 'callcentre'],
  ['web', 'shipping', 'callcentre'],
  ['pos', 'web', 'shipping', 'billing'],
  ['web', 'shipping', 'billing', 'callcentre'],
  ['pos', 'billing'],
  ['pos', 'web', 'shipping', 'billing', 'callcentre'],
  ['pos', 'web', 'callcentre'],
];
const MULTI_WEIGHTS = [18, 22, 16, 6, 9, 6, 6, 4, 7, 6];

function planRecords(ctx: WorldContext, rng: Rng, acquiredMs: number): RecordPlan[] {
  const { endMs, duplicateRate, withinSourceDuplicateRate } = ctx.config;
  const span = Math.max(DAY_MS, endMs - acquiredMs);
  if (!rng.chance(duplicateRate)) {
    const only = rng.weighted(SINGLE_SYSTEM, SINGLE_WEIGHTS)[0] ?? 'pos';
    return [{ source: only, slot: 0, createdMs: acquiredMs }];
  }
  const withinOnly = rng.chance(withinSourceDuplicateRate * 0.25);
  const systems = withinOnly
    ? [rng.chance(0.6) ? 'pos' : 'web']
    : rng.weighted(MULTI_PROFILES, MULTI_WEIGHTS);
  const hasPos = systems.includes('pos');
  const hasWeb = systems.includes('web');
  const primary: SourceSystem =
    hasPos && hasWeb ? (rng.chance(0.55) ? 'pos' : 'web') : hasPos ? 'pos' : 'web';
  const plans: RecordPlan[] = [];
  let webCreated = acquiredMs;
  for (const source of ['pos', 'web', 'callcentre', 'billing'] as const) {
    if (!systems.includes(source)) continue;
    let createdMs: number;
    if (source === primary) createdMs = acquiredMs;
    else if (source === 'pos' || source === 'web') createdMs = acquiredMs + rng.uniform(0.02, 0.6) * span;
    else if (source === 'billing') createdMs = acquiredMs + rng.uniform(0, 0.5) * span;
    else createdMs = acquiredMs + rng.uniform(0.05, 0.8) * span;
    if (source === 'web') webCreated = createdMs;
    plans.push({ source, slot: 0, createdMs: Math.min(createdMs, endMs - 1000) });
  }
  if (systems.includes('shipping')) plans.push({ source: 'shipping', slot: 0, createdMs: webCreated });
  if (withinOnly || rng.chance(withinSourceDuplicateRate)) {
    const candidates = plans.filter((p) => p.source === 'pos' || p.source === 'web');
    const original = candidates.length > 0 ? rng.pick(candidates) : plans[0];
    if (original !== undefined) {
      const createdMs =
        original.createdMs + rng.uniform(0.2, 0.9) * Math.max(DAY_MS, endMs - original.createdMs);
      plans.push({ source: original.source, slot: 1, createdMs: Math.min(createdMs, endMs - 1000) });
    }
  }
  return plans;
}

/** Source-system habits: how often each field is filled, how names and numbers are keyed in. */
interface SourceHabits {
  updateAfterMove: number;
  updateAfterMarriage: number;
}

const HABITS: Record<SourceSystem, SourceHabits> = {
  pos: { updateAfterMove: 0.2, updateAfterMarriage: 0.3 },
  web: { updateAfterMove: 0.5, updateAfterMarriage: 0.6 },
  callcentre: { updateAfterMove: 0.4, updateAfterMarriage: 0.4 },
  billing: { updateAfterMove: 0.7, updateAfterMarriage: 0.8 },
  shipping: { updateAfterMove: 0.6, updateAfterMarriage: 0.5 },
};

function recordId(ctx: WorldContext, source: SourceSystem, index: number, slot: number): string {
  const k = index * 4 + slot;
  // Records and interactions of a source are keyed apart, so no interaction id echoes an account id.
  const key = mix32(ctx.keys[source] ^ 0x2545f491);
  switch (source) {
    case 'pos':
      return `L${padDecimal(permuteDecimal(k, ctx.loyalty.modulus, key), ctx.loyalty.digits)}`;
    case 'web':
      return `w_${permute64(index, slot, key)}`;
    case 'callcentre':
      return `U${padDecimal(permuteDecimal(k, ctx.ticketUser.modulus, key), ctx.ticketUser.digits)}`;
    case 'billing':
      return `B-${padDecimal(permuteDecimal(k, ctx.billing.modulus, key), ctx.billing.digits)}`;
    case 'shipping': {
      const hex = permute64(index, slot, key).toUpperCase();
      return `CN-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}`;
    }
  }
}

function variant(rng: Rng, value: string, p: number): string {
  const variants = SPELLING_VARIANTS[value];
  return variants !== undefined && rng.chance(p) ? rng.pick(variants) : value;
}

function birthDateAsKeyed(rng: Rng, birthDate: string, market: MarketCode): string {
  // A clerk reading a date in the other convention swaps day and month when both fit.
  const [y, m, d] = birthDate.split('-');
  if (market === 'US' && rng.chance(0.04) && d !== undefined && Number(d) <= 12 && d !== m)
    return `${y}-${d}-${m}`;
  return birthDate;
}

interface PersonFacts {
  name: NameTruth;
  market: MarketCode;
  language: string;
  birthDate: string;
  email: string | undefined;
  secondaryEmail: string | undefined;
  phone: PhoneParts | undefined;
  address: PostalAddress;
  previousAddress: PostalAddress | undefined;
  moveMs: number | undefined;
  marriedMs: number | undefined;
}

function familyAt(facts: PersonFacts, ms: number): string {
  const { name, marriedMs } = facts;
  return marriedMs !== undefined && ms < marriedMs && name.former !== undefined ? name.former : name.family;
}

function addressAt(facts: PersonFacts, ms: number): PostalAddress {
  return facts.moveMs !== undefined && ms < facts.moveMs && facts.previousAddress !== undefined
    ? facts.previousAddress
    : facts.address;
}

function buildRecord(
  ctx: WorldContext,
  rng: Rng,
  facts: PersonFacts,
  plan: RecordPlan,
  index: number,
): RecordModel {
  const { endMs, misspellingRate } = ctx.config;
  const { name, market } = facts;
  const habits = HABITS[plan.source];
  let updatedMs = plan.createdMs;
  let addressCurrentFromMs: number | undefined;
  if (facts.moveMs === undefined) addressCurrentFromMs = plan.createdMs;
  else if (plan.createdMs >= facts.moveMs) addressCurrentFromMs = plan.createdMs;
  else if (rng.chance(habits.updateAfterMove)) {
    const caughtUp = facts.moveMs + rng.exponential(1 / 3) * WEEK_MS;
    if (caughtUp < endMs) {
      addressCurrentFromMs = caughtUp;
      updatedMs = Math.max(updatedMs, caughtUp);
    }
  }
  if (
    facts.marriedMs !== undefined &&
    plan.createdMs < facts.marriedMs &&
    rng.chance(habits.updateAfterMarriage)
  ) {
    const caughtUp = facts.marriedMs + rng.exponential(1 / 4) * WEEK_MS;
    if (caughtUp < endMs) updatedMs = Math.max(updatedMs, caughtUp);
  }
  const family = familyAt(facts, updatedMs);
  const fullFamily = name.second !== undefined ? `${family} ${name.second}` : family;
  const address = addressAt(facts, updatedMs);
  const record: SourceRecord = {
    source: plan.source,
    externalId: recordId(ctx, plan.source, index, plan.slot),
    truePersonId: '',
    createdAt: isoSeconds(plan.createdMs),
    updatedAt: isoSeconds(updatedMs),
  };
  const email = plan.slot === 1 && facts.secondaryEmail !== undefined ? facts.secondaryEmail : facts.email;
  const e164 = facts.phone !== undefined ? phoneE164(facts.phone) : undefined;

  switch (plan.source) {
    case 'pos': {
      let given = name.preferred !== undefined && rng.chance(0.15) ? name.preferred : name.given;
      let fam = name.second !== undefined && rng.chance(0.5) ? family : fullFamily;
      given = variant(rng, given, 0.3);
      fam = variant(rng, fam, 0.3);
      if (rng.chance(0.6)) {
        given = foldToAscii(given);
        fam = foldToAscii(fam);
      }
      if (rng.chance(misspellingRate)) given = misspell(rng, given);
      if (rng.chance(misspellingRate)) fam = misspell(rng, fam);
      if (rng.chance(name.familyFirst ? 0.15 : 0.03)) [given, fam] = [fam, given];
      if (rng.chance(0.12)) {
        given = given.toUpperCase();
        fam = fam.toUpperCase();
      }
      record.givenName = given;
      record.familyName = fam;
      if (email !== undefined && rng.chance(0.35)) record.email = email;
      if (facts.phone !== undefined && rng.chance(0.75)) {
        record.phone = rng.chance(0.8) ? phoneLocal(facts.phone) : phoneTyped(rng, facts.phone);
      }
      if (rng.chance(0.45)) {
        record.address = rng.chance(0.6) ? { ...address, line1: abbreviateStreet(address) } : { ...address };
      }
      if (rng.chance(0.35)) record.birthDate = birthDateAsKeyed(rng, facts.birthDate, market);
      if (rng.chance(0.2)) record.language = facts.language;
      break;
    }
    case 'web': {
      let given = name.preferred !== undefined && rng.chance(0.55) ? name.preferred : name.given;
      let fam =
        name.second !== undefined
          ? rng.chance(0.5)
            ? fullFamily
            : rng.chance(0.5)
              ? family
              : `${family}-${name.second}`
          : family;
      if (rng.chance(0.02)) given = misspell(rng, given);
      if (rng.chance(0.05)) {
        given = given.toLowerCase();
        fam = fam.toLowerCase();
      }
      record.givenName = given;
      record.familyName = fam;
      if (email !== undefined) record.email = email;
      if (facts.phone !== undefined && rng.chance(0.55)) record.phone = phoneTyped(rng, facts.phone);
      if (rng.chance(0.8)) record.address = { ...address };
      if (rng.chance(0.25)) record.birthDate = facts.birthDate;
      if (rng.chance(0.95)) record.language = facts.language;
      break;
    }
    case 'callcentre': {
      let given = variant(
        rng,
        name.preferred !== undefined && rng.chance(0.3) ? name.preferred : name.given,
        0.35,
      );
      let fam = variant(rng, family, 0.35);
      if (rng.chance(misspellingRate * 1.2)) given = misspell(rng, given);
      if (rng.chance(misspellingRate * 1.2)) fam = misspell(rng, fam);
      if (rng.chance(0.5)) {
        given = foldToAscii(given);
        fam = foldToAscii(fam);
      }
      if (rng.chance(name.familyFirst ? 0.3 : 0.07)) [given, fam] = [fam, given];
      record.givenName = given;
      record.familyName = fam;
      if (e164 !== undefined && rng.chance(0.95)) record.phone = e164;
      if (email !== undefined && rng.chance(0.25)) record.email = email;
      if (rng.chance(0.15)) record.address = { ...address };
      if (rng.chance(0.1)) record.birthDate = birthDateAsKeyed(rng, facts.birthDate, market);
      if (rng.chance(0.5)) record.language = facts.language;
      break;
    }
    case 'billing': {
      const title = rng.pick(TITLES[name.gender]);
      const middle =
        name.middle === undefined ? '' : rng.chance(0.5) ? ` ${name.middle}` : ` ${name.middle.slice(0, 1)}.`;
      const legacy = rng.chance(0.15);
      const formalFamily =
        name.culture === 'german' && rng.chance(0.4) ? transliterateGerman(fullFamily) : fullFamily;
      record.fullName = legacy
        ? `${foldToAscii(formalFamily).toUpperCase()}, ${foldToAscii(name.given).toUpperCase()}${foldToAscii(middle).toUpperCase()}`
        : `${title} ${name.given}${middle} ${formalFamily}`;
      if (email !== undefined && rng.chance(0.85)) record.email = email;
      if (e164 !== undefined && rng.chance(0.7)) record.phone = e164;
      record.address = { ...address };
      if (rng.chance(0.65)) record.birthDate = facts.birthDate;
      if (rng.chance(0.6)) record.language = facts.language;
      break;
    }
    case 'shipping': {
      let fullName = `${name.preferred !== undefined && rng.chance(0.5) ? name.preferred : name.given} ${family}`;
      if (rng.chance(0.05)) fullName = misspell(rng, fullName);
      if (rng.chance(0.25)) fullName = foldToAscii(fullName).toUpperCase();
      record.fullName = fullName;
      record.address = rng.chance(0.3) ? { ...address, line1: abbreviateStreet(address) } : { ...address };
      if (facts.phone !== undefined && rng.chance(0.85)) record.phone = phoneTyped(rng, facts.phone);
      if (email !== undefined && rng.chance(0.45)) record.email = email;
      break;
    }
  }
  return { record, source: plan.source, slot: plan.slot, createdMs: plan.createdMs, addressCurrentFromMs };
}

const LIFE_EVENT_RATES: readonly (readonly [LifeEventKind, number, number])[] = [
  // kind, probability over two years, probability the person tells the retailer
  ['moved_house', 0.14, 0.5],
  ['married', 0.05, 0.35],
  ['new_baby', 0.06, 0.45],
  ['bereavement', 0.03, 0.4],
];

/** Builds person `index` of the world, deterministically. */
export function buildPerson(ctx: WorldContext, index: number): PersonModel {
  const { config } = ctx;
  const { startMs, endMs } = config;
  const rng = new Rng(config.seed, index, PERSON_STREAM);
  const windowYears = (endMs - startMs) / YEAR_MS;
  const market = ctx.markets.pick(rng);
  const marketTable = MARKET_TABLE[market];
  const name = drawName(ctx, rng, market);
  const nativeLanguage = NAME_CULTURES[name.culture].language;
  const language =
    nativeLanguage !== 'en' && rng.chance(marketTable.nativeLanguagePreference) ? nativeLanguage : 'en';
  const age = Math.min(92, Math.max(18, rng.normal(44, 16)));
  const birthMs = startMs - age * YEAR_MS;
  const birthDate = isoDate(birthMs);
  const city = ctx.cities[market].pick(rng);
  const utcOffsetMs = city.utcOffset * 3_600_000;
  let address = drawAddress(rng, market, city);
  const phone = rng.chance(0.88) ? drawPhone(rng, market, city) : undefined;

  // Purchase process (BG/NBD) and spend (Gamma-Gamma).
  const { r, alpha, a, b } = config.purchases;
  const lambda = rng.gamma(r, alpha);
  const dropout = rng.beta(a, b);
  const spendRate = rng.gamma(config.spend.q, config.spend.gamma);
  const acquisitionRaw = startMs + rng.next() * Math.max(DAY_MS, endMs - startMs - 2 * WEEK_MS);
  const { raw, droppedOutMs: droppedRawMs } = drawPurchases(ctx, rng, acquisitionRaw, lambda, dropout);

  // People keep the address they made under their old name, even after a marriage.
  const emailDomain = ctx.emailDomains.pick(rng);
  const email = rng.chance(0.93) ? drawEmail(ctx, rng, name, index, emailDomain) : undefined;
  const fallbackEmail = email ?? drawEmail(ctx, rng, name, index, emailDomain);

  // Life events within the window, after the person became a customer.
  const lifeEvents: { kind: LifeEventKind; atMs: number; declared: boolean }[] = [];
  for (const [kind, probability, declaredRate] of LIFE_EVENT_RATES) {
    let p = (probability * windowYears) / 2;
    if (kind === 'married' && age > 60) p *= 0.2;
    if (kind === 'new_baby' && age > 46) p = 0;
    if (kind === 'bereavement' && age > 55) p *= 2;
    if (!rng.chance(Math.min(1, p))) continue;
    lifeEvents.push({ kind, atMs: rng.uniform(acquisitionRaw, endMs), declared: rng.chance(declaredRate) });
  }
  lifeEvents.sort((x, y) => x.atMs - y.atMs);
  let previousAddress: PostalAddress | undefined;
  let moveMs: number | undefined;
  let marriedMs: number | undefined;
  let currentCity = city;
  for (const event of lifeEvents) {
    if (event.kind === 'moved_house') {
      previousAddress = address;
      moveMs = event.atMs;
      if (rng.chance(0.3)) currentCity = ctx.cities[market].pick(rng);
      address = drawAddress(rng, market, currentCity);
    } else if (event.kind === 'married' && marriedMs === undefined) {
      const takes = name.gender === 'female' ? 0.55 : 0.05;
      if (rng.chance(takes)) {
        marriedMs = event.atMs;
        name.former = name.family;
        const spouseCulture = NAME_CULTURES[ctx.cultures[market].pick(rng)];
        let newFamily = pickOther(rng, spouseCulture.family, name.family);
        if (name.gender === 'female') newFamily = feminine(newFamily);
        name.family = newFamily;
      }
    }
  }

  // Habits.
  const traits: Traits = {
    complaint: rng.gamma(0.7, 0.7),
    service: rng.gamma(1.2, 1.2),
    warmth: rng.gamma(1, 1),
    suggester: rng.gamma(0.3, 0.3),
    paymentRisk: rng.gamma(0.5, 0.5),
    satisfaction: 0,
    webShare: rng.beta(1.5, 1.5),
    appShare: rng.beta(1, 2),
    onlineHour: clampHour(rng.normal(20, 2.5), 6, 23.5),
    paymentMethod: rng.weighted(['card', 'cash', 'mobile'] as const, [0.62, 0.18, 0.2]),
    receipt: rng.weighted(['paper', 'email', 'none'] as const, [0.4, 0.3, 0.3]),
    homeStore: rng.int(1_000_000),
    categoryWeights: new Float64Array(ctx.categories.length),
  };
  traits.satisfaction = Math.min(
    10,
    Math.max(0, 8.2 - 1.2 * (traits.complaint - 1) + 0.6 * (traits.warmth - 1)),
  );
  // Skewed tastes: a few categories dominate each person's baskets (a power of a uniform is enough).
  for (let i = 0; i < ctx.categories.length; i++) {
    const u = rng.next();
    traits.categoryWeights[i] = u * u * u * u;
  }

  // Purchases at a plausible hour: stores by day, online in the person's own evening rhythm.
  const purchaseTimes = raw.map((t) => placeInDay(ctx, t, utcOffsetMs, clampHour(shopHour(rng), 9, 20.9)));
  purchaseTimes.sort((x, y) => x - y);
  const acquiredMs = purchaseTimes[0] ?? acquisitionRaw;
  const droppedOutMs = droppedRawMs === undefined ? undefined : purchaseTimes[purchaseTimes.length - 1];

  const plans = planRecords(ctx, rng, acquiredMs);
  const needsEmail = plans.some((p) => p.source === 'web');
  const facts: PersonFacts = {
    name,
    market,
    language,
    birthDate,
    email: email ?? (needsEmail ? fallbackEmail : undefined),
    secondaryEmail: plans.some((p) => p.source === 'web' && p.slot === 1)
      ? drawEmail(ctx, rng, name, index, rng.pick(WORK_EMAIL_DOMAINS))
      : undefined,
    phone,
    address,
    previousAddress,
    moveMs,
    marriedMs,
  };
  const personId = `P${padDecimal(index + 1, 7)}`;
  const records = plans.map((plan) => buildRecord(ctx, rng, facts, plan, index));
  for (const model of records) model.record.truePersonId = personId;

  let hasPos = false;
  let hasShipping = false;
  for (const plan of plans) {
    hasPos ||= plan.source === 'pos';
    hasShipping ||= plan.source === 'shipping';
  }
  const preferences: HeldPreference[] = [];
  if (hasPos && traits.receipt !== 'none' && rng.chance(0.5))
    preferences.push({ key: 'receipt', value: traits.receipt });
  if (language !== 'en') preferences.push({ key: 'language', value: language });
  if (hasShipping && rng.chance(0.4)) {
    preferences.push({
      key: 'delivery_window',
      value: rng.pick(['weekday_evening', 'saturday_morning', 'weekday_daytime']),
    });
  }
  if (rng.chance(0.04)) preferences.push({ key: 'no_interest_bearing_products', value: true });
  if (rng.chance(0.2))
    preferences.push({ key: 'contact_channel', value: rng.pick(['email', 'phone', 'post', 'sms']) });

  // A best friend tells us about their life: a wedding in the last year, declared.
  const persona = choosePersona(ctx, { index, acquiredMs, records, lifeEvents });
  if (persona === 'best_friend') {
    const personaRng = new Rng(ctx.config.seed, index, PERSONA_STREAM, 1);
    lifeEvents.push({
      kind: 'married',
      atMs: personaRng.uniform(Math.max(acquiredMs, endMs - 300 * DAY_MS), endMs - 30 * DAY_MS),
      declared: true,
    });
    lifeEvents.sort((x, y) => x.atMs - y.atMs);
  }

  return {
    personId,
    index,
    name,
    language,
    birthDate,
    email: facts.email,
    secondaryEmail: facts.secondaryEmail,
    address,
    previousAddress,
    preferences,
    purchaseRate: lambda,
    dropoutProbability: dropout,
    repeatPurchases: raw.length - 1,
    market,
    city,
    cityAfterMove: currentCity,
    utcOffsetMs,
    acquiredMs,
    purchaseTimes,
    droppedOutMs,
    spendRate,
    lifeEvents,
    moveMs,
    marriedMs,
    records,
    traits,
    phone,
    persona,
  };
}

/**
 * The public ground truth of a person, built only when asked for (the interaction stream does not need
 * it). Keys are in reading order, so a person's JSON reads top-down like a file card.
 */
export function toCustomer(ctx: WorldContext, person: PersonModel): SyntheticCustomer {
  const { name } = person;
  const behaviour: SyntheticCustomer['behaviour'] = {
    purchaseRate: person.purchaseRate,
    dropoutProbability: person.dropoutProbability,
    spendRate: person.spendRate,
    meanSpend: ctx.config.spend.p / person.spendRate,
    repeatPurchases: person.repeatPurchases,
    ...(person.droppedOutMs !== undefined ? { droppedOutAt: isoSeconds(person.droppedOutMs) } : {}),
  };
  return {
    personId: person.personId,
    index: person.index,
    culture: name.culture,
    market: person.market,
    gender: name.gender,
    givenName: name.given,
    ...(name.middle !== undefined ? { middleName: name.middle } : {}),
    familyName: name.family,
    ...(name.second !== undefined ? { secondFamilyName: name.second } : {}),
    ...(name.former !== undefined ? { formerFamilyName: name.former } : {}),
    ...(name.preferred !== undefined ? { preferredName: name.preferred } : {}),
    language: person.language,
    birthDate: person.birthDate,
    ...(person.email !== undefined ? { email: person.email } : {}),
    ...(person.secondaryEmail !== undefined ? { secondaryEmail: person.secondaryEmail } : {}),
    ...(person.phone !== undefined ? { phone: phoneE164(person.phone) } : {}),
    address: person.address,
    ...(person.previousAddress !== undefined ? { previousAddress: person.previousAddress } : {}),
    currency: MARKET_TABLE[person.market].currency,
    acquiredAt: isoSeconds(person.acquiredMs),
    lifeEvents: person.lifeEvents.map((e) => ({
      kind: e.kind,
      at: isoSeconds(e.atMs),
      declared: e.declared,
    })),
    preferences: person.preferences,
    behaviour,
    records: person.records.map((m) => m.record),
    ...(person.persona !== undefined ? { persona: person.persona } : {}),
  };
}

/** The category a purchase line comes from, for a person at a time (life events shift what people buy). */
export function categoryBoost(person: PersonModel, category: Category, ms: number): number {
  let boost = 1;
  for (const event of person.lifeEvents) {
    if (ms < event.atMs) continue;
    const since = ms - event.atMs;
    if (event.kind === 'new_baby' && category === 'baby' && since < YEAR_MS) boost *= 25;
    if (
      event.kind === 'moved_house' &&
      (category === 'home' || category === 'kitchen') &&
      since < 13 * WEEK_MS
    )
      boost *= 6;
  }
  return boost;
}
