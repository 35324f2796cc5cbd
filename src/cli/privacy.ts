import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { getAuditKeys, verifyWorkspaceAuditChain } from '../audit/index.ts';
import { liftSuppression } from '../customers/index.ts';
import { RECIPIENT_KINDS } from '../disclosures/index.ts';
import { type AccessScope, withAccess } from '../governance/index.ts';
import {
  assignPrivacyRequest,
  completePrivacyRequest,
  createPrivacyRequest,
  listPrivacyRequests,
  type NotificationChannel,
  type NotificationStatus,
  PRIVACY_REQUEST_KINDS,
  type PrivacyRequest,
  readNotifications,
  verifyPrivacyRequest,
} from '../privacy/index.ts';
import { invalid } from '../shared/errors.ts';
import { readRecipientsWithWebhooks, registerRecipientWithWebhook } from '../webhooks/index.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, list, withDatabase } from './output.ts';

/** `audit verify`, `recipient create|list` and `privacy …`. */
export function registerPrivacyCommands(program: Command): void {
  registerPrivacyRequestCommands(program);
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

/** Runs `fn` under the privacy office's access scope (the operator, purpose legal) in a workspace. */
async function asPrivacyOffice<T>(
  workspaceRef: string,
  mode: 'read' | 'write',
  fn: (scope: AccessScope) => Promise<T>,
): Promise<T> {
  return withDatabase(async (database) => {
    const workspace = await getWorkspaceByRef(database.db, workspaceRef);
    return withAccess(
      database.db,
      operatorActor(workspace.id),
      { purpose: 'legal', requestId: null, mode },
      fn,
    );
  });
}

function describeRequest(r: PrivacyRequest): string {
  const due =
    r.daysLeft === null ? r.status : r.overdue ? `OVERDUE by ${-r.daysLeft} d` : `${r.daysLeft} d left`;
  return `${r.id}\t${r.kind}\t${r.customerId}\t${r.status}\tdue ${r.dueOn} (${due})\tverification ${r.verification.status}${r.assignee ? `\t→ ${r.assignee}` : ''}`;
}

/** `privacy request|list|show|verify|assign|complete|reject|notifications|unsuppress`. */
export function registerPrivacyRequestCommands(program: Command): void {
  const privacy = program
    .command('privacy')
    .description(
      'Privacy requests with deadlines, the notification queue, suppression of erased identifiers.',
    );
  privacy
    .command('request <customerId>')
    .description(
      'Record a privacy request: access, rectification, erasure, restriction, portability, objection or ' +
        'do_not_sell. Its deadline is today plus the workspace setting privacyRequestDays (30 by default).',
    )
    .requiredOption('--kind <kind>', PRIVACY_REQUEST_KINDS.join(', '))
    .option('--change <field=value...>', 'rectification: a field and its corrected value (repeatable)')
    .option('--purposes <list>', 'objection: the purposes objected to, comma-separated', list)
    .option('--verified-by <method>', 'the identity was verified at once: how (id_document, call_back, …)')
    .option('--assignee <name>', 'who handles it')
    .option('--note <text>', 'a note')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(
        async (
          customerId: string,
          options: {
            kind: string;
            change?: string[];
            purposes?: string[];
            verifiedBy?: string;
            assignee?: string;
            note?: string;
            workspace: string;
          },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const changes = options.change?.map((pair) => {
            const at = pair.indexOf('=');
            if (at <= 0) {
              throw invalid('CHANGE_INVALID', '--change is field=value, e.g. --change familyName=Lima.', {
                change: pair,
              });
            }
            const value = pair.slice(at + 1);
            return { field: pair.slice(0, at), value: value.length === 0 ? null : value };
          });
          const created = await asPrivacyOffice(options.workspace, 'write', (scope) =>
            createPrivacyRequest(scope, {
              customerId,
              kind: options.kind,
              changes,
              purposes: options.purposes,
              verifiedBy: options.verifiedBy,
              assignee: options.assignee,
              note: options.note,
            }),
          );
          emit(opts, created, `Recorded ${describeRequest(created)}`);
        },
      ),
    );
  privacy
    .command('list')
    .description('The privacy office’s queue, by deadline.')
    .option('--status <status>', 'open, completed or rejected')
    .option('--due-before <day>', 'only those due before this day (YYYY-MM-DD)')
    .option('--customer <id>', 'only this customer’s')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(
        async (
          options: { status?: string; dueBefore?: string; customer?: string; workspace: string },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const requests = await asPrivacyOffice(options.workspace, 'read', (scope) =>
            listPrivacyRequests(scope, {
              ...(options.status === undefined ? {} : { status: options.status }),
              ...(options.dueBefore === undefined ? {} : { dueBefore: options.dueBefore }),
              ...(options.customer === undefined ? {} : { customerId: options.customer }),
            }),
          );
          emit(opts, requests, () =>
            requests.length === 0 ? 'No privacy requests.' : requests.map(describeRequest).join('\n'),
          );
        },
      ),
    );
  privacy
    .command('verify <id>')
    .description('Record how the requester’s identity was verified.')
    .requiredOption('--method <method>', 'id_document, call_back, signed_in_account, …')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (id: string, options: { method: string; workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const request = await asPrivacyOffice(options.workspace, 'write', (scope) =>
          verifyPrivacyRequest(scope, id, options.method),
        );
        emit(opts, request, `Verified ${describeRequest(request)}`);
      }),
    );
  privacy
    .command('assign <id> <assignee>')
    .description('Give a request to someone of the privacy office.')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (id: string, assignee: string, options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const request = await asPrivacyOffice(options.workspace, 'write', (scope) =>
          assignPrivacyRequest(scope, id, assignee),
        );
        emit(opts, request, `Assigned ${describeRequest(request)}`);
      }),
    );
  privacy
    .command('complete <id>')
    .description(
      'Carry a request out and record its evidence. Access and portability write the archive (zip of ' +
        'data.json and CSV files) to --out; an erasure tells every recipient and suppresses the identifiers.',
    )
    .option('--out <file>', 'access or portability: where to write the archive (readable only by you)')
    .option('--note <text>', 'a note for the evidence')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(
        async (id: string, options: { out?: string; note?: string; workspace: string }, command: Command) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const done = await asPrivacyOffice(options.workspace, 'write', (scope) =>
            completePrivacyRequest(scope, id, { note: options.note }),
          );
          if (done.archive !== null) {
            if (options.out === undefined) {
              throw invalid(
                'OUT_REQUIRED',
                'An access or portability request writes its archive: name it with --out.',
              );
            }
            await writeFile(options.out, done.archive, { mode: 0o600 });
          }
          emit(opts, { request: done.request, notifications: done.notifications }, () =>
            [
              `Completed ${describeRequest(done.request)}`,
              ...(done.archive === null
                ? []
                : [`Archive written to ${options.out} (${done.archive.byteLength} bytes).`]),
              ...done.notifications.map((n) => `  told ${n.recipient.name} (${n.channel}): ${n.status}`),
            ].join('\n'),
          );
        },
      ),
    );
  privacy
    .command('notifications')
    .description(
      'Notifications of corrections, erasures and restrictions; --channel manual is the work queue.',
    )
    .option('--status <status>', 'pending, delivered, acknowledged, failed or exempt')
    .option('--channel <channel>', 'webhook or manual')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(async (options: { status?: string; channel?: string; workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const notifications = await asPrivacyOffice(options.workspace, 'write', (scope) =>
          readNotifications(scope, {
            status: options.status as NotificationStatus | undefined,
            channel: options.channel as NotificationChannel | undefined,
          }),
        );
        emit(opts, notifications, () =>
          notifications.length === 0
            ? 'No notifications.'
            : notifications
                .map(
                  (n) =>
                    `${n.id}\t${n.cause}\t${n.customerId}\t${n.recipient.name}\t${n.channel}\t${n.status}\t${n.fields.join(',')}`,
                )
                .join('\n'),
        );
      }),
    );
  privacy
    .command('unsuppress')
    .description('Lift the suppression of an erased identifier: the person returns by their own choice.')
    .option('--email <email>', 'an email address')
    .option('--phone <phone>', 'a phone number as stored (E.164)')
    .option('--identity <source:id>', 'an external identity')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .action(
      action(
        async (
          options: { email?: string; phone?: string; identity?: string; workspace: string },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const identifiers = [
            ...(options.email ? [{ kind: 'email', value: options.email.trim().toLowerCase() }] : []),
            ...(options.phone ? [{ kind: 'phone', value: options.phone.trim() }] : []),
            ...(options.identity
              ? [
                  {
                    kind: `identity.${options.identity.slice(0, options.identity.indexOf(':'))}`,
                    value: options.identity.slice(options.identity.indexOf(':') + 1),
                  },
                ]
              : []),
          ];
          if (identifiers.length === 0) {
            throw invalid(
              'IDENTIFIER_REQUIRED',
              'Name the identifier: --email, --phone or --identity source:id.',
            );
          }
          const lifted = await asPrivacyOffice(options.workspace, 'write', async (scope) => {
            const n = await liftSuppression(scope.tx, scope.actor.workspaceId, identifiers);
            scope.audit({
              action: 'privacy.unsuppress',
              purpose: scope.purpose,
              customerIds: [],
              fields: identifiers.map((i) => i.kind),
            });
            return n;
          });
          emit(opts, { lifted }, `Lifted ${lifted} suppression${lifted === 1 ? '' : 's'}.`);
        },
      ),
    );
}
