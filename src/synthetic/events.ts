/**
 * A person's interactions over the window, generated from their ground truth and habits: purchases
 * (BG/NBD times, Gamma-Gamma amounts) with their returns, shipments, failed deliveries, complaints,
 * compliments and surveys; membership billing with failed payments and cancellations; service contacts;
 * a consent ledger and the newsletters it allows; stated preferences and declared life events; and a
 * small share of policy probes. Returned sorted by time (stable, so causes precede their effects).
 */
import type { WorldContext } from './context.ts';
import { permute64 } from './ids.ts';
import type { PersonModel, RecordModel } from './person.ts';
import { categoryBoost, EVENT_STREAM, isoSeconds, placeInDay } from './person.ts';
import type { RelationshipPersona } from './personas.ts';
import type { PolicyProbeKind } from './probes.ts';
import {
  CARD_PROPERTY_KEYS,
  cardNumber,
  cardSentence,
  NATIONAL_ID_PROPERTY_KEYS,
  nationalId,
  nationalIdSentence,
} from './probes.ts';
import { Rng } from './random.ts';
import type { Product } from './tables/catalog.ts';
import { CATALOG } from './tables/catalog.ts';
import { MARKET_TABLE } from './tables/places.ts';
import {
  CALL_NOTES,
  CALLBACK_NOTES,
  CANCELLATION_TEXTS,
  CHAT_TEXTS,
  COMPLAINT_TEXTS,
  COMPLIMENT_TEXTS,
  CUSTOMER_EMAIL_TEXTS,
  FEEDBACK_TEXTS,
  LIFE_EVENT_TEXTS,
  NEWSLETTER_CAMPAIGNS,
  SERVICE_REQUEST_TEXTS,
  SUGGESTION_TEXTS,
  SURVEY_COMMENTS,
} from './tables/texts.ts';
import { phoneE164 } from './text.ts';
import type {
  Channel,
  CustomerReference,
  InteractionType,
  LineItem,
  PropertyValue,
  SourceSystem,
  SyntheticInteraction,
} from './types.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const YEAR_MS = 365.25 * DAY_MS;
const MONTH_MS = YEAR_MS / 12;

/** An interaction before ordering, with its time and planted probe. */
export interface Draft {
  at: number;
  probe: PolicyProbeKind | null;
  interaction: SyntheticInteraction;
}

interface Extra {
  amount?: number;
  text?: string;
  lineItems?: LineItem[];
  properties?: Record<string, PropertyValue>;
}

interface ContactOption {
  channel: Channel;
  source: SourceSystem;
  weight: number;
}

const COMPLAINT_CONTACTS: readonly ContactOption[] = [
  { channel: 'phone', source: 'callcentre', weight: 4 },
  { channel: 'email', source: 'web', weight: 2 },
  { channel: 'chat', source: 'web', weight: 2 },
  { channel: 'store', source: 'pos', weight: 2 },
  { channel: 'web', source: 'web', weight: 1 },
];
const SERVICE_CONTACTS: readonly ContactOption[] = [
  { channel: 'phone', source: 'callcentre', weight: 3 },
  { channel: 'chat', source: 'web', weight: 3 },
  { channel: 'email', source: 'web', weight: 2 },
  { channel: 'store', source: 'pos', weight: 2 },
];
const DECLARATION_CONTACTS: readonly ContactOption[] = [
  { channel: 'web', source: 'web', weight: 3 },
  { channel: 'phone', source: 'callcentre', weight: 2 },
  { channel: 'store', source: 'pos', weight: 2 },
  { channel: 'app', source: 'web', weight: 1 },
];
const CANCELLATION_CONTACTS: readonly ContactOption[] = [
  { channel: 'phone', source: 'callcentre', weight: 5 },
  { channel: 'web', source: 'web', weight: 3 },
  { channel: 'email', source: 'web', weight: 1 },
  { channel: 'post', source: 'billing', weight: 1 },
];
const FEEDBACK_CONTACTS: readonly ContactOption[] = [
  { channel: 'web', source: 'web', weight: 3 },
  { channel: 'app', source: 'web', weight: 1 },
  { channel: 'store', source: 'pos', weight: 2 },
  { channel: 'phone', source: 'callcentre', weight: 1 },
];

const PREFIXES: Record<SourceSystem, Partial<Record<InteractionType, string>> & { other: string }> = {
  pos: { purchase: 'rcpt_', return: 'rtn_', visit: 'vst_', other: 'pos_' },
  web: { purchase: 'ord_', return: 'rma_', email: 'msg_', visit: 'ses_', other: 'web_' },
  callcentre: { call: 'call_', other: 'tkt_' },
  billing: { billing_event: 'inv_', payment_failed: 'pf_', other: 'bil_' },
  shipping: { shipment: 'shp_', delivery_failed: 'dlv_', other: 'shp_' },
};

const SERVICE_TOPICS = [
  'product_question',
  'warranty',
  'order_status',
  'account_access',
  'loyalty_points',
  'store_hours',
] as const;

const CARRIERS = ['national_post', 'express_courier', 'regional_courier', 'parcel_network'];

function fill(template: string, product: string, order: string, store: string): string {
  return template.replace('{product}', product).replace('{order}', order).replace('{store}', store);
}

function cents(value: number): number {
  return Math.round(value) / 100;
}

/** Generates one person's interactions. */
class PersonEvents {
  readonly drafts: Draft[] = [];
  private readonly rng: Rng;
  private readonly seq: Record<SourceSystem, number> = {
    pos: 0,
    web: 0,
    callcentre: 0,
    billing: 0,
    shipping: 0,
  };
  private readonly bySource: Record<SourceSystem, RecordModel[]> = {
    pos: [],
    web: [],
    callcentre: [],
    billing: [],
    shipping: [],
  };
  private readonly currency: string;
  private readonly startMs: number;
  private readonly endMs: number;
  /** Customer-initiated activity fades out a few months after a person drops out. */
  private readonly activeEndMs: number;
  private readonly complaintTimes: number[] = [];
  private trackingSeq = 0;
  /** Reused by pickContact, which runs for most interactions. */
  private readonly liveScratch: (RecordModel | undefined)[] = [];
  /** Time of the interaction added last. */
  private lastAt = 0;
  /** Web orders so far, for service requests and chats that ask about "my order". */
  private readonly webOrders: { at: number; externalId: string }[] = [];

