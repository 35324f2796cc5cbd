import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { type CsvError, parse } from 'csv-parse';
import { isPlainObject, MAX_REJECT_RAW_BYTES, MAX_ROW_BYTES, type Row, type RowBatch } from './import.ts';

/**
 * Streaming readers of input files. They read a file from a byte offset in chunks and hand out
 * batches of rows with exact byte offsets and line numbers, so an import can checkpoint after any
 * batch and resume there. Memory stays constant whatever the file size: one chunk, one batch, and
 * at most one row of up to MAX_ROW_BYTES.
 */

export interface ReadFrom {
  /** Byte offset of the first row to read. */
  offset: number;
  /** Lines before `offset` (the first row read is on a later line). */
  line: number;
  /** Rows per batch. */
  batchSize: number;
  /** Read size in bytes (tests make it tiny to cross every boundary). */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const OPEN_BRACE = 0x7b;

/** Reads the bytes [start, end) of a file as text, at most `limit` bytes of it. */
export async function readRange(
  path: string,
  start: number,
  end: number,
  limit = MAX_REJECT_RAW_BYTES,
): Promise<{ text: string; truncated: boolean }> {
  const length = Math.max(0, Math.min(end - start, limit));
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    return { text: buffer.toString('utf8', 0, bytesRead), truncated: end - start > limit };
  } finally {
    await handle.close();
  }
}

/** Reads the first `length` bytes of a file (fewer when it is shorter). */
export async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buffer[i];
    if (byte !== SPACE && byte !== TAB && byte !== CR) return false;
  }
  return true;
}

/** Parses one NDJSON line [start, end) of `buffer` (line break excluded); undefined for a blank line. */
function parseJsonLine(
  buffer: Buffer,
  start: number,
  end: number,
  line: number,
  offset: number,
  after: number,
): Row | undefined {
  let stop = end;
  if (stop > start && buffer[stop - 1] === CR) stop--;
  if (buffer[start] !== OPEN_BRACE && isBlank(buffer, start, stop)) return undefined;
  const raw = buffer.toString('utf8', start, stop);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return {
      line,
      start: offset,
      end: after,
      raw,
      error: { code: 'ROW_INVALID_JSON', message: `The line is not valid JSON: ${(error as Error).message}` },
    };
  }
  if (!isPlainObject(value)) {
    return {
      line,
      start: offset,
      end: after,
      raw,
      error: { code: 'ROW_NOT_OBJECT', message: 'Each line must be a JSON object.' },
    };
  }
  return { line, start: offset, end: after, value, raw };
}

function tooLargeRow(line: number, start: number, end: number, head: Buffer): Row {
  return {
    line,
    start,
    end,
    raw: head.toString('utf8'),
    truncated: true,
    error: {
      code: 'ROW_TOO_LARGE',
      message: `The row is longer than ${MAX_ROW_BYTES} bytes.`,
      details: { bytes: end - start, limit: MAX_ROW_BYTES },
    },
  };
}

/**
 * Reads NDJSON from `from.offset`: one JSON object per line; blank lines are skipped; a UTF-8 byte
 * order mark at the start of the file is ignored. Lines that are not JSON objects come back as rows
 * with an `error`.
 */
