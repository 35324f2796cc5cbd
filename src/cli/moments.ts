import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  readPlaybookGoverned,
  runBacktestGoverned,
  scanScheduledMoments,
  setPlaybookGoverned,
  validatePlaybookGoverned,
  withAccess,
} from '../governance/index.ts';
import { invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, listWorkspaces, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

/** `moments backtest|playbook|set-playbook|validate|scan`: small moments from the command line, as the operator. */

interface WorkspaceOption {
  workspace: string;
}

function readText(file: string): { text: string } {
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (error) {
    throw invalid('PLAYBOOK_FILE_UNREADABLE', `Cannot read ${file}: give a JSON or YAML playbook file.`, {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}

function parseDate(value: string, flag: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw invalid('DATE_INVALID', `${flag} must be an ISO 8601 date or date-time.`, { value });
  return at;
}

/** Registers the `moments` commands. */
export function registerMomentCommands(program: Command): void {
  const moments = program
    .command('moments')
    .description('Small moments: the playbook, its backtest over history, and the scheduled scan.');

  moments
    .command('backtest')
    .description(
      'Replay historical events through a playbook without side effects: counts, suppressions, samples.',
    )
    .requiredOption('--from <date>', 'first instant of the period (ISO 8601)')
    .requiredOption('--to <date>', 'end of the period, excluded (ISO 8601)')
    .option('--playbook <file>', 'a playbook file (JSON or YAML); the active playbook when absent')
    .option('--samples <n>', 'sample traces to show', '3')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the report as JSON')
    .action(
      action(
        async (
          options: WorkspaceOption & { from: string; to: string; playbook?: string; samples: string },
          command: Command,
        ) => {
          const from = parseDate(options.from, '--from');
          const to = parseDate(options.to, '--to');
          const playbook = options.playbook === undefined ? undefined : readText(options.playbook);
          const report = await withDatabase(async (database) => {
            const workspace = await getWorkspaceByRef(database.db, options.workspace);
            return withAccess(
              database.db,
              operatorActor(workspace.id),
              { purpose: 'analytics', requestId: null, mode: 'read' },
              (scope) =>
                runBacktestGoverned(scope, {
                  from,
                  to,
                  samples: Number(options.samples),
                  ...(playbook === undefined ? {} : { playbook }),
                }),
            );
          });
          emit(command.optsWithGlobals<GlobalOptions>(), report, () => {
            const lines = (title: string, counts: Record<string, number>) =>
              `${title}:\n${
                Object.entries(counts)
                  .sort((a, b) => b[1] - a[1])
                  .map(([k, n]) => `  ${k.padEnd(50)} ${n}`)
                  .join('\n') || '  none'
              }`;
            return [
              `Backtest of playbook ${report.playbookVersion} over ${report.interactions} interactions of ${report.customers} customers (${report.from} – ${report.to}) in ${report.elapsedMs} ms; nothing was written.`,
              `Decisions: ${report.decisions.act} with actions, ${report.decisions.nothing} doing nothing.`,
              lines('Moments', report.moments),
              lines('Actions', report.actions),
              lines('Suppressed (action: rule or policy)', report.suppressed),
              `Samples:\n${report.samples.map((s) => JSON.stringify(s)).join('\n')}`,
            ].join('\n');
          });
        },
      ),
    );

  moments
    .command('playbook')
    .description('Print the active playbook and its version (0: the built-in default).')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (options: WorkspaceOption, command: Command) => {
        const view = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'service', requestId: null, mode: 'read' },
            (scope) => readPlaybookGoverned(scope),
          );
        });
        emit(command.optsWithGlobals<GlobalOptions>(), view, () => JSON.stringify(view, null, 2));
      }),
    );

  moments
    .command('validate')
    .description('Validate a playbook file (JSON or YAML) without saving it; every problem at its JSON path.')
    .argument('<file>', 'the playbook file')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (file: string, options: WorkspaceOption, command: Command) => {
        const input = readText(file);
        const playbook = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'service', requestId: null, mode: 'read' },
            async (scope) => validatePlaybookGoverned(scope, input),
          );
        });
        emit(
          command.optsWithGlobals<GlobalOptions>(),
          { valid: true, actions: playbook.actions.length, rules: playbook.rules.length },
          () => `Valid: ${playbook.actions.length} actions, ${playbook.rules.length} rules.`,
        );
      }),
    );

  moments
    .command('set-playbook')
    .description('Save a playbook file (JSON or YAML) as the next version; refused whole when invalid.')
    .argument('<file>', 'the playbook file')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (file: string, options: WorkspaceOption, command: Command) => {
        const input = readText(file);
        const saved = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'service', requestId: null, mode: 'write' },
            (scope) => setPlaybookGoverned(scope, input),
          );
        });
        emit(
          command.optsWithGlobals<GlobalOptions>(),
          saved,
          () => `Playbook version ${saved.version} is active.`,
        );
      }),
    );

  moments
    .command('scan')
    .description('Raise the scheduled moments now: lapses of valued customers and remembered dates ahead.')
    .option('--workspace <ref...>', 'workspace ids or names (default: every workspace)')
    .action(
      action(async (options: { workspace?: string[] }, command: Command) => {
        const runs = await withDatabase(async (database) => {
          const ids =
            options.workspace === undefined
              ? (await listWorkspaces(database.db)).map((w) => w.id)
              : await Promise.all(
                  options.workspace.map(async (ref) => (await getWorkspaceByRef(database.db, ref)).id),
                );
          return scanScheduledMoments(database.db, { workspaceIds: ids });
        });
        emit(command.optsWithGlobals<GlobalOptions>(), runs, () =>
          runs.map((r) => `${r.workspaceId}: ${r.moments} moments, ${r.decisions} decisions`).join('\n'),
        );
      }),
    );
}
