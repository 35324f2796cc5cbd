import { Command } from 'commander';
import { registerAdminCommands } from './cli/admin.ts';
import { registerDemoCommands } from './cli/demo.ts';
import { registerExportCommands } from './cli/export.ts';
import { registerIdentityCommands } from './cli/identity.ts';
import { registerImportCommands } from './cli/import.ts';
import { registerJobCommands } from './cli/jobs.ts';
import { registerPrivacyCommands } from './cli/privacy.ts';
import { registerSegmentCommands } from './cli/segments.ts';
import { registerValueCommands } from './cli/value.ts';
import { VERSION } from './runtime.ts';

/** The command-line composition root: `cornerstore <command>`. */
export function buildProgram(): Command {
  const program = new Command('cornerstore')
    .description('Cornerstore: customers, their history on every channel, and the manners to go with it.')
    .version(VERSION)
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .enablePositionalOptions(false);
  registerAdminCommands(program);
  registerImportCommands(program);
  registerExportCommands(program);
  registerDemoCommands(program);
  registerIdentityCommands(program);
  registerPrivacyCommands(program);
  registerValueCommands(program);
  registerSegmentCommands(program);
  registerJobCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
