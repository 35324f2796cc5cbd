import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { type DemoSummary, runDemo } from '../src/demo/index.ts';
import { formatPersonaRecovery } from '../src/relationships/index.ts';
import { ENGINE, openTestDatabase, uniqueName } from './helpers.ts';
import { recoverFromTruth } from './relationships-personas.ts';

/**
 * The relationship personas the synthetic world plants are recovered, on a seed the rules were not
 * tuned on (they were tuned on the seed "tune"): first by the rules over each person's true history,
 * then through the product path — the demo loads the world through ingest, identity resolution merges
 * the systems' records, the recompute job assigns archetypes, and each planted person is read back as
 * the customer holding most of their records.
 */

const HELD_OUT = 'relationships-holdout';
const CUSTOMERS = 900;

describe(`relationship personas are recovered (${ENGINE})`, () => {
  let database: Database;
  let dataDir: string;
  let summary: DemoSummary;

  beforeAll(async () => {
    database = await openTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'cornerstore-relationships-'));
    summary = await runDemo(database, {
      customers: CUSTOMERS,
      seed: HELD_OUT,
      dataDir,
      baseUrl: 'http://127.0.0.1:3999',
      workspaceName: uniqueName('relationships'),
    });
  }, 1_200_000);

  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('by the rules, from each planted person’s true history (macro-F1 ≥ 0.9)', () => {
    const recovery = recoverFromTruth({ seed: HELD_OUT, customers: 3 * CUSTOMERS });
    console.info(`Rules over true histories, seed "${HELD_OUT}":\n${formatPersonaRecovery(recovery)}`);
    expect(Object.keys(recovery.matrix).length).toBeGreaterThanOrEqual(6);
    expect(recovery.macroF1).toBeGreaterThanOrEqual(0.9);
  });

  it('through ingest, identity resolution and the recompute job (macro-F1 ≥ 0.9)', () => {
    const { recovery } = summary.relationships;
    console.info(`Product path, seed "${HELD_OUT}":\n${formatPersonaRecovery(recovery)}`);
    expect(recovery.planted).toBeGreaterThan(CUSTOMERS * 0.02);
    expect(recovery.macroF1).toBeGreaterThanOrEqual(0.9);
    expect(summary.relationships.customers).toBeGreaterThan(CUSTOMERS);
  });

  it('shows one customer of each recovered persona among the highlights, with its reasons', () => {
    const shown = summary.highlights.filter((h) => h.kind === 'relationship');
    const personas = shown.map((h) => h.relationship?.persona);
    for (const persona of ['adversary', 'captive', 'drifting_ex_friend', 'best_friend']) {
      expect(personas).toContain(persona);
    }
    for (const h of shown) {
      expect(h.relationship?.archetype).toBe(h.relationship?.persona);
      expect(h.why).toMatch(/because .+ [≥≤] /);
      expect(h.why).toContain('Do: ');
    }
  });
});
