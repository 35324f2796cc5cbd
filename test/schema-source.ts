import { readFileSync } from 'node:fs';

/** The tables and columns `db/schema.ts` declares, read from its source (types are erased at run time). */
export function declaredTables(): Map<string, Map<string, string>> {
  const source = readFileSync(new URL('../src/db/schema.ts', import.meta.url), 'utf8');
  const interfaces = new Map<string, Map<string, string>>();
  for (const match of source.matchAll(/export interface (\w+) \{\n([\s\S]*?)\n\}/g)) {
    const [, name = '', body = ''] = match;
    const fields = new Map<string, string>();
    for (const line of body.split('\n')) {
      const field = /^ {2}(\w+)\??: (.+);$/.exec(line);
      if (field?.[1] && field[2]) fields.set(field[1], field[2]);
    }
    if (name === 'DB') {
      const tables = interfaces.get('DB') ?? new Map<string, string>();
      for (const [table, type] of fields) tables.set(table, type);
      interfaces.set('DB', tables);
    } else {
      interfaces.set(name, fields);
    }
  }
  const tables = new Map<string, Map<string, string>>();
  for (const [table, typeName] of interfaces.get('DB') ?? []) {
    tables.set(table, interfaces.get(typeName) ?? new Map());
  }
  return tables;
}
