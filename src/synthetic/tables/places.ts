/**
 * Markets, cities, streets and telephone ranges. Telephone numbers come only from ranges reserved for
 * fiction: 555-0100…0199 in North America, and the UK regulator's drama ranges (020 7946 0xxx,
 * 0113 496 0xxx…, 07700 900xxx). Those ranges are small, so in large worlds unrelated people share
 * numbers: a phone is weak evidence of identity on its own.
 */
import type { CultureCode } from './names.ts';

export const MARKETS = ['US', 'GB'] as const;

/** A country the retailer trades in (ISO 3166-1 alpha-2). */
export type MarketCode = (typeof MARKETS)[number];

export interface City {
  name: string;
  /** State (US) or empty (GB). */
  region: string;
  /** Relative population, for weighting. */
  weight: number;
  /** UTC offset in hours (standard time; daylight saving is ignored). */
  utcOffset: number;
  /** US: area codes. GB: the reserved landline range, as [area code, local prefix] e.g. ['020', '7946 0']. */
  phone: readonly string[];
  /** US: three-digit ZIP prefixes. GB: postcode outward codes. */
  postcodes: readonly string[];
}

export interface Market {
  currency: string;
  countryCallingCode: string;
  cities: readonly City[];
  streetNames: readonly string[];
  streetTypes: readonly string[];
  /** Abbreviations clerks use for street types. */
  streetAbbreviations: Readonly<Record<string, string>>;
  /** Relative share of people by naming culture. */
  cultures: Readonly<Partial<Record<CultureCode, number>>>;
  /** Share of people of each culture who prefer to be served in the culture's language. */
  nativeLanguagePreference: number;
  /** Monthly membership fee in the market's currency. */
  membershipFee: number;
}

const US_STREET_NAMES = [
  'Maple',
  'Oak',
  'Cedar',
  'Pine',
  'Elm',
  'Washington',
  'Lincoln',
  'Jefferson',
  'Park',
  'Lake',
  'Hill',
  'Main',
  'Church',
  'Highland',
  'Sunset',
  'Madison',
  'Franklin',
  'Chestnut',
  'Walnut',
  'Spruce',
  'Willow',
  'River',
  'Meadow',
  'Forest',
  'Ridge',
  'Valley',
  'Spring',
  'Mill',
  'Center',
  'Union',
  'Magnolia',
  'Juniper',
];

const GB_STREET_NAMES = [
  'High',
  'Station',
  'Church',
  'Victoria',
  'Mill',
  'Park',
  "Queen's",
  "King's",
  'Albert',
  'Manor',
  'Grange',
  'Windsor',
  'York',
  'Chapel',
  'Green',
  'New',
  'London',
  'School',
  'Orchard',
  'Beech',
  'Elm',
  'Oak',
  'Cedar',
  'Willow',
  'Stanley',
  'Richmond',
  'Alexandra',
  'Mount Pleasant',
];

