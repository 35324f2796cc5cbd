/**
 * How an ingest stream is laid out: its name, the subject prefix its buckets hang from, and how many
 * buckets a customer's key is hashed into. Producers and consumers must agree on all three.
 */
export interface StreamLayout {
  stream: string;
  subjectPrefix: string;
  buckets: number;
}

export const DEFAULT_STREAM_LAYOUT: StreamLayout = {
  stream: 'CORNERSTORE_INGEST',
  subjectPrefix: 'cornerstore.ingest',
  buckets: 8,
};

/** The bucket of a key: FNV-1a (32 bit) modulo the bucket count, the same in every process and language. */
export function bucketOf(key: string, buckets: number): number {
  let hash = 0x811c9dc5;
  const bytes = new TextEncoder().encode(key);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % buckets;
}
