import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonBoundsProblem, isStorableText, MAX_JSON_DEPTH } from './json-bounds.ts';

function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

describe('JSON bounds', () => {
  it('accepts nesting up to the limit and refuses one level more, with the path', () => {
    expect(findJsonBoundsProblem(nestedArrays(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findJsonBoundsProblem(nestedArrays(MAX_JSON_DEPTH + 1))).toMatchObject({
      code: 'JSON_TOO_DEEP',
      path: '[0]'.repeat(MAX_JSON_DEPTH),
    });
  });

  it('walks a million levels without recursion', () => {
    expect(findJsonBoundsProblem(JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`))?.code).toBe(
      'JSON_TOO_DEEP',
    );
  });

  it('finds NUL and lone surrogates in values and keys, and accepts paired surrogates', () => {
    expect(findJsonBoundsProblem({ a: [{ b: 'x\u0000' }] })).toMatchObject({
      code: 'TEXT_INVALID_CHARACTER',
      path: 'a[0].b',
    });
    expect(findJsonBoundsProblem({ 'odd key': { '\uDC00': 1 } })?.path).toBe('["odd key"]["\\udc00"]');
    expect(findJsonBoundsProblem({ a: 'x\uD83D' })?.path).toBe('a');
    expect(findJsonBoundsProblem({ a: '😀 \uD83D\uDE00' })).toBeUndefined();
    expect(findJsonBoundsProblem({ a: 'x\u0000' }, { text: false })).toBeUndefined();
  });

  it('agrees with a UTF-8 round trip on what text can be stored', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const roundTrips = Buffer.from(text, 'utf8').toString('utf8') === text;
        expect(isStorableText(text)).toBe(roundTrips && !text.includes('\u0000'));
      }),
    );
  });
});
