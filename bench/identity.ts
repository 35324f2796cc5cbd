import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  computePairwiseScores,
  findFebrlEntity,
  generateCorruptedRecords,
  readFebrlRecords,
  resolveIdentities,
} from '../src/identity/index.ts';
import { peakRssMiB, ROOT, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * Identity resolution: generated person records (many naming cultures, households, duplicates with
 * typos, nicknames, swaps, missing values, moves and birth-date errors) resolved end to end — blocking,
 * comparison, expectation–maximisation, scoring, clustering — timed, and scored against the truth;
 * plus pairwise F1 on the FEBRL sets when ../shared/data/febrl is present.
 */

const RECORDS = { smoke: 10_000, small: 100_000, large: 100_000 } as const;
const FEBRL_DIR = join(ROOT, '..', 'shared', 'data', 'febrl');

/** Runs the identity-resolution workload at a scale and returns its figures. */
export async function benchIdentity(scale: 'smoke' | 'small' | 'large'): Promise<Figure[]> {
  const count = RECORDS[scale];
  const figures: Figure[] = [];
  process.stdout.write(`identity resolution: ${count.toLocaleString('en-US')} generated records\n`);
  const generated = generateCorruptedRecords({ records: count, seed: 20_240_601 });
  const { value: result, seconds } = await timed(async () => resolveIdentities(generated.records));
  const scores = computePairwiseScores(Array.from(generated.entities), Array.from(result.clusterOf));
  const ms = result.stats.milliseconds;
  figures.push({
    workload: `identity resolution, ${count.toLocaleString('en-US')} generated records (blocking, EM, clustering)`,
    value: Number(seconds.toFixed(2)),
    unit: 's',
    detail:
      `${result.stats.candidatePairs.toLocaleString('en-US')} candidate pairs; features ${ms.features} ms, ` +
      `blocking ${ms.blocking} ms, comparing ${ms.comparing} ms, EM and scoring ${ms.estimating} ms, ` +
      `clustering ${ms.clustering} ms`,
    ...(count === 100_000 ? { target: '≤ 60' } : {}),
    peakRssMiB: peakRssMiB(),
  });
  figures.push({
    workload: `identity resolution, pairwise F1 on ${count.toLocaleString('en-US')} generated records`,
    value: Number(scores.f1.toFixed(4)),
    unit: 'F1',
    detail:
      `precision ${scores.precision.toFixed(4)}, recall ${scores.recall.toFixed(4)}; ` +
      `${scores.truePairs} true pairs, ${scores.falsePositives} false positives, ${scores.falseNegatives} false negatives`,
    peakRssMiB: peakRssMiB(),
  });

  for (const name of ['dataset1.csv', 'dataset2.csv']) {
    const path = join(FEBRL_DIR, name);
    if (!existsSync(path)) {
      process.stdout.write(`  ${path} absent: FEBRL figures skipped\n`);
      continue;
    }
    const records = readFebrlRecords(readFileSync(path, 'utf8'), { hashKey: 'bench', source: path });
    const febrl = resolveIdentities(records);
    const truth = records.map((r) => findFebrlEntity(r.id) ?? r.id);
    const f = computePairwiseScores(truth, Array.from(febrl.clusterOf));
    figures.push({
      workload: `identity resolution, pairwise F1 on FEBRL ${name} (dedup, no labels)`,
      value: Number(f.f1.toFixed(4)),
      unit: 'F1',
      detail: `precision ${f.precision.toFixed(4)}, recall ${f.recall.toFixed(4)}; ${f.truePairs} true pairs`,
      target: '≥ 0.99',
      peakRssMiB: peakRssMiB(),
    });
  }
  return figures;
}
