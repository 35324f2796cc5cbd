/**
 * The synthetic customer world: a seeded, deterministic, streaming generator of a retailer's customers
 * as five source systems see them (point of sale, web shop, call centre, billing, shipping — each with
 * its own ids, spellings and stale data), with two years of interactions in the ingest API's JSON shape,
 * the ground truth kept beside them for evaluation, and NDJSON/CSV writers. It owns its random
 * generator and its name, place, catalogue and text tables. It must not read the clock,
 * `Math.random()` or any database, and it never produces real contact data: e-mail domains are
 * reserved ones, and phone numbers come from ranges reserved for fiction (so large worlds reuse them).
 *
 * Output order: people by index; each person's interactions sorted by `occurredAt` (causes before
 * effects on ties); no global time order. Amounts are always positive (a return's amount is what is
 * refunded). Same seed and options, same bytes.
 */

export {
  /** Defaults for a mid-sized US/UK retailer. */
  DEFAULT_WORLD_OPTIONS,
  /** BG/NBD purchase parameters (weeks). */
  type PurchaseModel,
  /** Resolves options against the defaults and validates them; throws SYNTHETIC_OPTIONS_INVALID. */
  resolveWorldConfig,
  /** Gamma-Gamma spend parameters. */
  type SpendModel,
  /** Fully resolved options of a world. */
  type WorldConfig,
  /** Options of a world; everything has a default. */
  type WorldOptions,
} from './options.ts';
export {
  /** The relationship personas a share of people is given (named as the archetypes they should be recognised as). */
  RELATIONSHIP_PERSONAS,
  /** A relationship persona. */
  type RelationshipPersona,
} from './personas.ts';
export {
  /** True when a number (spaces and dashes ignored) passes the Luhn check. */
  isLuhnValid,
  /** The kinds of forbidden data planted as policy probes. */
  type PolicyProbeKind,
} from './probes.ts';
export {
  /** Constant-time weighted choice over a fixed table. */
  AliasTable,
  /** The seeded generator with uniform, normal, gamma, beta, Poisson and exponential draws. */
  Rng,
  /** Reduces a numeric or text seed to the 32 bits a world uses. */
  seedToUint32,
} from './random.ts';
/** A naming culture of the synthetic world. */
export type { CultureCode } from './tables/names.ts';
/** A market the retailer trades in. */
export type { MarketCode } from './tables/places.ts';
/** A postal address as the generator writes it. */
export type { PostalAddress } from './text.ts';
export {
  /** Where interactions happen. */
  CHANNELS,
  /** A channel. */
  type Channel,
  /** How an interaction names its customer: source identity, e-mail or phone. */
  type CustomerReference,
  /** A preference a person holds. */
  type HeldPreference,
  /** The interaction types of SPEC §3. */
  INTERACTION_TYPES,
  /** An interaction type. */
  type InteractionType,
  /** An interaction with its true person and planted probe. */
  type LabelledInteraction,
  /** The life events a person may go through. */
  LIFE_EVENT_KINDS,
  /** A life event in a person's true history. */
  type LifeEvent,
  /** A kind of life event. */
  type LifeEventKind,
  /** One purchased line. */
  type LineItem,
  /** A JSON value in interaction properties. */
  type PropertyValue,
  /** A person's ground-truth purchase behaviour. */
  type PurchaseBehaviour,
  /** The source systems of the retailer. */
  SOURCE_SYSTEMS,
  /** What one source system holds about a person, with the true person id. */
  type SourceRecord,
  /** A source system. */
  type SourceSystem,
  /** A person with ground truth and source records. */
  type SyntheticCustomer,
  /** An interaction in the ingest API's shape. */
  type SyntheticInteraction,
} from './types.ts';
export {
  /** Creates a world whose people, records and interactions are generated lazily. */
  generateWorld,
  /** A half-open range of person indexes, for splitting a world across workers. */
  type PersonRange,
  /** A seeded world and its lazy streams. */
  type SyntheticWorld,
} from './world.ts';
export {
  /** The interaction CSV's columns, in order. */
  INTERACTION_CSV_COLUMNS,
  /** One interaction as a CSV row. */
  interactionCsvRow,
  /** What a writer wrote. */
  type WriteSummary,
  /** A file path or an open stream. */
  type WriteTarget,
  /** Streams interactions to CSV with backpressure. */
  writeInteractionsCsv,
  /** Streams any values to NDJSON with backpressure. */
  writeNdjson,
} from './writers.ts';
