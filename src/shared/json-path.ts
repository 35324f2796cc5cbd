/**
 * Converts a JSON pointer (`/interactions/3/occurredAt`, as validators report it) into the JSON path
 * users read in errors (`interactions[3].occurredAt`), under an optional prefix (`query`, `items[7]`).
 */
export function pointerToPath(pointer: string, prefix = ''): string {
  let path = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  }
  return path === '' ? '(root)' : path;
}
