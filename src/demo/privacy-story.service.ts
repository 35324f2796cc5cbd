import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../db/index.ts';
import {
  createGovernedCustomer,
  recordConsentGoverned,
  shareCustomer,
  withAccess,
} from '../governance/index.ts';
import {
  completePrivacyRequest,
  createPrivacyRequest,
  type PrivacyNotification,
  readCustomerRecipients,
} from '../privacy/index.ts';
import { isAppError } from '../shared/errors.ts';
import { deliverDueWebhooks, registerRecipientWithWebhook } from '../webhooks/index.ts';
import { createWorkspace, operatorActor } from '../workspaces/index.ts';

/**
 * The story that started the product, told with the real paths (`cornerstore demo --privacy-story`): a
 * clerk misspells a customer's name, the customer opts in to sharing and the record goes to two partners
 * — one a webhook receiver the story starts on 127.0.0.1, one a partner written to by hand. The
 * rectification then reaches both: the webhook notice is delivered and signed, the other waits in the
 * manual queue. Then the customer asks to be erased; every partner is told, and the suppression list
 * stops a later import from silently bringing the misspelled name back.
 */

/** What the story did, step by step, for printing. */
export interface PrivacyStory {
  workspace: string;
  customerId: string;
  steps: string[];
  notifications: { recipient: string; channel: string; cause: string; status: string }[];
  webhookReceived: { id: string; type: string }[];
  reimport: string;
}

/** Runs the story in a workspace of its own; `settle` dispatches the events written so far (the backbone). */
export async function runPrivacyStory(
  database: Database,
  options: { settle: () => Promise<void> },
): Promise<PrivacyStory> {
  const received: { id: string; type: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string };
      received.push({ id: String(req.headers['webhook-id']), type: body.type ?? '' });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/partner`;
    const { workspace } = await createWorkspace(database.db, {
      name: `privacy-story-${Date.now().toString(36)}`,
    });
    const actor = operatorActor(workspace.id);
    const as = (purpose: string) => ({ purpose, requestId: null, mode: 'write' as const });
    const steps: string[] = [];
    const email = `jane.${workspace.id.slice(0, 8)}@example.org`;

    const customerId = await withAccess(database.db, actor, as('service'), async (scope) => {
      const customer = await createGovernedCustomer(scope, {
        givenName: 'Jane',
        familyName: 'Smiht',
        emails: [email],
      });
      return customer.id;
    });
    steps.push('A clerk enters Jane "Smiht" at the till (the name is misspelled).');
    await withAccess(database.db, actor, as('legal'), async (scope) => {
      await recordConsentGoverned(scope, customerId, {
        purpose: 'third_party_sharing',
        status: 'granted',
        explicit: true,
        evidence: { form: 'card application' },
      });
      await registerRecipientWithWebhook(scope, {
        name: 'card-partner',
        kind: 'webhook',
        url,
        purposes: ['third_party_sharing'],
        events: ['field_rectified'],
      });
      await registerRecipientWithWebhook(scope, {
        name: 'mail-order-partner',
        kind: 'partner',
        purposes: ['third_party_sharing'],
      });
    });
    await withAccess(database.db, actor, as('third_party_sharing'), async (scope) => {
      await shareCustomer(scope, customerId, 'card-partner');
      await shareCustomer(scope, customerId, 'mail-order-partner');
    });
    steps.push('She opts in to sharing; her record goes to card-partner (a webhook) and mail-order-partner.');

    await withAccess(database.db, actor, as('legal'), async (scope) => {
      const request = await createPrivacyRequest(scope, {
        customerId,
        kind: 'rectification',
        changes: [{ field: 'familyName', value: 'Smith' }],
        verifiedBy: 'id_document',
      });
      await completePrivacyRequest(scope, request.id);
    });
    await options.settle();
    await deliverDueWebhooks(database.db, { workspaceIds: [workspace.id] });
    steps.push(
      'She asks for the correction: Smith. Both partners are told (one webhook, one manual letter).',
    );

    await withAccess(database.db, actor, as('legal'), async (scope) => {
      const request = await createPrivacyRequest(scope, {
        customerId,
        kind: 'erasure',
        verifiedBy: 'id_document',
      });
      await completePrivacyRequest(scope, request.id);
    });
    await deliverDueWebhooks(database.db, { workspaceIds: [workspace.id] });
    steps.push('She cancels and asks to be erased: everything goes, and every partner is told again.');

    let reimport = 'the re-import was accepted (unexpected)';
    try {
      await withAccess(database.db, actor, as('service'), (scope) =>
        createGovernedCustomer(scope, { givenName: 'Jane', familyName: 'Smiht', emails: [email] }),
      );
    } catch (error) {
      if (!isAppError(error) || error.code !== 'CUSTOMER_SUPPRESSED') throw error;
      reimport = `refused: ${error.code} (the suppression list holds a keyed hash of her email)`;
    }
    steps.push(`An old mailing list is imported again with "Jane Smiht": ${reimport}.`);

    const recipients = await withAccess(database.db, actor, { ...as('legal'), mode: 'read' }, (scope) =>
      readCustomerRecipients(scope, customerId),
    );
    const notifications = recipients
      .flatMap((r) => r.notifications)
      .map((n: PrivacyNotification) => ({
        recipient: n.recipient.name,
        channel: n.channel,
        cause: n.cause,
        status: n.status,
      }));
    return {
      workspace: workspace.name,
      customerId,
      steps,
      notifications,
      webhookReceived: received,
      reimport,
    };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
