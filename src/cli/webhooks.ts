import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.ts';
import { type AccessScope, withAccess } from '../governance/index.ts';
import { invalid } from '../shared/errors.ts';
import {
  deliverDueWebhooks,
  enableWebhook,
  pruneWebhookLogs,
  readWebhookDeliveries,
  replayWebhookDelivery,
  rotateWebhookSecret,
} from '../webhooks/index.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

/** Runs `fn` under the operator's access scope in a workspace (purpose legal: the registry's purpose). */
async function asOperatorIn<T>(
  db: Kysely<DB>,
  workspaceRef: string,
  mode: 'read' | 'write',
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  const workspace = await getWorkspaceByRef(db, workspaceRef);
  return withAccess(db, operatorActor(workspace.id), { purpose: 'legal', requestId: null, mode }, fn);
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw invalid('OPTION_INVALID', `Expected a whole number from 1 to 100000, got "${value}".`);
  }
  return n;
}

/** `webhooks deliver|deliveries|replay|rotate-secret|enable|prune`. */
export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description(
      'Webhooks out: the delivery worker, the delivery log, replay, secrets (register with `recipient create --kind webhook`).',
    );

  webhooks
    .command('deliver')
    .description('Send the deliveries that are due now, once (the worker does this on its schedule).')
    .option('--limit <n>', 'at most this many deliveries', positiveInteger, 500)
    .option(
      '--workspace <ref>',
      "only this workspace's deliveries (id or name); every workspace when left out",
    )
    .action(
      action(async (options: { limit: number; workspace?: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const run = await withDatabase(async (database) => {
          if (options.workspace === undefined)
            return deliverDueWebhooks(database.db, { limit: options.limit });
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return deliverDueWebhooks(database.db, { limit: options.limit, workspaceIds: [workspace.id] });
        });
        emit(
          opts,
          run,
          () =>
            `${run.attempted} attempted: ${run.delivered} delivered, ${run.failed} failed (${run.parked} parked).` +
            run.disabled.map((d) => `\nDisabled ${d.recipientId}: ${d.reason}`).join(''),
        );
      }),
    );

  webhooks
    .command('deliveries <recipient>')
    .description("A webhook's delivery log, newest first, with every attempt.")
    .option('--status <status>', 'pending, delivered or parked')
    .option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(
        async (
          recipient: string,
          options: { status?: string; limit: number; workspace: string },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          if (options.status !== undefined && !['pending', 'delivered', 'parked'].includes(options.status)) {
            throw invalid('OPTION_INVALID', '--status is pending, delivered or parked.');
          }
          const page = await withDatabase((database) =>
            asOperatorIn(database.db, options.workspace, 'read', (scope) =>
              readWebhookDeliveries(scope, recipient, { limit: options.limit, status: options.status }),
            ),
          );
          emit(opts, page, () =>
            page.deliveries.length === 0
              ? 'No deliveries.'
              : page.deliveries
                  .map(
                    (d) =>
                      `${d.id}\t${d.eventType}\t${d.status}\t${d.attempts} attempt(s)` +
                      (d.lastError ? `\t${d.lastError}` : '') +
                      (d.nextAttemptAt ? `\tnext ${d.nextAttemptAt}` : ''),
                  )
                  .join('\n'),
          );
        },
      ),
    );

  webhooks
    .command('replay <delivery>')
    .description('Send a delivery again: a new round of attempts from now, same id and body.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (delivery: string, options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const replayed = await withDatabase((database) =>
          asOperatorIn(database.db, options.workspace, 'write', (scope) =>
            replayWebhookDelivery(scope, delivery),
          ),
        );
        emit(opts, replayed, `Delivery ${replayed.id} is due again (${replayed.status}).`);
      }),
    );

  webhooks
    .command('rotate-secret <recipient>')
    .description(
      'Give a webhook a new signing secret (shown once); the previous one also signs for 24 hours.',
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (recipient: string, options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const rotated = await withDatabase((database) =>
          asOperatorIn(database.db, options.workspace, 'write', (scope) =>
            rotateWebhookSecret(scope, recipient),
          ),
        );
        emit(
          opts,
          rotated,
          `New secret of ${rotated.recipient.name} (shown once): ${rotated.secret}\n` +
            `The previous secret also signs until ${rotated.recipient.webhook?.previousSecretUntil}.`,
        );
      }),
    );

  webhooks
    .command('enable <recipient>')
    .description('Turn a webhook disabled after sustained failure on again.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (recipient: string, options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const enabled = await withDatabase((database) =>
          asOperatorIn(database.db, options.workspace, 'write', (scope) => enableWebhook(scope, recipient)),
        );
        emit(opts, enabled, `Webhook ${enabled.name} is ${enabled.webhook?.status}.`);
      }),
    );

  webhooks
    .command('prune')
    .description('Delete finished deliveries and their attempts older than the retention (30 days).')
    .action(
      action(async (_options: unknown, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const deleted = await withDatabase((database) => pruneWebhookLogs(database.db));
        emit(opts, { deleted }, `${deleted} finished deliveries deleted.`);
      }),
    );
}
