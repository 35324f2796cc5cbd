import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { buildApp } from '../src/api/app.ts';
import { loadConfig } from '../src/config.ts';
import { inWorkspace } from '../src/db/index.ts';
import { generateCorruptedRecords } from '../src/identity/index.ts';
import { ensureDefaultWorkspace, openMigratedDatabase } from '../src/runtime.ts';
import { newId } from '../src/shared/ids.ts';
import { getWorkspaceByRef, KeyVerifier } from '../src/workspaces/index.ts';
import { percentile, ROOT } from './lib.ts';

/**
 * `node --import tsx bench/web-search.ts [--customers 240] [--requests 200]`: the agent workspace's
 * search as the page sends it (`GET /v1/customers?q=Jonh Smiht&limit=10&purpose=service` with a staff
 * session cookie, over loopback HTTP) against a server on a fresh embedded data directory holding the
 * browser tests' world (look-alikes and John Smith). Prints wall time per request (p50, p95) and the
 * server process's CPU time per request, one JSON line; run it on two checkouts one after the other to
 * compare them on the same machine.
 */
const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '240' },
    requests: { type: 'string', default: '200' },
    label: { type: 'string', default: 'current' },
  },
});
const requests = Number(args.requests);

const dir = mkdtempSync(join(tmpdir(), 'cornerstore-web-search-'));
const config = loadConfig({ CORNERSTORE_DATA_DIR: dir, CORNERSTORE_VALUE_REFIT_MINUTES: '0' }, ROOT);
const database = await openMigratedDatabase(config);
try {
  await ensureDefaultWorkspace(database, config.dataDir);
  const adminKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  const app = await buildApp(
    { db: database.db, keys: new KeyVerifier(database.db) },
    { bodyLimit: config.bodyLimit, rateLimitPerMinute: 1_000_000, logger: false, version: 'bench' },
  );
  const base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  const workspace = await getWorkspaceByRef(database.db, 'default');
  const generated = generateCorruptedRecords({ records: Number(args.customers), seed: 21 });
  await inWorkspace(database.db, workspace.id, async (tx) => {
    for (const [i, r] of generated.records.entries()) {
      const id = newId();
      await sql`
        INSERT INTO customers (workspace_id, id, given_name, family_name, created_at)
        VALUES (${workspace.id}, ${id}, ${r.givenName}, ${r.surname}, now() + ${i} * interval '1 microsecond')`.execute(
        tx,
      );
      if (r.email !== null) {
        await sql`
          INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, source)
          VALUES (${workspace.id}, ${newId()}, ${id}, 'email', ${r.email}, 'import')`.execute(tx);
      }
    }
  });
  const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  await post('/v1/customers', {
    givenName: 'John',
    familyName: 'Smith',
    language: 'en',
    emails: ['john.smith@example.com'],
    source: 'store',
  });
  const { password } = (await post('/v1/users', { email: 'agent@example.com', role: 'agent' })) as {
    password: string;
  };
  const login = await fetch(`${base}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'default', email: 'agent@example.com', password }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const url = `${base}/v1/customers?q=${encodeURIComponent('Jonh Smiht')}&limit=10&purpose=service`;
  const search = async () => {
    const started = performance.now();
    const response = await fetch(url, { headers: { cookie } });
    const body = (await response.json()) as { customers: { givenName: string | null }[] };
    if (response.status !== 200 || body.customers[0]?.givenName !== 'John') {
      throw new Error(`search answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
    }
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) await search(); // warm up
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < requests; i++) latencies.push(await search());
  const used = process.cpuUsage(cpu);
  await app.close();
  process.stdout.write(
    `${JSON.stringify({
      label: args.label,
      customers: Number(args.customers) + 1,
      requests,
      p50Ms: Number(percentile(latencies, 50).toFixed(1)),
      p95Ms: Number(percentile(latencies, 95).toFixed(1)),
      cpuMsPerRequest: Number(((used.user + used.system) / 1000 / requests).toFixed(2)),
    })}\n`,
  );
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
