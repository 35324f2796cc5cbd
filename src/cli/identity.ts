import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type AccessScope, withAccess } from '../governance/index.ts';
import {
  DEFAULT_THRESHOLDS,
  decideReview,
  evaluateFebrlClusters,
  type FieldMap,
  listReviewQueue,
  type MergeSummary,
  mergeCustomers,
  type PairwiseScores,
  type PersonRecord,
  parseFieldMap,
  type ResolveResult,
  type Review,
  readClusterAssignments,
  readCsvRecords,
  readFebrlRecords,
  resolveIdentities,
  resolveWorkspace,
  unmergeCustomers,
} from '../identity/index.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

interface ResolveCommandOptions {
  input: string;
  link?: string;
  format?: string;
  map?: string;
  out: string;
  hashKey?: string;
  pairs?: string;
  autoThreshold?: string;
  reviewThreshold?: string;
}

interface EvaluateCommandOptions {
  clusters: string;
}

const FORMATS = ['febrl', 'csv'] as const;
type InputFormat = (typeof FORMATS)[number];

function parseFormat(value: string | undefined): InputFormat {
  const format = value ?? 'csv';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw invalid('FORMAT_INVALID', `The format must be febrl or csv, not "${format}".`, { format });
  }
  return format as InputFormat;
}

function parseProbability(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const p = Number(value);
  if (!Number.isFinite(p) || p <= 0 || p >= 1) {
    throw invalid('OPTION_INVALID', `--${name} must be a probability between 0 and 1 (exclusive).`, {
      [name]: value,
    });
  }
  return p;
}

function readInput(path: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw notFound('INPUT_NOT_FOUND', `The input file ${path} does not exist.`, { path });
  }
  return readFileSync(path, 'utf8');
}

function loadRecords(
  path: string,
  format: InputFormat,
  map: FieldMap | undefined,
  hashKey: string | Uint8Array,
): PersonRecord[] {
  const text = readInput(path);
  const options = { hashKey, source: path, ...(map === undefined ? {} : { map }) };
  return format === 'febrl' ? readFebrlRecords(text, options) : readCsvRecords(text, options);
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function writeOutput(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw invalid('OUTPUT_NOT_WRITABLE', `Could not write ${path}: ${(error as Error).message}`, { path });
  }
}

function clustersCsv(records: readonly PersonRecord[], result: ResolveResult): string {
  const lines = ['record_id,cluster_id'];
  records.forEach((record, i) => {
    lines.push(`${csvCell(record.id)},${(result.clusterOf[i] ?? 0) + 1}`);
  });
  return `${lines.join('\n')}\n`;
}

function summaryOf(result: ResolveResult, out: string, seconds: number): Record<string, unknown> {
  const { stats } = result;
  return {
    out,
    records: stats.records,
    clusters: stats.clusters,
    candidatePairs: stats.candidatePairs,
    mergedPairs: stats.mergedPairs,
    reviewPairs: stats.reviewPairs,
    refusedByGuard: stats.refusedByGuard,
    expectedMatches: Math.round(stats.expectedMatches),
    emIterations: stats.emIterations,
    emConverged: stats.emConverged,
    seconds,
  };
}

