import type { Command } from 'commander';
import { getAuditKeys, verifyWorkspaceAuditChain } from '../audit/index.ts';
import { RECIPIENT_KINDS } from '../disclosures/index.ts';
import { withAccess } from '../governance/index.ts';
import { invalid } from '../shared/errors.ts';
import { readRecipientsWithWebhooks, registerRecipientWithWebhook } from '../webhooks/index.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, list, withDatabase } from './output.ts';

/** `audit verify` and `recipient create|list`. */
export function registerPrivacyCommands(program: Command): void {
  const audit = program.command('audit').description('The tamper-evident audit log.');
  audit
    .command('verify')
    .description(
      "Walk the workspace's audit chain, recomputing every keyed hash and comparing it with the latest signed " +
        'checkpoint; name the first broken link (exit code 8). A chain that holds gets a new signed checkpoint.',
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const { report, name } = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          // Events still waiting in the inbox are linked first, so the check covers every access.
          const report = await verifyWorkspaceAuditChain(
            database.db,
            workspace.id,
            getAuditKeys(database.db),
          );
          return { report, name: workspace.name };
        });
        emit(opts, { workspace: name, ...report }, () =>
          report.ok
            ? `Audit chain of ${name} verified: ${report.events} events, head ${report.head}${report.checkpoint ? `, matching the checkpoint signed ${report.checkpoint.at} (event ${report.checkpoint.seq})` : ''}.`
            : `Audit chain of ${name} is BROKEN at event ${report.break.seq} (${report.break.problem}): ${report.break.detail}. ${report.events} events before it verified.`,
        );
        if (!report.ok) process.exitCode = 8;
      }),
    );

  const recipient = program
    .command('recipient')
    .description(
      'Recipients: the parties personal data may leave to (partners, processors, export files, webhooks).',
    );
  recipient
    .command('create <name>')
    .description('Register a recipient.')
    .requiredOption('--kind <kind>', 'partner, processor, export_file or webhook')
    .requiredOption('--purposes <list>', 'the purposes it may receive data for, comma-separated', list)
    .option('--description <text>', 'who it is and why it receives data')
    .option('--url <url>', 'kind webhook: the http(s) URL deliveries are POSTed to')
    .option(
      '--events <list>',
      'kind webhook: the event types to receive (default: all its purposes allow)',
      list,
    )
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(
        async (
          name: string,
          options: {
            kind: string;
            purposes: string[];
            description?: string;
            url?: string;
            events?: string[];
            workspace: string;
          },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const kinds = RECIPIENT_KINDS.filter((k) => k !== 'integration_key') as string[];
          if (!kinds.includes(options.kind)) {
            throw invalid('RECIPIENT_KIND_INVALID', `--kind must be one of ${kinds.join(', ')}.`, {
              kind: options.kind,
            });
          }
          const created = await withDatabase(async (database) => {
            const workspace = await getWorkspaceByRef(database.db, options.workspace);
            return withAccess(
              database.db,
              operatorActor(workspace.id),
              { purpose: 'legal', requestId: null, mode: 'write' },
              (scope) =>
                registerRecipientWithWebhook(scope, {
                  name,
                  kind: options.kind as 'partner',
                  purposes: options.purposes,
                  ...(options.description === undefined ? {} : { description: options.description }),
                  ...(options.url === undefined ? {} : { url: options.url }),
                  ...(options.events === undefined ? {} : { events: options.events }),
                }),
            );
          });
          // The recipient as before, with its webhook and (for a webhook) the secret, shown once.
          emit(
            opts,
            { ...created.recipient, secret: created.secret },
            `Registered recipient ${created.recipient.name} (${created.recipient.kind}) for ${created.recipient.purposes.join(', ')}.` +
              (created.secret
                ? `\nSigning secret (shown once; keep it with the receiver): ${created.secret}`
                : ''),
          );
        },
      ),
    );
  recipient
    .command('list')
    .description("The workspace's recipients.")
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const recipients = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return withAccess(
            database.db,
            operatorActor(workspace.id),
            { purpose: 'legal', requestId: null, mode: 'read' },
            (scope) => readRecipientsWithWebhooks(scope),
          );
        });
        emit(opts, recipients, () =>
          recipients.length === 0
            ? 'No recipients.'
            : recipients
                .map(
                  (r) =>
                    `${r.name}\t${r.kind}\t${r.purposes.join(',')}` +
                    (r.webhook ? `\t${r.webhook.url}\t${r.webhook.status}` : ''),
                )
                .join('\n'),
        );
      }),
    );
}
