import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The import rules deny by default: a folder added under src/ tomorrow is restricted before anyone
 * writes a rule for it. These probes write small files into new folders and run the project's linter
 * on them, as `npm run check` would.
 */

const root = new URL('..', import.meta.url).pathname;
const probes: string[] = [];

function lint(folder: string, file: string, source: string): { ok: boolean; output: string } {
  const dir = join(root, 'src', folder);
  mkdirSync(dir, { recursive: true });
  probes.push(dir);
  writeFileSync(join(dir, file), source);
  const run = spawnSync(join(root, 'node_modules/.bin/biome'), ['lint', join('src', folder)], {
    cwd: root,
    encoding: 'utf8',
  });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

describe('import boundaries', () => {
  const suffix = `${process.pid}`;
  afterAll(() => {
    for (const dir of probes) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a new folder that imports another domain's repository", () => {
    const result = lint(
      `lintprobe${suffix}a`,
      'probe.service.ts',
      "import { findCustomerById } from '../customers/customer.repository.ts';\n\nexport const probe = findCustomerById;\n",
    );
    expect(result.ok).toBe(false);
    expect(result.output).toContain('only through its index.ts');
  });

  it('refuses a new folder that imports an adapter', () => {
    const result = lint(
      `lintprobe${suffix}b`,
      'probe.ts',
      "import { buildApp } from '../api/app.ts';\n\nexport const probe = buildApp;\n",
    );
    expect(result.ok).toBe(false);
    expect(result.output).toContain('never import adapters');
  });

  it('refuses a route that reaches past a domain index', () => {
    const result = lint(
      `api/lintprobe${suffix}`,
      'probe.ts',
      "import { findCustomerById } from '../../customers/customer.repository.ts';\n\nexport const probe = findCustomerById;\n",
    );
    expect(result.ok).toBe(false);
    expect(result.output).toContain('only through its index.ts');
  });

  it('accepts a new folder that uses another domain through its index', () => {
    const result = lint(
      `lintprobe${suffix}c`,
      'probe.ts',
      "import { normaliseEmail } from '../customers/index.ts';\nimport { AppError } from '../shared/errors.ts';\n\nexport const probe = [normaliseEmail, AppError];\n",
    );
    expect(result.output).not.toContain('noRestrictedImports');
    expect(result.ok).toBe(true);
  });
});
