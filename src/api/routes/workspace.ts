import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { createKeyGoverned, listKeysGoverned, revokeKeyGoverned } from '../../governance/index.ts';
import { PURPOSES, ROLES } from '../../shared/access.ts';
import { getWorkspace, updateSettings } from '../../workspaces/index.ts';
import { type ApiDeps, idempotentWrite, inCallerWorkspace, withCallerAdministration } from '../context.ts';
import { errorResponses } from '../schemas.ts';

const Settings = Type.Object({
  defaultRegion: Type.String({ description: 'ISO 3166 region for phone numbers without a country code.' }),
  autoCreateCustomers: Type.Boolean({
    description: 'Create the customer when an interaction names an unknown identity.',
  }),
  doNotStore: Type.Union([Type.Literal('reject'), Type.Literal('strip')], {
    description:
      'A payload carrying a do-not-store category (card numbers, bank accounts, government ids in clear): ' +
      'reject refuses the item with POLICY_DO_NOT_STORE; strip stores it without them and lists what was dropped.',
  }),
  linkVerifiedContacts: Type.Boolean({
    description:
      'An interaction naming its customer by email or phone links to the customer holding that value verified, ' +
      'before an older customer holding it unverified (off: the oldest holder).',
  }),
  sourceTrust: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    maxItems: 50,
    description:
      'Source systems from most to least trusted: in a merge, each golden-record field keeps the value of the ' +
      'most trusted source, then the most recent; unlisted sources rank last.',
  }),
  earliestPurchaseDate: Type.String({
    description:
      'YYYY-MM-DD (default 1970-01-01): purchases and returns dated before it are refused with PURCHASE_TOO_OLD.',
  }),
  valueCurrency: Type.Union([Type.String(), Type.Null()], {
    description:
      'The ISO 4217 currency of value profiles (spend, CLV); null (default): the currency most purchases are in. ' +
      'Amounts in other currencies count only through exchangeRates: they are never added up as they are.',
  }),
  exchangeRates: Type.Record(Type.String(), Type.Number(), {
    description:
      'Units of valueCurrency one unit of another currency is worth, e.g. {"GBP": 1.27} with valueCurrency USD; ' +
      'set by the workspace and applied exactly. Purchases in a currency without a rate are left out of value ' +
      '(the refit reports them).',
  }),
  valueAsOf: Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Null()], {
    description:
      'The value clock: the instant value profiles are scored as of (an ISO 8601 date, meaning midnight UTC, or ' +
      'date-time; not in the future), or null for the time of each refit (the default). A fixed clock shows data ' +
      'that ends in the past as of its end; purchases after it are not read. 400 VALUE_AS_OF_INVALID otherwise.',
  }),
  privacyRequestDays: Type.Integer({
    description:
      'Days a privacy request must be answered within, counted in calendar days from the day it was received ' +
      '(default 30; 1 to 365). 400 PRIVACY_REQUEST_DAYS_INVALID otherwise.',
  }),
});

const Workspace = Type.Object({
  id: Type.String(),
  name: Type.String(),
  settings: Settings,
  createdAt: Type.String(),
});

const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  purposes: Type.Array(Type.String()),
  createdAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});

/** The caller's workspace, its settings and its API keys. */
export function workspaceRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/workspace',
      {
        schema: {
          operationId: 'getWorkspace',
          tags: ['workspace'],
          summary: "The caller's workspace and its settings.",
          response: { 200: Type.Object({ workspace: Workspace }), ...errorResponses() },
        },
      },
      async (request) =>
        inCallerWorkspace(deps, request, async (tx, actor) => ({
          workspace: await getWorkspace(tx, actor.workspaceId),
        })),
    );

    app.patch(
      '/workspace',
      {
        schema: {
          operationId: 'updateWorkspace',
          tags: ['workspace'],
          summary: 'Change workspace settings (owner or admin).',
          body: Type.Partial(Settings, { additionalProperties: false, minProperties: 1 }),
          response: { 200: Type.Object({ workspace: Workspace }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAdministration(deps, request, async (tx, actor, audit) => {
          const before = await getWorkspace(tx, actor.workspaceId);
          const workspace = await updateSettings(tx, actor, request.body);
          // A change of policy or access is audited like an access, with what changed from what.
          const changes = Object.keys(request.body).map((setting) => ({
            setting,
            from: (before.settings as unknown as Record<string, unknown>)[setting] ?? null,
            to: (workspace.settings as unknown as Record<string, unknown>)[setting] ?? null,
          }));
          audit({
            action: 'workspace.settings',
            purpose: null,
            customerIds: [],
            fields: [],
            details: { changes },
          });
          return { workspace };
        }),
    );

    app.get(
      '/keys',
      {
        schema: {
          operationId: 'listKeys',
          tags: ['workspace'],
          summary: "The workspace's API keys (never their secrets).",
          response: { 200: Type.Object({ keys: Type.Array(ApiKey) }), ...errorResponses() },
        },
      },
      async (request) => {
        const keys = await inCallerWorkspace(deps, request, (tx, actor) => listKeysGoverned(tx, actor));
        return { keys: keys.map(({ workspaceId: _ws, ...key }) => key) };
      },
    );

    app.post(
      '/keys',
      {
        schema: {
          operationId: 'createKey',
          tags: ['workspace'],
          summary: 'Create an API key; the key is in this response only.',
          description:
            'Owner or admin. Honours Idempotency-Key. Audited (who, which key, its role; never a secret).',
          body: Type.Object(
            {
              role: Type.Union(ROLES.map((r) => Type.Literal(r))),
              purposes: Type.Optional(
                Type.Array(Type.Union(PURPOSES.map((p) => Type.Literal(p))), { maxItems: 20 }),
              ),
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          response: {
            201: Type.Object({
              key: ApiKey,
              apiKey: Type.Union([Type.String(), Type.Null()], {
                description: 'The key, shown once: null when the request is replayed (Idempotency-Key).',
              }),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) => {
        // The secret is shown once: a replay answers the key without it (the receipt never holds it).
        return idempotentWrite(
          deps,
          request,
          reply,
          async (tx, actor, audit) => {
            const { key, apiKey } = await createKeyGoverned(tx, actor, request.body, audit);
            const { workspaceId: _ws, ...shown } = key;
            return { status: 201, body: { key: shown, apiKey }, receipt: { key: shown } };
          },
          async (_tx, receipt) => ({ ...receipt, apiKey: null }),
        );
      },
    );

    app.delete(
      '/keys/:id',
      {
        schema: {
          operationId: 'revokeKey',
          tags: ['workspace'],
          summary: 'Revoke an API key; it is refused from the next request on.',
          description:
            "Owner or admin. The workspace's last active owner or admin key cannot be revoked (409 LAST_ADMIN_KEY): " +
            'create another first. Audited (who, which key, its role; never a secret).',
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          response: { 200: Type.Object({ key: ApiKey }), ...errorResponses() },
        },
      },
      async (request) => {
        const { workspaceId: _ws, ...key } = await withCallerAdministration(
          deps,
          request,
          (tx, actor, audit) => revokeKeyGoverned(tx, actor, request.params.id, audit),
        );
        deps.keys.forgetKey(key.id);
        return { key };
      },
    );
  };
}
