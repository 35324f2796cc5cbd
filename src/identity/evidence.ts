import {
  F_ADDRESS,
  F_BIRTH,
  F_EMAIL,
  F_GIVEN,
  F_GOVERNMENT_ID,
  F_PHONE,
  F_SURNAME,
  FIELD_LEVELS,
  MISSING,
} from './features.ts';

/**
 * What a comparison vector proves, beyond its score. The score weighs evidence; these rules say which
 * evidence may decide alone, and they are the same for the offline engine and the workspace:
 * - **Names are never enough.** Two records that agree on names and nothing else are namesakes as often
 *   as not in a customer base of a few thousand; an automatic merge needs a second, independent
 *   agreement: a birth date (to the day), a government id, a phone (not one of records whose emails or
 *   homes differ), an email, a postal address or a link between the records.
 * - **A shared contact point is evidence, not proof.** Households share phones, emails and addresses;
 *   records that agree on one but disagree on who they are (different birth dates, different government
 *   ids, clearly different given names) are asked about, never merged automatically.
 * A pair that fails either rule is at most a review (reason `guard`), whatever its probability.
 */

const TOP = {
  phone: FIELD_LEVELS.phone.length - 1,
  governmentId: FIELD_LEVELS.governmentId.length - 1,
};
/** Birth dates agree up to a swapped day and month or one mistyped digit. */
const BIRTH_NEAR = FIELD_LEVELS.birthDate.indexOf('near');
/** Birth dates agree to the day. */
const BIRTH_EXACT = FIELD_LEVELS.birthDate.indexOf('exact');
/** Addresses agree up to abbreviations and typing (`close`). */
const ADDRESS_CLOSE = FIELD_LEVELS.address.indexOf('close');
/** Addresses share a street or more (`partial`): below it, another home in the same town or none. */
const ADDRESS_PARTIAL = FIELD_LEVELS.address.indexOf('partial');
/** Emails agree up to a typo (`close`). */
const EMAIL_CLOSE = FIELD_LEVELS.email.indexOf('close');

function at(levels: Uint8Array, offset: number, field: number): number {
  return levels[offset + field] ?? MISSING;
}

function reaches(level: number, threshold: number): boolean {
  return level !== MISSING && level >= threshold;
}

/** Why a pair may not be merged automatically, or null when its evidence may decide. */
export type EvidenceRefusal = 'names_only' | 'identity_conflict';

/**
 * Checks the comparison vector at `offset` against the two rules above: `names_only` when nothing but
 * names agrees, `identity_conflict` when the records disagree on who they are (a different birth date
 * that no agreeing government id outweighs, or the other way round; a clearly different given name that no
 * birth date or government id vouches for), null when an automatic merge may rest on it.
 */
export function assessEvidence(levels: Uint8Array, offset: number): EvidenceRefusal | null {
  if (findConflict(levels, offset, true)) return 'identity_conflict';
  if (corroboratedByContact(levels, offset)) return null;
  return assessBirthDateAlone(levels, offset);
}

/**
 * True when names and a birth date are all that two records agree on (no contact point or government
 * id): evidence that decides only when the model is sure of it (`BIRTH_DATE_ALONE_PROBABILITY`), since
 * namesakes born the same day grow common as a customer base grows.
 */
export function restsOnBirthDateAlone(levels: Uint8Array, offset: number): boolean {
  return (
    !findConflict(levels, offset, true) &&
    !corroboratedByContact(levels, offset) &&
    assessBirthDateAlone(levels, offset) === null
  );
}

/** The least probability at which names and a birth date alone may decide. */
export const BIRTH_DATE_ALONE_PROBABILITY = 0.99;

/** A contact point or a government id agrees. */
function corroboratedByContact(levels: Uint8Array, offset: number): boolean {
  // A phone is a household's (or a reused number) as often as a person's: one shared by two records
  // whose emails differ, or whose addresses are different homes, does not corroborate their names.
  const address = at(levels, offset, F_ADDRESS);
  const phoneCorroborates =
    at(levels, offset, F_PHONE) === TOP.phone &&
    at(levels, offset, F_EMAIL) !== 0 &&
    (address === MISSING || address >= ADDRESS_PARTIAL);
  return (
    reaches(address, ADDRESS_CLOSE) ||
    phoneCorroborates ||
    reaches(at(levels, offset, F_EMAIL), EMAIL_CLOSE) ||
    at(levels, offset, F_GOVERNMENT_ID) === TOP.governmentId
  );
}

function assessBirthDateAlone(levels: Uint8Array, offset: number): EvidenceRefusal | null {
  // A birth date alone corroborates names only when it agrees exactly (a near date, one digit or a
  // swapped day and month away, is met by chance dozens of times as often), and only names that agree:
  // a birth date that outweighs a clearly different given name is spent on that.
  if (at(levels, offset, F_BIRTH) !== BIRTH_EXACT || givenNameDiffers(levels, offset)) return 'names_only';
  // Names and a birth date, with every contact point both hold different: namesakes born the same day
  // are common in a large customer base, so the contacts' disagreement sends the pair to review.
  const contactDiffers =
    at(levels, offset, F_ADDRESS) === 0 ||
    at(levels, offset, F_PHONE) === 0 ||
    at(levels, offset, F_EMAIL) === 0;
  return contactDiffers ? 'names_only' : null;
}

/** A clearly different given name (not a nickname, initial or typo), or a different name at all. */
function givenNameDiffers(levels: Uint8Array, offset: number): boolean {
  const given = at(levels, offset, F_GIVEN);
  return given === 0 || (given === MISSING && at(levels, offset, F_SURNAME) === 0);
}

function findConflict(levels: Uint8Array, offset: number, withGovernmentId: boolean): boolean {
  const birth = at(levels, offset, F_BIRTH);
  const governmentId = at(levels, offset, F_GOVERNMENT_ID);
  const governmentIdAgrees = governmentId === TOP.governmentId;
  const birthAgrees = reaches(birth, BIRTH_NEAR);
  // One identifier may be mistyped: a different government id with an agreeing birth date (or the other
  // way round) is a typo, not two people; one different with nothing to vouch for it is two people.
  if (withGovernmentId && governmentId === 0 && !birthAgrees) return true;
  if (birth === 0 && !governmentIdAgrees) return true;
  // A different given name (not a nickname, initial or typo) is another person unless a birth date or
  // a government id says otherwise; a different surname alone is not (marriage).
  return givenNameDiffers(levels, offset) && !birthAgrees && !governmentIdAgrees;
}

/**
 * True when two records must not end up in one cluster through third records: a different birth date
 * or a clearly different given name (see `assessEvidence`). Differing government ids are the
 * clustering's own guard, which lets a directly matched pair carry a mistyped id.
 */
export function isIdentityConflict(levels: Uint8Array, offset: number): boolean {
  return findConflict(levels, offset, false);
}

/** The comparison level at which each field counts as agreeing, for documentation and reports. */
export const CORROBORATING_LEVELS = {
  birthDate: FIELD_LEVELS.birthDate[BIRTH_NEAR],
  address: FIELD_LEVELS.address[ADDRESS_CLOSE],
  phone: FIELD_LEVELS.phone[TOP.phone],
  email: FIELD_LEVELS.email[EMAIL_CLOSE],
  governmentId: FIELD_LEVELS.governmentId[TOP.governmentId],
} as const;
