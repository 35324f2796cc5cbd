import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/api/app.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, inWorkspace } from '../src/db/index.ts';
import { generateCorruptedRecords } from '../src/identity/index.ts';
import { ensureDefaultWorkspace, openMigratedDatabase } from '../src/runtime.ts';
import { newId } from '../src/shared/ids.ts';
import { getWorkspaceByRef, KeyVerifier } from '../src/workspaces/index.ts';

/**
 * The web in a real browser (Debian's Chromium driven by playwright-core) against one server on a
 * fresh embedded data directory: sign in, find a misspelled name, record a consent and see it open the
 * email to a marketer, accept an identity review, lower the intimacy level in the customer's portal and
 * see the agent's view close, CSRF and cross-customer attempts refused, and an accessibility check on
 * every page. Screenshots go to browser-output/ (ignored by git); timings to browser-output/timings.json.
 */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEB_ROOT = join(ROOT, 'web/dist');
const OUTPUT = join(ROOT, 'browser-output');
const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is absent: install it (apt-get install -y chromium) to run the browser tests`
  : process.env.TEST_DATABASE_URL
    ? 'the browser tests run once, on the embedded pass'
    : undefined;
if (skipReason) process.stdout.write(`web.browser.test.ts skipped: ${skipReason}\n`);

describe.skipIf(skipReason !== undefined)('the web in a real browser', () => {
  let dir: string;
  let database: Database;
  let app: App;
  let base: string;
  let adminKey: string;
  let browser: Browser;
  let johnId: string;
  const users = { agent: '', marketer: '', admin: '' };
  const timings: { name: string; ms: number }[] = [];

  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    return context.newPage();
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Find a customer' }).waitFor();
  }

  async function collectTimings(page: Page): Promise<void> {
    timings.push(
      ...(await page.evaluate(
        () =>
          (globalThis as unknown as { cornerstoreTimings?: { name: string; ms: number }[] })
            .cornerstoreTimings ?? [],
      )),
    );
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
  }

  /** axe-core in the page: serious and critical violations, by rule. */
  async function accessibilityProblems(page: Page): Promise<string[]> {
    const source = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
    await page.evaluate(source);
    const violations = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: {
            run: () => Promise<{
              violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
            }>;
          };
        }
      ).axe;
      const result = await axe.run();
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        where: v.nodes.map((n) => n.target.join(' ')),
      }));
    });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}) at ${v.where.slice(0, 3).join(', ')}`);
  }

  beforeAll(async () => {
    if (!existsSync(join(WEB_ROOT, 'index.html'))) {
      throw new Error(
        'web/dist is missing: run `npm run build:web` (npm install runs it) before the browser tests.',
      );
    }
    mkdirSync(OUTPUT, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'cornerstore-web-'));
    const config = loadConfig({ CORNERSTORE_DATA_DIR: dir, CORNERSTORE_VALUE_REFIT_MINUTES: '0' }, ROOT);
    database = await openMigratedDatabase(config);
    await ensureDefaultWorkspace(database, config.dataDir);
    adminKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
    app = await buildApp(
      { db: database.db, keys: new KeyVerifier(database.db) },
      {
        bodyLimit: config.bodyLimit,
        rateLimitPerMinute: 100_000,
        logger: false,
        version: 'test',
        webRoot: WEB_ROOT,
      },
    );
    base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');

    // The world: a crowd of look-alikes, resolved to fill the review queue; then John Smith, with his
    // language and email, who is in no pair.
    const workspace = await getWorkspaceByRef(database.db, 'default');
    const generated = generateCorruptedRecords({ records: 240, seed: 21 });
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
    const resolved = await api('POST', '/v1/identity/resolve', { reviewThreshold: 0.02 });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body.queued).toBeGreaterThan(0);
    const john = await api('POST', '/v1/customers', {
      givenName: 'John',
      familyName: 'Smith',
      language: 'en',
      emails: ['john.smith@example.com'],
      phones: ['+14155550123'],
      identities: [{ source: 'loyalty', externalId: 'L-1001' }],
      source: 'store',
    });
    expect(john.status, JSON.stringify(john.body)).toBe(201);
    johnId = john.body.customer.id;
    // John remembers the little things (level 2) and told the store of his gardening: a level-2 fact.
    const level = await api('PUT', `/v1/customers/${johnId}/intimacy`, { level: 2 });
    expect(level.status, JSON.stringify(level.body)).toBe(200);
    const fact = await api('POST', `/v1/customers/${johnId}/facts?purpose=service`, {
      key: 'interest',
      value: 'gardening',
      sourceKind: 'declared',
      source: 'store',
      remember: true,
    });
    expect(fact.status, JSON.stringify(fact.body)).toBe(201);
    // The operations view's fixtures: a webhook, and a dead letter of a subscriber on a stored event.
    const hook = await api('POST', '/v1/recipients', {
      name: 'crm-mirror',
      kind: 'webhook',
      purposes: ['service'],
      url: 'http://127.0.0.1:9/hooks',
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    await inWorkspace(database.db, workspace.id, async (tx) => {
      const eventId = newId();
      await sql`
        INSERT INTO events (workspace_id, id, type, customer_id, payload)
        VALUES (${workspace.id}, ${eventId}, 'customer.updated', ${johnId}, '{}'::jsonb)`.execute(tx);
      await sql`
        INSERT INTO job_failures (workspace_id, subscriber, event_id, attempts, status, error, first_failed_at,
                                  last_failed_at, next_attempt_at)
        VALUES (${workspace.id}, 'search-index', ${eventId}, 8, 'dead', 'UNAVAILABLE: the index did not answer',
                now() - interval '1 hour', now(), NULL)`.execute(tx);
    });

    for (const role of ['agent', 'marketer', 'admin'] as const) {
      const created = await api('POST', '/v1/users', { email: `${role}@example.com`, role });
      expect(created.status).toBe(201);
      users[role] = created.body.password;
    }
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // The world, three slow password hashes and a browser launch: longer than the default on a loaded machine.
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (timings.length > 0)
      writeFileSync(join(OUTPUT, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  });

  it('finds "Jonh Smiht" by keyboard, records a marketing consent, and a marketer then sees the email', async () => {
    const page = await newPage();
    await signIn(page, 'agent@example.com', users.agent);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.keyboard.press('/');
    await page.keyboard.type('Jonh Smiht');
    const first = page.getByRole('list', { name: 'Customers found' }).getByRole('link').first();
    await expect.poll(() => first.textContent()).toContain('John Smith');
    await shot(page, 'search');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'John Smith' }).waitFor();
    await page.getByText('from store').first().waitFor();
    // The 360: identities, facts with the customer's say, and each section as the API answers it for
    // service (no relationship computed yet; recommendations are for outreach purposes only).
    await page.getByRole('list', { name: 'Identities' }).getByText('L-1001').waitFor();
    const facts = page.getByRole('region', { name: 'Facts' });
    await facts
      .getByRole('row', { name: /interest/ })
      .getByText('told us, asked us to remember')
      .waitFor();
    await page.getByRole('region', { name: 'Relationship' }).getByText('Not computed yet').waitFor();
    await page
      .getByRole('region', { name: 'Recommendations' })
      .getByRole('alert')
      .getByText('RECOMMENDATION_PURPOSE_INVALID')
      .waitFor();
    await page
      .getByRole('region', { name: 'Segments' })
      .getByText('In no segment saved for service.')
      .waitFor();
    // Keyboard: the section links move the focus to their heading.
    await page.getByRole('link', { name: 'Facts', exact: true }).press('Enter');
    const focused = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
          .activeElement?.id,
    );
    expect(focused).toBe('facts-title');
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'customer');

    await page.getByLabel('Consent purpose').selectOption('marketing');
    await page.getByLabel('Status').selectOption('granted');
    await page.getByRole('button', { name: 'Record consent' }).click();
    await page.getByText('Recorded: marketing granted.').waitFor();
    await page.getByRole('list', { name: 'Current consents' }).getByText('marketing').waitFor();

    // A note and a correction, then the agent signs out.
    await page.getByLabel('Note', { exact: true }).fill('Asked about the spring catalogue.');
    await page.getByRole('button', { name: 'Save note' }).click();
    await page.getByText('Asked about the spring catalogue.').last().waitFor();
    await collectTimings(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Cornerstore' }).waitFor();

    await signIn(page, 'marketer@example.com', users.marketer);
    await page.getByLabel('Purpose').selectOption('marketing');
    await page.keyboard.press('/');
    await page.keyboard.type('John Smith');
    await page.getByRole('list', { name: 'Customers found' }).getByText('john.smith@example.com').waitFor();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'John Smith' }).waitFor();
    await page.getByRole('list', { name: 'Contact points' }).getByText('john.smith@example.com').waitFor();
    await shot(page, 'customer-marketer');
    await page.context().close();
  });

  it('accepts an identity review side by side and opens the merged customer', async () => {
    const page = await newPage();
    await signIn(page, 'agent@example.com', users.agent);
    await page.getByRole('link', { name: 'Identity reviews' }).click();
    const accept = page.getByRole('button', { name: 'Accept: same person' }).first();
    await accept.waitFor();
    await page.getByRole('table', { name: 'What each field contributed' }).first().waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'identity-review');
    await accept.click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(page.url()).toMatch(/#\/customers\/[0-9a-f-]{36}$/);
    await page.context().close();
  });

  it('lets the customer lower the intimacy level in the portal, and the agent then sees the language withheld', async () => {
    const link = await api('POST', `/v1/customers/${johnId}/portal-links`, { expiresInHours: 1 });
    expect(link.status).toBe(201);
    const portal = await newPage();
    await portal.goto(`${base}${link.body.path}`);
    await portal.getByRole('heading', { name: 'What we know about you' }).waitFor();
    await portal.getByText('John').first().waitFor();
    expect(await accessibilityProblems(portal)).toEqual([]);
    await portal.getByRole('button', { name: 'Choose level 0' }).click();
    await portal.getByText('Your level is now 0: Just the transaction.').waitFor();
    await shot(portal, 'portal');

    // Another customer's id with this link: refused.
    const other = await api('GET', '/v1/customers?limit=1&purpose=service');
    const otherId = other.body.customers.find((c: { id: string }) => c.id !== johnId).id;
    const cross = await portal.evaluate(
      async ({ id, token }) =>
        (await fetch(`/v1/customers/${id}?purpose=legal`, { headers: { authorization: `Portal ${token}` } }))
          .status,
      { id: otherId, token: link.body.token },
    );
    expect(cross).toBe(403);
    await portal.context().close();

    const page = await newPage();
    await signIn(page, 'agent@example.com', users.agent);
    await page.goto(`${base}/#/customers/${johnId}`);
    await page.getByRole('heading', { name: 'John Smith' }).waitFor();
    const withheld = page.getByRole('list', { name: 'Withheld for this purpose' }).first();
    await withheld.getByText('language').waitFor();
    expect(await withheld.textContent()).toContain('intimacy level is too low');
    // The level-2 fact has left the agent's view, and the facts section says why.
    const facts = page.getByRole('region', { name: 'Facts' });
    await facts.getByText('No fact this purpose may see.').waitFor();
    expect(await facts.getByRole('list', { name: 'Withheld for this purpose' }).textContent()).toContain(
      'lowered their intimacy level',
    );
    await page.context().close();
  });

  it('refuses a change sent without the session’s CSRF token, and shows the manager views and staff users', async () => {
    const page = await newPage();
    await signIn(page, 'admin@example.com', users.admin);
    // A page of another site would send the cookie (were SameSite lax) but never know the token.
    const forged = await page.evaluate(async () => {
      const response = await fetch('/v1/customers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ givenName: 'Forged', emails: ['forged@example.com'] }),
      });
      return { status: response.status, body: await response.json() };
    });
    expect(forged).toMatchObject({ status: 403, body: { error: { code: 'CSRF_TOKEN_INVALID' } } });

    await page.getByLabel('Purpose').selectOption('analytics');
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByText(/\d+ customers match for/).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'segments');
    await page.getByRole('link', { name: 'Value' }).click();
    await page.getByRole('table', { name: 'Customers per RFM segment' }).waitFor();
    await shot(page, 'value');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Email').fill('clerk@example.com');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByText(/Created clerk@example.com\. Password \(shown once\)/).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    // Operations: the backbone's dead letter retried, the webhook's secret rotated and its log opened.
    await page.getByLabel('Purpose').selectOption('service');
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.getByRole('heading', { name: 'Event backbone' }).waitFor();
    await page.getByRole('cell', { name: 'UNAVAILABLE: the index did not answer' }).waitFor();
    await page.getByRole('heading', { name: /crm-mirror/ }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'operations');
    await page.getByRole('button', { name: 'Retry customer.updated for search-index' }).click();
    await page.getByText('customer.updated: 1 dead letter back in the queue.').waitFor();
    await page.getByRole('button', { name: 'Rotate the secret of crm-mirror' }).click();
    await page
      .getByText(/New secret \(shown once/)
      .getByText(/^whsec_/)
      .waitFor();
    await page.getByRole('button', { name: 'Show the delivery log of crm-mirror' }).click();
    const log = page.getByText('No delivery yet.').or(page.locator('.delivery-log [role=alert]'));
    await log.waitFor();
    expect(await log.textContent()).toBe('No delivery yet.');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Verify the audit chain' }).click();
    await page.getByText(/The chain holds: \d+ events verified/).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'audit');
    await page.context().close();
  });
});
