import { Command } from 'commander';
import { vi } from 'vitest';

/**
 * Runs `cornerstore <args>` in process with only the commands `register` adds, and captures what it
 * prints and the exit code it set.
 */
export async function runCommands(
  register: (program: Command) => void,
  args: string[],
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const program = new Command('cornerstore').option('--json', 'print machine-readable JSON').exitOverride();
    register(program);
    await program.parseAsync(['node', 'cornerstore', ...args]);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}