export const MARKET_TABLE: Record<MarketCode, Market> = {
  US: {
    currency: 'USD',
    countryCallingCode: '1',
    cities: [
      {
        name: 'New York',
        region: 'NY',
        weight: 84,
        utcOffset: -5,
        phone: ['212', '718', '917'],
        postcodes: ['100', '101', '112', '113'],
      },
      {
        name: 'Los Angeles',
        region: 'CA',
        weight: 39,
        utcOffset: -8,
        phone: ['213', '310', '323'],
        postcodes: ['900', '902'],
      },
      { name: 'Chicago', region: 'IL', weight: 27, utcOffset: -6, phone: ['312', '773'], postcodes: ['606'] },
      {
        name: 'Houston',
        region: 'TX',
        weight: 23,
        utcOffset: -6,
        phone: ['713', '281', '832'],
        postcodes: ['770'],
      },
      { name: 'Phoenix', region: 'AZ', weight: 16, utcOffset: -7, phone: ['602', '480'], postcodes: ['850'] },
      {
        name: 'Philadelphia',
        region: 'PA',
        weight: 16,
        utcOffset: -5,
        phone: ['215', '267'],
        postcodes: ['191'],
      },
      { name: 'San Antonio', region: 'TX', weight: 15, utcOffset: -6, phone: ['210'], postcodes: ['782'] },
      {
        name: 'San Diego',
        region: 'CA',
        weight: 14,
        utcOffset: -8,
        phone: ['619', '858'],
        postcodes: ['921'],
      },
      {
        name: 'Dallas',
        region: 'TX',
        weight: 13,
        utcOffset: -6,
        phone: ['214', '469', '972'],
        postcodes: ['752'],
      },
      { name: 'San Jose', region: 'CA', weight: 10, utcOffset: -8, phone: ['408'], postcodes: ['951'] },
      { name: 'Austin', region: 'TX', weight: 10, utcOffset: -6, phone: ['512'], postcodes: ['787'] },
      { name: 'Seattle', region: 'WA', weight: 7, utcOffset: -8, phone: ['206'], postcodes: ['981'] },
      { name: 'Denver', region: 'CO', weight: 7, utcOffset: -7, phone: ['303', '720'], postcodes: ['802'] },
      { name: 'Boston', region: 'MA', weight: 7, utcOffset: -5, phone: ['617', '857'], postcodes: ['021'] },
      { name: 'Miami', region: 'FL', weight: 5, utcOffset: -5, phone: ['305', '786'], postcodes: ['331'] },
      { name: 'Atlanta', region: 'GA', weight: 5, utcOffset: -5, phone: ['404', '678'], postcodes: ['303'] },
      {
        name: 'San Francisco',
        region: 'CA',
        weight: 9,
        utcOffset: -8,
        phone: ['415', '628'],
        postcodes: ['941'],
      },
      { name: 'Portland', region: 'OR', weight: 7, utcOffset: -8, phone: ['503', '971'], postcodes: ['972'] },
      { name: 'Minneapolis', region: 'MN', weight: 4, utcOffset: -6, phone: ['612'], postcodes: ['554'] },
      { name: 'Detroit', region: 'MI', weight: 6, utcOffset: -5, phone: ['313'], postcodes: ['482'] },
      { name: 'Nashville', region: 'TN', weight: 7, utcOffset: -6, phone: ['615'], postcodes: ['372'] },
      {
        name: 'Baltimore',
        region: 'MD',
        weight: 6,
        utcOffset: -5,
        phone: ['410', '443'],
        postcodes: ['212'],
      },
      { name: 'Columbus', region: 'OH', weight: 9, utcOffset: -5, phone: ['614'], postcodes: ['432'] },
      {
        name: 'Charlotte',
        region: 'NC',
        weight: 9,
        utcOffset: -5,
        phone: ['704', '980'],
        postcodes: ['282'],
      },
    ],
    streetNames: US_STREET_NAMES,
    streetTypes: [
      'Street',
      'Avenue',
      'Road',
      'Drive',
      'Lane',
      'Court',
      'Boulevard',
      'Way',
      'Place',
      'Terrace',
    ],
    streetAbbreviations: {
      Street: 'St',
      Avenue: 'Ave',
      Road: 'Rd',
      Drive: 'Dr',
      Lane: 'Ln',
      Court: 'Ct',
      Boulevard: 'Blvd',
      Place: 'Pl',
      Terrace: 'Ter',
      Way: 'Way',
    },
    cultures: {
      english: 48,
      spanish: 19,
      chinese: 4,
      indian: 4,
      vietnamese: 2,
      german: 4,
      italian: 4,
      polish: 2,
      arabic: 2,
      nigerian: 3,
      french: 2,
      japanese: 2,
      turkish: 1,
    },
    nativeLanguagePreference: 0.35,
    membershipFee: 7.99,
  },
  GB: {
    currency: 'GBP',
    countryCallingCode: '44',
    cities: [
      {
        name: 'London',
        region: '',
        weight: 90,
        utcOffset: 0,
        phone: ['020', '7946 0'],
        postcodes: ['E1', 'N1', 'NW3', 'SE15', 'SW11', 'W5', 'EC1V', 'WC2H', 'E17', 'N16'],
      },
      {
        name: 'Manchester',
        region: '',
        weight: 25,
        utcOffset: 0,
        phone: ['0161', '496 0'],
        postcodes: ['M1', 'M14', 'M20', 'M4'],
      },
      {
        name: 'Birmingham',
        region: '',
        weight: 25,
        utcOffset: 0,
        phone: ['0121', '496 0'],
        postcodes: ['B1', 'B15', 'B29', 'B13'],
      },
      {
        name: 'Leeds',
        region: '',
        weight: 15,
        utcOffset: 0,
        phone: ['0113', '496 0'],
        postcodes: ['LS1', 'LS6', 'LS8'],
      },
      {
        name: 'Sheffield',
        region: '',
        weight: 10,
        utcOffset: 0,
        phone: ['0114', '496 0'],
        postcodes: ['S1', 'S10', 'S11'],
      },
      {
        name: 'Nottingham',
        region: '',
        weight: 7,
        utcOffset: 0,
        phone: ['0115', '496 0'],
        postcodes: ['NG1', 'NG7'],
      },
      {
        name: 'Leicester',
        region: '',
        weight: 6,
        utcOffset: 0,
        phone: ['0116', '496 0'],
        postcodes: ['LE1', 'LE2'],
      },
      {
        name: 'Bristol',
        region: '',
        weight: 10,
        utcOffset: 0,
        phone: ['0117', '496 0'],
        postcodes: ['BS1', 'BS6', 'BS8'],
      },
      {
        name: 'Reading',
        region: '',
        weight: 4,
        utcOffset: 0,
        phone: ['0118', '496 0'],
        postcodes: ['RG1', 'RG4'],
      },
      {
        name: 'Edinburgh',
        region: '',
        weight: 9,
        utcOffset: 0,
        phone: ['0131', '496 0'],
        postcodes: ['EH1', 'EH3', 'EH10'],
      },
      {
        name: 'Glasgow',
        region: '',
        weight: 12,
        utcOffset: 0,
        phone: ['0141', '496 0'],
        postcodes: ['G1', 'G12', 'G41'],
      },
      {
        name: 'Liverpool',
        region: '',
        weight: 9,
        utcOffset: 0,
        phone: ['0151', '496 0'],
        postcodes: ['L1', 'L8', 'L17'],
      },
      {
        name: 'Newcastle upon Tyne',
        region: '',
        weight: 6,
        utcOffset: 0,
        phone: ['0191', '498 0'],
        postcodes: ['NE1', 'NE2', 'NE6'],
      },
      {
        name: 'Cardiff',
        region: '',
        weight: 7,
        utcOffset: 0,
        phone: ['029', '2018 0'],
        postcodes: ['CF10', 'CF11', 'CF24'],
      },
    ],
    streetNames: GB_STREET_NAMES,
    streetTypes: [
      'Road',
      'Street',
      'Lane',
      'Close',
      'Avenue',
      'Crescent',
      'Gardens',
      'Grove',
      'Terrace',
      'Drive',
      'Way',
    ],
    streetAbbreviations: {
      Road: 'Rd',
      Street: 'St',
      Lane: 'Ln',
      Close: 'Cl',
      Avenue: 'Ave',
      Crescent: 'Cres',
      Gardens: 'Gdns',
      Grove: 'Gr',
      Terrace: 'Terr',
      Drive: 'Dr',
      Way: 'Way',
    },
    cultures: {
      english: 62,
      indian: 8,
      polish: 5,
      nigerian: 4,
      arabic: 3,
      chinese: 3,
      italian: 3,
      spanish: 3,
      french: 2,
      german: 2,
      turkish: 2,
      vietnamese: 1,
      japanese: 1,
    },
    nativeLanguagePreference: 0.25,
    membershipFee: 5.99,
  },
};

/** The UK's reserved mobile range: 07700 900000–900999. */
export const GB_MOBILE_PREFIX = '7700 900';

/** Letters allowed in the last two characters of a UK postcode. */
export const GB_POSTCODE_UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** Reserved domains for e-mail addresses (RFC 2606), weighted like a real mix of providers. */
export const EMAIL_DOMAINS: readonly (readonly [string, number])[] = [
  ['mail.example.com', 30],
  ['example.com', 12],
  ['inbox.example.net', 18],
  ['example.net', 8],
  ['post.example.org', 12],
  ['example.org', 6],
  ['webmail.example.com', 8],
  ['home.example.net', 6],
];

/** Work domains, for the second address some people use. */
export const WORK_EMAIL_DOMAINS: readonly string[] = [
  'corp.example.com',
  'staff.example.org',
  'office.example.net',
  'campus.example.org',
];
