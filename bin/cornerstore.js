#!/usr/bin/env node
// The package binary. It runs the JavaScript compiled into dist/ by the install step (`prepare`, or
// `npm run build`), so no command pays for compiling TypeScript at start. In a checkout whose sources
// changed after that build, it runs the TypeScript sources through the development loader instead:
// an edited source file is never shadowed by a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const built = join(root, 'dist', 'cli.js');

function sourcesNewerThan(time) {
  const src = join(root, 'src');
  if (!existsSync(src)) return false;
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    if (statSync(join(entry.parentPath, entry.name)).mtimeMs > time) return true;
  }
  return false;
}

if (existsSync(built) && !sourcesNewerThan(statSync(built).mtimeMs)) {
  await import(built);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'cornerstore: the compiled JavaScript in dist/ is missing or older than src/, and the TypeScript\n' +
        'loader (a development dependency) is not installed. Run `npm run build` to compile.\n',
    );
    process.exit(1);
  }
  register();
  await import('../src/cli.ts');
}
