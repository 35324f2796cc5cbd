import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { getAuditKeys } from '../audit/index.ts';
import { loadConfig } from '../config.ts';
import { dumpDataDir, loadDataDir, refreshStatistics } from '../db/index.ts';
import {
  type ExportFormat,
  type ExportRequest,
  type ExportSummary,
  exportWorkspace,
  type RestoreSummary,
  restoreBackup,
} from '../imports/index.ts';
import { AppError, invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

interface ExportOptions {
  workspace: string;
  out?: string;
  purpose: string;
  recipient?: string;
  format?: string;
}

function describe(summary: ExportSummary, name: string, target: string): string {
  const what =
    summary.format === 'backup'
      ? `a backup of every table (${Object.values(summary.tables ?? {}).reduce((a, b) => a + b, 0)} rows, ${summary.customers} customers, ${summary.interactions} interactions)`
      : `${summary.customers} customers, ${summary.interactions} interactions`;
  return `Exported workspace ${name} for ${summary.purpose} to recipient ${summary.recipient}: ${what} (${summary.bytes} bytes) to ${target} in ${summary.seconds} s.`;
}

function parseFormat(format: string | undefined): ExportFormat | undefined {
  if (format === undefined || format === 'backup' || format === 'records') return format;
  throw invalid('EXPORT_FORMAT_UNKNOWN', `Unknown export format "${format}"; use backup or records.`, {
    format,
    allowed: ['backup', 'records'],
  });
}

function exportRequest(options: ExportOptions, workspaceId: string, fileName: string): ExportRequest {
  return {
    actor: operatorActor(workspaceId),
    purpose: options.purpose,
    recipient: options.recipient,
    fileName: basename(fileName),
    format: parseFormat(options.format),
  };
}

/**
 * Writes the export to FILE through a temporary file that is synced and renamed at the end, so an
 * interrupted export never leaves a file that looks complete.
 */
async function exportToFile(options: ExportOptions, global: GlobalOptions): Promise<void> {
  const target = resolve(options.out as string);
  const partial = `${target}.partial`;
  const directory = await stat(dirname(target)).catch(() => undefined);
  if (!directory?.isDirectory()) {
    throw invalid('EXPORT_OUT_INVALID', `No directory ${dirname(target)} to write the export to.`, {
      out: target,
    });
  }
  const result = await withDatabase(async (database) => {
    const workspace = await getWorkspaceByRef(database.db, options.workspace);
    const out = createWriteStream(partial);
    try {
      const summary = await exportWorkspace(database.db, exportRequest(options, workspace.id, target), out);
      out.end();
      await finished(out);
      return { summary, workspace };
    } catch (error) {
      out.destroy();
      await rm(partial, { force: true });
      throw error;
    }
  });
  const handle = await open(partial, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, target);
  const { summary, workspace } = result;
  const value = { file: target, workspace: { id: workspace.id, name: workspace.name }, ...summary };
  if (global.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  else process.stdout.write(`${describe(summary, workspace.name, target)}\n`);
}

/** Writes the export to standard output; the summary goes to stderr, out of the data's way. */
async function exportToStdout(options: ExportOptions, global: GlobalOptions): Promise<void> {
  const { summary, workspace } = await withDatabase(async (database) => {
    const workspace = await getWorkspaceByRef(database.db, options.workspace);
    return {
      summary: await exportWorkspace(
        database.db,
        exportRequest(options, workspace.id, 'stdout'),
        process.stdout,
      ),
      workspace,
    };
  });
  const value = { file: null, workspace: { id: workspace.id, name: workspace.name }, ...summary };
  if (global.json) process.stderr.write(`${JSON.stringify(value)}\n`);
  else if (process.stderr.isTTY)
    process.stderr.write(`${describe(summary, workspace.name, 'standard output')}\n`);
}

/** `export`: a whole workspace as NDJSON; `backup` and `restore` of the embedded data directory. */
export function registerExportCommands(program: Command): void {
  registerBackupCommands(program);
  program
    .command('export')
    .description(
      'Write a workspace as NDJSON for a purpose: a header line, then every customer the purpose may process ' +
        'with the fields it may see, then their interactions. Every customer written is recorded as disclosed ' +
        'to the recipient (the file itself unless --recipient names a registered one) and the export is audited. ' +
        'An export for the purpose legal is a backup of every table of the workspace (ledgers and audit chain included): ' +
        '`cornerstore import workspace FILE` restores it, into a data directory or database without the workspace.',
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .requiredOption('--purpose <purpose>', 'why the data leaves: legal (a backup), marketing, analytics…')
    .option(
      '--recipient <name>',
      'a registered recipient the file is for (see `cornerstore recipient create`)',
    )
    .option('--out <file>', 'write to FILE instead of standard output')
    .option(
      '--format <format>',
      'backup (every table of the workspace; the default for --purpose legal) or records (customers and interactions as the purpose may see them)',
    )
    .option('--json', 'print the summary as JSON (on stderr when the export goes to standard output)')
    .action(
      action(async (options: ExportOptions, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.out !== undefined) await exportToFile(options, global);
        else await exportToStdout(options, global);
      }),
    );
}

function describeRestore(summary: RestoreSummary): string {
  const audit = summary.audit.ok
    ? `its audit chain verified (${summary.audit.events} events)`
    : `its audit chain is BROKEN at event ${summary.audit.break.seq} (${summary.audit.break.problem}): ${summary.audit.break.detail}`;
  return `Restored workspace ${summary.workspace.name} (${summary.workspace.id}) from ${summary.file}: ${summary.rows} rows in ${Object.keys(summary.tables).length} tables, ${audit}; ${summary.seconds} s.`;
}

/**
 * `import workspace FILE` for a backup: restores it all or nothing into the configured database, which
 * must not have the workspace yet, and verifies its audit chain (exit code 8 when it does not hold).
 */
export async function restoreWorkspaceBackup(
  file: string,
  workspace: string | undefined,
  global: GlobalOptions,
): Promise<void> {
  const summary = await withDatabase(async (database) => {
    const restored = await restoreBackup(database.db, resolve(file), getAuditKeys(database.db), {
      workspace,
    });
    await refreshStatistics(database);
    return restored;
  });
  emit(global, summary, () => describeRestore(summary));
  if (!summary.audit.ok) process.exitCode = 8;
}

function embeddedDataDir(command: string): string {
  const config = loadConfig();
  if (config.databaseUrl !== undefined) {
    throw new AppError(
      'invalid',
      'BACKUP_EMBEDDED_ONLY',
      `\`cornerstore ${command}\` copies the embedded database's data directory; on a PostgreSQL server (DATABASE_URL) use the server's own backups, or \`cornerstore export --purpose legal\` per workspace.`,
    );
  }
  return config.dataDir;
}

/** `backup FILE` and `restore FILE`: the embedded data directory as one file, and back. */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup <file>')
    .description(
      'Dump the embedded data directory (CORNERSTORE_DATA_DIR: the database, the admin key, the audit keys and ' +
        'checkpoints) to FILE, a gzipped tarball readable only by you. Stop the server first.',
    )
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (file: string, _options: unknown, command: Command) => {
        const dataDir = embeddedDataDir('backup');
        const target = resolve(file);
        const { bytes } = await dumpDataDir(dataDir, target);
        emit(command.optsWithGlobals<GlobalOptions>(), { dataDir, file: target, bytes }, () => {
          return `Backed up the data directory ${dataDir} to ${target} (${bytes} bytes).`;
        });
      }),
    );
  program
    .command('restore <file>')
    .description(
      'Load a file written by `cornerstore backup` into the data directory (CORNERSTORE_DATA_DIR), which must ' +
        'not hold a database yet.',
    )
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (file: string, _options: unknown, command: Command) => {
        const dataDir = embeddedDataDir('restore');
        const source = resolve(file);
        await loadDataDir(source, dataDir);
        emit(command.optsWithGlobals<GlobalOptions>(), { dataDir, file: source }, () => {
          return `Restored the data directory ${dataDir} from ${source}.`;
        });
      }),
    );
}
