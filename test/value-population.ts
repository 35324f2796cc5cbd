import { simulateTransactions } from '../src/value/index.ts';

/**
 * A population of simulated buyers as ingest items: BG/NBD purchases with Gamma-Gamma amounts over the
 * 540 days before `end`, each buyer named by an identity of the source `population`. Enough customers
 * for the value model to fit inside its parameter space, so a test about a few customers of its own
 * gets a model and profiles (a fit over three customers is refused, as it should be).
 */
export function valuePopulation(options: { customers: number; end: Date; seed?: string }): object[] {
  const days = 540;
  const start = new Date(options.end.getTime() - days * 86_400_000).toISOString().slice(0, 10);
  return [
    ...simulateTransactions({
      customers: options.customers,
      seed: options.seed ?? 'value-population',
      params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      spend: { p: 6.25, q: 3.74, gamma: 15.44 },
      period: 'week',
      start,
      acquisitionDays: 84,
      days: days - 1,
    }),
  ].map((t, i) => ({
    type: 'purchase',
    channel: 'store',
    occurredAt: `${t.date}T12:00:00Z`,
    source: 'population',
    externalId: `p-${i}`,
    customer: { identity: { source: 'population', externalId: t.customerId } },
    amount: t.amount,
    currency: 'EUR',
  }));
}
