import { Command } from 'commander';
import { registerCommands } from './cli/commands.ts';
import { VERSION } from './version.ts';

/**
 * The command-line composition root: `cornerstore <command>`. Only the module of the command being run
 * is imported (`cli/commands.ts`), so the help and the version answer at once.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('cornerstore')
    .description('Cornerstore: customers, their history on every channel, and the manners to go with it.')
    .version(VERSION)
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .enablePositionalOptions(false);
  await registerCommands(program, argv);
  return program;
}

await (await buildProgram(process.argv)).parseAsync(process.argv);
