import { nicknamesOf } from './nicknames.ts';
import { SeededRandom } from './random.ts';
import { computeGovernmentIdHash, type PersonRecord } from './records.ts';

/**
 * A seeded generator of person records as real systems hold them, with the truth beside them: people
 * from many naming cultures, households sharing a surname and an address (the hard non-matches), and
 * duplicates corrupted the way capture corrupts them — typos and OCR slips, nicknames and initials,
 * given and family names swapped, missing values, moved house, changed surname, birth dates with day
 * and month swapped or one digit off or only the year, changed e-mail and phone. Contact data is never
 * real: e-mail domains are reserved ones and phone numbers use an unassigned country code.
 */

interface Culture {
  female: readonly string[];
  male: readonly string[];
  family: readonly string[];
  /** Syllables that build the long tail of rarer family names: [beginnings, endings]. */
  tail?: readonly [readonly string[], readonly string[]];
  weight: number;
}

const CULTURES: readonly Culture[] = [
  {
    weight: 30,
    tail: [
      [
        'ash',
        'brad',
        'craw',
        'dun',
        'fair',
        'glad',
        'hart',
        'kings',
        'lang',
        'mar',
        'north',
        'pem',
        'rad',
        'stan',
        'thorn',
        'wal',
        'whit',
        'york',
        'bram',
        'cold',
        'hol',
        'lock',
        'rus',
        'shel',
      ],
      [
        'ford',
        'ley',
        'ton',
        'wood',
        'well',
        'by',
        'ham',
        'worth',
        'field',
        'more',
        'combe',
        'stone',
        'wick',
        'dale',
      ],
    ],
    female: [
      'mary',
      'elizabeth',
      'jennifer',
      'sarah',
      'jessica',
      'emily',
      'rebecca',
      'katherine',
      'margaret',
      'susan',
      'olivia',
      'charlotte',
      'amelia',
      'isabella',
      'victoria',
      'abigail',
      'natalie',
      'rosemary',
      'helen',
      'deborah',
      'patricia',
      'samantha',
      'alexandra',
      'eleanor',
      'josephine',
      'madeline',
      'stephanie',
      'amanda',
    ],
    male: [
      'james',
      'john',
      'robert',
      'michael',
      'william',
      'david',
      'richard',
      'thomas',
      'charles',
      'joseph',
      'daniel',
      'matthew',
      'anthony',
      'christopher',
      'andrew',
      'edward',
      'benjamin',
      'samuel',
      'alexander',
      'nicholas',
      'patrick',
      'peter',
      'stephen',
      'timothy',
      'jonathan',
      'henry',
      'oliver',
      'lachlan',
      'jacob',
    ],
    family: [
      'smith',
      'jones',
      'williams',
      'brown',
      'taylor',
      'davies',
      'wilson',
      'evans',
      'thomas',
      'johnson',
      'roberts',
      'walker',
      'wright',
      'robinson',
      'thompson',
      'white',
      'hughes',
      'edwards',
      'green',
      'hall',
      'wood',
      'harris',
      'clarke',
      'jackson',
      'turner',
      'hill',
      'moore',
      'cooper',
      'ward',
      'morris',
      'king',
      'baker',
      'harrison',
      'morgan',
      'patel',
      'young',
      'allen',
      'mitchell',
      'anderson',
      'campbell',
      'stewart',
      "o'brien",
      'mcdonald',
      'macleod',
      'fitzgerald',
      'sutherland',
      'blackwell',
      'fairweather',
    ],
  },
  {
    weight: 12,
    tail: [
      [
        'bar',
        'cal',
        'ech',
        'gal',
        'mor',
        'ord',
        'sal',
        'val',
        'zub',
        'arr',
        'bel',
        'cas',
        'esc',
        'lar',
        'mend',
        'olm',
        'quint',
        'riv',
      ],
      ['ano', 'ero', 'ez', 'illa', 'ona', 'uela', 'ares', 'eda', 'oza', 'aga'],
    ],
    female: [
      'maria',
      'carmen',
      'lucia',
      'isabel',
      'dolores',
      'guadalupe',
      'mercedes',
      'concepcion',
      'ana',
      'elena',
      'sofia',
      'valentina',
      'gabriela',
      'rosa',
    ],
    male: [
      'jose',
      'francisco',
      'juan',
      'antonio',
      'manuel',
      'alejandro',
      'javier',
      'carlos',
      'miguel',
      'rafael',
      'jesus',
      'ignacio',
      'enrique',
      'guillermo',
      'roberto',
    ],
    family: [
      'garcia',
      'fernandez',
      'gonzalez',
      'rodriguez',
      'lopez',
      'martinez',
      'sanchez',
      'perez',
      'gomez',
      'martin',
      'jimenez',
      'ruiz',
      'hernandez',
      'diaz',
      'moreno',
      'alvarez',
      'romero',
      'garcia lopez',
      'de la cruz',
      'hernandez ruiz',
      'castillo',
      'vargas',
    ],
  },
  {
    weight: 8,
    tail: [
      [
        'alt',
        'berg',
        'eis',
        'frank',
        'gross',
        'hart',
        'kirch',
        'lind',
        'rosen',
        'stein',
        'wald',
        'brand',
        'dorn',
        'feld',
      ],
      ['mann', 'berg', 'feld', 'hauser', 'inger', 'ler', 'bach', 'stadt', 'meier'],
    ],
    female: [
      'anna',
      'katharina',
      'elisabeth',
      'magdalena',
      'ursula',
      'monika',
      'petra',
      'sabine',
      'julia',
      'lena',
      'heike',
    ],
    male: [
      'johann',
      'wolfgang',
      'friedrich',
      'wilhelm',
      'klaus',
      'jurgen',
      'stefan',
      'andreas',
      'thomas',
      'markus',
      'matthias',
      'lukas',
    ],
    family: [
      'muller',
      'schmidt',
      'schneider',
      'fischer',
      'weber',
      'meyer',
      'wagner',
      'becker',
      'schulz',
      'hoffmann',
      'schafer',
      'koch',
      'bauer',
      'richter',
      'klein',
      'schwarz',
      'zimmermann',
      'krause',
    ],
  },
  {
    weight: 6,
    tail: [
      ['bel', 'bon', 'cha', 'dela', 'fon', 'gir', 'lam', 'mar', 'roch', 'vil'],
      ['ier', 'ault', 'eau', 'ard', 'elle', 'on', 'ot', 'ette'],
    ],
    female: ['marie', 'camille', 'chloe', 'manon', 'juliette', 'marguerite', 'helene', 'celine', 'sophie'],
    male: ['jean', 'pierre', 'jacques', 'francois', 'guillaume', 'nicolas', 'antoine', 'olivier', 'philippe'],
    family: [
      'martin',
      'bernard',
      'dubois',
      'thomas',
      'robert',
      'richard',
      'petit',
      'durand',
      'leroy',
      'moreau',
      'simon',
      'laurent',
      'lefebvre',
      'michel',
      'fontaine',
      'rousseau',
    ],
  },
  {
    weight: 6,
    tail: [
      ['bel', 'cap', 'dal', 'fer', 'gal', 'lom', 'mar', 'pel', 'ros', 'ser', 'tor', 'vit'],
      ['ini', 'etti', 'one', 'ucci', 'ano', 'ello', 'ari', 'esi'],
    ],
    female: ['giulia', 'francesca', 'chiara', 'alessandra', 'antonella', 'valentina', 'federica', 'sara'],
    male: ['giuseppe', 'giovanni', 'francesco', 'alessandro', 'marco', 'luca', 'matteo', 'lorenzo', 'andrea'],
    family: [
      'rossi',
      'russo',
      'ferrari',
      'esposito',
      'bianchi',
      'romano',
      'colombo',
      'ricci',
      'marino',
      'greco',
      'bruno',
      'gallo',
      'conti',
      'de luca',
      'costa',
    ],
  },
  {
    weight: 5,
    tail: [
      ['bor', 'chm', 'dab', 'gor', 'jab', 'kos', 'kras', 'lis', 'maz', 'pol', 'sob', 'wil', 'zaj'],
      ['owski', 'ewicz', 'czyk', 'iak', 'ski', 'enko', 'inski'],
    ],
    female: ['katarzyna', 'malgorzata', 'agnieszka', 'anna', 'ekaterina', 'anastasia', 'elena', 'olga'],
    male: [
      'wojciech',
      'stanislaw',
      'aleksander',
      'piotr',
      'krzysztof',
      'dmitri',
      'mikhail',
      'ivan',
      'vladimir',
      'aleksandr',
    ],
    family: [
      'nowak',
      'kowalski',
      'wisniewski',
      'wojcik',
      'kowalczyk',
      'kaminski',
      'lewandowski',
      'ivanov',
      'smirnov',
      'kuznetsov',
      'popov',
      'sokolov',
      'petrov',
      'volkov',
    ],
  },
  {
    weight: 8,
    female: ['fatima', 'aisha', 'mariam', 'zeynep', 'elif', 'layla', 'noor', 'yasmin', 'amira', 'hatice'],
    male: [
      'muhammad',
      'ahmed',
      'mustafa',
      'youssef',
      'ibrahim',
      'abdullah',
      'omar',
      'ali',
      'hassan',
      'mehmet',
      'emre',
      'khalid',
    ],
    family: [
      'al-sayed',
      'haddad',
      'khoury',
      'nasser',
      'hussein',
      'rahman',
      'abdullah',
      'yilmaz',
      'kaya',
      'demir',
      'sahin',
      'celik',
      'ozturk',
      'aydin',
      'arslan',
      'el amrani',
      'benali',
    ],
  },
  {
    weight: 9,
    female: ['priya', 'lakshmi', 'ananya', 'divya', 'kavya', 'deepa', 'sunita', 'priyanka', 'meera', 'pooja'],
    male: [
      'rajesh',
      'venkatesh',
      'subramanian',
      'krishna',
      'arjun',
      'rahul',
      'amit',
      'sanjay',
      'vikram',
      'anil',
      'suresh',
    ],
    family: [
      'patel',
      'sharma',
      'singh',
      'kumar',
      'reddy',
      'iyer',
      'nair',
      'gupta',
      'rao',
      'krishnan',
      'venkataraman',
      'chatterjee',
      'banerjee',
      'mehta',
      'desai',
      'pillai',
    ],
  },
  {
    weight: 8,
    female: [
      'wei',
      'xiaoming',
      'li na',
      'mei',
      'jing',
      'yan',
      'hui',
      'lan',
      'thi mai',
      'linh',
      'huong',
      'yuki',
      'haruka',
      'sakura',
      'aiko',
    ],
    male: [
      'wei',
      'jun',
      'hao',
      'lei',
      'jian',
      'ming',
      'tao',
      'minh',
      'duc',
      'quang',
      'hiroshi',
      'takashi',
      'kenji',
      'daiki',
    ],
    family: [
      'wang',
      'li',
      'zhang',
      'liu',
      'chen',
      'yang',
      'huang',
      'zhao',
      'wu',
      'zhou',
      'nguyen',
      'tran',
      'le',
      'pham',
      'hoang',
      'vu',
      'sato',
      'suzuki',
      'takahashi',
      'tanaka',
      'watanabe',
      'ito',
    ],
  },
  {
    weight: 6,
    female: ['ngozi', 'olufunmilayo', 'chiamaka', 'adaeze', 'folake', 'yetunde', 'amaka', 'blessing'],
    male: ['oluwaseun', 'chukwuemeka', 'babatunde', 'adebayo', 'oluwadamilare', 'chinedu', 'ikenna', 'tunde'],
    family: [
      'okafor',
      'adeyemi',
      'okonkwo',
      'eze',
      'nwosu',
      'balogun',
      'ogunleye',
      'adebayo',
      'okoro',
      'ibrahim',
      'bello',
      'obi',
      'afolabi',
    ],
  },
];