export async function* readNdjsonBatches(path: string, from: ReadFrom): AsyncGenerator<RowBatch> {
  const stream = createReadStream(path, {
    start: from.offset,
    highWaterMark: from.chunkSize ?? DEFAULT_CHUNK,
  });
  let carry: Buffer | undefined;
  /** Absolute offset of the first byte not yet consumed (the start of `carry`). */
  let carryStart = from.offset;
  let oversized: { line: number; start: number; head: Buffer } | undefined;
  let line = from.line;
  let rows: Row[] = [];
  let atFileStart = from.offset === 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      const bufferStart = carryStart;
      let position = 0;
      if (atFileStart && (buffer.length >= 3 || buffer.includes(LF))) {
        if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) position = 3;
        atFileStart = false;
      }
      for (;;) {
        const newline = buffer.indexOf(LF, position);
        if (newline === -1) break;
        line++;
        const after = bufferStart + newline + 1;
        let row: Row | undefined;
        if (oversized) {
          row = tooLargeRow(oversized.line, oversized.start, after, oversized.head);
          oversized = undefined;
        } else if (newline - position > MAX_ROW_BYTES) {
          const head = buffer.subarray(position, position + MAX_REJECT_RAW_BYTES);
          row = tooLargeRow(line, bufferStart + position, after, head);
        } else {
          row = parseJsonLine(buffer, position, newline, line, bufferStart + position, after);
        }
        position = newline + 1;
        if (row) {
          rows.push(row);
          if (rows.length >= from.batchSize) {
            yield { rows, endOffset: after, endLine: line };
            rows = [];
          }
        }
      }
      carryStart = bufferStart + position;
      if (oversized) {
        carry = undefined;
        carryStart = bufferStart + buffer.length;
      } else if (buffer.length - position > MAX_ROW_BYTES) {
        // A line this long is rejected, not held: keep its head for the rejects file and skip the rest.
        oversized = {
          line: line + 1,
          start: carryStart,
          head: Buffer.from(buffer.subarray(position, position + MAX_REJECT_RAW_BYTES)),
        };
        carry = undefined;
        carryStart = bufferStart + buffer.length;
      } else {
        carry = position < buffer.length ? buffer.subarray(position) : undefined;
      }
    }
    let endOffset = carryStart;
    if (oversized) {
      line++;
      rows.push(tooLargeRow(oversized.line, oversized.start, carryStart, oversized.head));
    } else if (carry && carry.length > 0) {
      line++;
      endOffset = carryStart + carry.length;
      const row = parseJsonLine(carry, 0, carry.length, line, carryStart, endOffset);
      if (row) rows.push(row);
    }
    if (rows.length > 0) yield { rows, endOffset, endLine: line };
  } finally {
    stream.destroy();
  }
}

/** The bytes read but not yet consumed by a finished CSV record, as a list of chunks. */
class ByteWindow {
  private chunks: { buffer: Buffer; start: number }[] = [];

  push(buffer: Buffer, start: number): void {
    this.chunks.push({ buffer, start });
  }

  /** The byte at an absolute offset, if still held. */
  byteAt(offset: number): number | undefined {
    for (const { buffer, start } of this.chunks) {
      if (offset >= start && offset < start + buffer.length) return buffer[offset - start];
    }
    return undefined;
  }

  /** Forgets every chunk that ends at or before `offset`. */
  dropBefore(offset: number): void {
    let drop = 0;
    for (const chunk of this.chunks) {
      if (chunk.start + chunk.buffer.length > offset) break;
      drop++;
    }
    if (drop > 0) this.chunks.splice(0, drop);
  }

  /**
   * Scans [from, to): the line breaks in it, and the offset of its first byte that is not a line
   * break along with the line breaks before that byte (blank lines skipped before a record).
   */
  scan(from: number, to: number): { newlines: number; contentStart: number; newlinesBefore: number } {
    let newlines = 0;
    let contentStart = -1;
    let newlinesBefore = 0;
    for (const { buffer, start } of this.chunks) {
      const end = start + buffer.length;
      if (end <= from) continue;
      if (start >= to) break;
      let i = Math.max(from, start) - start;
      const stop = Math.min(to, end) - start;
      if (contentStart === -1) {
        while (i < stop && (buffer[i] === LF || buffer[i] === CR)) {
          if (buffer[i] === LF) {
            newlines++;
            newlinesBefore++;
          }
          i++;
        }
        if (i < stop) contentStart = start + i;
      }
      for (;;) {
        const newline = buffer.indexOf(LF, i);
        if (newline === -1 || newline >= stop) break;
        newlines++;
        i = newline + 1;
      }
    }
    return { newlines, contentStart: contentStart === -1 ? to : contentStart, newlinesBefore };
  }
}

