import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { DEFAULT_SUBJECT, loadPrivacySubjects } from '../consent/index.ts';
import { listCustomersForExport } from '../customers/index.ts';
import type { DB } from '../db/index.ts';
import { createRecipient, getRecipient, type Recipient } from '../disclosures/index.ts';
import {
  type AccessScope,
  CustomerGate,
  filterExportedCustomer,
  filterInteraction,
  subjectWhere,
  withAccess,
} from '../governance/index.ts';
import { listInteractionsForExport } from '../interactions/index.ts';
import { forbidden, isAppError } from '../shared/errors.ts';
import type { Actor } from '../workspaces/index.ts';
import { EXPORT_FORMAT_VERSION, EXPORT_HEADER_RECORD } from './import.ts';

/**
 * The export of a workspace as NDJSON, under a purpose and to a recipient: a header line, then every
 * customer the purpose may process, then their interactions, each page written as it is read so memory
 * stays constant. A `legal` export by an owner is what `import workspace` restores.
 */

/** How many rows one page of the export reads. */
const PAGE_SIZE = 1000;

export interface ExportSummary {
  workspaceId: string;
  purpose: string;
  recipient: string;
  customers: number;
  interactions: number;
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
}

/**
 * The recipient of an export: the one named, which must accept the purpose, or the file itself,
 * registered as an `export_file` recipient on first use.
 */
async function exportRecipient(scope: AccessScope, request: ExportRequest): Promise<Recipient> {
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
  const name = `file:${request.fileName}`
    .slice(0, 100)
    .toLowerCase()
    .replace(/[^a-z0-9_.:-]/g, '-');
  return (
    (await findRecipientByName(scope, name)) ??
    createRecipient(
      scope.tx,
      scope.actor,
      { name, kind: 'export_file', purposes: [scope.purpose] },
      () => true,
    )
  );
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
  let recipientName = '';
  try {
    await withAccess(
      db,
      request.actor,
      { purpose: request.purpose, requestId: null, mode: 'read', isolation: 'repeatable read' },
      async (scope) => {
        const { tx } = scope;
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
          for (const customer of page) {
            const gate = new CustomerGate(scope, subjects.get(customer.id) ?? DEFAULT_SUBJECT);
            const shown = filterExportedCustomer(customer, gate);
            if (!shown) continue;
            lines.push(`${JSON.stringify({ record: 'customer', ...shown })}\n`);
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
    ...counts,
    seconds: Math.round(performance.now() - startedAt) / 1000,
  };
}
