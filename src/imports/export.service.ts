import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { listCustomersForExport } from '../customers/index.ts';
import { type DB, inWorkspace } from '../db/index.ts';
import { listInteractionsForExport } from '../interactions/index.ts';
import type { Workspace } from '../workspaces/index.ts';
import { EXPORT_FORMAT_VERSION, EXPORT_HEADER_RECORD } from './import.ts';

/**
 * The export of a whole workspace as NDJSON: a header line, then every customer, then every
 * interaction, each page written as it is read so memory stays constant. The file is what
 * `import workspace` restores.
 */

/** How many rows one page of the export reads. */
const PAGE_SIZE = 1000;

export interface ExportSummary {
  workspaceId: string;
  customers: number;
  interactions: number;
  bytes: number;
  seconds: number;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Writes the workspace to `out`, reading it in one transaction. That transaction runs at the
 * default isolation level, so on a PostgreSQL server taking writes during the export, each page
 * sees what was committed when it was read: an interaction whose customer was created after the
 * customers were read may be written without that customer, and a restore then rejects it into its
 * rejects file rather than losing it silently. For a single snapshot, export from a quiet workspace.
 */
export async function exportWorkspace(
  db: Kysely<DB>,
  workspace: Workspace,
  out: Writable,
): Promise<ExportSummary> {
  const startedAt = performance.now();
  const counts = { customers: 0, interactions: 0, bytes: 0 };
  // A failed write (disk full, closed pipe) surfaces as an event; it ends the export at the next line.
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  out.on('error', onError);
  const emit = async (lines: string): Promise<void> => {
    if (failure) throw failure;
    counts.bytes += Buffer.byteLength(lines);
    await write(out, lines);
  };
  try {
    // One snapshot for the whole file: no interaction without its customer, however busy the workspace.
    await inWorkspace(
      db,
      workspace.id,
      async (tx) => {
        await emit(
          `${JSON.stringify({
            record: EXPORT_HEADER_RECORD,
            version: EXPORT_FORMAT_VERSION,
            workspace,
            exportedAt: new Date().toISOString(),
          })}\n`,
        );
        let after: string | null = null;
        for (;;) {
          const page = await listCustomersForExport(tx, after, PAGE_SIZE);
          if (page.length === 0) break;
          await emit(
            page.map((customer) => `${JSON.stringify({ record: 'customer', ...customer })}\n`).join(''),
          );
          counts.customers += page.length;
          after = page[page.length - 1]?.id ?? null;
          if (page.length < PAGE_SIZE) break;
        }
        after = null;
        for (;;) {
          const page = await listInteractionsForExport(tx, after, PAGE_SIZE);
          if (page.length === 0) break;
          await emit(
            page
              .map((interaction) => `${JSON.stringify({ record: 'interaction', ...interaction })}\n`)
              .join(''),
          );
          counts.interactions += page.length;
          after = page[page.length - 1]?.id ?? null;
          if (page.length < PAGE_SIZE) break;
        }
      },
      { isolation: 'repeatable read' },
    );
  } finally {
    out.off('error', onError);
  }
  if (failure) throw failure;
  return {
    workspaceId: workspace.id,
    ...counts,
    seconds: Math.round(performance.now() - startedAt) / 1000,
  };
}