const STREETS = [
  'high',
  'church',
  'station',
  'victoria',
  'park',
  'mill',
  'king',
  'queen',
  'london',
  'albert',
  'green',
  'manor',
  'west',
  'north',
  'south',
  'chapel',
  'elm',
  'oak',
  'maple',
  'cedar',
  'willow',
  'river',
  'lake',
  'hill',
  'forest',
  'meadow',
  'spring',
  'sunset',
  'harbour',
  'garden',
  'orchard',
  'windsor',
  'bridge',
  'market',
  'school',
  'new',
  'york',
  'george',
  'grove',
  'wattle',
  'banksia',
  'jacaranda',
  'acacia',
];
const STREET_TYPES = [
  'street',
  'road',
  'avenue',
  'lane',
  'drive',
  'close',
  'crescent',
  'place',
  'court',
  'way',
];
const TOWNS: readonly [string, string, number][] = [
  ['springfield', 'nsw', 2000],
  ['riverside', 'vic', 3000],
  ['lakeside', 'qld', 4000],
  ['hillcrest', 'wa', 6000],
  ['fairview', 'sa', 5000],
  ['greenwood', 'tas', 7000],
  ['kingston', 'act', 2600],
  ['newport', 'nsw', 2100],
  ['ashford', 'vic', 3100],
  ['milton', 'qld', 4060],
  ['bayview', 'nsw', 2200],
  ['oakleigh', 'vic', 3160],
  ['brighton', 'sa', 5040],
  ['clifton', 'wa', 6100],
  ['westfield', 'nsw', 2300],
  ['northgate', 'qld', 4010],
  ['eastwood', 'nsw', 2120],
  ['southbank', 'vic', 3006],
  ['mount pleasant', 'wa', 6150],
  ['glenelg', 'sa', 5045],
  ['st kilda', 'vic', 3182],
  ['port hedland', 'wa', 6721],
  ['alice springs', 'nt', 870],
  ['darwin', 'nt', 800],
];
const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org'];
const OCR: Record<string, string> = {
  o: '0',
  l: '1',
  i: 'l',
  s: '5',
  e: 'c',
  m: 'rn',
  b: 'h',
  g: 'q',
  a: 'o',
};
const KEYBOARD_NEIGHBOURS = 'qwertyuiopasdfghjklzxcvbnm';

