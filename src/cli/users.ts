import type { Command } from 'commander';
import { inWorkspace } from '../db/index.ts';
import { withAdministration } from '../governance/index.ts';
import { createUser, listUsers } from '../users/index.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, list, withDatabase } from './output.ts';

/** `user create` and `user list`: the staff who sign in to the web. */
export function registerUserCommands(program: Command): void {
  const user = program
    .command('user')
    .description('Manage staff users of the web (sign-in with email and password).');
  user
    .command('create <email>')
    .description('Create a staff user with a role; without --password one is generated and printed once.')
    .requiredOption('--role <role>', 'owner, admin, agent, marketer, analyst, privacy_officer or auditor')
    .option('--purposes <list>', 'comma-separated purposes (default: all the role may use)', list)
    .option('--password <password>', 'the password (at least 12 characters); omitted: generated')
    .option('--workspace <id>', 'workspace id or name', 'default')
    .action(
      action(
        async (
          email: string,
          options: { role: string; purposes?: string[]; password?: string; workspace: string },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          const created = await withDatabase(async (database) => {
            const ws = await getWorkspaceByRef(database.db, options.workspace);
            const actor = operatorActor(ws.id);
            return withAdministration(database.db, actor, { requestId: null }, async (tx, audit) => {
              const result = await createUser(tx, actor, {
                email,
                role: options.role,
                purposes: options.purposes,
                password: options.password,
              });
              audit({
                action: 'user.create',
                purpose: null,
                customerIds: [],
                fields: [],
                details: { userId: result.user.id, role: result.user.role, purposes: result.user.purposes },
              });
              return result;
            });
          });
          const shown = created.generatedPassword;
          emit(
            opts,
            { user: created.user, ...(shown === undefined ? {} : { password: shown }) },
            `Created ${created.user.role} user ${created.user.email} (purposes: ${created.user.purposes.join(', ') || 'none'}).` +
              (shown === undefined ? '' : `\nPassword (shown once, store it safely):\n${shown}`),
          );
        },
      ),
    );
  user
    .command('list')
    .description("List a workspace's staff users (never their passwords).")
    .option('--workspace <id>', 'workspace id or name', 'default')
    .action(
      action(async (options: { workspace: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const users = await withDatabase(async (database) => {
          const ws = await getWorkspaceByRef(database.db, options.workspace);
          return inWorkspace(database.db, ws.id, (tx) => listUsers(tx, ws.id));
        });
        emit(
          opts,
          { users },
          users.map((u) => `${u.id}  ${u.role.padEnd(16)} ${u.email}`).join('\n') || 'No users.',
        );
      }),
    );
}
