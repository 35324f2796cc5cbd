import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib.ts';

/** One measured figure of a benchmark run. */
export interface Figure {
  workload: string;
  value: number;
  unit: string;
  detail: string;
  /** Against the baseline measured in the same run, where the target is a ratio. */
  ratio?: number;
  target?: string;
  peakRssMiB: number;
}

function metText(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'yes' : '**no**';
}

function serverVersion(): string {
  try {
    return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'PostgreSQL (version unknown)';
  }
}

/**
 * Whether a figure meets its target: the target reads `≥ N` or `≤ N` (with `×` or "baseline" it speaks
 * of the ratio, otherwise of the value).
 */
export function targetMet(figure: Figure): boolean | undefined {
  const match = figure.target?.match(/([≥≤])\s*([\d,.]+)/);
  if (!match?.[1] || !match[2]) return undefined;
  const bound = Number(match[2].replaceAll(',', ''));
  const onRatio = /×|baseline/.test(figure.target ?? '');
  const actual = onRatio ? figure.ratio : figure.value;
  if (actual === undefined) return undefined;
  return match[1] === '≥' ? actual >= bound : actual <= bound;
}

/**
 * Writes the run as JSON under bench/results/ and, for a run of every workload, rewrites BENCHMARKS.md
 * from it (a partial run must not replace the whole record); returns the JSON path.
 */
export function writeReport(
  run: { started: Date; scale: string; scaleDetail: Record<string, number>; figures: Figure[] },
  options: { markdown: boolean } = { markdown: true },
): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const machine = {
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    database: serverVersion(),
  };
  const json = { ...run, machine };
  const stamp = run.started.toISOString().replaceAll(':', '-');
  const path = join(dir, `${stamp}-${run.scale}.json`);
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  if (!options.markdown) return path;
  writeFileSync(join(dir, `latest-${run.scale}.json`), `${JSON.stringify(json, null, 2)}\n`);

  const rows = run.figures.map(
    (f) =>
      `| ${f.workload} | ${f.value.toLocaleString('en-US')} ${f.unit} | ${f.ratio === undefined ? '' : f.ratio.toFixed(2)} | ${f.target ?? ''} | ${metText(targetMet(f))} | ${f.peakRssMiB} | ${f.detail} |`,
  );
  const section = `<!-- run:${run.scale} -->
## Scale \`${run.scale}\`: run of ${run.started.toISOString().slice(0, 10)}

${run.started.toISOString()}; ${Object.entries(run.scaleDetail)
    .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
    .join(
      ', ',
    )}; on ${machine.cores} cores, ${machine.memoryGiB} GiB, Node.js ${machine.node}, ${machine.database}.

| workload | figure | ratio | target | met | peak RSS MiB | detail |
|---|---|---|---|---|---|---|
${rows.join('\n')}
<!-- /run:${run.scale} -->`;
  const target = join(ROOT, 'BENCHMARKS.md');
  const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
  // Each scale keeps its own latest run: a large run does not erase the default one, nor the reverse.
  const sections = new Map<string, string>();
  for (const match of previous.matchAll(/<!-- run:(\w+) -->[\s\S]*?<!-- \/run:\1 -->/g)) {
    if (match[1]) sections.set(match[1], match[0]);
  }
  sections.set(run.scale, section);
  // Sections of other names (a measurement made by hand, such as the demo's) are kept after them.
  const known = ['smoke', 'small', 'large'];
  const ordered = [...known, ...[...sections.keys()].filter((name) => !known.includes(name))].flatMap(
    (scale) => {
      const text = sections.get(scale);
      return text ? [text] : [];
    },
  );
  const md = `# Benchmarks

Written by \`npm run bench\` (\`bench/run.ts\`); every ratio is against a baseline measured in the same run,
on the same database server. Each scale keeps the figures of its latest complete run
(\`npm run bench\` is \`small\`; \`-- --scale large\` is 10M interactions and 1M customers). Machine-readable
results: \`bench/results/\`.

${ordered.join('\n\n')}

Workloads:
- **Bulk import**: the synthetic world's interactions (customers referenced by their source-system
  identities, emails or phones) as NDJSON, imported by the same code as \`cornerstore import
  interactions\` (validation, minimisation under the data policy, identity linking and customer creation,
  idempotency, checkpoint per batch, audit, row-level security). Baseline: the same file read and parsed,
  stored by plain multi-row INSERTs of 1,000 rows into a bare table with the same columns and only a
  primary key. Ratio = import rows/s ÷ baseline rows/s.
- **HTTP batch ingest**: \`POST /v1/interactions\` with 5,000 events a request from 4 concurrent clients (\`BENCH_HTTP_CLIENTS\`) on
  loopback against the server process (\`cornerstore serve\`, PostgreSQL, log level warn); client bodies
  are serialised before the clock starts.
- **Timeline read**: \`GET /v1/customers/{id}/timeline?limit=50&purpose=service\` for random customers of
  the imported workspace, 32 concurrent clients on loopback, after a warm-up: key authentication, the
  purpose decision with the customer's consent and intimacy, field filtering, the audit event, row-level
  security. Baseline: the same rows read by one hand-written SQL query and serialised on a bare HTTP
  server (no framework, no auth, no policy, no audit, no row-level security). Ratio = Cornerstore p99 ÷
  baseline p99.
- **Identity resolution**: generated person records (many naming cultures, households, duplicates with
  typos, nicknames, swapped names, missing values, moved addresses, birth-date errors) resolved end to end
  in memory (blocking, comparison, EM, scoring, clustering); pairwise F1 against the generator's truth,
  and on the FEBRL sets when \`../shared/data/febrl\` is present.
- **Customer value**: BG/NBD and Gamma-Gamma fitted by maximum likelihood on customers simulated from the
  models' own generative processes (true parameters r 0.243, α 4.414, a 0.793, b 2.426; p 6.25, q 3.74,
  γ 15.44), with the estimates in the detail.
- **Segment count**: a saved segment (RFM segment, CLV and a 90-day purchase count) counted
  through the product (compile, access scope with its consent and restriction conditions, audit) against
  a hand-written SQL query of the same filter on the same data, median of alternating runs.
- Peak RSS is the high-water mark of the process doing the work (the bench process for import, the server
  for HTTP workloads) at the time of the figure.
`;
  writeFileSync(target, md);
  return path;
}
