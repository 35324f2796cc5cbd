// Starts `cornerstore serve` once on the data directory named by CORNERSTORE_DATA_DIR (port 0), prints
// the milliseconds until it listens, then stops it gracefully. Plain JavaScript so that timing it from
// outside (e.g. `/usr/bin/time -v node bench/start-once.mjs`) measures the server, not a loader.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const started = performance.now();
const child = spawn(process.execPath, [join(root, 'bin', 'cornerstore.js'), 'serve'], {
  env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk.toString();
  if (/listening on /.test(out) && !child.killed) {
    process.stdout.write(`listening after ${Math.round(performance.now() - started)} ms\n`);
    child.kill('SIGTERM');
  }
});
child.on('exit', (code, signal) => {
  if (!/listening on /.test(out)) {
    process.stderr.write(`server exited (${code ?? signal}) before listening:\n${out}`);
    process.exitCode = 1;
  }
});
