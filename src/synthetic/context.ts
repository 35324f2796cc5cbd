/**
 * Everything a world computes once from its options and shares across people: weighted tables, stores,
 * keys for identifiers. Immutable after creation, so people can be generated in any order.
 */
import { decimalModulus } from './ids.ts';
import type { WorldConfig } from './options.ts';
import { AliasTable, mix32 } from './random.ts';
import type { Category } from './tables/catalog.ts';
import { CATEGORIES } from './tables/catalog.ts';
import type { CultureCode } from './tables/names.ts';
import type { City, MarketCode } from './tables/places.ts';
import { EMAIL_DOMAINS, MARKET_TABLE, MARKETS } from './tables/places.ts';
import type { SourceSystem } from './types.ts';
import { SOURCE_SYSTEMS } from './types.ts';

/** A shop of the retailer. */
export interface Store {
  id: string;
  label: string;
  city: City;
}

export interface WorldContext {
  config: WorldConfig;
  markets: AliasTable<MarketCode>;
  cultures: Record<MarketCode, AliasTable<CultureCode>>;
  cities: Record<MarketCode, AliasTable<City>>;
  storesByCity: Map<City, readonly Store[]>;
  storesByMarket: Record<MarketCode, readonly Store[]>;
  emailDomains: AliasTable<string>;
  categories: readonly Category[];
  /** Keys of the identifier permutations, per source system and for e-mail serials. */
  keys: Record<SourceSystem | 'email' | 'tracking', number>;
  /** Decimal identifier spaces sized for the world. */
  loyalty: { modulus: number; digits: number };
  billing: { modulus: number; digits: number };
  ticketUser: { modulus: number; digits: number };
  emailSerial: { offset: number; modulus: number };
}

/** Builds the shared tables of a world. */
export function createWorldContext(config: WorldConfig): WorldContext {
  const marketCodes = MARKETS.filter((m) => config.markets[m] > 0);
  const cultures = {} as Record<MarketCode, AliasTable<CultureCode>>;
  const cities = {} as Record<MarketCode, AliasTable<City>>;
  const storesByMarket = {} as Record<MarketCode, readonly Store[]>;
  const storesByCity = new Map<City, readonly Store[]>();
  for (const market of MARKETS) {
    const table = MARKET_TABLE[market];
    const entries = Object.entries(table.cultures) as [CultureCode, number][];
    cultures[market] = new AliasTable(
      entries.map(([c]) => c),
      entries.map(([, w]) => w),
    );
    cities[market] = new AliasTable(
      table.cities,
      table.cities.map((c) => c.weight),
    );
    const all: Store[] = [];
    table.cities.forEach((city, cityIndex) => {
      const count = 1 + Math.floor(city.weight / 20);
      const own: Store[] = [];
      for (let n = 1; n <= count; n++) {
        own.push({
          id: `${market}${String(cityIndex + 1).padStart(2, '0')}${n}`,
          label: count > 1 ? `${city.name} store ${n}` : `${city.name} store`,
          city,
        });
      }
      storesByCity.set(city, own);
      all.push(...own);
    });
    storesByMarket[market] = all;
  }
  const keys = {} as Record<SourceSystem | 'email' | 'tracking', number>;
  for (const [i, source] of [...SOURCE_SYSTEMS, 'email' as const, 'tracking' as const].entries()) {
    keys[source] = mix32(config.seed ^ mix32(0x51ed270b + i));
  }
  // Four record slots per person at most; decimal ids grow a digit when the world outgrows them.
  const capacity = Math.max(1, config.customers) * 4;
  let digits = 3;
  while (9 * 10 ** (digits - 1) < Math.max(1, config.customers)) digits++;
  return {
    config,
    markets: new AliasTable(
      marketCodes,
      marketCodes.map((m) => config.markets[m]),
    ),
    cultures,
    cities,
    storesByCity,
    storesByMarket,
    emailDomains: new AliasTable(
      EMAIL_DOMAINS.map(([d]) => d),
      EMAIL_DOMAINS.map(([, w]) => w),
    ),
    categories: CATEGORIES,
    keys,
    loyalty: decimalModulus(capacity, 7),
    billing: decimalModulus(capacity, 6),
    ticketUser: decimalModulus(capacity, 8),
    emailSerial: { offset: 10 ** (digits - 1), modulus: 9 * 10 ** (digits - 1) },
  };
}
