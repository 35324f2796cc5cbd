/**
 * Streaming writers for NDJSON and CSV. Lines are batched into ~64 KiB chunks and the writer waits for
 * `drain` whenever the stream asks it to, so memory stays flat however large the file. Synchronous
 * iterables are consumed without a microtask per item, which is what keeps the writers fast.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SyntheticInteraction } from './types.ts';

/** What a writer wrote. */
export interface WriteSummary {
  lines: number;
  bytes: number;
}

/** A file path (created or truncated) or an open stream (left open). */
export type WriteTarget = string | Writable;

const CHUNK_CHARS = 1 << 16;
/** Lets a few chunks queue in the file stream, so generating the next lines overlaps the disk write. */
const FILE_HIGH_WATER_MARK = 1 << 20;

class ChunkedWriter {
  private buffer = '';
  lines = 0;
  bytes = 0;

  constructor(private readonly out: Writable) {}

  /** Appends a line; resolves at once unless the stream needs to drain. */
  push(line: string): Promise<void> | undefined {
    this.buffer += line;
    this.buffer += '\n';
    this.lines++;
    return this.buffer.length >= CHUNK_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    // Encode once: the byte count and the write share the same buffer.
    const chunk = Buffer.from(this.buffer, 'utf8');
    this.buffer = '';
    this.bytes += chunk.length;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}

async function writeLines<T>(
  items: Iterable<T> | AsyncIterable<T>,
  target: WriteTarget,
  header: string | undefined,
  format: (item: T) => string,
): Promise<WriteSummary> {
  const ownStream = typeof target === 'string';
  const out = ownStream ? createWriteStream(target, { highWaterMark: FILE_HIGH_WATER_MARK }) : target;
  // A failing stream must reject the whole write, even while no one is waiting on `drain`.
  let failure: unknown;
  const onError = (error: unknown) => {
    failure ??= error;
  };
  out.on('error', onError);
  const writer = new ChunkedWriter(out);
  try {
    if (header !== undefined) await writer.push(header);
    if (Symbol.asyncIterator in items) {
      for await (const item of items) {
        const pending = writer.push(format(item));
        if (pending !== undefined) await pending;
        if (failure !== undefined) throw failure;
      }
    } else {
      for (const item of items) {
        const pending = writer.push(format(item));
        if (pending !== undefined) {
          await pending;
          if (failure !== undefined) throw failure;
        }
      }
    }
    await writer.flush();
    if (ownStream) {
      out.end();
      await finished(out);
    }
    if (failure !== undefined) throw failure;
  } catch (error) {
    if (ownStream) out.destroy();
    throw error;
  } finally {
    out.off('error', onError);
  }
  return { lines: writer.lines - (header === undefined ? 0 : 1), bytes: writer.bytes };
}

/** Writes one JSON document per line (NDJSON), streaming with backpressure. */
export function writeNdjson(
  items: Iterable<unknown> | AsyncIterable<unknown>,
  target: WriteTarget,
): Promise<WriteSummary> {
  return writeLines(items, target, undefined, (item) => JSON.stringify(item));
}

/** The columns of the interaction CSV, in order. */
export const INTERACTION_CSV_COLUMNS = [
  'type',
  'channel',
  'occurredAt',
  'source',
  'externalId',
  'customerSource',
  'customerExternalId',
  'customerEmail',
  'customerPhone',
  'amount',
  'currency',
  'initiatedBy',
  'text',
  'properties',
] as const;

const NEEDS_QUOTES = /[",\r\n]/;

function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One interaction as an RFC 4180 CSV row (no line break); `properties` is a JSON string. */
export function interactionCsvRow(interaction: SyntheticInteraction): string {
  const c = interaction.customer;
  const identity = 'identity' in c ? c.identity : undefined;
  return [
    interaction.type,
    interaction.channel,
    interaction.occurredAt,
    interaction.source,
    csvField(interaction.externalId),
    identity?.source ?? '',
    csvField(identity?.externalId ?? ''),
    'email' in c ? csvField(c.email) : '',
    'phone' in c ? csvField(c.phone) : '',
    interaction.amount === undefined ? '' : String(interaction.amount),
    interaction.currency ?? '',
    interaction.initiatedBy,
    csvField(interaction.text ?? ''),
    csvField(JSON.stringify(interaction.properties)),
  ].join(',');
}

/** Writes interactions as CSV with a header row, streaming with backpressure. Line items are not included. */
export function writeInteractionsCsv(
  items: Iterable<SyntheticInteraction> | AsyncIterable<SyntheticInteraction>,
  target: WriteTarget,
): Promise<WriteSummary> {
  return writeLines(items, target, INTERACTION_CSV_COLUMNS.join(','), interactionCsvRow);
}
