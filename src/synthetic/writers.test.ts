import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyntheticInteraction } from './index.ts';
import { generateWorld, INTERACTION_CSV_COLUMNS, writeInteractionsCsv, writeNdjson } from './index.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cornerstore-synthetic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const world = generateWorld({ seed: 11, customers: 120, policyProbeRate: 0.05 });

describe('writeNdjson', () => {
  it('writes one JSON document per line and reports what it wrote', async () => {
    const expected = [...world.interactions()];
    const path = join(dir, 'interactions.ndjson');
    const summary = await writeNdjson(world.interactions(), path);
    const content = await readFile(path, 'utf8');
    const lines = content.split('\n');
    expect(lines.pop()).toBe('');
    expect(summary.lines).toBe(expected.length);
    expect(summary.bytes).toBe(Buffer.byteLength(content));
    expect(lines).toEqual(expected.map((i) => JSON.stringify(i)));
  });

  it('accepts async iterables and waits for a slow stream to drain', async () => {
    const chunks: string[] = [];
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        drains++;
        setTimeout(callback, 1);
      },
    });
    async function* source(): AsyncGenerator<SyntheticInteraction> {
      yield* world.interactions({ to: 100 });
    }
    const summary = await writeNdjson(source(), slow);
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(summary.lines);
    expect(lines).toEqual([...world.interactions({ to: 100 })].map((i) => JSON.stringify(i)));
    expect(drains).toBeGreaterThan(1);
  });

  it('rejects when the file cannot be written', async () => {
    await expect(writeNdjson([{ a: 1 }], join(dir, 'missing', 'x.ndjson'))).rejects.toThrow(/ENOENT/);
  });
});

describe('writeInteractionsCsv', () => {
  it('writes the documented columns, quoting text and properties so they parse back', async () => {
    const expected = [...world.interactions()];
    const path = join(dir, 'interactions.csv');
    const summary = await writeInteractionsCsv(world.interactions(), path);
    const rows = parse(await readFile(path, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(summary.lines).toBe(expected.length);
    expect(rows).toHaveLength(expected.length);
    const header = (await readFile(path, 'utf8')).split('\n')[0];
    expect(header).toBe(INTERACTION_CSV_COLUMNS.join(','));
    const mismatches = rows.filter((row, n) => {
      const i = expected[n] as SyntheticInteraction;
      const ref = i.customer;
      const customer =
        'identity' in ref
          ? row.customerSource === ref.identity.source && row.customerExternalId === ref.identity.externalId
          : 'email' in ref
            ? row.customerEmail === ref.email
            : row.customerPhone === ref.phone;
      return !(
        customer &&
        row.type === i.type &&
        row.channel === i.channel &&
        row.occurredAt === i.occurredAt &&
        row.source === i.source &&
        row.externalId === i.externalId &&
        row.initiatedBy === i.initiatedBy &&
        row.text === (i.text ?? '') &&
        row.amount === (i.amount === undefined ? '' : String(i.amount)) &&
        row.currency === (i.currency ?? '') &&
        row.properties === JSON.stringify(i.properties)
      );
    });
    expect(mismatches).toEqual([]);
    expect(rows.some((row) => row.text?.includes(','))).toBe(true);
  });
});