  constructor(
    private readonly ctx: WorldContext,
    private readonly person: PersonModel,
  ) {
    this.rng = new Rng(ctx.config.seed, person.index, EVENT_STREAM);
    for (const model of person.records) this.bySource[model.source].push(model);
    this.currency = MARKET_TABLE[person.market].currency;
    this.startMs = ctx.config.startMs;
    this.endMs = ctx.config.endMs;
    this.activeEndMs =
      person.droppedOutMs === undefined
        ? this.endMs
        : Math.min(this.endMs, person.droppedOutMs + 12 * WEEK_MS);
  }

  private add(
    at: number,
    type: InteractionType,
    channel: Channel,
    source: SourceSystem,
    customer: CustomerReference,
    initiatedBy: 'customer' | 'company',
    extra: Extra,
  ): SyntheticInteraction | undefined {
    const prefixes = PREFIXES[source];
    const externalId =
      (prefixes[type] ?? prefixes.other) +
      permute64(this.person.index, this.seq[source]++, this.ctx.keys[source]);
    if (at < this.startMs || at >= this.endMs || at < this.person.acquiredMs) return undefined;
    // Built key by key so the JSON reads in the contract's order and omits what is absent.
    const out: Record<string, unknown> = {
      type,
      channel,
      occurredAt: isoSeconds(at),
      source,
      externalId,
      customer,
    };
    if (extra.amount !== undefined) {
      out.amount = extra.amount;
      out.currency = this.currency;
    }
    out.initiatedBy = initiatedBy;
    if (extra.text !== undefined) out.text = extra.text;
    if (extra.lineItems !== undefined) out.lineItems = extra.lineItems;
    out.properties = extra.properties ?? {};
    const interaction = out as unknown as SyntheticInteraction;
    this.drafts.push({ at, probe: null, interaction });
    this.lastAt = at;
    return interaction;
  }

  private recordAt(source: SourceSystem, at: number): RecordModel | undefined {
    const list = this.bySource[source];
    if (list.length === 0) return undefined;
    const first = list[0] as RecordModel;
    if (list.length === 1) return first.createdMs <= at ? first : undefined;
    const second = list[1] as RecordModel;
    const newer = first.createdMs >= second.createdMs ? first : second;
    const older = newer === first ? second : first;
    if (older.createdMs > at) return undefined;
    if (newer.createdMs > at) return older;
    return this.rng.chance(0.75) ? newer : older;
  }

  private identity(model: RecordModel): CustomerReference {
    return { identity: { source: model.source, externalId: model.record.externalId } };
  }

  /** How a system names the customer in an interaction: usually its own id, sometimes an address or number. */
  private reference(model: RecordModel, channel: Channel): CustomerReference {
    if (
      model.source === 'web' &&
      channel === 'email' &&
      model.record.email !== undefined &&
      this.rng.chance(0.7)
    ) {
      return { email: model.record.email };
    }
    if (model.source === 'callcentre' && this.person.phone !== undefined && this.rng.chance(0.3)) {
      return { phone: phoneE164(this.person.phone) };
    }
    return this.identity(model);
  }

  private has(source: SourceSystem): boolean {
    return this.bySource[source].length > 0;
  }

  private pickContact(
    at: number,
    options: readonly ContactOption[],
  ): { channel: Channel; model: RecordModel } | undefined {
    let total = 0;
    const live = this.liveScratch;
    live.length = 0;
    for (const option of options) {
      const model = this.recordAt(option.source, at);
      live.push(model);
      if (model !== undefined) total += option.weight;
    }
    let target = this.rng.next() * total;
    for (let i = 0; i < options.length; i++) {
      const model = live[i];
      const option = options[i] as ContactOption;
      if (model === undefined) continue;
      target -= option.weight;
      if (target < 0) return { channel: option.channel, model };
    }
    return undefined;
  }

  /** Moves a time to a waking hour of its local day, unless that would put it before `notBefore`. */
  private daytime(at: number, notBefore: number): number {
    const hour = Math.min(22.5, Math.max(7.5, this.rng.normal(14, 3.5)));
    const placed = placeInDay(this.ctx, at, this.person.utcOffsetMs, hour);
    return placed >= notBefore ? placed : at;
  }

  /**
   * Adds a customer-initiated contact, at a waking hour, through whichever channel the person can use at
   * that time. `cause` is the time of what prompted it (the contact never moves before it).
   */
  private contact(
    rawAt: number,
    type: InteractionType,
    options: readonly ContactOption[],
    extra: Extra,
    cause = this.person.acquiredMs,
  ): SyntheticInteraction | undefined {
    const at = this.daytime(rawAt, cause + MINUTE_MS);
    const picked = this.pickContact(at, options);
    if (picked === undefined) return undefined;
    const { channel, model } = picked;
    return this.add(at, type, channel, model.source, this.reference(model, channel), 'customer', extra);
  }

  private storeFor(at: number): { id: string; label: string } {
    const person = this.person;
    const city = person.moveMs !== undefined && at >= person.moveMs ? person.cityAfterMove : person.city;
    const own = this.ctx.storesByCity.get(city) ?? [];
    if (own.length > 0 && this.rng.chance(0.85)) {
      return own[person.traits.homeStore % own.length] as { id: string; label: string };
    }
    return this.rng.pick(this.ctx.storesByMarket[person.market]);
  }

  private addressStaleAt(model: RecordModel, at: number): boolean {
    const moveMs = this.person.moveMs;
    if (moveMs === undefined || at < moveMs) return false;
    return model.addressCurrentFromMs === undefined || model.addressCurrentFromMs > at;
  }

  private lastOrderBefore(at: number): string | undefined {
    let found: string | undefined;
    for (const order of this.webOrders) {
      if (order.at >= at) break;
      found = order.externalId;
    }
    return found;
  }

  private someProduct(): string {
    const category = this.rng.pick(this.ctx.categories);
    return this.rng.pick(CATALOG[category]).name.toLowerCase();
  }

  private uniformTimes(count: number, from: number, to: number): number[] {
    const times: number[] = [];
    if (to <= from) return times;
    for (let i = 0; i < count; i++) times.push(from + this.rng.next() * (to - from));
    return times;
  }

  /** The person's taste over categories at a time, shifted by life events (a baby, a new home). */
  private categoryWeightsAt(at: number): Float64Array {
    const base = this.person.traits.categoryWeights;
    if (this.person.lifeEvents.length === 0) return base;
    const categories = this.ctx.categories;
    const weights = new Float64Array(base.length);
    for (let c = 0; c < base.length; c++) {
      weights[c] = (base[c] ?? 0) * categoryBoost(this.person, categories[c] ?? 'home', at);
    }
    return weights;
  }

