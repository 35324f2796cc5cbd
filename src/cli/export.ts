import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { type ExportRequest, type ExportSummary, exportWorkspace } from '../imports/index.ts';
import { invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, type GlobalOptions, withDatabase } from './output.ts';

interface ExportOptions {
  workspace: string;
  out?: string;
  purpose: string;
  recipient?: string;
}

function describe(summary: ExportSummary, name: string, target: string): string {
  return `Exported workspace ${name} for ${summary.purpose} to recipient ${summary.recipient}: ${summary.customers} customers, ${summary.interactions} interactions (${summary.bytes} bytes) to ${target} in ${summary.seconds} s.`;
}

function exportRequest(options: ExportOptions, workspaceId: string, fileName: string): ExportRequest {
  return {
    actor: operatorActor(workspaceId),
    purpose: options.purpose,
    recipient: options.recipient,
    fileName: basename(fileName),
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

/** `export`: a whole workspace as NDJSON. */
export function registerExportCommands(program: Command): void {
  program
    .command('export')
    .description(
      'Write a workspace as NDJSON for a purpose: a header line, then every customer the purpose may process ' +
        'with the fields it may see, then their interactions. Every customer written is recorded as disclosed ' +
        'to the recipient (the file itself unless --recipient names a registered one) and the export is audited. ' +
        'An export for the purpose legal holds everything stored: `cornerstore import workspace FILE` restores it.',
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .requiredOption('--purpose <purpose>', 'why the data leaves: legal (a backup), marketing, analytics…')
    .option(
      '--recipient <name>',
      'a registered recipient the file is for (see `cornerstore recipient create`)',
    )
    .option('--out <file>', 'write to FILE instead of standard output')
    .option('--json', 'print the summary as JSON (on stderr when the export goes to standard output)')
    .action(
      action(async (options: ExportOptions, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.out !== undefined) await exportToFile(options, global);
        else await exportToStdout(options, global);
      }),
    );
}
