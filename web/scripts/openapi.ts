import { mkdirSync, writeFileSync } from 'node:fs';
import { buildApp } from '../../src/api/app.ts';
import { openDatabase } from '../../src/db/index.ts';
import { VERSION } from '../../src/runtime.ts';
import { KeyVerifier } from '../../src/workspaces/index.ts';

/**
 * Writes the server's OpenAPI document to web/generated/openapi.json, built from the same route
 * schemas the server serves, so the web's typed client is generated from what the server really
 * answers, at every build. The app is built but never listens and no request reaches the (empty,
 * in-memory) database, so the process exits as soon as the document is written.
 */
const out = new URL('../generated/', import.meta.url);
mkdirSync(out, { recursive: true });
const database = await openDatabase({});
const app = await buildApp(
  { db: database.db, keys: new KeyVerifier(database.db) },
  { bodyLimit: 1 << 20, rateLimitPerMinute: 1000, logger: false, version: VERSION },
);
await app.ready();
writeFileSync(new URL('openapi.json', out), `${JSON.stringify(app.swagger(), null, 2)}\n`);
process.exit(0);