  private basket(at: number): { amount: number; lineItems: LineItem[] | undefined; product: string } {
    const { config } = this.ctx;
    const rng = this.rng;
    const totalCents = Math.max(100, Math.round(rng.gamma(config.spend.p, this.person.spendRate) * 100));
    if (!config.lineItems) return { amount: totalCents / 100, lineItems: undefined, product: 'order' };
    const count = Math.min(6, 1 + rng.poisson(0.9));
    const categories = this.ctx.categories;
    const weights = this.categoryWeightsAt(at);
    let total = 0;
    for (let c = 0; c < weights.length; c++) total += weights[c] ?? 0;
    const products: Product[] = [];
    const shares: number[] = [];
    let shareTotal = 0;
    for (let i = 0; i < count; i++) {
      let target = rng.next() * total;
      let category = categories[0] ?? 'home';
      for (let c = 0; c < categories.length; c++) {
        target -= weights[c] ?? 0;
        if (target < 0) {
          category = categories[c] ?? category;
          break;
        }
      }
      const list = CATALOG[category];
      // Popular products first: a squared uniform favours the head of each list.
      const u = rng.next();
      products.push(list[Math.floor(u * u * list.length)] ?? (list[0] as Product));
      const share = rng.exponential(1);
      shares.push(share);
      shareTotal += share;
    }
    const lineItems: LineItem[] = [];
    let allocated = 0;
    let amountCents = 0;
    for (let i = 0; i < count; i++) {
      const product = products[i] as Product;
      const lineCents =
        i === count - 1
          ? totalCents - allocated
          : Math.max(1, Math.round((totalCents * (shares[i] ?? 1)) / shareTotal));
      allocated += lineCents;
      const quantity = lineCents >= 200 && rng.chance(0.12) ? 2 : 1;
      const unitCents = Math.max(1, Math.floor(lineCents / quantity));
      amountCents += unitCents * quantity;
      lineItems.push({
        sku: product.sku,
        name: product.name,
        quantity,
        unitPrice: unitCents / 100,
      });
    }
    return { amount: amountCents / 100, lineItems, product: (products[0] as Product).name.toLowerCase() };
  }

  generate(): Draft[] {
    this.purchases();
    this.membership();
    this.contacts();
    this.consentsAndNewsletters();
    this.preferences();
    this.lifeEvents();
    this.drafts.sort((x, y) => x.at - y.at);
    this.probes();
    // Added after the probes and from draws after every other, so a persona never changes the rest.
    if (this.person.persona !== undefined) {
      this.persona(this.person.persona);
      this.drafts.sort((x, y) => x.at - y.at);
    }
    return this.drafts;
  }

  /** Times every `everyDays` (jittered) from `from` to `to`. */
  private every(from: number, to: number, everyDays: number): number[] {
    const out: number[] = [];
    for (let at = from + this.rng.uniform(0, everyDays) * DAY_MS; at < to; ) {
      out.push(at);
      at += this.rng.uniform(0.6, 1.4) * everyDays * DAY_MS;
    }
    return out;
  }

  /** A purchase in a store when the person has a store record then, else on the web. */
  private personaPurchase(at: number): void {
    const pos = this.recordAt('pos', at);
    const web = pos === undefined ? this.recordAt('web', at) : undefined;
    const model = pos ?? web;
    if (model === undefined) return;
    const placed = placeInDay(this.ctx, at, this.person.utcOffsetMs, this.rng.uniform(10, 19));
    const basket = this.basket(placed);
    const extra: Extra = {
      amount: basket.amount,
      properties: pos ? { storeId: this.storeFor(placed).id } : {},
    };
    if (basket.lineItems !== undefined) extra.lineItems = basket.lineItems;
    this.add(
      placed,
      'purchase',
      pos ? 'store' : 'web',
      model.source,
      this.identity(model),
      'customer',
      extra,
    );
  }

  /** A visit to the home store, when the person has a store record then. */
  private personaVisit(at: number): void {
    const pos = this.recordAt('pos', at);
    if (pos === undefined) return;
    const placed = placeInDay(this.ctx, at, this.person.utcOffsetMs, this.rng.uniform(9.5, 20.5));
    this.add(placed, 'visit', 'store', 'pos', this.identity(pos), 'customer', {
      properties: { storeId: this.storeFor(placed).id, purpose: 'browse' },
    });
  }

  private personaCompliment(at: number): void {
    const text = fill(this.rng.pick(COMPLIMENT_TEXTS), this.someProduct(), '', this.storeFor(at).label);
    this.contact(at, 'compliment', FEEDBACK_CONTACTS, { text, properties: {} });
  }

  private personaSuggestion(at: number): void {
    this.contact(at, 'suggestion', FEEDBACK_CONTACTS, {
      text: fill(this.rng.pick(SUGGESTION_TEXTS), this.someProduct(), '', ''),
      properties: { category: this.rng.pick(['range', 'store', 'website', 'delivery', 'service']) },
    });
  }

