import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/api/app.ts';
import { KeyVerifier } from '../src/workspaces/index.ts';
import { createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestDatabase } from './helpers.ts';

/** Everything the app logs, as text, at the most verbose level. */
class LogCapture extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe(`request logs carry no personal data (${ENGINE})`, () => {
  const t = useTestDatabase();
  const logs = new LogCapture();
  let app: App;
  let ws: TestWorkspace;

  beforeAll(async () => {
    app = await buildApp(
      { db: t.database.db, keys: new KeyVerifier(t.database.db) },
      {
        bodyLimit: 1 << 20,
        rateLimitPerMinute: 1_000_000,
        logger: { level: 'trace', stream: logs },
        version: 'test',
      },
    );
    ws = await createTestWorkspace(t.database);
  });
  afterAll(async () => {
    await app.close();
  });

  it('logs a session that creates, searches and reads a customer without their name, email or phone', async () => {
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      app.inject({ method, url, headers: reader(ws.apiKey), ...(payload ? { payload } : {}) });
    const created = await call('POST', '/v1/customers', {
      givenName: 'Marisol',
      familyName: 'Quintanilla',
      emails: ['marisol.quintanilla@example.org'],
      phones: ['+1 415 555 0123'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id: string = created.json().customer.id;
    const searches = [
      `/v1/customers?q=${encodeURIComponent('Marisol Quintanilla')}`,
      '/v1/customers?q=Quintanila',
      `/v1/customers?email=${encodeURIComponent('marisol.quintanilla@example.org')}`,
      '/v1/customers?email=marisol.quintanilla@example.org',
      `/v1/customers?phone=${encodeURIComponent('+14155550123')}`,
      `/v1/customers?q=${encodeURIComponent('+1 415 555 0123')}&limit=5`,
    ];
    for (const url of searches) {
      const found = await call('GET', url);
      expect(found.statusCode, url).toBe(200);
      expect(
        found.json().customers.map((c: { id: string }) => c.id),
        url,
      ).toContain(id);
    }
    expect((await call('GET', `/v1/customers/${id}`)).json().customer.givenName).toBe('Marisol');
    const tagged = await app.inject({
      url: `/v1/customers/${id}`,
      headers: { ...reader(ws.apiKey), 'x-request-id': 'desk-7' },
    });
    expect(tagged.headers['x-request-id']).not.toBe('desk-7');
    await app.inject({
      url: `/v1/customers/${id}`,
      headers: { ...reader(ws.apiKey), 'x-request-id': `marisol-${'x'.repeat(200)}` },
    });
    // Refusals quote what they refuse in their messages: those stay in the response, not the log.
    const refused = await call('PATCH', `/v1/customers/${id}`, {
      emails: ['marisol.quintanilla@@example.org'],
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('marisol.quintanilla@@example.org');
    const unknown = await call('GET', '/v1/no-such-route?email=marisol.quintanilla@example.org');
    expect(unknown.statusCode).toBe(404);

    const text = logs.text.toLowerCase();
    // The log is there and names the requests by path.
    expect(text).toContain('"url":"/v1/customers"');
    expect(text).toContain(`"url":"/v1/customers/${id}"`);
    expect(text).toContain('"code":"email_invalid"');
    expect(text).toContain(`"reqid":"${String(tagged.headers['x-request-id'])}","clientrequestid":"desk-7"`);
    for (const needle of [
      'marisol',
      'quintanilla',
      'quintanila',
      'example.org',
      '4155550123',
      '415 555',
      '415%20555',
      '%40example',
    ]) {
      expect(text, needle).not.toContain(needle);
    }
  });
});
