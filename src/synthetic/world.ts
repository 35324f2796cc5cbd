/**
 * The streaming entry point. A world is a recipe, not a collection: every person is rebuilt from
 * (seed, index) on demand, so iterating ten million interactions holds one person in memory at a time.
 * Order: people by index; each person's interactions by `occurredAt` (ties keep cause before effect).
 * Interactions are not globally sorted by time.
 */
import type { WorldContext } from './context.ts';
import { createWorldContext } from './context.ts';
import { buildInteractions } from './events.ts';
import type { WorldConfig, WorldOptions } from './options.ts';
import { resolveWorldConfig } from './options.ts';
import { buildPerson, toCustomer } from './person.ts';
import type { LabelledInteraction, SourceRecord, SyntheticCustomer, SyntheticInteraction } from './types.ts';

/** A half-open range of person indexes, for splitting a world across workers. */
export interface PersonRange {
  from?: number;
  to?: number;
}

/** A seeded, deterministic world whose people, records and interactions are produced lazily. */
export interface SyntheticWorld {
  readonly config: WorldConfig;
  /** One person with ground truth and source records, by index. */
  customer(index: number): SyntheticCustomer;
  /** People in index order. */
  customers(range?: PersonRange): Generator<SyntheticCustomer>;
  /** Every source record of every person, person by person. */
  sourceRecords(range?: PersonRange): Generator<SourceRecord>;
  /** Interactions, person by person, each person's sorted by time. */
  interactions(range?: PersonRange): Generator<SyntheticInteraction>;
  /** The same interactions with the true person and any planted policy probe. */
  labelledInteractions(range?: PersonRange): Generator<LabelledInteraction>;
}

function bounds(ctx: WorldContext, range: PersonRange | undefined): [number, number] {
  const n = ctx.config.customers;
  const from = Math.max(0, Math.min(n, Math.floor(range?.from ?? 0)));
  const to = Math.max(from, Math.min(n, Math.floor(range?.to ?? n)));
  return [from, to];
}

/** Creates a world from options (see `WorldOptions` for defaults); throws SYNTHETIC_OPTIONS_INVALID. */
export function generateWorld(options: WorldOptions = {}): SyntheticWorld {
  const config = resolveWorldConfig(options);
  const ctx = createWorldContext(config);
  return {
    config,
    customer(index: number): SyntheticCustomer {
      if (!Number.isInteger(index) || index < 0 || index >= config.customers) {
        throw new RangeError(`no person ${index} in a world of ${config.customers}`);
      }
      return toCustomer(ctx, buildPerson(ctx, index));
    },
    *customers(range?: PersonRange): Generator<SyntheticCustomer> {
      const [from, to] = bounds(ctx, range);
      for (let i = from; i < to; i++) yield toCustomer(ctx, buildPerson(ctx, i));
    },
    *sourceRecords(range?: PersonRange): Generator<SourceRecord> {
      const [from, to] = bounds(ctx, range);
      for (let i = from; i < to; i++) {
        for (const model of buildPerson(ctx, i).records) yield model.record;
      }
    },
    *interactions(range?: PersonRange): Generator<SyntheticInteraction> {
      const [from, to] = bounds(ctx, range);
      for (let i = from; i < to; i++) {
        for (const draft of buildInteractions(ctx, buildPerson(ctx, i))) yield draft.interaction;
      }
    },
    *labelledInteractions(range?: PersonRange): Generator<LabelledInteraction> {
      const [from, to] = bounds(ctx, range);
      for (let i = from; i < to; i++) {
        const person = buildPerson(ctx, i);
        const truePersonId = person.personId;
        for (const draft of buildInteractions(ctx, person)) {
          yield { truePersonId, probe: draft.probe, interaction: draft.interaction };
        }
      }
    },
  };
}