async function resolveCommand(options: ResolveCommandOptions, global: GlobalOptions): Promise<void> {
  const started = performance.now();
  const format = parseFormat(options.format);
  const map = options.map === undefined ? undefined : parseFieldMap(options.map);
  const autoThreshold = parseProbability('auto-threshold', options.autoThreshold, DEFAULT_THRESHOLDS.auto);
  const reviewThreshold = parseProbability(
    'review-threshold',
    options.reviewThreshold,
    Math.min(DEFAULT_THRESHOLDS.review, autoThreshold),
  );
  if (reviewThreshold > autoThreshold) {
    throw invalid('OPTION_INVALID', '--review-threshold must not exceed --auto-threshold.', {
      autoThreshold,
      reviewThreshold,
    });
  }
  // Government ids are only ever seen as keyed hashes; without a key, one is made for this run alone.
  const hashKey = options.hashKey ?? randomBytes(32);
  const records = loadRecords(options.input, format, map, hashKey);
  if (options.link !== undefined) records.push(...loadRecords(options.link, format, map, hashKey));
  const result = resolveIdentities(records, { autoThreshold, reviewThreshold });
  writeOutput(options.out, clustersCsv(records, result));
  if (options.pairs !== undefined) {
    writeOutput(options.pairs, result.pairs.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
  }
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  const summary = summaryOf(result, options.out, seconds);
  emit(
    global,
    summary,
    () =>
      `Resolved ${result.stats.records} records into ${result.stats.clusters} people (${options.out}).\n` +
      `${result.stats.mergedPairs} pairs merged, ${result.stats.reviewPairs} for review` +
      `${result.stats.refusedByGuard > 0 ? ` (${result.stats.refusedByGuard} refused by the guard)` : ''}, ` +
      `from ${result.stats.candidatePairs} candidate pairs; ${seconds} s.`,
  );
}

function humanScores(scores: PairwiseScores): string {
  const f = (x: number) => x.toFixed(4);
  return [
    `pairwise precision ${f(scores.precision)}, recall ${f(scores.recall)}, F1 ${f(scores.f1)}`,
    `records ${scores.records}, true pairs ${scores.truePairs}, predicted pairs ${scores.predictedPairs}, ` +
      `true positives ${scores.truePositives}, false positives ${scores.falsePositives}, ` +
      `false negatives ${scores.falseNegatives}`,
  ].join('\n');
}

async function evaluateCommand(options: EvaluateCommandOptions, global: GlobalOptions): Promise<void> {
  const scores = evaluateFebrlClusters(readClusterAssignments(readInput(options.clusters)));
  emit(global, scores, () => humanScores(scores));
}

interface WorkspaceOption {
  workspace: string;
}

/**
 * Runs `fn` as the command-line operator of a workspace, under an access scope for `service` (keeping
 * the customer records right is part of serving them); audited like any other access.
 */
async function asOperatorOf<T>(
  ref: string,
  mode: 'read' | 'write',
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  return withDatabase(async (database) => {
    const workspace = await getWorkspaceByRef(database.db, ref);
    return withAccess(
      database.db,
      operatorActor(workspace.id),
      { purpose: 'service', requestId: null, mode },
      fn,
    );
  });
}

function describeMerge(m: MergeSummary): string {
  const fields = m.fieldsChanged.map((f) => `${f.field} (from ${f.source || 'no provenance'})`).join(', ');
  return (
    `Merged ${m.absorbedId} into ${m.survivorId} (merge ${m.id}): moved ${m.moved.identities} identities, ` +
    `${m.moved.contactPoints} contact points, ${m.moved.interactions} interactions` +
    `${fields ? `; fields taken: ${fields}` : ''}` +
    `${m.consentsChanged.length > 0 ? `; consents made stricter: ${m.consentsChanged.map((c) => `${c.purpose}${c.channel ? `/${c.channel}` : ''}=${c.status}`).join(', ')}` : ''}.`
  );
}

function describeReview(r: Review): string {
  const fields = r.explanation.fields.map((f) => `${f.field}:${f.level}`).join(' ');
  return `${r.id}  ${r.status}  p=${r.probability.toFixed(3)}  ${r.customerA} ~ ${r.customerB}  [${r.reason}] ${fields}`;
}

function registerDatabaseCommands(identity: Command): void {
  identity
    .command('resolve-workspace')
    .description(
      "Resolve a workspace's customers: merge pairs at or above the automatic threshold (the oldest customer " +
        'survives), queue pairs between the thresholds for review. Recorded decisions override the model.',
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--auto-threshold <p>', `merge at or above this probability (default ${DEFAULT_THRESHOLDS.auto})`)
    .option('--review-threshold <p>', `queue from this probability (default ${DEFAULT_THRESHOLDS.review})`)
    .option('--json', 'print the summary as JSON')
    .action(
      action(
        async (
          options: WorkspaceOption & { autoThreshold?: string; reviewThreshold?: string },
          command: Command,
        ) => {
          const autoThreshold = parseProbability(
            'auto-threshold',
            options.autoThreshold,
            DEFAULT_THRESHOLDS.auto,
          );
          const reviewThreshold = parseProbability(
            'review-threshold',
            options.reviewThreshold,
            Math.min(DEFAULT_THRESHOLDS.review, autoThreshold),
          );
          const summary = await asOperatorOf(options.workspace, 'write', (scope) =>
            resolveWorkspace(scope, { autoThreshold, reviewThreshold }),
          );
          emit(
            command.optsWithGlobals<GlobalOptions>(),
            summary,
            `Resolved ${summary.customers} customers: ${summary.merges.length} merged automatically, ` +
              `${summary.queued} pairs queued for review (${summary.skipped.alreadyQueued} already queued, ` +
              `${summary.skipped.decided} settled by decisions, ${summary.refusedByGuard} refused by the guard); ` +
              `${summary.milliseconds.total} ms.`,
          );
        },
      ),
    );

  identity
    .command('reviews')
    .description('List the review queue of a workspace (pending pairs, oldest first).')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--status <status>', 'pending, accepted or rejected', 'pending')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print the page as JSON')
    .action(
      action(async (options: WorkspaceOption & { status: string; limit: string }, command: Command) => {
        const status = options.status;
        if (status !== 'pending' && status !== 'accepted' && status !== 'rejected') {
          throw invalid('OPTION_INVALID', '--status must be pending, accepted or rejected.', { status });
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
          throw invalid('OPTION_INVALID', '--limit must be a whole number from 1 to 500.', {
            limit: options.limit,
          });
        }
        const page = await asOperatorOf(options.workspace, 'read', (scope) =>
          listReviewQueue(scope, { status, limit }),
        );
        emit(
          command.optsWithGlobals<GlobalOptions>(),
          page,
          () => page.reviews.map(describeReview).join('\n') || `No ${status} reviews.`,
        );
      }),
    );

  identity
    .command('decide <reviewId> <decision>')
    .description('Accept (merge) or reject a pair of the review queue; the decision is kept as a label.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (reviewId: string, decision: string, options: WorkspaceOption, command: Command) => {
        if (decision !== 'accept' && decision !== 'reject') {
          throw invalid('DECISION_INVALID', `The decision must be accept or reject, not "${decision}".`, {
            decision,
          });
        }
        const outcome = await asOperatorOf(options.workspace, 'write', (scope) =>
          decideReview(scope, reviewId, decision),
        );
        emit(command.optsWithGlobals<GlobalOptions>(), outcome, () =>
          outcome.merge
            ? `Accepted review ${outcome.review.id}. ${describeMerge(outcome.merge)}`
            : `${decision === 'accept' ? 'Accepted' : 'Rejected'} review ${outcome.review.id}.`,
        );
      }),
    );

  identity
    .command('merge <survivorId> <absorbedId>')
    .description('Merge the second customer into the first; undo it exactly with identity unmerge.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--reason <text>', 'why they are one person')
    .option('--json', 'print the merge as JSON')
    .action(
      action(
        async (
          survivorId: string,
          absorbedId: string,
          options: WorkspaceOption & { reason?: string },
          command: Command,
        ) => {
          const merge = await asOperatorOf(options.workspace, 'write', (scope) =>
            mergeCustomers(scope, survivorId, absorbedId, options.reason ?? null),
          );
          emit(command.optsWithGlobals<GlobalOptions>(), { merge }, () => describeMerge(merge));
        },
      ),
    );

  identity
    .command('unmerge <mergeId>')
    .description(
      'Undo a merge exactly; interactions that arrived meanwhile go to the absorbed customer when only it held ' +
        'an identity of their source system.',
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (mergeId: string, options: WorkspaceOption, command: Command) => {
        const unmerge = await asOperatorOf(options.workspace, 'write', (scope) =>
          unmergeCustomers(scope, mergeId),
        );
        emit(
          command.optsWithGlobals<GlobalOptions>(),
          { unmerge },
          `Unmerged ${unmerge.absorbedId} from ${unmerge.survivorId} (merge ${unmerge.mergeId}); ` +
            `${unmerge.arrivedDuringMerge.total} interactions arrived meanwhile, ` +
            `${unmerge.arrivedDuringMerge.toAbsorbed} went to ${unmerge.absorbedId}.`,
        );
      }),
    );
}

