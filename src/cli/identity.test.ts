import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { evaluateFebrlClusters, type PairwiseScores, readClusterAssignments } from '../identity/index.ts';
import { registerIdentityCommands } from './identity.ts';

const FEBRL_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'febrl');
const work = mkdtempSync(join(tmpdir(), 'cornerstore-identity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `cornerstore …args` in-process and returns what it printed and its exit code. */
async function run(args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const program = new Command('cornerstore').option('--json').exitOverride();
  registerIdentityCommands(program);
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'cornerstore', ...args]);
  } finally {
    write.mockRestore();
    writeErr.mockRestore();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout: chunks.join(''), exitCode };
}

async function resolveAndEvaluate(args: string[], out: string): Promise<PairwiseScores> {
  const resolved = await run(['identity', 'resolve', ...args, '--format', 'febrl', '--out', out, '--json']);
  expect(resolved.exitCode).toBe(0);
  const evaluated = await run(['identity', 'evaluate', '--clusters', out, '--json']);
  expect(evaluated.exitCode).toBe(0);
  return JSON.parse(evaluated.stdout) as PairwiseScores;
}

describe('identity resolve and evaluate (small files)', () => {
  it('writes one row per record and never the government id in clear', async () => {
    const input = join(work, 'tiny.csv');
    writeFileSync(
      input,
      'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id\n' +
        'rec-1-org, kate, leslie, 169, quinlivan crescent, inishmore, campsie, 5453, vic, 19250416, 1026159\n' +
        'rec-1-dup-0, kate, lesley, 169, quinlivan crescent, , campsie, 5453, vic, 19250416, 1026159\n' +
        'rec-2-org, dean, harrington, 30, sambell place, the manoa, loganlea, 2138, wa, 19530516, 7667197\n',
    );
    const out = join(work, 'tiny-clusters.csv');
    const pairs = join(work, 'tiny-pairs.ndjson');
    const result = await run([
      'identity',
      'resolve',
      '--input',
      input,
      '--format',
      'febrl',
      '--out',
      out,
      '--pairs',
      pairs,
    ]);
    expect(result.exitCode).toBe(0);
    const rows = readClusterAssignments(readFileSync(out, 'utf8'));
    expect(rows.map((r) => r.recordId)).toEqual(['rec-1-org', 'rec-1-dup-0', 'rec-2-org']);
    for (const file of [out, pairs]) {
      expect(readFileSync(file, 'utf8')).not.toContain('1026159');
      expect(readFileSync(file, 'utf8')).not.toContain('7667197');
    }
  });

  it('reports a missing input, an unknown format and a bad map with their codes', async () => {
    const out = join(work, 'x.csv');
    const missing = await run([
      'identity',
      'resolve',
      '--input',
      join(work, 'nope.csv'),
      '--out',
      out,
      '--json',
    ]);
    expect(missing.exitCode).toBe(4);
    const format = await run(['identity', 'resolve', '--input', out, '--format', 'xml', '--out', out]);
    expect(format.exitCode).toBe(2);
    const map = await run(['identity', 'resolve', '--input', out, '--map', 'a=b', '--out', out]);
    expect(map.exitCode).toBe(2);
  });
});

describe.skipIf(!existsSync(FEBRL_DIR))(
  `identity resolve on FEBRL dataset1 and dataset2 (skipped: ${FEBRL_DIR} is absent)`,
  () => {
    for (const name of ['dataset1', 'dataset2']) {
      it(`deduplicates ${name} with pairwise F1 ≥ 0.99, without labels`, async () => {
        const scores = await resolveAndEvaluate(
          ['--input', join(FEBRL_DIR, `${name}.csv`)],
          join(work, `${name}-clusters.csv`),
        );
        expect(scores.f1).toBeGreaterThanOrEqual(0.99);
      });

      it(`links ${name} split into originals and duplicates with pairwise F1 ≥ 0.99`, async () => {
        const [header, ...rows] = readFileSync(join(FEBRL_DIR, `${name}.csv`), 'utf8')
          .trim()
          .split('\n');
        const originals = join(work, `${name}-org.csv`);
        const duplicates = join(work, `${name}-dup.csv`);
        writeFileSync(originals, [header, ...rows.filter((r) => r.includes('-org,'))].join('\n'));
        writeFileSync(duplicates, [header, ...rows.filter((r) => r.includes('-dup-'))].join('\n'));
        const out = join(work, `${name}-link.csv`);
        const scores = await resolveAndEvaluate(['--input', originals, '--link', duplicates], out);
        expect(scores.f1).toBeGreaterThanOrEqual(0.99);
        expect(scores.records).toBe(rows.length);
        // The same truth, read back through the public reader.
        expect(evaluateFebrlClusters(readClusterAssignments(readFileSync(out, 'utf8'))).f1).toBe(scores.f1);
      });
    }
  },
);
