import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { refreshStatistics } from '../db/index.ts';
import {
  BACKUP_FORMAT_VERSION,
  DEFAULT_BATCH_SIZE,
  type ImportHooks,
  type ImportKind,
  type ImportProgress,
  type ImportSummary,
  MAX_BATCH_SIZE,
  planImport,
  readExportVersion,
  runImport,
} from '../imports/index.ts';
import { invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { restoreWorkspaceBackup } from './export.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

interface ImportOptions {
  workspace: string;
  format?: string;
  rejects?: string;
  batchSize?: string;
  restart?: boolean;
}

/** Exit code of an import stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT_CODE = 130;
/**
 * Exit code of an import that went to the end of its file but rejected rows (they are in the rejects
 * file): distinct from success (0) and from every error's code (1–8), so a script cannot miss them.
 */
export const REJECTED_ROWS_EXIT_CODE = 9;

function parseBatchSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(size)) {
    throw invalid(
      'IMPORT_BATCH_SIZE_INVALID',
      `The batch size must be an integer from 1 to ${MAX_BATCH_SIZE}.`,
      {
        batchSize: value,
      },
    );
  }
  return size;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * How progress is shown: a bar on an interactive terminal; with `--json`, one NDJSON event per
 * committed batch on stderr (what scripts and tests follow); otherwise nothing until the summary.
 */
function progressReporter(options: GlobalOptions): ImportHooks & { stop(): void } {
  if (options.json) {
    const write = (event: string, progress: object) =>
      process.stderr.write(`${JSON.stringify({ event, ...progress })}\n`);
    return {
      onStart: (progress) => write('start', progress),
      onProgress: (progress) => write('progress', progress),
      stop: () => {},
    };
  }
  if (!process.stderr.isTTY) return { stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        '{bar} {percentage}% | {done} of {size} | {rate} rows/s | created {created} duplicate {duplicate} rejected {rejected}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let firstAt = 0;
  let firstRows = 0;
  const payload = (p: ImportProgress) => {
    const seconds = (performance.now() - firstAt) / 1000;
    return {
      done: formatBytes(p.offset),
      size: formatBytes(p.size),
      rate: seconds > 0 ? Math.round((p.rows - firstRows) / seconds) : 0,
      created: p.created,
      duplicate: p.duplicate,
      rejected: p.rejected,
    };
  };
  let started = false;
  return {
    onStart: (p) => {
      firstAt = performance.now();
      firstRows = p.rows;
      bar.start(Math.max(p.size, 1), p.offset, payload(p));
      started = true;
    },
    onProgress: (p) => bar.update(p.offset, payload(p)),
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function humanSummary(summary: ImportSummary, workspaceName: string): string {
  const lines = [
    `${summary.interrupted ? 'Interrupted' : 'Imported'} ${summary.file} into workspace ${workspaceName}: ${summary.rows} rows, ${summary.created} created, ${summary.duplicate} duplicate, ${summary.rejected} rejected.`,
  ];
  if (summary.resumedFromLine !== null) lines.push(`Resumed after line ${summary.resumedFromLine}.`);
  if (summary.rejected > 0) lines.push(`Rejected rows: ${summary.rejectsFile}`);
  lines.push(`${summary.seconds} s, ${summary.rowsPerSecond} rows/s.`);
  if (summary.interrupted) lines.push('Run the same command again to resume.');
  return lines.join('\n');
}

function jsonSummary(summary: ImportSummary): Record<string, unknown> {
  return {
    runId: summary.runId,
    file: summary.file,
    rows: summary.rows,
    created: summary.created,
    duplicate: summary.duplicate,
    rejected: summary.rejected,
    rejectsFile: summary.rejectsFile,
    resumedFromLine: summary.resumedFromLine,
    seconds: summary.seconds,
    rowsPerSecond: summary.rowsPerSecond,
    interrupted: summary.interrupted,
  };
}

async function importFile(
  kind: ImportKind,
  file: string,
  options: ImportOptions,
  global: GlobalOptions,
): Promise<void> {
  // Everything that can be checked without the database is, so bad input stores nothing.
  const plan = await planImport({
    kind,
    file,
    format: options.format,
    rejects: options.rejects,
    batchSize: parseBatchSize(options.batchSize),
  });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  const reporter = progressReporter(global);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { summary, workspaceName } = await withDatabase(async (database) => {
      const workspace = await getWorkspaceByRef(database.db, options.workspace);
      const summary = await runImport(database.db, operatorActor(workspace.id), plan, {
        restart: options.restart === true,
        signal: controller.signal,
        onStart: reporter.onStart,
        onProgress: reporter.onProgress,
      });
      // The embedded engine keeps no statistics by itself: a bulk load is when they go stale.
      await refreshStatistics(database);
      return { summary, workspaceName: workspace.name };
    });
    reporter.stop();
    emit(global, jsonSummary(summary), () => humanSummary(summary, workspaceName));
    if (summary.interrupted) process.exitCode = INTERRUPTED_EXIT_CODE;
    else if (summary.rejected > 0) process.exitCode = REJECTED_ROWS_EXIT_CODE;
  } finally {
    reporter.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function addCommonOptions(command: Command): Command {
  return command
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--rejects <path>', 'where rejected rows go, as NDJSON (default: FILE.rejects.ndjson)')
    .option('--batch-size <n>', `rows per transaction, 1–${MAX_BATCH_SIZE} (default: ${DEFAULT_BATCH_SIZE})`)
    .option('--restart', 'abandon an interrupted import of this file and start from the beginning')
    .option('--json', 'print the summary as JSON, and progress as NDJSON events on stderr');
}

/** `import interactions FILE` and `import workspace FILE`. */
export function registerImportCommands(program: Command): void {
  const importCommand = program
    .command('import')
    .description('Import interactions or a workspace export from a file (streaming, resumable).');

  addCommonOptions(
    importCommand
      .command('interactions <file>')
      .description(
        'Import interactions from NDJSON (one JSON object per line) or CSV (a header naming the columns). ' +
          'Rows are stored in batches, each with a checkpoint; after a crash or Ctrl-C, the same command ' +
          'resumes where it stopped. Rows already imported count as duplicates; bad rows go to the rejects file.',
      )
      .option('--format <format>', 'ndjson or csv (default: from the extension: .ndjson/.jsonl/.json, .csv)'),
  ).action(
    action(async (file: string, options: ImportOptions, command: Command) => {
      await importFile('interactions', file, options, command.optsWithGlobals<GlobalOptions>());
    }),
  );

  addCommonOptions(
    importCommand
      .command('workspace <file>')
      .description(
        'Restore a file written by `cornerstore export`. A backup (`--purpose legal`) is restored whole, all or ' +
          'nothing, as its own workspace (ids, ledgers and audit chain included) into a database without it, and its ' +
          'audit chain verified; a records export adds its customers and interactions to --workspace, idempotently.',
      ),
  ).action(
    action(async (file: string, options: ImportOptions, command: Command) => {
      if ((await readExportVersion(file)) === BACKUP_FORMAT_VERSION) {
        const named = command.getOptionValueSource('workspace') === 'default' ? undefined : options.workspace;
        await restoreWorkspaceBackup(file, named, command.optsWithGlobals<GlobalOptions>());
        return;
      }
      await importFile('workspace', file, options, command.optsWithGlobals<GlobalOptions>());
    }),
  );
}