/**
 * `identity resolve` and `identity evaluate` (offline, on files), and the commands on a workspace's
 * customers: `resolve-workspace`, `reviews`, `decide`, `merge`, `unmerge`.
 */
export function registerIdentityCommands(program: Command): void {
  const identity = program
    .command('identity')
    .description(
      "Resolve which records are the same person: offline on files, or on a workspace's customers " +
        '(merges, the review queue, unmerges).',
    );
  registerDatabaseCommands(identity);

  identity
    .command('resolve')
    .description(
      'Cluster person records into people by probabilistic matching (Fellegi–Sunter, with m and u ' +
        'estimated from the data). Writes record_id,cluster_id, one row per input record; with --link, ' +
        'the records of both files are resolved together. Government ids are used only as keyed hashes.',
    )
    .requiredOption('--input <file>', 'the records (CSV with a header, or FEBRL generator output)')
    .option('--link <file>', 'a second file of the same format to link with the first')
    .option('--format <format>', 'febrl or csv', 'csv')
    .option(
      '--map <column=field,...>',
      'column to field mapping: id, givenName, surname, birthDate, streetNumber, address1, address2, city, ' +
        'postcode, state, phone, email, governmentId (hashed on reading), governmentIdHash, ' +
        'birthDateVerified, governmentIdVerified',
    )
    .requiredOption('--out <file>', 'where to write record_id,cluster_id')
    .option('--hash-key <key>', 'key of the government-id hash (default: a random key for this run)')
    .option('--pairs <file>', 'also write merged and review pairs with their explanations, as NDJSON')
    .option(
      '--auto-threshold <p>',
      `merge at or above this match probability (default ${DEFAULT_THRESHOLDS.auto})`,
    )
    .option(
      '--review-threshold <p>',
      `review from this match probability up to the automatic threshold (default ${DEFAULT_THRESHOLDS.review})`,
    )
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (options: ResolveCommandOptions, command: Command) => {
        await resolveCommand(options, command.optsWithGlobals<GlobalOptions>());
      }),
    );

  identity
    .command('evaluate')
    .description(
      'Pairwise precision, recall and F1 of a clusters file whose record ids carry the truth FEBRL-style ' +
        '(rec-N-org, rec-N-dup-k: the same N is the same person); each pair counts once.',
    )
    .requiredOption('--clusters <file>', 'a record_id,cluster_id file, as written by identity resolve')
    .option('--json', 'print the scores as JSON')
    .action(
      action(async (options: EvaluateCommandOptions, command: Command) => {
        await evaluateCommand(options, command.optsWithGlobals<GlobalOptions>());
      }),
    );
}