/** Finds the first non-blank line at or after `offset`: where it starts and ends, and its line number. */
async function findNextLine(
  path: string,
  offset: number,
  line: number,
): Promise<{ start: number; end: number; line: number } | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let position = offset;
    let current = line;
    let start = -1;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return start === -1 ? undefined : { start, end: position, line: current + 1 };
      for (let i = 0; i < bytesRead; i++) {
        const byte = buffer[i];
        if (byte === LF) {
          if (start !== -1) return { start, end: position + i + 1, line: current + 1 };
          current++;
        } else if (start === -1 && byte !== CR) {
          start = position + i;
        }
      }
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

function csvErrorMessage(error: Error): string {
  const code = (error as CsvError).code;
  const text = error.message.replace(/ at line \d+/, '').replace(/:.*$/s, '');
  return `The record is not valid CSV (${code ?? 'CSV_ERROR'}: ${text}).`;
}

/**
 * Reads CSV records from `from.offset`, each row's `value` being its fields (`string[]`). Blank lines
 * are skipped. A malformed record (a stray quote, a quote never closed, a record over MAX_ROW_BYTES)
 * becomes a row with an `error` covering its first line, and reading goes on from the next line, so
 * one bad record never takes the rest of the file with it.
 */
export async function* readCsvBatches(path: string, from: ReadFrom): AsyncGenerator<RowBatch> {
  let rows: Row[] = [];
  let endOffset = from.offset;
  let endLine = from.line;
  let segmentOffset = from.offset;
  for (;;) {
    const base = segmentOffset;
    const window = new ByteWindow();
    const parsed: { row: Row; lines: number }[] = [];
    let previousEnd = base;
    let previousLine = endLine;
    const parser = parse({
      bom: base === 0,
      // Fixed rather than guessed from the first line, so every segment of a file splits records alike.
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_ROW_BYTES,
      on_record: (record: string[], context) => {
        const end = base + context.bytes;
        const { newlines, contentStart, newlinesBefore } = window.scan(previousEnd, end);
        // The last record of a file may end without a line break; it still occupies a line.
        const lines = previousLine + newlines + (window.byteAt(end - 1) === LF ? 0 : 1);
        parsed.push({
          row: { line: previousLine + newlinesBefore + 1, start: contentStart, end, value: record },
          lines,
        });
        previousEnd = end;
        previousLine = lines;
        window.dropBefore(end);
        return null;
      },
    });
    // Failures are read from `parser.errored` right after each synchronous write; the event is only silenced.
    parser.on('error', () => {});
    parser.resume();
    const stream = createReadStream(path, { start: base, highWaterMark: from.chunkSize ?? DEFAULT_CHUNK });
    let position = base;
    let failure: Error | null = null;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        window.push(chunk, position);
        position += chunk.length;
        parser.write(chunk);
        failure = parser.errored;
        for (const { row, lines } of parsed) {
          rows.push(row);
          endOffset = row.end;
          endLine = lines;
          if (rows.length >= from.batchSize) {
            yield { rows, endOffset, endLine };
            rows = [];
          }
        }
        parsed.length = 0;
        if (failure) break;
      }
      if (!failure) {
        parser.end();
        failure = parser.errored;
        for (const { row, lines } of parsed) {
          rows.push(row);
          endOffset = row.end;
          endLine = lines;
        }
        parsed.length = 0;
      }
    } finally {
      stream.destroy();
      parser.destroy();
    }
    if (!failure) break;
    const bad = await findNextLine(path, endOffset, endLine);
    if (!bad) break;
    rows.push({
      line: bad.line,
      start: bad.start,
      end: bad.end,
      error: { code: 'ROW_INVALID_CSV', message: csvErrorMessage(failure) },
    });
    endOffset = bad.end;
    endLine = bad.line;
    segmentOffset = bad.end;
    if (rows.length >= from.batchSize) {
      yield { rows, endOffset, endLine };
      rows = [];
    }
  }
  if (rows.length > 0) yield { rows, endOffset, endLine };
}
