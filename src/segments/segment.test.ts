import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE_TAXONOMY, compileAccess } from '../policy/index.ts';
import { AppError } from '../shared/errors.ts';
import {
  assertConditionsAllowed,
  assertSegmentDefinition,
  computeGateLevel,
  computeWindowDays,
  evaluateTruth,
  isDynamic,
  listConditions,
  type SegmentNode,
} from './segment.ts';

const NOW = new Date('2024-07-01T00:00:00Z');
const rulesOf = (purpose: string) =>
  compileAccess(BASE_TAXONOMY, { role: 'owner', purposes: [] }, purpose, NOW).fieldRule;

function problemsOf(definition: unknown): { path: string; message: string }[] {
  try {
    assertSegmentDefinition(definition);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError & { details: { errors: { path: string; message: string }[] } }).details.errors;
  }
}

describe('the segment filter language', () => {
  it('accepts a tree of all, any, not, fields and aggregates', () => {
    const definition = {
      all: [
        { field: 'rfm.segment', op: 'in', value: ['champions', 'loyal'] },
        { not: { aggregate: 'count', type: 'complaint', within: 'P90D', op: 'gte', value: 1 } },
        {
          any: [
            { field: 'birthDate.month', op: 'eq', value: 7 },
            { field: 'clv', op: 'between', value: [10, 99.5] },
          ],
        },
        { aggregate: 'last', type: 'purchase', op: 'lt', value: 'P30D' },
      ],
    };
    const node = assertSegmentDefinition(definition);
    expect(listConditions(node).map((c) => c.path)).toEqual([
      'definition.all[0]',
      'definition.all[1].not',
      'definition.all[2].any[0]',
      'definition.all[2].any[1]',
      'definition.all[3]',
    ]);
    expect(isDynamic(node)).toBe(true);
    expect(isDynamic({ field: 'language', op: 'eq', value: 'fr' })).toBe(false);
  });

  it('names each problem at its JSON path', () => {
    expect(
      problemsOf({
        any: [
          { field: 'shoeSize', op: 'eq', value: 1 },
          { field: 'rfm.segment', op: 'eq', value: 'royalty' },
          { aggregate: 'count', within: 'P3M', op: 'gte', value: -1 },
          { aggregate: 'sum', op: 'exists', value: true },
          { all: [] },
        ],
      }).map((p) => p.path),
    ).toEqual([
      'definition.any[0].field',
      'definition.any[1].value',
      'definition.any[2].within',
      'definition.any[2].value',
      'definition.any[3].currency',
      'definition.any[3].op',
      'definition.any[4].all',
    ]);
  });

  it('never throws anything but a validation error on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          assertSegmentDefinition(value);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe('SEGMENT_DEFINITION_INVALID');
        }
      }),
    );
  });

  it('reads windows as days', () => {
    expect([computeWindowDays('P90D'), computeWindowDays('P2W'), computeWindowDays(7)]).toEqual([90, 14, 7]);
    expect([computeWindowDays('P1M'), computeWindowDays(0), computeWindowDays('90')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('access in the filter language', () => {
  it('refuses a category the purpose may never read, and gates one opened from an intimacy level', () => {
    const byName: SegmentNode = { field: 'givenName', op: 'eq', value: 'Ana' };
    expect(() => assertConditionsAllowed(byName, 'analytics', rulesOf('analytics'))).toThrow(
      expect.objectContaining({ code: 'FILTER_NOT_ALLOWED' }),
    );
    const score = { field: 'clv', op: 'gt', value: 1 } as const;
    expect(computeGateLevel(score, rulesOf('marketing'))).toBe(3);
    expect(computeGateLevel(score, rulesOf('service'))).toBe(0);
    expect(
      computeGateLevel(
        { aggregate: 'count', type: 'life_event_declared', op: 'gte', value: 1 },
        rulesOf('service'),
      ),
    ).toBe(3);
  });

  it('combines conditions with three-valued logic: unknown never becomes true under not', () => {
    const node: SegmentNode = {
      not: {
        any: [
          { field: 'clv', op: 'gt', value: 1 },
          { field: 'language', op: 'eq', value: 'fr' },
        ],
      },
    };
    const at = (a: boolean | null, b: boolean | null) =>
      evaluateTruth(
        node,
        new Map([
          ['definition.not.any[0]', a],
          ['definition.not.any[1]', b],
        ]),
      );
    expect(at(null, false)).toBeNull();
    expect(at(null, true)).toBe(false);
    expect(at(false, false)).toBe(true);
  });
});