  /** The interactions of a relationship persona (personas.ts), added to the person's own. */
  private persona(persona: RelationshipPersona): void {
    const { rng, person } = this;
    const end = this.endMs;
    const start = (days: number) => Math.max(person.acquiredMs + 7 * DAY_MS, end - days * DAY_MS);
    switch (persona) {
      case 'adversary': {
        // Complaints that escalate, a furious survey and a one-star review, over the last months.
        const times = this.uniformTimes(4 + rng.int(3), start(110), end - 2 * DAY_MS).sort((a, b) => a - b);
        times.forEach((at, k) => {
          const topic = rng.pick(['product_quality', 'refund', 'wait_time']);
          this.contact(at, 'complaint', COMPLAINT_CONTACTS, {
            text: fill(
              rng.pick(COMPLAINT_TEXTS[topic] ?? []),
              this.someProduct(),
              '',
              this.storeFor(at).label,
            ),
            properties: { category: topic, severity: k < 2 ? 'medium' : 'high', escalation: k + 1 },
          });
        });
        for (const at of this.uniformTimes(1 + rng.int(2), start(90), end - DAY_MS)) {
          this.contact(at, 'survey_response', FEEDBACK_CONTACTS, {
            properties: { survey: 'post_contact_nps', score: rng.intBetween(0, 2) },
          });
        }
        this.contact(end - rng.uniform(2, 40) * DAY_MS, 'feedback', FEEDBACK_CONTACTS, {
          text: rng.pick(FEEDBACK_TEXTS),
          properties: { rating: 1 },
        });
        return;
      }
      case 'captive': {
        // Asks to leave the membership three times and is refused; the charges keep coming.
        const billing = this.bySource.billing[0];
        if (billing === undefined) return;
        const fee = MARKET_TABLE[person.market].membershipFee;
        const accountId = billing.record.externalId;
        const from = Math.max(start(330), billing.createdMs + DAY_MS);
        for (const at of this.every(from, end, 30.4)) {
          this.add(at, 'billing_event', 'email', 'billing', this.identity(billing), 'company', {
            amount: fee,
            properties: { event: 'membership_charge', plan: 'plus_annual_contract', accountId },
          });
        }
        const asks = this.uniformTimes(
          3,
          Math.max(from + 20 * DAY_MS, end - 300 * DAY_MS),
          end - 20 * DAY_MS,
        );
        for (const at of asks) {
          this.contact(at, 'cancellation_request', CANCELLATION_CONTACTS, {
            text: rng.pick(CANCELLATION_TEXTS.membership ?? []),
            properties: { subject: 'membership', accountId, outcome: 'refused' },
          });
        }
        return;
      }
      case 'drifting_ex_friend': {
        // A regular of the store, every few days for a year, who then stopped coming five months ago.
        const to = end - rng.uniform(150, 200) * DAY_MS;
        for (const at of this.every(start(520), to, 5)) this.personaVisit(at);
        for (const at of this.every(start(520), to, 12)) this.personaPurchase(at);
        for (const at of this.uniformTimes(2, start(520), to)) this.personaCompliment(at);
        return;
      }
      case 'newcomer': {
        // A second purchase soon after the first and a stated preference: early days.
        this.personaPurchase(person.acquiredMs + rng.uniform(3, 30) * DAY_MS);
        this.contact(
          person.acquiredMs + rng.uniform(1, 20) * DAY_MS,
          'preference_stated',
          DECLARATION_CONTACTS,
          {
            properties: { key: 'contact_channel', value: rng.pick(['email', 'phone']) },
          },
        );
        return;
      }
      case 'business_partner': {
        // Suggestions every month or so, and considered feedback: a customer who helps run the shop.
        for (const at of this.every(start(400), end, 35)) this.personaSuggestion(at);
        for (const at of this.every(start(400), end, 60)) {
          this.contact(at, 'feedback', FEEDBACK_CONTACTS, {
            text: rng.pick(FEEDBACK_TEXTS),
            properties: { rating: 3 },
          });
        }
        return;
      }
      case 'buddy': {
        // Regular, warm, for well over a year; tells us nothing personal.
        for (const at of this.every(start(520), end, 8)) this.personaVisit(at);
        for (const at of this.every(start(520), end, 25)) this.personaPurchase(at);
        for (const at of this.every(start(520), end, 80)) this.personaCompliment(at);
        return;
      }
      case 'best_friend': {
        // Warm, regular, gives suggestions and tells us about their life (a wedding: person.ts). They chose
        // to be remembered ("reach out when it matters", 3) wherever they are known, the day each of their
        // records was opened, so what they tell us is kept as declared facts.
        // Every record, since a merge keeps the lower level of the two customers it joins; a record opened
        // before the world's window makes its choice on the window's first day.
        const CHOICE_CHANNEL: Record<SourceSystem, Channel> = {
          pos: 'store',
          web: 'web',
          callcentre: 'phone',
          billing: 'web',
          shipping: 'web',
        };
        for (const model of this.person.records) {
          const channel = CHOICE_CHANNEL[model.source];
          const at = Math.max(model.createdMs, this.person.acquiredMs, this.startMs) + DAY_MS;
          this.add(at, 'intimacy_chosen', channel, model.source, this.identity(model), 'customer', {
            properties: { level: 3 },
          });
        }
        for (const at of this.every(start(600), end, 21)) this.personaPurchase(at);
        for (const at of this.every(start(600), end, 50)) this.personaCompliment(at);
        for (const at of this.every(start(600), end, 75)) this.personaSuggestion(at);
        // Catalog keys (personal facts), so they are remembered at the level they chose.
        const personal: [string, string][] = [
          ['interest', this.rng.pick(this.ctx.categories)],
          ['dislike', 'plastic bags'],
        ];
        for (const [key, value] of personal) {
          this.contact(rng.uniform(start(500), end), 'preference_stated', DECLARATION_CONTACTS, {
            properties: { key, value },
          });
        }
        return;
      }
    }
  }

  private purchases(): void {
    const { rng, person } = this;
    for (const t of person.purchaseTimes) {
      const pos = this.recordAt('pos', t);
      const web = this.recordAt('web', t);
      const useWeb = web !== undefined && (pos === undefined || rng.chance(person.traits.webShare));
      const basket = this.basket(t);
      if (useWeb) {
        this.webPurchase(t, web, basket);
      } else if (pos !== undefined) {
        this.storePurchase(t, pos, basket);
      }
    }
  }

  private storePurchase(
    t: number,
    pos: RecordModel,
    basket: { amount: number; lineItems: LineItem[] | undefined; product: string },
  ): void {
    const { rng, person } = this;
    const store = this.storeFor(t);
    const habits = person.traits;
    const extra: Extra = {
      amount: basket.amount,
      properties: {
        storeId: store.id,
        paymentMethod: rng.chance(0.85) ? habits.paymentMethod : rng.pick(['card', 'cash', 'mobile']),
        receipt: rng.chance(0.9) ? habits.receipt : rng.pick(['paper', 'email', 'none']),
      },
    };
    if (basket.lineItems !== undefined) extra.lineItems = basket.lineItems;
    const purchase = this.add(t, 'purchase', 'store', 'pos', this.identity(pos), 'customer', extra);
    if (purchase === undefined) return;
    if (rng.chance(0.05)) {
      const at = placeInDay(
        this.ctx,
        t + rng.uniform(2, 30) * DAY_MS,
        person.utcOffsetMs,
        rng.uniform(10, 19),
      );
      this.productReturn(at, purchase, basket.lineItems, 'pos');
    }
    this.afterPurchase(t, purchase, basket.product, store.label);
  }

