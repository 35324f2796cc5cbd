/**
 * The shapes the synthetic world produces: people with their ground truth, the records each source
 * system holds about them, and interactions in the shape of Cornerstore's interaction JSON (camelCase).
 */
import type { RelationshipPersona } from './personas.ts';
import type { PolicyProbeKind } from './probes.ts';
import type { CultureCode } from './tables/names.ts';
import type { MarketCode } from './tables/places.ts';
import type { PostalAddress } from './text.ts';

export const SOURCE_SYSTEMS = ['pos', 'web', 'callcentre', 'billing', 'shipping'] as const;

/** A source system of the retailer: point of sale, web shop, call centre, billing, shipping. */
export type SourceSystem = (typeof SOURCE_SYSTEMS)[number];

export const INTERACTION_TYPES = [
  'purchase',
  'return',
  'service_request',
  'complaint',
  'compliment',
  'cancellation_request',
  'billing_event',
  'payment_failed',
  'shipment',
  'delivery_failed',
  'visit',
  'call',
  'email',
  'chat',
  'feedback',
  'suggestion',
  'survey_response',
  'preference_stated',
  'life_event_declared',
  'consent_changed',
  'intimacy_chosen',
] as const;

/** The interaction types of SPEC §3 that the generator produces. */
export type InteractionType = (typeof INTERACTION_TYPES)[number];

export const CHANNELS = ['store', 'web', 'app', 'phone', 'email', 'chat', 'post', 'delivery'] as const;

/** Where an interaction happened. */
export type Channel = (typeof CHANNELS)[number];

export const LIFE_EVENT_KINDS = ['moved_house', 'married', 'new_baby', 'bereavement'] as const;

/** A life event a person may go through (and may or may not tell the retailer about). */
export type LifeEventKind = (typeof LIFE_EVENT_KINDS)[number];

/** How an interaction names its customer: by a source identity, an e-mail address or a phone number. */
export type CustomerReference =
  | { identity: { source: SourceSystem; externalId: string } }
  | { email: string }
  | { phone: string };

/** One purchased line (the category is the SKU's prefix: `HOM-0003` is home). */
export interface LineItem {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
}

/** Property values: JSON scalars, arrays and objects. */
export type PropertyValue =
  | string
  | number
  | boolean
  | null
  | PropertyValue[]
  | { [key: string]: PropertyValue };

/** An interaction in the shape of the ingest API (camelCase JSON). Amounts are always positive. */
export interface SyntheticInteraction {
  type: InteractionType;
  channel: Channel;
  /** ISO 8601, UTC, whole seconds: `2024-03-05T14:22:10Z`. */
  occurredAt: string;
  source: SourceSystem;
  /** Unique per source. */
  externalId: string;
  customer: CustomerReference;
  amount?: number;
  currency?: string;
  initiatedBy: 'customer' | 'company';
  text?: string;
  lineItems?: LineItem[];
  properties: Record<string, PropertyValue>;
}

/** An interaction with its ground truth, for evaluation only. */
export interface LabelledInteraction {
  truePersonId: string;
  /** The kind of forbidden data planted in this interaction, if any. */
  probe: PolicyProbeKind | null;
  interaction: SyntheticInteraction;
}

/** What one source system holds about a person: its own id, its own spelling, its own staleness. */
export interface SourceRecord {
  source: SourceSystem;
  externalId: string;
  /** Ground truth: the person this record belongs to (evaluation only; a real system never has it). */
  truePersonId: string;
  createdAt: string;
  /** When the record was last brought up to date; an address older than a move is stale. */
  updatedAt: string;
  givenName?: string;
  familyName?: string;
  /** Systems that keep one name field (billing's formal name, shipping's consignee) use this instead. */
  fullName?: string;
  email?: string;
  /** As the system stored it: E.164 in some, local formats in others. */
  phone?: string;
  address?: PostalAddress;
  /** `YYYY-MM-DD`; occasionally with day and month swapped by a clerk. */
  birthDate?: string;
  language?: string;
}

/** A life event in a person's true history. */
export interface LifeEvent {
  kind: LifeEventKind;
  at: string;
  /** Whether the person tells the retailer (then a life_event_declared interaction follows). */
  declared: boolean;
}

/** A preference a person holds, which they may state once or more. */
export interface HeldPreference {
  key: 'receipt' | 'language' | 'delivery_window' | 'no_interest_bearing_products' | 'contact_channel';
  value: string | boolean;
}

/** A person's ground-truth purchase behaviour (BG/NBD and Gamma-Gamma parameters and outcome). */
export interface PurchaseBehaviour {
  /** Purchases per week while alive (λ). */
  purchaseRate: number;
  /** Probability of dropping out after each repeat purchase (p). */
  dropoutProbability: number;
  /** The spend-rate parameter ν; mean spend per purchase is `spendShape / ν`. */
  spendRate: number;
  /** Expected spend per purchase in the market's currency. */
  meanSpend: number;
  /** Purchases after the first, within the window. */
  repeatPurchases: number;
  /** When the person dropped out (right after their last purchase), if they did within the window. */
  droppedOutAt?: string;
}

/** A person of the synthetic world with the ground truth and the source records about them. */
export interface SyntheticCustomer {
  personId: string;
  /** Position in the world (0-based); stable for a seed. */
  index: number;
  culture: CultureCode;
  market: MarketCode;
  gender: 'female' | 'male' | 'unspecified';
  givenName: string;
  middleName?: string;
  familyName: string;
  /** A second (maternal) family name, as in Spanish naming. */
  secondFamilyName?: string;
  /** The family name before a change within the window (after a marriage). */
  formerFamilyName?: string;
  /** What the person likes to be called: a nickname or an adopted name. */
  preferredName?: string;
  language: string;
  birthDate: string;
  email?: string;
  /** A second address used for a second web account. */
  secondaryEmail?: string;
  /** E.164. */
  phone?: string;
  address: PostalAddress;
  /** The address before a move within the window. */
  previousAddress?: PostalAddress;
  currency: string;
  acquiredAt: string;
  lifeEvents: LifeEvent[];
  preferences: HeldPreference[];
  behaviour: PurchaseBehaviour;
  records: SourceRecord[];
  /** The relationship persona planted in this person (ground truth for relationship intelligence), if any. */
  persona?: RelationshipPersona;
}
