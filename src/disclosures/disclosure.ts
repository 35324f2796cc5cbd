/** Recipients and disclosures (SPEC §5.5): types. */

export const RECIPIENT_KINDS = ['partner', 'processor', 'export_file', 'webhook', 'integration_key'] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];

/** A party personal data leaves to. */
export interface Recipient {
  id: string;
  name: string;
  kind: RecipientKind;
  /** The purposes data may be given to it for. */
  purposes: string[];
  description: string | null;
  apiKeyId: string | null;
  createdAt: string;
}

/** One disclosure to record: which customer's fields went to whom, why, on which lawful basis. */
export interface DisclosureEntry {
  customerId: string;
  recipientId: string;
  fields: readonly string[];
  purpose: string;
  lawfulBasis: string;
  requestId: string | null;
}

/** A disclosure as a customer sees it. */
export interface Disclosure {
  id: string;
  recipient: { id: string; name: string; kind: RecipientKind };
  fields: string[];
  purpose: string;
  lawfulBasis: string;
  requestId: string | null;
  at: string;
}
