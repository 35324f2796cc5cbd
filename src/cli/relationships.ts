import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  readRelationshipMixGoverned,
  readRelationshipRulesGoverned,
  recomputeRelationshipsOfWorkspaces,
  setRelationshipRulesGoverned,
  withAccess,
} from '../governance/index.ts';
import { invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

/** `relationships mix|recompute|rules|set-rules`: relationship intelligence from the command line, as the operator. */

interface WorkspaceOption {
  workspace: string;
}

function readTable(text: string): unknown {
  const source = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    throw invalid('RELATIONSHIP_RULES_INVALID', 'The rule table is not valid JSON; nothing was changed.', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}

function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    throw invalid('SINCE_INVALID', '--since must be an ISO 8601 date or date-time.', { since: value });
  }
  return at;
}

/** Registers the `relationships` commands. */
export function registerRelationshipCommands(program: Command): void {
  const relationships = program
    .command('relationships')
    .description(
      'Relationship intelligence: archetypes with reasons, the mix, the rule table, the recompute job.',
    );

  relationships
    .command('mix')
    .description('Customers, value and movements per archetype (aggregates, for analytics).')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--since <date>', 'movements between archetypes from this date (default: 90 days ago)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: WorkspaceOption & { since?: string }, command: Command) => {
        const since = parseSince(options.since);
        const mix = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'analytics', requestId: null, mode: 'read' },
            (scope) => readRelationshipMixGoverned(scope, { since }),
          );
        });
        emit(command.optsWithGlobals<GlobalOptions>(), mix, () => {
          const rows = mix.archetypes.map((a) => {
            const value = a.totalClv === null ? '' : `, CLV ${a.totalClv.toFixed(0)} ${mix.currency ?? ''}`;
            return `  ${a.archetype.padEnd(20)} ${String(a.customers).padStart(8)}${value}  do: ${a.guidance.do}; don't: ${a.guidance.dont}`;
          });
          const moves = mix.movements
            .slice(0, 10)
            .map((m) => `  ${m.from} → ${m.to}: ${m.customers}`)
            .join('\n');
          return `${mix.total} customers by archetype:\n${rows.join('\n')}\nMovements since ${mix.since}:\n${moves || '  none'}`;
        });
      }),
    );

  relationships
    .command('recompute')
    .description(
      "Recompute every customer's dimensions, archetype (with hysteresis) and modifiers (the scheduled job).",
    )
    .option('--workspace <ref...>', 'workspace ids or names (default: every workspace)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: { workspace?: string[] }, command: Command) => {
        const runs = await withDatabase((database) =>
          recomputeRelationshipsOfWorkspaces(database.db, options.workspace ?? []),
        );
        emit(
          command.optsWithGlobals<GlobalOptions>(),
          runs,
          () =>
            runs
              .map(
                (r) =>
                  `${r.workspaceName}: ${r.report.recomputed} customers in ${r.report.seconds} s, ` +
                  `${r.report.changed} changed archetype (rules v${r.report.ruleVersion}): ` +
                  Object.entries(r.report.archetypes)
                    .map(([k, n]) => `${k} ${n}`)
                    .join(', '),
              )
              .join('\n') || 'No workspace.',
        );
      }),
    );

  relationships
    .command('rules')
    .description('Print the active rule table and its version (0: the built-in default).')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (options: WorkspaceOption, command: Command) => {
        const active = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'analytics', requestId: null, mode: 'read' },
            (scope) => readRelationshipRulesGoverned(scope),
          );
        });
        emit(command.optsWithGlobals<GlobalOptions>(), active, () => JSON.stringify(active, null, 2));
      }),
    );

  relationships
    .command('set-rules <table>')
    .description('Replace the rule table (JSON, or @file); refused whole with JSON paths when invalid.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (text: string, options: WorkspaceOption, command: Command) => {
        const table = readTable(text);
        const active = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'analytics', requestId: null, mode: 'write' },
            (scope) => setRelationshipRulesGoverned(scope, table),
          );
        });
        emit(
          command.optsWithGlobals<GlobalOptions>(),
          active,
          `Rule table version ${active.version} is active (${active.table.rules.length} rules).`,
        );
      }),
    );
}
