import {
  type BgNbdParams,
  fitBgNbd,
  fitGammaGamma,
  type GammaGammaParams,
  simulateBgNbdCustomers,
} from '../src/value/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * The CLV fit target of SPEC §13: BG/NBD and Gamma-Gamma fitted by maximum likelihood to simulated
 * customers (100,000; 10,000 for a smoke run), with the recovered parameters beside the time so a fast
 * but wrong fit cannot pass unnoticed.
 */

const CUSTOMERS = { smoke: 10_000, small: 100_000, large: 100_000 } as const;
/** Parameters of the published CDNOW fits, in weeks: a realistic retail purchase process. */
const PURCHASES: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const SPEND: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };

function describeRecovery(estimates: Record<string, number>, truth: Record<string, number>): string {
  return Object.entries(truth)
    .map(([name, value]) => `${name} ${(estimates[name] ?? Number.NaN).toPrecision(4)} (true ${value})`)
    .join(', ');
}

/** Times the BG/NBD + Gamma-Gamma fit on simulated customers. */
export async function benchValue(scale: 'smoke' | 'small' | 'large'): Promise<Figure[]> {
  const customers = simulateBgNbdCustomers(PURCHASES, {
    customers: CUSTOMERS[scale],
    seed: 'bench-value',
    T: { min: 26, max: 78 },
    spend: SPEND,
  });
  const { value, seconds } = await timed(async () => ({
    bgnbd: fitBgNbd(customers),
    gammaGamma: fitGammaGamma(customers),
  }));
  const { bgnbd, gammaGamma } = value;
  return [
    {
      workload: 'CLV fit (BG/NBD + Gamma-Gamma)',
      value: Number(seconds.toFixed(2)),
      unit: 's',
      detail:
        `${customers.length.toLocaleString('en-US')} simulated customers (${gammaGamma.customers.toLocaleString('en-US')} with repeats); ` +
        `BG/NBD ${describeRecovery({ ...bgnbd.params }, { ...PURCHASES })}, converged ${bgnbd.converged}; ` +
        `Gamma-Gamma ${describeRecovery({ ...gammaGamma.params }, { ...SPEND })}, converged ${gammaGamma.converged}`,
      target: '≤ 10 s',
      peakRssMiB: peakRssMiB(),
    },
  ];
}
