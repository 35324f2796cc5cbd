import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The package promises Node ≥ 20 (`engines` in package.json): every package the lockfile installs must
 * run there too, so `npm install` on Node 20 warns about nothing. Checked against Node 20.19, the line
 * of Node 20 that current tooling targets.
 */
const NODE_20 = [20, 19, 0] as const;

type Version = readonly [number, number, number];

function parse(text: string): { version: Version; parts: number } {
  const numbers = text.replace(/^v/, '').split('-')[0]?.split('.') ?? [];
  const read = (i: number) =>
    numbers[i] === undefined || /^[x*]$/i.test(numbers[i] ?? '') ? undefined : Number(numbers[i]);
  const parts = [read(0), read(1), read(2)].filter((n) => n !== undefined).length;
  return { version: [read(0) ?? 0, read(1) ?? 0, read(2) ?? 0], parts };
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** Whether `version` satisfies one comparator: `>=18`, `^20.19.0`, `~1.2`, `20`, `<23`, `*`. */
function satisfiesComparator(version: Version, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=|\^|~)?\s*(.*)$/.exec(comparator.trim());
  const [, op = '', rest = ''] = match ?? [];
  if (rest === '' || rest === '*' || /^x$/i.test(rest)) return true;
  const { version: bound, parts } = parse(rest);
  const c = compare(version, bound);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '^':
      return c >= 0 && version[0] === bound[0] && (bound[0] !== 0 || version[1] === bound[1]);
    case '~':
      return c >= 0 && version[0] === bound[0] && (parts < 2 || version[1] === bound[1]);
    default:
      // `20` or `20.1`: that major (and minor); `=20.1.0`: exactly.
      return version.slice(0, parts).every((n, i) => n === bound[i]);
  }
}

function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => satisfiesComparator(version, comparator)),
  );
}

describe('Node engines', () => {
  it('reads ranges as npm does', () => {
    expect(satisfies(NODE_20, '>=20')).toBe(true);
    expect(satisfies(NODE_20, '>=22')).toBe(false);
    expect(satisfies(NODE_20, '18 || 20 || >=22')).toBe(true);
    expect(satisfies(NODE_20, '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies(NODE_20, '^20.20.0')).toBe(false);
    expect(satisfies(NODE_20, '>= 14.16')).toBe(true);
  });

  it('installs only packages that run on the Node the package promises', () => {
    const root = join(import.meta.dirname, '..');
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(satisfies(NODE_20, manifest.engines.node)).toBe(true);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        { version?: string; engines?: { node?: string } | string[]; optional?: boolean }
      >;
    };
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => {
        const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        // Optional platform binaries are skipped by npm where they do not fit, without a warning.
        return path !== '' && node !== undefined && !entry.optional && !satisfies(NODE_20, node);
      })
      .map(([path, entry]) => `${path.replace(/^.*node_modules\//, '')}@${entry.version}`);
    expect(refusing).toEqual([]);
  });
});
