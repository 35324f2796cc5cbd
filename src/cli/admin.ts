import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { inWorkspace, migrateToLatest, openDatabase } from '../db/index.ts';
import { createKeyGoverned, revokeKeyGoverned, withAdministration } from '../governance/index.ts';
import {
  createWorkspace,
  getWorkspaceByRef,
  listApiKeys,
  listWorkspaces,
  operatorActor,
} from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, list, withDatabase } from './output.ts';

/** `serve`, `migrate`, `workspace …` and `key …`. */
export function registerAdminCommands(program: Command): void {
  program
    .command('serve')
    .description('Start the HTTP server (embedded database unless DATABASE_URL is set).')
    .option('--port <port>', 'port to listen on (default: PORT or 3000)')
    .option('--host <host>', 'address to bind (default: HOST or 127.0.0.1)')
    .action(
      action(async (options: { port?: string; host?: string }) => {
        const { serve } = await import('../main.ts');
        const env = { ...process.env };
        if (options.port !== undefined) env.PORT = options.port;
        if (options.host !== undefined) env.HOST = options.host;
        await serve(loadConfig(env));
      }),
    );

  program
    .command('migrate')
    .description('Apply pending database migrations and exit.')
    .action(
      action(async (_options: unknown, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const config = loadConfig();
        const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
        try {
          const report = await migrateToLatest(database.db);
          emit(opts, { ...report, database: database.location }, () =>
            report.applied.length === 0
              ? `Database ${database.location} is up to date (${report.latest}).`
              : `Applied ${report.applied.join(', ')} to ${database.location}.`,
          );
        } finally {
          await database.close();
        }
      }),
    );

  const workspace = program.command('workspace').description('Manage workspaces (tenants).');
  workspace
    .command('create <name>')
    .description('Create a workspace and its first admin API key (shown once).')
    .option('--region <code>', 'default phone region, ISO 3166 (default US)')
    .action(
      action(async (name: string, options: { region?: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const created = await withDatabase((database) =>
          createWorkspace(database.db, { name, defaultRegion: options.region }),
        );
        emit(
          opts,
          { workspace: created.workspace, apiKey: created.apiKey },
          `Created workspace "${created.workspace.name}" (${created.workspace.id}).\nAdmin API key (shown once, store it safely):\n${created.apiKey}`,
        );
      }),
    );
  workspace
    .command('list')
    .description('List workspaces.')
    .action(
      action(async (_options: unknown, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const workspaces = await withDatabase((database) => listWorkspaces(database.db));
        emit(opts, { workspaces }, () =>
          workspaces.length === 0
            ? 'No workspaces yet.'
            : workspaces.map((w) => `${w.id}  ${w.name}  region=${w.settings.defaultRegion}`).join('\n'),
        );
      }),
    );

  const key = program.command('key').description('Manage API keys.');
  key
    .command('create')
    .description('Create an API key with a role and purposes (shown once).')
    .requiredOption('--workspace <id>', 'workspace id or name')
    .requiredOption(
      '--role <role>',
      'owner, admin, agent, marketer, analyst, privacy_officer, auditor or integration',
    )
    .option('--purposes <list>', 'comma-separated purposes (default: all the role may use)', list)
    .option('--name <name>', 'a label for the key')
    .action(
      action(
        async (
          options: { workspace: string; role: string; purposes?: string[]; name?: string },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const created = await withDatabase(async (database) => {
            const ws = await getWorkspaceByRef(database.db, options.workspace);
            const input = { role: options.role, purposes: options.purposes, name: options.name };
            const actor = operatorActor(ws.id);
            return withAdministration(database.db, actor, { requestId: null }, (tx, audit) =>
              createKeyGoverned(tx, actor, input, audit),
            );
          });
          emit(
            opts,
            { apiKey: created.apiKey, key: created.key },
            `Created ${created.key.role} key ${created.key.id} (purposes: ${created.key.purposes.join(', ') || 'none'}).\nAPI key (shown once, store it safely):\n${created.apiKey}`,
          );
        },
      ),
    );
  key
    .command('list')
    .description("List a workspace's API keys (never their secrets).")
    .requiredOption('--workspace <id>', 'workspace id or name')
    .action(
      action(async (options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const keys = await withDatabase(async (database) => {
          const ws = await getWorkspaceByRef(database.db, options.workspace);
          return inWorkspace(database.db, ws.id, (tx) => listApiKeys(tx, ws.id));
        });
        emit(
          opts,
          { keys },
          () =>
            keys
              .map(
                (k) => `${k.id}  ${k.role}  ${k.name}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`,
              )
              .join('\n') || 'No keys.',
        );
      }),
    );
  key
    .command('revoke <keyId>')
    .description('Revoke an API key.')
    .requiredOption('--workspace <id>', 'workspace id or name')
    .action(
      action(async (keyId: string, options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const revoked = await withDatabase(async (database) => {
          const ws = await getWorkspaceByRef(database.db, options.workspace);
          const actor = operatorActor(ws.id);
          return withAdministration(database.db, actor, { requestId: null }, (tx, audit) =>
            revokeKeyGoverned(tx, actor, keyId, audit),
          );
        });
        emit(opts, { key: revoked }, `Revoked key ${revoked.id} at ${revoked.revokedAt}.`);
      }),
    );
}
