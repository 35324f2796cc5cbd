import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { getAuditKeys } from '../audit/index.ts';
import { DEFAULT_SUBJECT, loadPrivacySubjects } from '../consent/index.ts';
import { listCustomersForExport } from '../customers/index.ts';
import type { DB } from '../db/index.ts';
import { createRecipient, getRecipient, type Recipient } from '../disclosures/index.ts';
import { listCurrentFacts, type StoredFact } from '../facts/index.ts';
import {
  type AccessScope,
  CustomerGate,
  filterExportedCustomer,
  filterFacts,
  filterInteraction,
  subjectWhere,
  withAccess,
} from '../governance/index.ts';
import { listInteractionsForExport } from '../interactions/index.ts';
import { forbidden, isAppError } from '../shared/errors.ts';
import type { Actor } from '../workspaces/index.ts';
import { writeBackup } from './backup.service.ts';
import { EXPORT_FORMAT_VERSION, EXPORT_HEADER_RECORD } from './import.ts';

/**
 * The export of a workspace as NDJSON, under a purpose and to a recipient, each page written as it is
 * read so memory stays constant. Two formats: `records`, a header line, then every customer the purpose
 * may process, then their interactions, with the fields it may see; and `backup` (an owner's `legal`
 * export, the default for that purpose), every row of every table of the workspace, which `import
 * workspace` restores to the identical state (backup.service.ts).
 */

/** What an export file holds: a purpose's view of customers and interactions, or the whole workspace. */
export type ExportFormat = 'records' | 'backup';

/** How many rows one page of the export reads. */
const PAGE_SIZE = 1000;