  private webPurchase(
    t: number,
    web: RecordModel,
    basket: { amount: number; lineItems: LineItem[] | undefined; product: string },
  ): void {
    const { rng, person } = this;
    const channel: Channel = rng.chance(person.traits.appShare) ? 'app' : 'web';
    const hour = Math.min(23.9, Math.max(0, rng.normal(person.traits.onlineHour, 1.5)));
    const placed = placeInDay(this.ctx, t, person.utcOffsetMs, hour);
    const at = placed >= web.createdMs ? placed : t;
    const shipping = this.recordAt('shipping', at);
    const deliver = shipping !== undefined && rng.chance(0.85);
    const cancelled = rng.chance(0.015);
    const extra: Extra = {
      amount: basket.amount,
      properties: {
        fulfilment: deliver ? 'delivery' : 'click_and_collect',
        paymentMethod: person.traits.paymentMethod === 'mobile' ? 'wallet' : 'card',
        device: channel === 'app' ? 'mobile' : rng.chance(0.55) ? 'desktop' : 'mobile',
      },
    };
    if (basket.lineItems !== undefined) extra.lineItems = basket.lineItems;
    const purchase = this.add(at, 'purchase', channel, 'web', this.identity(web), 'customer', extra);
    if (purchase === undefined) return;
    const order = purchase.externalId;
    this.webOrders.push({ at, externalId: order });
    if (cancelled) {
      const cancelAt = at + rng.uniform(5, 180) * MINUTE_MS;
      this.add(cancelAt, 'cancellation_request', channel, 'web', this.identity(web), 'customer', {
        text: fill(rng.pick(CANCELLATION_TEXTS.order ?? []), basket.product, order, ''),
        properties: { subject: 'order', orderExternalId: order },
      });
      return;
    }
    if (deliver && shipping !== undefined) {
      this.delivery(at, order, shipping);
    } else {
      const pos = this.recordAt('pos', at + DAY_MS);
      if (pos !== undefined) {
        const pickup = placeInDay(
          this.ctx,
          at + rng.uniform(1, 4) * DAY_MS,
          person.utcOffsetMs,
          rng.uniform(10, 19),
        );
        this.add(pickup, 'visit', 'store', 'pos', this.identity(pos), 'customer', {
          properties: {
            storeId: this.storeFor(pickup).id,
            purpose: 'click_and_collect_pickup',
            orderExternalId: order,
          },
        });
      }
    }
    if (rng.chance(0.12)) {
      const returnAt = at + rng.uniform(3, 30) * DAY_MS;
      const inStore = this.recordAt('pos', returnAt) !== undefined && rng.chance(0.35);
      this.productReturn(returnAt, purchase, basket.lineItems, inStore ? 'pos' : 'web');
    }
    this.afterPurchase(at, purchase, basket.product, '');
  }

