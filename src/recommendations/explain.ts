import { describeCadence } from './own-history.ts';
import type { SuggestionReason } from './train.ts';

/**
 * One customer-facing sentence per suggestion (SPEC §6, §10), citing only the customer's own
 * first-party history: the item they bought (by the name it carried on their own purchases) and how
 * often. Nothing about other customers is named; a popular item says only that it is popular.
 */

/** What a sentence may cite. */
export interface ReasonInput {
  reason: SuggestionReason;
  /** Name of the customer's own item the reason cites (null for a plain popular item). */
  ownItemName: string | null;
  cadenceDays?: number | undefined;
  times?: number | undefined;
}

/** The sentence. */
export function explainSuggestion(input: ReasonInput): string {
  const name = input.ownItemName ?? 'this item';
  switch (input.reason) {
    case 'replenish':
      return `You usually reorder ${name} ${describeCadence(input.cadenceDays ?? 0)}, and it is about time again.`;
    case 'repeat':
      return `You have bought ${name} ${input.times ?? 2} times.`;
    case 'bought_with':
      return `Because you bought ${name}.`;
    case 'popular_with':
      return `Popular with customers who buy ${name}.`;
    case 'popular':
      return 'One of our most popular items.';
  }
}