interface Person {
  entity: number;
  female: boolean;
  given: string;
  surname: string;
  dob: string;
  streetNumber: string;
  address1: string;
  address2: string | null;
  city: string;
  state: string;
  postcode: string;
  phone: string | null;
  email: string | null;
  governmentId: string | null;
}

function pickCulture(random: SeededRandom): Culture {
  const total = CULTURES.reduce((s, c) => s + c.weight, 0);
  let r = random.next() * total;
  for (const culture of CULTURES) {
    r -= culture.weight;
    if (r < 0) return culture;
  }
  return CULTURES[0] as Culture;
}

function randomDob(random: SeededRandom): string {
  const year = random.int(1935, 2006);
  const month = random.int(1, 12);
  const day = random.int(1, 28);
  return `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
}

function randomAddress(
  random: SeededRandom,
): Pick<Person, 'streetNumber' | 'address1' | 'address2' | 'city' | 'state' | 'postcode'> {
  const [city, state, base] = random.pick(TOWNS);
  return {
    streetNumber: String(random.chance(0.7) ? random.int(1, 60) : random.int(61, 400)),
    address1: `${random.pickSkewed(STREETS)} ${random.pick(STREET_TYPES)}`,
    address2: random.chance(0.2)
      ? `${random.pick(['apartment', 'unit', 'flat'])} ${random.int(1, 40)}`
      : null,
    city,
    state,
    postcode: String(base + random.int(0, 40)).padStart(4, '0'),
  };
}

function randomPhone(random: SeededRandom): string {
  // +999 is not an assigned country code, so these can never be somebody's number.
  return `+999 ${random.int(100, 999)} ${random.int(100, 999)} ${random.int(100, 999)}`;
}

// Mailboxes are unique, as providers make them: a second person with the same name gets a number.
// Reset by every generation; generation is synchronous, so runs never share it.
let takenEmails = new Set<string>();

function randomEmail(random: SeededRandom, given: string, surname: string): string {
  const g = given.replace(/[^a-z]/g, '');
  const s = surname.replace(/[^a-z]/g, '');
  const local = random.pick([`${g}.${s}`, `${g[0] ?? 'x'}${s}`, `${g}${s}${random.int(1, 99)}`, `${s}.${g}`]);
  const domain = random.pick(EMAIL_DOMAINS);
  let email = `${local}@${domain}`;
  while (takenEmails.has(email)) email = `${local}${random.int(1, 9999)}@${domain}`;
  takenEmails.add(email);
  return email;
}

function newPerson(random: SeededRandom, entity: number): Person {
  const culture = pickCulture(random);
  const female = random.chance(0.5);
  const given = random.pickSkewed(female ? culture.female : culture.male);
  const surname =
    culture.tail !== undefined && random.chance(0.5)
      ? `${random.pick(culture.tail[0])}${random.pick(culture.tail[1])}`
      : random.pickSkewed(culture.family);
  return {
    entity,
    female,
    given,
    surname,
    dob: randomDob(random),
    ...randomAddress(random),
    phone: random.chance(0.8) ? randomPhone(random) : null,
    email: random.chance(0.7) ? randomEmail(random, given, surname) : null,
    governmentId: random.chance(0.5) ? String(random.int(100_000_000, 999_999_999)) : null,
  };
}

/** Someone sharing the household: same surname and address, their own name, birth date and contacts. */
function householdMember(random: SeededRandom, entity: number, of: Person): Person {
  let other = newPerson(random, entity);
  // Relatives rarely share a given name; the few who do (a "junior") are left out.
  while (other.given === of.given) other = newPerson(random, entity);
  return {
    ...other,
    surname: of.surname,
    streetNumber: of.streetNumber,
    address1: of.address1,
    address2: of.address2,
    city: of.city,
    state: of.state,
    postcode: of.postcode,
    email: other.email === null ? null : randomEmail(random, other.given, of.surname),
  };
}

/** One typo: a character inserted, deleted, replaced (keyboard or OCR slip) or two swapped. */
export function typo(random: SeededRandom, value: string): string {
  if (value.length < 2) return value;
  const i = random.int(0, value.length - 1);
  const kind = random.int(0, 4);
  const c = value[i] ?? '';
  if (kind === 0) return value.slice(0, i) + random.pick(KEYBOARD_NEIGHBOURS.split('')) + value.slice(i);
  if (kind === 1 && value.length > 3) return value.slice(0, i) + value.slice(i + 1);
  if (kind === 2) {
    const j = Math.min(i, value.length - 2);
    return value.slice(0, j) + (value[j + 1] ?? '') + (value[j] ?? '') + value.slice(j + 2);
  }
  if (kind === 3 && OCR[c] !== undefined) return value.slice(0, i) + OCR[c] + value.slice(i + 1);
  return value.slice(0, i) + random.pick(KEYBOARD_NEIGHBOURS.split('')) + value.slice(i + 1);
}

function digitTypo(random: SeededRandom, digits: string): string {
  const i = random.int(0, digits.length - 1);
  if (random.chance(0.5) && i < digits.length - 1) {
    return digits.slice(0, i) + (digits[i + 1] ?? '') + (digits[i] ?? '') + digits.slice(i + 2);
  }
  return (
    digits.slice(0, i) + String((Number(digits[i] ?? '0') + random.int(1, 9)) % 10) + digits.slice(i + 1)
  );
}

function corruptDob(random: SeededRandom, dob: string): string | null {
  const kind = random.int(0, 4);
  const y = dob.slice(0, 4);
  const m = dob.slice(4, 6);
  const d = dob.slice(6, 8);
  if (kind === 0 && Number(d) <= 12) return `${y}${d}${m}`;
  if (kind === 1) return y;
  if (kind === 2) return null;
  if (kind === 3) return `${d}/${m}/${y}`;
  return digitTypo(random, dob);
}

type Corruption = (random: SeededRandom, p: Person) => void;

const CORRUPTIONS: readonly [number, Corruption][] = [
  [
    3,
    (r, p) => {
      p.given = typo(r, p.given);
    },
  ],
  [
    3,
    (r, p) => {
      p.surname = typo(r, p.surname);
    },
  ],
  [
    2,
    (r, p) => {
      const nicknames = nicknamesOf(p.given);
      p.given = nicknames.length > 0 ? r.pick(nicknames) : p.given.slice(0, 1);
    },
  ],
  [
    1,
    (_, p) => {
      p.given = p.given.slice(0, 1);
    },
  ],
  [
    1,
    (_, p) => {
      [p.given, p.surname] = [p.surname, p.given];
    },
  ],
  [
    2,
    (r, p) => {
      p.dob = corruptDob(r, p.dob) ?? '';
    },
  ],
  [
    2,
    (r, p) => {
      Object.assign(p, randomAddress(r));
      if (r.chance(0.5)) p.phone = r.chance(0.7) ? randomPhone(r) : null;
    },
  ],
  [
    1,
    (r, p) => {
      if (p.female) p.surname = r.pickSkewed(pickCulture(r).family);
      else p.address1 = typo(r, p.address1);
    },
  ],
  [
    2,
    (r, p) => {
      p.email = p.email === null || r.chance(0.5) ? null : randomEmail(r, p.given, p.surname);
    },
  ],
  [
    1,
    (r, p) => {
      p.phone = p.phone === null ? null : digitTypo(r, p.phone.replace(/\D/g, ''));
    },
  ],
  [
    1,
    (r, p) => {
      p.governmentId = p.governmentId === null ? null : digitTypo(r, p.governmentId);
    },
  ],
  [
    2,
    (r, p) => {
      p.address1 = r.chance(0.5) ? typo(r, p.address1) : abbreviate(p.address1);
    },
  ],
  [
    1,
    (r, p) => {
      p.postcode = digitTypo(r, p.postcode);
    },
  ],
  [
    1,
    (r, p) => {
      p.city = typo(r, p.city);
    },
  ],
  [
    3,
    (r, p) => {
      const fields = [
        'given',
        'dob',
        'phone',
        'email',
        'address2',
        'streetNumber',
        'postcode',
        'governmentId',
      ];
      const field = r.pick(fields);
      if (field === 'given') p.given = '';
      else if (field === 'dob') p.dob = '';
      else if (field === 'phone') p.phone = null;
      else if (field === 'email') p.email = null;
      else if (field === 'address2') p.address2 = null;
      else if (field === 'streetNumber') p.streetNumber = '';
      else if (field === 'postcode') p.postcode = '';
      else p.governmentId = null;
    },
  ],
];
const CORRUPTION_WEIGHT = CORRUPTIONS.reduce((s, [w]) => s + w, 0);

function abbreviate(street: string): string {
  return street
    .replace(/\bstreet\b/, 'st')
    .replace(/\broad\b/, 'rd')
    .replace(/\bavenue\b/, 'ave')
    .replace(/\bdrive\b/, 'dr');
}

function corrupt(random: SeededRandom, person: Person): Person {
  const copy: Person = { ...person };
  const count = random.int(1, 3);
  for (let k = 0; k < count; k++) {
    let r = random.next() * CORRUPTION_WEIGHT;
    for (const [weight, apply] of CORRUPTIONS) {
      r -= weight;
      if (r < 0) {
        apply(random, copy);
        break;
      }
    }
  }
  return copy;
}

function toRecord(person: Person, id: string, hashKey: string): PersonRecord {
  const blank = (v: string | null) => (v === null || v.length === 0 ? null : v);
  return {
    id,
    givenName: blank(person.given),
    surname: blank(person.surname),
    birthDate: blank(person.dob),
    streetNumber: blank(person.streetNumber),
    address1: blank(person.address1),
    address2: blank(person.address2),
    city: blank(person.city),
    postcode: blank(person.postcode),
    state: blank(person.state),
    phone: blank(person.phone),
    email: blank(person.email),
    governmentIdHash:
      person.governmentId === null ? null : computeGovernmentIdHash(person.governmentId, hashKey),
  };
}

/** What to generate. */
export interface CorruptedRecordsOptions {
  records: number;
  seed?: number;
  /** Share of people with more than one record (default 0.3). */
  duplicatedShare?: number;
  /** Share of people living with an earlier person (default 0.15). */
  householdShare?: number;
  /** Key of the government-id hashes. */
  hashKey?: string;
}

/** Records in shuffled order, each with its true person. */
export interface CorruptedRecords {
  records: PersonRecord[];
  entities: Int32Array;
}

/** Generates `records` person records with duplicates and the truth of who is who. */
export function generateCorruptedRecords(options: CorruptedRecordsOptions): CorruptedRecords {
  const random = new SeededRandom(options.seed ?? 42);
  takenEmails = new Set();
  const duplicatedShare = options.duplicatedShare ?? 0.3;
  const householdShare = options.householdShare ?? 0.15;
  const hashKey = options.hashKey ?? 'corrupt';
  const people: Person[] = [];
  const out: { person: Person; original: boolean }[] = [];
  let entity = 0;
  while (out.length < options.records) {
    const previous = people[people.length - 1];
    const person =
      previous !== undefined && random.chance(householdShare)
        ? householdMember(random, entity, previous)
        : newPerson(random, entity);
    entity++;
    people.push(person);
    out.push({ person, original: true });
    if (random.chance(duplicatedShare)) {
      const copies = random.chance(0.7) ? 1 : random.int(2, 4);
      for (let c = 0; c < copies && out.length < options.records; c++) {
        out.push({ person: corrupt(random, person), original: false });
      }
    }
  }
  // Shuffle, so that duplicates do not sit next to their originals.
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]];
  }
  const records = out.map(({ person }, i) => toRecord(person, `r${i + 1}`, hashKey));
  return { records, entities: Int32Array.from(out, ({ person }) => person.entity) };
}
