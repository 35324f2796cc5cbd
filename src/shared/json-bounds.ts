/**
 * Bounds on JSON input, checked without recursion so that no input can overflow the stack: how deep
 * values nest, and which characters strings (and keys) may hold. Every later walk of a value (the
 * minimiser, validators, the database's JSON parser) may then recurse safely.
 */

/** The deepest nesting accepted anywhere: a request body, an import row, a stored value. */
export const MAX_JSON_DEPTH = 32;

/** Why a value is out of bounds: nested too deep, or a string the database cannot store as text. */
export type JsonBoundsCode = 'JSON_TOO_DEEP' | 'TEXT_INVALID_CHARACTER';

export interface JsonBoundsProblem {
  code: JsonBoundsCode;
  /** Where, as a JSON path relative to the value (`properties.a[2]`; '' for the value itself). */
  path: string;
  message: string;
}

/**
 * NUL (PostgreSQL text cannot hold it) and lone UTF-16 surrogates (not Unicode: no UTF-8 encoding
 * exists, so they would be silently replaced or refused by the database).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when a string can be stored as text unchanged: no NUL, no lone surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number | undefined;
}

function pathOf(frame: Frame | undefined, last?: string): string {
  const keys: (string | number)[] = last === undefined ? [] : [last];
  for (let f = frame; f !== undefined && f.key !== undefined; f = f.parent) keys.push(f.key);
  let path = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as string | number;
    if (typeof key === 'number') path += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) path += path === '' ? key : `.${key}`;
    else path += `[${JSON.stringify(key)}]`;
  }
  return path;
}

function textProblem(path: string, what: 'text' | 'key'): JsonBoundsProblem {
  return {
    code: 'TEXT_INVALID_CHARACTER',
    path,
    message: `${what === 'key' ? 'is a key that holds' : 'holds'} a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`,
  };
}

/**
 * The first bound `value` breaks, if any, found by an iterative walk (an explicit stack, at most
 * one frame per element, so the walk itself is bounded by the size of the value): nesting deeper
 * than `maxDepth` (the value itself is depth 1 when it is an object or array), or a string or key
 * holding NUL or an unpaired surrogate (unless `text` is false).
 */
export function findJsonBoundsProblem(
  value: unknown,
  options: { maxDepth?: number; text?: boolean } = {},
): JsonBoundsProblem | undefined {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const text = options.text ?? true;
  const stack: Frame[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const current = frame.value;
    if (typeof current === 'string') {
      if (text && !isStorableText(current)) return textProblem(pathOf(frame), 'text');
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const depth = frame.depth + 1;
    if (depth > maxDepth) {
      return {
        code: 'JSON_TOO_DEEP',
        path: pathOf(frame),
        message: `nests deeper than ${maxDepth} levels`,
      };
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], depth, parent: frame, key: i });
      }
      continue;
    }
    const keys = Object.keys(current);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      if (text && !isStorableText(key)) return textProblem(pathOf(frame, key), 'key');
      stack.push({ value: (current as Record<string, unknown>)[key], depth, parent: frame, key });
    }
  }
  return undefined;
}
