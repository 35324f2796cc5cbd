import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestWorkspace, ENGINE, type TestWorkspace, useTestApp } from './helpers.ts';

/**
 * A fuzz run over every operation of the OpenAPI document: path parameters, query strings and bodies
 * generated from the operation's own schemas (mostly valid, sometimes any JSON at all), sent with an
 * admin key. Whatever the input, the server must answer, and never with a 5xx.
 */

type Schema = Record<string, unknown>;

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: Schema | undefined;
  /** The success answer is documented as plain text (Prometheus metrics), not JSON. */
  answersText: boolean;
}

/**
 * Requests per operation: enough to reach past validation on most, few enough for a busy machine
 * (FUZZ_RUNS raises it for a longer hunt).
 */
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 6);
/** Longer than any request of this small workspace can take; reaching it means the server hangs. */
const ANSWER_WITHIN_MS = 20_000;

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function stringOf(schema: Schema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({
          min: new Date('1899-06-01T00:00:00Z'),
          max: new Date('2035-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString());
    case 'date':
      return fc
        .date({
          min: new Date('1899-06-01T00:00:00Z'),
          max: new Date('2035-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress();
  }
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(schema.maxLength) ?? 40, 40));
  if (typeof schema.pattern === 'string') {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((s) => s.length <= (num(schema.maxLength) ?? 1e9));
  }
  // Now and then any UTF-16 code units: NUL, lone surrogates, control characters.
  return fc.oneof(
    { arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }), weight: 3 },
    { arbitrary: fc.string({ minLength, maxLength, unit: 'binary' }), weight: 1 },
  );
}

function numberOf(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = num(schema.minimum) ?? num(schema.exclusiveMinimum);
  const max = num(schema.maximum) ?? num(schema.exclusiveMaximum);
  if (integer) {
    const low = min === undefined ? -1_000_000 : Math.ceil(min) + (schema.exclusiveMinimum === min ? 1 : 0);
    const high = max === undefined ? 1_000_000 : Math.floor(max) - (schema.exclusiveMaximum === max ? 1 : 0);
    return fc.integer({ min: low, max: Math.max(low, high) });
  }
  return fc.double({
    noNaN: true,
    noDefaultInfinity: true,
    ...(min === undefined ? {} : { min, minExcluded: schema.exclusiveMinimum === min }),
    ...(max === undefined ? {} : { max, maxExcluded: schema.exclusiveMaximum === max }),
  });
}

/** A value the schema accepts (as far as this small generator reads JSON Schema), nested at most a few levels. */
function arbitraryOf(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return fc.constantFrom(...(schema.enum as unknown[]));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      return fc.oneof(...branches.map((branch) => arbitraryOf(branch as Schema, depth + 1)));
    }
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type];
  const arbitraries = types.flatMap((type): fc.Arbitrary<unknown>[] => {
    switch (type) {
      case 'string':
        return [stringOf(schema)];
      case 'integer':
        return [numberOf(schema, true)];
      case 'number':
        return [numberOf(schema, false)];
      case 'boolean':
        return [fc.boolean()];
      case 'null':
        return [fc.constant(null)];
      case 'array': {
        const minLength = num(schema.minItems) ?? 0;
        const maxLength = Math.max(minLength, Math.min(num(schema.maxItems) ?? 3, 3));
        return [
          fc.array(arbitraryOf(schema.items as Schema | undefined, depth + 1), { minLength, maxLength }),
        ];
      }
      case 'object':
        return [objectOf(schema, depth)];
      default:
        return [];
    }
  });
  return arbitraries.length === 0 ? fc.jsonValue({ maxDepth: 2 }) : fc.oneof(...arbitraries);
}

/** Marks an optional field left out. */
const ABSENT = Symbol('absent');

/** Present in one case of three: a request with every optional field set would rarely be valid. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | typeof ABSENT> {
  return fc.oneof({ arbitrary: fc.constant(ABSENT), weight: 2 }, { arbitrary, weight: 1 });
}

function withoutAbsent(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ABSENT));
}

function objectOf(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties)) {
    const value = arbitraryOf(property, depth + 1);
    model[key] = required.has(key) ? value : sometimes(value);
  }
  const known = fc.record(model).map(withoutAbsent);
  const extra = schema.additionalProperties;
  if (extra === false || extra === undefined) return known;
  const values = extra === true ? fc.jsonValue({ maxDepth: 2 }) : arbitraryOf(extra as Schema, depth + 1);
  return fc
    .tuple(known, fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), values, { maxKeys: 3 }))
    .map(([fields, more]) => ({ ...more, ...fields }));
}

/** Whether the operation documents its success answer as plain text only (the Prometheus metrics). */
function answersTextOnly(operation: Record<string, unknown>): boolean {
  const responses = (operation.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>;
  const types = Object.keys(responses['200']?.content ?? {});
  return types.length > 0 && types.every((type) => type.startsWith('text/plain'));
}

function operationsOf(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = (operation.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)
        ?.content;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []) as Parameter[],
        body: content?.['application/json']?.schema,
        answersText: answersTextOnly(operation),
      });
    }
  }
  return operations;
}

interface Probe {
  url: string;
  body: unknown;
}

