import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { inWorkspace } from '../db/index.ts';
import {
  countSegmentGoverned,
  createSegmentGoverned,
  listSegmentMembersGoverned,
  listSegmentsGoverned,
  withAccess,
} from '../governance/index.ts';
import { getSegment } from '../segments/index.ts';
import { invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

/** `segment create|list|count|members`: saved segments from the command line, as the operator. */

interface WorkspaceOption {
  workspace: string;
}

/** A definition given inline as JSON or as `@file`. */
function readDefinition(text: string): unknown {
  const source = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    throw invalid('SEGMENT_DEFINITION_INVALID', 'The definition is not valid JSON.', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}

/** The purpose to read a segment for: the one named, else the one it was defined for. */
async function purposeFor(
  db: Parameters<typeof inWorkspace>[0],
  workspaceId: string,
  id: string,
  named: string | undefined,
): Promise<string> {
  if (named !== undefined) return named;
  return (await inWorkspace(db, workspaceId, (tx) => getSegment(tx, workspaceId, id))).purpose;
}

/** Registers the `segment` commands. */
export function registerSegmentCommands(program: Command): void {
  const segment = program
    .command('segment')
    .description('Saved segments: filters over profile, value and interaction aggregates, with live counts.');

  segment
    .command('create <name>')
    .description('Save a segment for a purpose and materialise its membership.')
    .requiredOption('--definition <json>', 'the definition as JSON, or @file to read it from a file')
    .requiredOption('--purpose <purpose>', 'the purpose the segment is for (marketing, service, analytics…)')
    .option('--description <text>', 'what the segment is for')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (
          name: string,
          options: WorkspaceOption & { definition: string; purpose: string; description?: string },
          command: Command,
        ) => {
          const definition = readDefinition(options.definition);
          const created = await withDatabase(async (database) => {
            const workspace = await getWorkspaceByRef(database.db, options.workspace);
            return withAccess(
              database.db,
              operatorActor(workspace.id),
              { purpose: options.purpose, requestId: null, mode: 'write' },
              (scope) => createSegmentGoverned(scope, { name, description: options.description, definition }),
            );
          });
          emit(
            command.optsWithGlobals<GlobalOptions>(),
            created,
            `Created segment ${created.segment.name} (${created.segment.id}) for ${created.segment.purpose}: ` +
              `${created.membership.entered} members.`,
          );
        },
      ),
    );

  segment
    .command('list')
    .description("The workspace's segments.")
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: WorkspaceOption, command: Command) => {
        const segments = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'analytics', requestId: null, mode: 'read' },
            (scope) => listSegmentsGoverned(scope),
          );
        });
        emit(command.optsWithGlobals<GlobalOptions>(), segments, () =>
          segments.length === 0
            ? 'No segments.'
            : segments
                .map((s) => `${s.id}\t${s.name}\t${s.purpose}\t${JSON.stringify(s.definition)}`)
                .join('\n'),
        );
      }),
    );

  segment
    .command('count <id>')
    .description('How many customers the purpose may process are in the segment now.')
    .option('--purpose <purpose>', 'the purpose of the read (default: the segment’s own)')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string, options: WorkspaceOption & { purpose?: string }, command: Command) => {
        const result = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          const purpose = await purposeFor(database.db, workspace.id, id, options.purpose);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose, requestId: null, mode: 'read' },
            (scope) => countSegmentGoverned(scope, id),
          );
        });
        emit(command.optsWithGlobals<GlobalOptions>(), result, String(result.count));
      }),
    );

  segment
    .command('members <id>')
    .description('The members of the segment now, in id order (one page; --cursor for the next).')
    .option('--purpose <purpose>', 'the purpose of the read (default: the segment’s own)')
    .option('--limit <n>', 'members per page, at most 1000', '100')
    .option('--cursor <cursor>', 'the cursor of the previous page')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (
          id: string,
          options: WorkspaceOption & { purpose?: string; limit: string; cursor?: string },
          command: Command,
        ) => {
          const limit = Number(options.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
            throw invalid('LIMIT_INVALID', '--limit must be a whole number from 1 to 1000.', {
              limit: options.limit,
            });
          }
          const page = await withDatabase(async (database) => {
            const workspace = await getWorkspaceByRef(database.db, options.workspace);
            const purpose = await purposeFor(database.db, workspace.id, id, options.purpose);
            return withAccess(
              database.db,
              operatorActor(workspace.id),
              { purpose, requestId: null, mode: 'read' },
              (scope) => listSegmentMembersGoverned(scope, id, { limit, cursor: options.cursor }),
            );
          });
          emit(command.optsWithGlobals<GlobalOptions>(), page, () =>
            [
              ...page.members.map(
                (m) =>
                  `${m.customerId}\t${m.value?.rfmSegment ?? ''}\t${m.value?.clv === null || m.value?.clv === undefined ? '' : m.value.clv.toFixed(2)}`,
              ),
              ...(page.nextCursor ? [`next: --cursor ${page.nextCursor}`] : []),
            ].join('\n'),
          );
        },
      ),
    );
}
