import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('configuration', () => {
  it('takes the audit key from CORNERSTORE_AUDIT_KEY only as 32 or more bytes in hex', () => {
    const key = 'ab'.repeat(32);
    expect(loadConfig({ CORNERSTORE_AUDIT_KEY: ` ${key} ` }, '/srv').auditKey).toBe(key);
    expect(loadConfig({}, '/srv').auditKey).toBeUndefined();
    for (const bad of ['ab'.repeat(31), 'zz'.repeat(32), `${'ab'.repeat(32)}a`]) {
      expect(() => loadConfig({ CORNERSTORE_AUDIT_KEY: bad }, '/srv')).toThrow(/CORNERSTORE_AUDIT_KEY/);
    }
  });
});
