import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, findInvokedCommand } from '../src/cli/commands.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'cornerstore.js');

describe('the CLI loads only the module of the command it runs', () => {
  it('lists in each module exactly the top-level commands the module registers', async () => {
    const seen = new Set<string>();
    for (const module of COMMAND_MODULES) {
      const program = new Command('cornerstore');
      (await module.load())(program);
      const registered = program.commands.map((command) => command.name()).sort();
      expect(registered).toEqual(Object.keys(module.commands).sort());
      for (const name of registered) {
        expect(seen.has(name)).toBe(false);
        seen.add(name);
      }
    }
  });

  it('finds the invoked command past global options and in `help <command>`', () => {
    expect(findInvokedCommand(['node', 'cornerstore', '--json', 'workspace', 'list'])).toBe('workspace');
    expect(findInvokedCommand(['node', 'cornerstore', 'help', 'import'])).toBe('import');
    expect(findInvokedCommand(['node', 'cornerstore', '--help'])).toBeUndefined();
    expect(findInvokedCommand(['node', 'cornerstore'])).toBeUndefined();
  });

  it('prints the help with every command, and a command of a module with its own options', async () => {
    const help = await run(process.execPath, [BIN, '--help']);
    for (const module of COMMAND_MODULES) {
      for (const name of Object.keys(module.commands))
        expect(help.stdout).toMatch(new RegExp(`\\n  ${name}\\b`));
    }
    const workspace = await run(process.execPath, [BIN, 'workspace', '--help']);
    expect(workspace.stdout).toContain('create [options] <name>');
    const unknown = await run(process.execPath, [BIN, 'no-such-command']).catch((error: unknown) => error);
    expect((unknown as { stderr: string }).stderr).toContain("unknown command 'no-such-command'");
  });
});
