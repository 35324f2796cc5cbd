import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newId } from '../shared/ids.ts';
import { formatApiKey, hashSecret, parseApiKey, verifySecret } from './api-key.ts';
import { assertWorkspaceName, normaliseRegion, resolveKeyPurposes } from './workspace.ts';

describe('API key format', () => {
  it('parses back the workspace and key id it was built from', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (ws, id) => {
        const { apiKey, secret } = formatApiKey(ws, id);
        expect(parseApiKey(apiKey)).toEqual({
          workspaceId: ws.toLowerCase(),
          keyId: id.toLowerCase(),
          secret,
        });
      }),
    );
  });

  it('refuses strings that are not keys', () => {
    fc.assert(fc.property(fc.string(), (text) => parseApiKey(text) === undefined || text.startsWith('cs_')));
    expect(parseApiKey('cs_abc.def.ghi')).toBeUndefined();
    expect(parseApiKey('Bearer x')).toBeUndefined();
    const { apiKey } = formatApiKey(newId(), newId());
    expect(parseApiKey(`${apiKey}x`)).toBeUndefined();
  });

  it('verifies the secret against its slow hash and nothing else', async () => {
    const hash = await hashSecret('s3cret-value');
    expect(hash.startsWith('scrypt$')).toBe(true);
    expect(hash).not.toContain('s3cret-value');
    expect(await verifySecret('s3cret-value', hash)).toBe(true);
    expect(await verifySecret('s3cret-valuf', hash)).toBe(false);
    expect(await verifySecret('s3cret-value', 'plain$garbage')).toBe(false);
  });
});

describe('key purposes', () => {
  it('gives a role all its purposes by default', () => {
    expect(resolveKeyPurposes('agent', undefined)).toEqual({
      role: 'agent',
      purposes: ['service', 'billing', 'fulfilment', 'personalization'],
    });
    expect(resolveKeyPurposes('auditor', []).purposes).toEqual([]);
  });

  it('refuses a purpose the role may not use', () => {
    expect(() => resolveKeyPurposes('agent', ['marketing'])).toThrow(
      expect.objectContaining({ code: 'PURPOSE_NOT_ALLOWED_FOR_ROLE' }),
    );
    expect(() => resolveKeyPurposes('analyst', ['analytics', 'sale'])).toThrow(
      expect.objectContaining({ code: 'PURPOSE_NOT_ALLOWED_FOR_ROLE' }),
    );
  });

  it('requires an integration key to name its purposes, and keeps them unique', () => {
    expect(() => resolveKeyPurposes('integration', undefined)).toThrow(
      expect.objectContaining({ code: 'PURPOSES_REQUIRED' }),
    );
    expect(resolveKeyPurposes('integration', ['service', 'service', 'billing']).purposes).toEqual([
      'service',
      'billing',
    ]);
  });

  it('refuses unknown roles and purposes', () => {
    expect(() => resolveKeyPurposes('god', undefined)).toThrow(
      expect.objectContaining({ code: 'ROLE_INVALID' }),
    );
    expect(() => resolveKeyPurposes('admin', ['spying'])).toThrow(
      expect.objectContaining({ code: 'PURPOSE_INVALID' }),
    );
  });
});

describe('workspace names and regions', () => {
  it('accepts simple names and refuses others', () => {
    expect(() => assertWorkspaceName('acme-eu_1')).not.toThrow();
    for (const bad of ['', 'Acme', '-x', 'a b', 'a'.repeat(64), 'ünï']) {
      expect(() => assertWorkspaceName(bad)).toThrow(
        expect.objectContaining({ code: 'WORKSPACE_NAME_INVALID' }),
      );
    }
  });

  it('upper-cases known regions and refuses unknown ones', () => {
    expect(normaliseRegion(' gb ')).toBe('GB');
    expect(() => normaliseRegion('XX')).toThrow(expect.objectContaining({ code: 'REGION_INVALID' }));
  });
});