describe(`fuzzing every operation of the OpenAPI document (${ENGINE})`, () => {
  const fixture = useTestApp();
  let ws: TestWorkspace;
  let knownIds: string[];

  beforeAll(async () => {
    ws = await createTestWorkspace(fixture.database);
    const customer = await fixture.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: bearer(ws.apiKey),
      payload: { givenName: 'Fuzz', emails: ['fuzz@example.com'] },
    });
    const interaction = await fixture.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: bearer(ws.apiKey),
      payload: {
        type: 'purchase',
        channel: 'web',
        occurredAt: '2024-05-01T10:00:00Z',
        source: 'fuzz',
        externalId: 'f-1',
        customer: { email: 'fuzz@example.com' },
        amount: 12,
        currency: 'EUR',
      },
    });
    knownIds = [customer.json().customer.id, interaction.json().interaction.id];
  });

  /** Path, query and body of one request to `operation`. */
  function probeOf(operation: Operation): fc.Arbitrary<Probe> {
    const pathParams = operation.parameters.filter((p) => p.in === 'path');
    const queryParams = operation.parameters.filter((p) => p.in === 'query');
    const pathValues = fc.tuple(
      ...pathParams.map((p) =>
        p.schema?.format === 'uuid'
          ? fc.oneof(
              fc.constantFrom(...knownIds),
              fc.uuid(),
              fc.string({ maxLength: 40 }),
              // Written into the URL as they are: malformed percent-encodings.
              fc.constantFrom('%ED%A0%80', '%E0%A4%A', '%00', '%', '%FF').map((raw) => ({ raw })),
            )
          : arbitraryOf(p.schema),
      ),
    );
    // The purpose mostly one the key may use; other parameters now and then; never a cursor, which only
    // the server can write.
    const queryValues = fc
      .record(
        Object.fromEntries(
          queryParams
            .filter((p) => p.name !== 'cursor')
            .map((p) => [
              p.name,
              p.name === 'purpose'
                ? fc.oneof(
                    { arbitrary: fc.constantFrom('service', 'marketing', 'analytics', 'legal'), weight: 3 },
                    { arbitrary: arbitraryOf(p.schema), weight: 1 },
                  )
                : sometimes(
                    fc.oneof(
                      { arbitrary: arbitraryOf(p.schema), weight: 4 },
                      { arbitrary: fc.string(), weight: 1 },
                    ),
                  ),
            ]),
        ),
      )
      .map(withoutAbsent);
    // Mostly what the schema describes, sometimes any JSON at all.
    const body =
      operation.body === undefined
        ? fc.constant(undefined)
        : fc.oneof(
            { arbitrary: arbitraryOf(operation.body), weight: 4 },
            { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 1 },
          );
    return fc.tuple(pathValues, queryValues, body).map(([pathValues, query, body]) => {
      let path = operation.path;
      pathParams.forEach((p, i) => {
        const value = pathValues[i];
        const segment =
          typeof value === 'object' && value !== null && 'raw' in value
            ? String(value.raw)
            : encodeURIComponent(String(value));
        path = path.replace(`{${p.name}}`, segment);
      });
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
      }
      const qs = search.toString();
      return { url: qs === '' ? path : `${path}?${qs}`, body };
    });
  }

  async function send(operation: Operation, probe: Probe) {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms: ${operation.method} ${probe.url}`)),
        ANSWER_WITHIN_MS,
      );
    });
    try {
      return await Promise.race([
        fixture.app.inject({
          method: operation.method as 'GET',
          url: probe.url,
          headers: {
            ...bearer(ws.apiKey),
            ...(probe.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(probe.body === undefined ? {} : { payload: JSON.stringify(probe.body) }),
        }),
        hang,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('answers every generated request, never with a 5xx', { timeout: 180_000 }, async () => {
    const doc = (await fixture.app.inject({ url: '/openapi.json' })).json();
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(30);
    const statuses = new Map<string, Set<number>>();
    for (const operation of operations) {
      const name = `${operation.method} ${operation.path}`;
      await fc.assert(
        fc.asyncProperty(probeOf(operation), async (probe) => {
          const res = await send(operation, probe);
          statuses.set(name, (statuses.get(name) ?? new Set()).add(res.statusCode));
          expect(
            res.statusCode,
            `${name} → ${probe.url} ${JSON.stringify(probe.body)}: ${res.body}`,
          ).toBeLessThan(500);
          // Errors are JSON everywhere; a success is JSON unless the document says it is plain text.
          if (res.body !== '' && !(operation.answersText && res.statusCode === 200))
            expect(() => res.json(), `${name} answers JSON`).not.toThrow();
          // Every refusal has the one error shape, with a stable code.
          if (res.statusCode >= 400) {
            expect(res.json(), `${name} → ${probe.url}: ${res.body}`).toMatchObject({
              error: { code: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/), message: expect.any(String) },
            });
          }
        }),
        { numRuns: RUNS_PER_OPERATION, endOnFailure: true },
      );
    }
    // The generated requests reach past validation: some operations answer with success.
    const succeeded = [...statuses.values()].filter((s) => [...s].some((code) => code < 300)).length;
    expect(succeeded).toBeGreaterThanOrEqual(8);
  });
});
