import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommands } from '../../test/cli-run.ts';
import { sharedDataFile } from '../../test/shared-data.ts';
import { registerRecommendCommands } from './recommend.ts';

function run(args: string[]) {
  return runCommands(registerRecommendCommands, args);
}

afterEach(() => {
  process.exitCode = 0;
});

describe('recommend evaluate refuses bad options with a code', () => {
  it('dates, k and model names', async () => {
    const file = join(import.meta.dirname, 'missing.csv');
    const date = await run([
      'recommend',
      'evaluate',
      '--transactions',
      file,
      '--split-date',
      '1/7/2011',
      '--json',
    ]);
    expect(date.exitCode).toBe(2);
    expect(JSON.parse(date.stderr).error.code).toBe('DATE_INVALID');
    const k = await run([
      'recommend',
      'evaluate',
      '--transactions',
      file,
      '--split-date',
      '2011-07-01',
      '--k',
      '0',
      '--json',
    ]);
    expect(JSON.parse(k.stderr).error.code).toBe('K_INVALID');
    const models = await run([
      'recommend',
      'evaluate',
      '--transactions',
      file,
      '--split-date',
      '2011-07-01',
      '--models',
      'magic',
      '--json',
    ]);
    expect(JSON.parse(models.stderr).error.code).toBe('MODEL_UNKNOWN');
    const missing = await run([
      'recommend',
      'evaluate',
      '--transactions',
      file,
      '--split-date',
      '2011-07-01',
      '--json',
    ]);
    expect(missing.exitCode).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('INPUT_NOT_FOUND');
  });
});

const retailFile = sharedDataFile('online_retail/online_retail_2010-12-01_2011-08-31.csv');

// The linear baseline (EASE, λ = 500: HR@10 0.557 in the issue, 0.555 here) and the product model need a
// dense inverse of 3,266 items, tens of seconds on a busy machine: their figures are measured by the
// `recommend` bench workload and recorded in BENCHMARKS.md. The neighbourhood baselines run here.
describe.skipIf(retailFile === undefined)('recommend evaluate on the online_retail data', () => {
  it("reproduces the issue's baselines on its split within ±0.005", async () => {
    const { stdout, stderr, exitCode } = await run([
      'recommend',
      'evaluate',
      '--transactions',
      retailFile ?? '',
      '--split-date',
      '2011-07-01',
      '--end-date',
      '2011-08-31',
      '--k',
      '10',
      '--models',
      'popularity,item-knn,user-knn',
      '--json',
    ]);
    expect(exitCode, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ customers: 2958, items: 3266, evaluated: 1073 });
    expect(result.models.popularity.hitRate).toBeCloseTo(0.332, 2);
    expect(Math.abs(result.models.popularity.hitRate - 0.332)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(result.models.itemKnn.hitRate - 0.496)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(result.models.userKnn.hitRate - 0.517)).toBeLessThanOrEqual(0.005);
    for (const m of Object.values(result.models) as {
      precision: number;
      recall: number;
      hitRate: number;
    }[]) {
      expect(m.precision).toBeGreaterThan(0);
      expect(m.precision).toBeLessThanOrEqual(m.hitRate);
      expect(m.recall).toBeGreaterThan(0);
    }
    expect(result.validation).toBeUndefined();
  }, 300_000);
});