export interface ExportSummary {
  workspaceId: string;
  purpose: string;
  recipient: string;
  format: ExportFormat;
  customers: number;
  interactions: number;
  /** A backup: rows per table. */
  tables?: Record<string, number>;
  bytes: number;
  seconds: number;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Who exports, for which purpose, to which recipient. */
export interface ExportRequest {
  actor: Actor;
  purpose: string;
  /** A registered recipient's id or name; the file itself (kind export_file) when omitted. */
  recipient?: string | undefined;
  /** What the file is called, to register it as a recipient when none is named. */
  fileName: string;
  /** `backup` for an owner's `legal` export unless `records` is asked for; `records` otherwise. */
  format?: ExportFormat | undefined;
}

/** The format of an export: a backup only for an owner and the purpose legal. */
function formatOf(request: ExportRequest): ExportFormat {
  const format =
    request.format ?? (request.purpose === 'legal' && request.actor.role === 'owner' ? 'backup' : 'records');
  if (format === 'backup' && (request.purpose !== 'legal' || request.actor.role !== 'owner')) {
    throw forbidden(
      'EXPORT_BACKUP_NOT_ALLOWED',
      'A backup holds everything stored: only an owner writes one, for the purpose legal (--purpose legal).',
      { purpose: request.purpose, role: request.actor.role },
    );
  }
  return format;
}

/**
 * The recipient of an export: the one named, which must accept the purpose, or the file itself,
 * registered as an `export_file` recipient on first use.
 */
async function exportRecipient(scope: AccessScope, request: ExportRequest): Promise<Recipient> {
  const found = await findExportRecipient(scope, request);
  return found ?? createFileRecipient(scope, request);
}

function fileRecipientName(request: ExportRequest): string {
  return `file:${request.fileName}`
    .slice(0, 100)
    .toLowerCase()
    .replace(/[^a-z0-9_.:-]/g, '-');
}

function createFileRecipient(scope: AccessScope, request: ExportRequest): Promise<Recipient> {
  return createRecipient(
    scope.tx,
    scope.actor,
    { name: fileRecipientName(request), kind: 'export_file', purposes: [scope.purpose] },
    () => true,
  );
}

/** The recipient named (which must accept the purpose), or the file's recipient if registered before; reads only. */
async function findExportRecipient(
  scope: AccessScope,
  request: ExportRequest,
): Promise<Recipient | undefined> {
  if (request.recipient !== undefined) {
    const recipient = await getRecipient(scope.tx, scope.actor.workspaceId, request.recipient);
    if (!recipient.purposes.includes(scope.purpose)) {
      throw forbidden(
        'RECIPIENT_PURPOSE_NOT_ALLOWED',
        `The recipient "${recipient.name}" may receive data only for ${recipient.purposes.join(', ')}, not for ${scope.purpose}.`,
        { recipient: recipient.name, purpose: scope.purpose, purposes: recipient.purposes },
      );
    }
    return recipient;
  }
  return findRecipientByName(scope, fileRecipientName(request));
}

async function findRecipientByName(scope: AccessScope, name: string): Promise<Recipient | undefined> {
  try {
    return await getRecipient(scope.tx, scope.actor.workspaceId, name);
  } catch (error) {
    if (isAppError(error) && error.code === 'RECIPIENT_NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * Writes the workspace to `out` as the purpose may see it, in one snapshot (repeatable read): customers
 * the purpose may not process are left out (the subject condition is part of the query), every field is
 * decided, interactions of left-out customers or unreadable types are left out. Every customer written
 * gets a disclosure to the recipient and every page an audit event, committed with the snapshot. An
 * export for `legal` by an owner holds everything stored and is what `import workspace` restores.
 */
export async function exportWorkspace(
  db: Kysely<DB>,
  request: ExportRequest,
  out: Writable,
): Promise<ExportSummary> {
  const startedAt = performance.now();
  const format = formatOf(request);
  const counts: { customers: number; interactions: number; bytes: number; tables?: Record<string, number> } =
    {
      customers: 0,
      interactions: 0,
      bytes: 0,
    };
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
  let recipientName = '';
  try {
    await withAccess(
      db,
      request.actor,
      { purpose: request.purpose, requestId: null, mode: 'read', isolation: 'repeatable read' },
      async (scope) => {
        const { tx } = scope;
        if (format === 'backup') {
          // Everything is read first, in the snapshot; the export's own records (the file's recipient,
          // the disclosures, the audit events) come after, so the backup is the state before them.
          const found = await findExportRecipient(scope, request);
          recipientName = found?.name ?? fileRecipientName(request);
          const written = await writeBackup(
            scope,
            { recipient: recipientName, auditKeys: getAuditKeys(db) },
            emit,
          );
          const recipient = found ?? (await createFileRecipient(scope, request));
          for (let i = 0; i < written.customerIds.length; i += PAGE_SIZE) {
            const page = written.customerIds.slice(i, i + PAGE_SIZE);
            scope.disclose(page, ['backup'], recipient.id);
            scope.audit({
              action: 'export.backup',
              purpose: scope.purpose,
              customerIds: page,
              fields: ['backup'],
              details: { recipient: recipient.name },
            });
          }
          counts.customers = written.tables.customers ?? 0;
          counts.interactions = written.tables.interactions ?? 0;
          counts.tables = written.tables;
          return;
        }
        const recipient = await exportRecipient(scope, request);
        recipientName = recipient.name;
        await emit(
          `${JSON.stringify({
            record: EXPORT_HEADER_RECORD,
            version: EXPORT_FORMAT_VERSION,
            workspace: scope.workspace,
            purpose: scope.purpose,
            recipient: recipient.name,
            exportedAt: scope.now.toISOString(),
          })}\n`,
        );
        const where = subjectWhere(scope.access.subjectCondition);
        let after: string | null = null;
        for (;;) {
          const page = await listCustomersForExport(tx, after, PAGE_SIZE, where);
          if (page.length === 0) break;
          const subjects = await loadPrivacySubjects(
            tx,
            scope.actor.workspaceId,
            page.map((c) => c.id),
          );
          const lines: string[] = [];
          const written: string[] = [];
          const facts = new Map<string, StoredFact[]>();
          for (const fact of await listCurrentFacts(
            tx,
            scope.actor.workspaceId,
            page.map((c) => c.id),
          )) {
            facts.set(fact.customerId, [...(facts.get(fact.customerId) ?? []), fact]);
          }
          for (const customer of page) {
            const subject = subjects.get(customer.id) ?? DEFAULT_SUBJECT;
            const gate = new CustomerGate(scope, subject);
            const shown = filterExportedCustomer(customer, gate);
            if (!shown) continue;
            lines.push(`${JSON.stringify({ record: 'customer', ...shown })}\n`);
            // The facts the purpose may see follow their customer (the memory rules and the decision apply).
            for (const fact of filterFacts(scope, gate, subject, facts.get(customer.id) ?? [])) {
              lines.push(`${JSON.stringify({ record: 'fact', customerId: customer.id, ...fact })}\n`);
            }
            written.push(customer.id);
            scope.disclose([customer.id], [...gate.used], recipient.id);
          }
          await emit(lines.join(''));
          scope.audit({
            action: 'export.customers',
            purpose: scope.purpose,
            customerIds: written,
            fields: ['customer'],
            details: { recipient: recipient.name },
          });
          counts.customers += written.length;
          after = page[page.length - 1]?.id ?? null;
          if (page.length < PAGE_SIZE) break;
        }
        after = null;
        for (;;) {
          const page = await listInteractionsForExport(tx, after, PAGE_SIZE);
          if (page.length === 0) break;
          const subjects = await loadPrivacySubjects(
            tx,
            scope.actor.workspaceId,
            page.map((i) => i.customerId),
          );
          const gates = new Map<string, CustomerGate>();
          const lines: string[] = [];
          const customers = new Set<string>();
          for (const interaction of page) {
            const subject = subjects.get(interaction.customerId);
            if (!subject) continue;
            let gate = gates.get(interaction.customerId);
            if (!gate) {
              gate = new CustomerGate(scope, subject);
              gates.set(interaction.customerId, gate);
            }
            if (!gate.open) continue;
            const shown = filterInteraction(interaction, gate);
            if (!shown) continue;
            lines.push(`${JSON.stringify({ record: 'interaction', ...shown })}\n`);
            customers.add(interaction.customerId);
          }
          await emit(lines.join(''));
          for (const [customerId, gate] of gates) {
            if (customers.has(customerId))
              scope.disclose([customerId], ['interactions', ...gate.used], recipient.id);
          }
          scope.audit({
            action: 'export.interactions',
            purpose: scope.purpose,
            customerIds: [...customers],
            fields: ['interactions'],
            details: { recipient: recipient.name },
          });
          counts.interactions += lines.length;
          after = page[page.length - 1]?.id ?? null;
          if (page.length < PAGE_SIZE) break;
        }
      },
    );
  } finally {
    out.off('error', onError);
  }
  if (failure) throw failure;
  return {
    workspaceId: request.actor.workspaceId,
    recipient: recipientName,
    purpose: request.purpose,
    format,
    ...counts,
    seconds: Math.round(performance.now() - startedAt) / 1000,
  };
}
