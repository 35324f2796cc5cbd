import type { Command } from 'commander';
import { createJobRegistry } from '../backbone.ts';
import { loadConfig } from '../config.ts';
import { inWorkspace } from '../db/index.ts';
import { listJobFailures, readJobsStatus, retryDeadLetters } from '../jobs/index.ts';
import { invalid } from '../shared/errors.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

/** `worker` (the third entry point) and `jobs status|failures|retry`. */
export function registerJobCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'Run the event backbone: dispatch events to subscribers and run scheduled jobs (value refit, audit sweep, statistics, retention). Any number side by side on a PostgreSQL server.',
    )
    .option('--loops <n>', 'dispatch loops side by side in this process', '2')
    .option('--once', 'dispatch what is pending, run the jobs that are due, and exit')
    .action(
      action(async (options: { loops: string; once?: boolean }) => {
        const loops = Number(options.loops);
        if (!Number.isInteger(loops) || loops < 1 || loops > 64) {
          throw invalid('WORKER_LOOPS_INVALID', '--loops is a whole number from 1 to 64.', {
            loops: options.loops,
          });
        }
        const { work } = await import('../worker.ts');
        await work(loadConfig(), { loops, once: options.once ?? false });
      }),
    );

  const jobs = program.command('jobs').description("The event backbone's queue, failures and dead letters.");
  jobs
    .command('status')
    .description('Pending events and lag, failures per subscriber, and the scheduled jobs.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--json', 'print the status as JSON')
    .action(
      action(async (options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const status = await withDatabase(async (database, config) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return readJobsStatus(database.db, workspace.id, createJobRegistry(config));
        });
        emit(opts, status, () =>
          [
            `events: ${status.events.pending} pending (lag ${status.events.lagSeconds.toFixed(1)} s), ${status.events.stored} stored`,
            ...status.subscribers.map(
              (s) => `subscriber ${s.name} (${s.purpose}): ${s.retrying} retrying, ${s.dead} dead`,
            ),
            ...status.unregistered.map(
              (s) => `subscriber ${s.name} (not registered): ${s.retrying} retrying, ${s.dead} dead`,
            ),
            ...status.scheduled.map(
              (j) =>
                `job ${j.name}: ${j.lastStatus ?? 'never run'}${j.lastStartedAt ? ` (started ${j.lastStartedAt})` : ''}${j.lastError ? ` — ${j.lastError}` : ''}`,
            ),
          ].join('\n'),
        );
      }),
    );
  jobs
    .command('failures')
    .description("A workspace's subscriber failures, newest first: retries waiting and dead letters.")
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--status <status>', 'retrying or dead')
    .option('--json', 'print the failures as JSON')
    .action(
      action(async (options: { workspace: string; status?: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const status = options.status;
        if (status !== undefined && status !== 'retrying' && status !== 'dead') {
          throw invalid('JOB_STATUS_INVALID', '--status is retrying or dead.', { status });
        }
        const failures = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return inWorkspace(database.db, workspace.id, (tx) =>
            listJobFailures(tx, operatorActor(workspace.id), { status }),
          );
        });
        emit(opts, { failures }, () =>
          failures.length === 0
            ? 'No failures.'
            : failures
                .map(
                  (f) =>
                    `${f.status}  ${f.subscriber}  ${f.eventType} ${f.eventId}  attempts=${f.attempts}  ${f.error}`,
                )
                .join('\n'),
        );
      }),
    );
  jobs
    .command('retry')
    .description('Put dead letters back in the queue with a fresh set of tries (all, or filtered).')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--subscriber <name>', "only this subscriber's dead letters")
    .option('--event <id>', 'only this event')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (options: { workspace: string; subscriber?: string; event?: string }, command: Command) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const result = await withDatabase(async (database) => {
            const workspace = await getWorkspaceByRef(database.db, options.workspace);
            return inWorkspace(database.db, workspace.id, (tx) =>
              retryDeadLetters(tx, operatorActor(workspace.id), {
                subscriber: options.subscriber,
                eventId: options.event,
              }),
            );
          });
          emit(
            opts,
            result,
            `Requeued ${result.requeued} dead letter(s); the next pass of a worker retries them.`,
          );
        },
      ),
    );
}
