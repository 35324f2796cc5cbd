import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A file of the shared development data (`../shared/data/` beside the project, see its README), or
 * undefined when it is absent: tests that need it skip. A checkout kept one level deeper (a worktree
 * under a folder of worktrees) finds the same folder one level up.
 */
export function sharedDataFile(relative: string): string | undefined {
  const root = join(import.meta.dirname, '..');
  for (const base of [join(root, '../shared/data'), join(root, '../../shared/data')]) {
    const file = join(base, relative);
    if (existsSync(file)) return file;
  }
  console.warn(
    `Skipping checks on ${relative}: the shared data folder is absent (see ../shared/data/README.md).`,
  );
  return undefined;
}