  private delivery(orderedAt: number, order: string, shipping: RecordModel): void {
    const { rng } = this;
    const { config } = this.ctx;
    let shipAt = orderedAt + rng.uniform(0.3, 3) * DAY_MS;
    const service = rng.chance(0.15) ? 'express' : 'standard';
    const carrier = rng.pick(CARRIERS);
    const tracking = permute64(this.person.index, this.trackingSeq++, this.ctx.keys.tracking)
      .slice(0, 12)
      .toUpperCase();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const shipment = this.add(
        shipAt,
        'shipment',
        'delivery',
        'shipping',
        this.identity(shipping),
        'company',
        {
          properties: {
            orderSource: 'web',
            orderExternalId: order,
            carrier,
            trackingNumber: `TRK${tracking}`,
            service,
            attempt,
          },
        },
      );
      if (shipment === undefined) return;
      const stale = this.addressStaleAt(shipping, shipAt);
      const failure = Math.min(0.6, config.deliveryFailureRate * (stale ? 6 : 1));
      if (!rng.chance(failure)) return;
      const failedAt = shipAt + rng.uniform(0.5, 3) * DAY_MS;
      const reason = stale
        ? 'address_not_found'
        : rng.weighted(
            ['recipient_absent', 'access_problem', 'damaged', 'address_not_found'],
            [0.6, 0.2, 0.1, 0.1],
          );
      const failed = this.add(
        failedAt,
        'delivery_failed',
        'delivery',
        'shipping',
        this.identity(shipping),
        'company',
        {
          properties: { shipmentExternalId: shipment.externalId, orderExternalId: order, reason, attempt },
        },
      );
      if (failed === undefined) return;
      if (rng.chance(Math.min(1, 0.25 * this.person.traits.complaint))) {
        const at = failedAt + rng.uniform(0.2, 5) * DAY_MS;
        this.complaint(
          at,
          'delivery',
          { source: 'web', externalId: order },
          { product: 'parcel', order, store: '' },
          failedAt,
        );
      }
      if (rng.chance(0.3)) {
        const at = failedAt + rng.uniform(0.1, 3) * DAY_MS;
        this.contact(
          at,
          'service_request',
          SERVICE_CONTACTS,
          {
            text: fill(rng.pick(SERVICE_REQUEST_TEXTS.order_status ?? []), '', order, ''),
            properties: { category: 'order_status', relatedSource: 'web', relatedExternalId: order },
          },
          failedAt,
        );
      }
      if (stale || !rng.chance(0.65)) return;
      shipAt = failedAt + rng.uniform(1, 3) * DAY_MS;
    }
  }

  private productReturn(
    at: number,
    purchase: SyntheticInteraction,
    lineItems: LineItem[] | undefined,
    via: 'pos' | 'web',
  ): void {
    const { rng } = this;
    const model = this.recordAt(via, at);
    if (model === undefined) return;
    let amount = purchase.amount ?? 0;
    if (lineItems !== undefined && lineItems.length > 1 && rng.chance(0.6)) {
      const line = rng.pick(lineItems);
      amount = cents(Math.round(line.unitPrice * 100) * line.quantity);
    } else if (lineItems === undefined && rng.chance(0.4)) {
      amount = cents(Math.round(amount * rng.uniform(0.3, 0.9) * 100));
    }
    if (!(amount > 0)) return;
    const properties: Record<string, PropertyValue> = {
      originalSource: purchase.source,
      originalExternalId: purchase.externalId,
      reason: rng.weighted(
        ['wrong_size', 'changed_mind', 'faulty', 'not_as_described'],
        [0.35, 0.3, 0.2, 0.15],
      ),
    };
    if (via === 'pos') properties.storeId = this.storeFor(at).id;
    this.add(at, 'return', via === 'pos' ? 'store' : 'web', via, this.identity(model), 'customer', {
      amount,
      properties,
    });
  }

  private complaint(
    at: number,
    topic: string,
    related: { source: SourceSystem; externalId: string },
    slots: { product: string; order: string; store: string },
    cause: number,
  ): void {
    const { rng } = this;
    const templates = COMPLAINT_TEXTS[topic] ?? COMPLAINT_TEXTS.product_quality ?? [];
    const complaint = this.contact(
      at,
      'complaint',
      COMPLAINT_CONTACTS,
      {
        text: fill(rng.pick(templates), slots.product, slots.order, slots.store || 'the store'),
        properties: {
          category: topic,
          severity: rng.weighted(['low', 'medium', 'high'], [0.5, 0.35, 0.15]),
          relatedSource: related.source,
          relatedExternalId: related.externalId,
        },
      },
      cause,
    );
    if (complaint === undefined) return;
    const complainedAt = this.lastAt;
    this.complaintTimes.push(complainedAt);
    const callcentre = this.recordAt('callcentre', complainedAt);
    if (callcentre !== undefined && rng.chance(0.45)) {
      const callbackAt = complainedAt + rng.uniform(0.2, 3) * DAY_MS;
      this.add(callbackAt, 'call', 'phone', 'callcentre', this.identity(callcentre), 'company', {
        text: rng.pick(CALLBACK_NOTES),
        properties: {
          direction: 'outbound',
          durationSeconds: Math.round(rng.gamma(2, 1 / 150)),
          relatedExternalId: complaint.externalId,
        },
      });
    }
  }

  private afterPurchase(t: number, purchase: SyntheticInteraction, product: string, store: string): void {
    const { rng, person } = this;
    const { config } = this.ctx;
    const traits = person.traits;
    if (rng.chance(Math.min(1, config.complaintRate * traits.complaint))) {
      const at = t + rng.uniform(0.5, 20) * DAY_MS;
      const inStore = purchase.channel === 'store';
      const topic = rng.weighted(
        ['product_quality', 'refund', 'staff', 'wait_time'],
        [5, 1, inStore ? 1.5 : 0, 1],
      );
      this.complaint(at, topic, purchase, { product, order: purchase.externalId, store }, t);
    }
    if (rng.chance(Math.min(1, config.complimentRate * traits.warmth))) {
      const at = t + rng.uniform(0.1, 5) * DAY_MS;
      const extra: Extra = {
        text: fill(rng.pick(COMPLIMENT_TEXTS), product, purchase.externalId, store || 'the store'),
        properties: { relatedSource: purchase.source, relatedExternalId: purchase.externalId },
      };
      this.contact(at, 'compliment', FEEDBACK_CONTACTS, extra, t);
    }
    if (rng.chance(0.06)) {
      const at = t + rng.uniform(2, 7) * DAY_MS;
      const model = this.recordAt(purchase.source, at);
      if (model === undefined) return;
      const score = Math.round(Math.min(10, Math.max(0, rng.normal(traits.satisfaction, 1.6))));
      const customer: CustomerReference =
        model.record.email !== undefined && purchase.source === 'web' && rng.chance(0.6)
          ? { email: model.record.email }
          : this.identity(model);
      const extra: Extra = {
        properties: { survey: 'post_purchase_nps', score, relatedExternalId: purchase.externalId },
      };
      if (rng.chance(0.35)) extra.text = rng.pick(SURVEY_COMMENTS);
      this.add(
        at,
        'survey_response',
        purchase.source === 'web' ? 'email' : 'store',
        model.source,
        customer,
        'customer',
        extra,
      );
    }
  }

  private membership(): void {
    const billing = this.bySource.billing[0];
    if (billing === undefined) return;
    const { rng, person } = this;
    const { config } = this.ctx;
    const fee = MARKET_TABLE[person.market].membershipFee;
    const accountId = billing.record.externalId;
    // The membership ends at the first of: a random cancellation, one after dropping out, one after a loss or a move.
    let cancelAt = billing.createdMs + rng.exponential(0.012) * MONTH_MS;
    let reason: string | null = rng.chance(0.4) ? rng.pick(['price', 'not_using']) : null;
    if (person.droppedOutMs !== undefined && rng.chance(0.6)) {
      const at = Math.max(billing.createdMs, person.droppedOutMs) + rng.exponential(0.25) * WEEK_MS;
      if (at < cancelAt) {
        cancelAt = at;
        reason = rng.chance(0.5) ? 'not_using' : null;
      }
    }
    for (const event of person.lifeEvents) {
      const p = event.kind === 'bereavement' ? 0.45 : event.kind === 'moved_house' ? 0.25 : 0;
      if (p === 0 || event.atMs < billing.createdMs || !rng.chance(p)) continue;
      const at = event.atMs + rng.uniform(1, 6) * WEEK_MS;
      if (at < cancelAt) {
        cancelAt = at;
        // Often the real reason is not given: the caring cancellation call exists to ask.
        reason = rng.chance(0.4) ? (event.kind === 'bereavement' ? 'bereavement' : 'moving') : null;
      }
    }
    for (let k = 0; ; k++) {
      const at = billing.createdMs + k * MONTH_MS;
      if (at >= cancelAt || at >= this.endMs) break;
      const period = isoSeconds(at).slice(0, 7);
      const base = { plan: 'plus_monthly', period, accountId };
      if (!rng.chance(Math.min(0.9, config.paymentFailureRate * person.traits.paymentRisk))) {
        this.add(at, 'billing_event', 'email', 'billing', this.identity(billing), 'company', {
          amount: fee,
          properties: { event: 'membership_charge', ...base },
        });
        continue;
      }
      const failed = this.add(at, 'payment_failed', 'email', 'billing', this.identity(billing), 'company', {
        amount: fee,
        properties: {
          reason: rng.weighted(['card_declined', 'insufficient_funds', 'card_expired'], [0.4, 0.4, 0.2]),
          attempt: 1,
          ...base,
        },
      });
      if (failed === undefined) continue;
      const retryAt = at + 3 * DAY_MS;
      if (rng.chance(0.75)) {
        this.add(retryAt, 'billing_event', 'email', 'billing', this.identity(billing), 'company', {
          amount: fee,
          properties: { event: 'membership_charge_retry', ...base },
        });
      } else {
        this.add(retryAt, 'payment_failed', 'email', 'billing', this.identity(billing), 'company', {
          amount: fee,
          properties: { reason: 'card_declined', attempt: 2, ...base },
        });
      }
      if (rng.chance(Math.min(1, 0.08 * person.traits.complaint))) {
        const related = { source: 'billing' as const, externalId: failed.externalId };
        const slots = { product: '', order: '', store: '' };
        this.complaint(at + rng.uniform(1, 7) * DAY_MS, 'billing', related, slots, at);
      }
    }
    if (cancelAt < this.endMs) {
      const properties: Record<string, PropertyValue> = { subject: 'membership', accountId };
      if (reason !== null) properties.reason = reason;
      this.contact(cancelAt, 'cancellation_request', CANCELLATION_CONTACTS, {
        text: rng.pick(CANCELLATION_TEXTS.membership ?? []),
        properties,
      });
    }
  }

  private contacts(): void {
    const { rng, person } = this;
    const traits = person.traits;
    const from = person.acquiredMs;
    const to = this.activeEndMs;
    const years = Math.max(0, to - from) / YEAR_MS;
    const hasWeb = this.has('web');
    const hasPos = this.has('pos');
    const topicWeights = [3, 1, hasWeb ? 3 : 0, hasWeb ? 1.5 : 0, hasPos ? 1.5 : 0, hasPos ? 1 : 0];
    for (const at of this.uniformTimes(rng.poisson(0.5 * years * traits.service), from, to)) {
      let topic = rng.weighted(SERVICE_TOPICS, topicWeights);
      const order = this.lastOrderBefore(at);
      if (topic === 'order_status' && order === undefined) topic = 'product_question';
      const properties: Record<string, PropertyValue> = { category: topic };
      if (topic === 'order_status' && order !== undefined) {
        properties.relatedSource = 'web';
        properties.relatedExternalId = order;
      }
      this.contact(at, 'service_request', SERVICE_CONTACTS, {
        text: fill(
          rng.pick(SERVICE_REQUEST_TEXTS[topic] ?? []),
          this.someProduct(),
          order ?? '',
          this.storeFor(at).label,
        ),
        properties,
      });
    }
    if (this.has('callcentre')) {
      for (const at of this.uniformTimes(rng.poisson(0.35 * years * traits.service), from, to)) {
        const model = this.recordAt('callcentre', at);
        if (model === undefined) continue;
        this.add(at, 'call', 'phone', 'callcentre', this.reference(model, 'phone'), 'customer', {
          text: fill(rng.pick(CALL_NOTES), this.someProduct(), '', this.storeFor(at).label),
          properties: { direction: 'inbound', durationSeconds: Math.round(rng.gamma(2, 1 / 120)) },
        });
      }
    }
    if (hasWeb) {
      for (const at of this.uniformTimes(rng.poisson(0.25 * years * traits.service), from, to)) {
        const model = this.recordAt('web', at);
        if (model === undefined) continue;
        this.add(at, 'chat', 'chat', 'web', this.identity(model), 'customer', {
          text: fill(
            rng.pick(CHAT_TEXTS),
            this.someProduct(),
            this.lastOrderBefore(at) ?? 'my last order',
            '',
          ),
          properties: { durationSeconds: Math.round(rng.gamma(2, 1 / 200)) },
        });
      }
      for (const at of this.uniformTimes(rng.poisson(0.12 * years * traits.service), from, to)) {
        const model = this.recordAt('web', at);
        if (model === undefined) continue;
        this.add(at, 'email', 'email', 'web', this.reference(model, 'email'), 'customer', {
          text: fill(rng.pick(CUSTOMER_EMAIL_TEXTS), this.someProduct(), '', ''),
          properties: { direction: 'inbound', kind: 'support' },
        });
      }
      for (const at of this.uniformTimes(rng.poisson(2 * years * traits.webShare), from, to)) {
        const model = this.recordAt('web', at);
        if (model === undefined) continue;
        const app = rng.chance(traits.appShare);
        const placed = placeInDay(this.ctx, at, person.utcOffsetMs, rng.normal(traits.onlineHour, 2));
        this.add(placed, 'visit', app ? 'app' : 'web', 'web', this.identity(model), 'customer', {
          properties: { pages: 1 + rng.poisson(5), durationSeconds: Math.round(rng.gamma(1.5, 1 / 180)) },
        });
      }
    }
    if (hasPos) {
      for (const at of this.uniformTimes(rng.poisson(1.2 * years), from, to)) {
        const model = this.recordAt('pos', at);
        if (model === undefined) continue;
        const placed = placeInDay(this.ctx, at, person.utcOffsetMs, rng.uniform(9.5, 20.5));
        this.add(placed, 'visit', 'store', 'pos', this.identity(model), 'customer', {
          properties: {
            storeId: this.storeFor(placed).id,
            purpose: rng.weighted(['browse', 'service_desk', 'event'], [0.75, 0.2, 0.05]),
          },
        });
      }
    }
    for (const at of this.uniformTimes(rng.poisson(0.08 * years), from, to)) {
      const extra: Extra = { text: rng.pick(FEEDBACK_TEXTS), properties: { rating: rng.intBetween(1, 5) } };
      this.contact(at, 'feedback', FEEDBACK_CONTACTS, extra);
    }
    for (const at of this.uniformTimes(rng.poisson(0.05 * years * traits.suggester), from, to)) {
      this.contact(at, 'suggestion', FEEDBACK_CONTACTS, {
        text: fill(rng.pick(SUGGESTION_TEXTS), this.someProduct(), '', ''),
        properties: { category: rng.pick(['range', 'store', 'website', 'delivery', 'service']) },
      });
    }
  }

  private consent(
    at: number,
    model: RecordModel,
    channel: Channel,
    purpose: string,
    status: 'granted' | 'denied' | 'withdrawn',
  ): SyntheticInteraction | undefined {
    const evidence = channel === 'store' ? 'signed_form' : channel === 'phone' ? 'recorded_call' : 'checkbox';
    // The privacy notice changes every eight months or so.
    const noticeVersion = `v${1 + Math.floor((at - this.startMs) / (8 * MONTH_MS))}`;
    return this.add(at, 'consent_changed', channel, model.source, this.identity(model), 'customer', {
      // A box the customer ticked, a form they signed, a call they agreed on: every grant is an opt-in.
      properties: {
        purpose,
        status,
        noticeVersion,
        evidence,
        ...(status === 'granted' ? { explicit: true } : {}),
      },
    });
  }

  private consentsAndNewsletters(): void {
    const { rng, person } = this;
    let firstEnrolment: RecordModel | undefined;
    for (const model of this.person.records) {
      if (model.source !== 'web' && model.source !== 'pos') continue;
      if (firstEnrolment === undefined || model.createdMs < firstEnrolment.createdMs) firstEnrolment = model;
    }
    if (firstEnrolment === undefined) return;
    const consent = this.consent.bind(this);

    // Marketing: asked at the first enrolment, sometimes withdrawn (more often after a complaint), rarely re-granted.
    const enrolAt = firstEnrolment.createdMs + rng.uniform(1, 10) * MINUTE_MS;
    const enrolChannel: Channel = firstEnrolment.source === 'pos' ? 'store' : 'web';
    const granted = rng.chance(firstEnrolment.source === 'web' ? 0.5 : 0.4);
    const marketingOn: [number, number][] = [];
    consent(enrolAt, firstEnrolment, enrolChannel, 'marketing', granted ? 'granted' : 'denied');
    let onFrom: number | undefined = granted ? enrolAt : undefined;
    let offSince = enrolAt;
    if (onFrom !== undefined) {
      let afterComplaint: number | undefined;
      for (const t of this.complaintTimes) {
        if (t > enrolAt && (afterComplaint === undefined || t < afterComplaint)) afterComplaint = t;
      }
      const p = 0.12 + (afterComplaint !== undefined ? 0.25 : 0);
      if (rng.chance(p)) {
        const at =
          afterComplaint !== undefined && rng.chance(0.7)
            ? afterComplaint + rng.uniform(0.5, 10) * DAY_MS
            : rng.uniform(enrolAt, this.endMs);
        const model = this.recordAt('web', at) ?? this.recordAt(firstEnrolment.source, at) ?? firstEnrolment;
        if (
          consent(at, model, model.source === 'web' ? 'email' : 'store', 'marketing', 'withdrawn') !==
          undefined
        ) {
          marketingOn.push([onFrom, at]);
          onFrom = undefined;
          offSince = at;
        }
      }
    }
    if (onFrom === undefined && rng.chance(0.06)) {
      const at = rng.uniform(offSince, this.endMs);
      const model = this.recordAt('web', at);
      if (model !== undefined && consent(at, model, 'web', 'marketing', 'granted') !== undefined) onFrom = at;
    }
    if (onFrom !== undefined) marketingOn.push([onFrom, this.endMs]);

    // The web shop also asks about personalisation and sharing with partners.
    const web = this.bySource.web[0];
    if (web !== undefined) {
      const at = web.createdMs + rng.uniform(1, 10) * MINUTE_MS;
      if (rng.chance(0.35)) {
        consent(at, web, 'web', 'personalization', 'granted');
        if (rng.chance(0.05))
          consent(rng.uniform(at, this.endMs), web, 'web', 'personalization', 'withdrawn');
      }
      if (rng.chance(0.04)) consent(at, web, 'web', 'third_party_sharing', 'granted');
    }

    // Newsletters go only to people whose marketing consent stands, and only to an address we hold.
    let address = this.bySource.web[0]?.record.email;
    for (const model of this.bySource.pos) address ??= model.record.email;
    if (address === undefined || marketingOn.length === 0) return;
    const months = Math.ceil((this.endMs - this.startMs) / MONTH_MS);
    for (let m = 0; m < months; m++) {
      const at = placeInDay(this.ctx, this.startMs + (m + rng.next()) * MONTH_MS, person.utcOffsetMs, 10);
      let consented = false;
      for (const [from, to] of marketingOn) consented ||= at >= from && at < to;
      if (!consented || !rng.chance(0.5)) continue;
      const model = this.recordAt('web', at);
      const customer: CustomerReference = model !== undefined ? this.identity(model) : { email: address };
      this.add(at, 'email', 'email', 'web', customer, 'company', {
        properties: {
          direction: 'outbound',
          kind: 'newsletter',
          campaign: NEWSLETTER_CAMPAIGNS[m % NEWSLETTER_CAMPAIGNS.length] ?? 'news',
        },
      });
    }
  }

  private preferences(): void {
    const { rng, person } = this;
    for (const preference of person.preferences) {
      if (!rng.chance(0.8)) continue;
      // Some people have to say it twice: the thing the product exists to prevent.
      const times = rng.chance(0.3) ? 2 : 1;
      for (let i = 0; i < times; i++) {
        const at = rng.uniform(person.acquiredMs, this.activeEndMs);
        const options: readonly ContactOption[] =
          preference.key === 'receipt'
            ? [{ channel: 'store', source: 'pos', weight: 1 }]
            : preference.key === 'delivery_window'
              ? [
                  { channel: 'web', source: 'web', weight: 2 },
                  { channel: 'phone', source: 'callcentre', weight: 1 },
                ]
              : DECLARATION_CONTACTS;
        this.contact(at, 'preference_stated', options, {
          properties: { key: preference.key, value: preference.value },
        });
      }
    }
  }

  private lifeEvents(): void {
    const { rng, person } = this;
    for (const event of person.lifeEvents) {
      if (event.kind === 'moved_house' && rng.chance(0.35)) {
        const at = event.atMs + rng.uniform(0, 20) * DAY_MS;
        const extra: Extra = {
          text: rng.pick(SERVICE_REQUEST_TEXTS.address_change ?? []),
          properties: { category: 'address_change' },
        };
        this.contact(at, 'service_request', SERVICE_CONTACTS, extra, event.atMs);
      }
      if (!event.declared) continue;
      const at = event.atMs + rng.uniform(0, 30) * DAY_MS;
      const extra: Extra = {
        properties: { event: event.kind, date: isoSeconds(event.atMs).slice(0, 10) },
      };
      if (rng.chance(0.6)) extra.text = rng.pick(LIFE_EVENT_TEXTS[event.kind] ?? []);
      this.contact(at, 'life_event_declared', DECLARATION_CONTACTS, extra, event.atMs);
    }
  }

  /** Plants forbidden data in a configured share of interactions: in free text when there is some, else in a property. */
  private probes(): void {
    const rate = this.ctx.config.policyProbeRate;
    if (rate <= 0) return;
    const { rng, person } = this;
    for (const draft of this.drafts) {
      if (!rng.chance(rate)) continue;
      const interaction = draft.interaction;
      if (interaction.text !== undefined) {
        if (rng.chance(0.75)) {
          interaction.text = `${interaction.text} ${cardSentence(rng)}`;
          draft.probe = 'card_number_in_text';
        } else {
          interaction.text = `${interaction.text} ${nationalIdSentence(rng, person.market)}`;
          draft.probe = 'national_id_in_text';
        }
      } else if (rng.chance(0.4)) {
        interaction.properties[rng.pick(CARD_PROPERTY_KEYS)] = cardNumber(rng);
        draft.probe = 'card_number_in_property';
      } else {
        interaction.properties[rng.pick(NATIONAL_ID_PROPERTY_KEYS[person.market])] = nationalId(
          rng,
          person.market,
        );
        draft.probe = 'national_id_in_property';
      }
    }
  }
}

/** Generates a person's interactions, sorted by time. */
export function buildInteractions(ctx: WorldContext, person: PersonModel): Draft[] {
  return new PersonEvents(ctx, person).generate();
}
