import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PURPOSES, ROLES } from '../../shared/access.ts';
import { forbidden } from '../../shared/errors.ts';
import {
  createApiKey,
  getWorkspace,
  isAdmin,
  listApiKeys,
  revokeApiKey,
  updateSettings,
} from '../../workspaces/index.ts';
import { type ApiDeps, actorOf, idempotentWrite, inCallerWorkspace } from '../context.ts';
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
  valueAsOf: Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Null()], {
    description:
      'The value clock: the instant value profiles are scored as of (an ISO 8601 date, meaning midnight UTC, or ' +
      'date-time; not in the future), or null for the time of each refit (the default). A fixed clock shows data ' +
      'that ends in the past as of its end; purchases after it are not read. 400 VALUE_AS_OF_INVALID otherwise.',
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
          tags: ['workspace'],
          summary: 'Change workspace settings (owner or admin).',
          body: Type.Partial(Settings, { additionalProperties: false, minProperties: 1 }),
          response: { 200: Type.Object({ workspace: Workspace }), ...errorResponses() },
        },
      },
      async (request) =>
        inCallerWorkspace(deps, request, async (tx, actor) => ({
          workspace: await updateSettings(tx, actor, request.body),
        })),
    );

    app.get(
      '/keys',
      {
        schema: {
          tags: ['workspace'],
          summary: "The workspace's API keys (never their secrets).",
          response: { 200: Type.Object({ keys: Type.Array(ApiKey) }), ...errorResponses() },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        if (!isAdmin(actor)) throw forbidden('ROLE_NOT_ALLOWED', 'Only an owner or admin key may list keys.');
        const keys = await inCallerWorkspace(deps, request, (tx) => listApiKeys(tx, actor.workspaceId));
        return { keys: keys.map(({ workspaceId: _ws, ...key }) => key) };
      },
    );

    app.post(
      '/keys',
      {
        schema: {
          tags: ['workspace'],
          summary: 'Create an API key; the key is in this response only.',
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
          response: { 201: Type.Object({ key: ApiKey, apiKey: Type.String() }), ...errorResponses() },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        if (!isAdmin(actor))
          throw forbidden('ROLE_NOT_ALLOWED', 'Only an owner or admin key may create keys.');
        return idempotentWrite(deps, request, reply, async (tx) => {
          const { key, apiKey } = await createApiKey(tx, actor.workspaceId, request.body);
          const { workspaceId: _ws, ...shown } = key;
          return { status: 201, body: { key: shown, apiKey } };
        });
      },
    );

    app.delete(
      '/keys/:id',
      {
        schema: {
          tags: ['workspace'],
          summary: 'Revoke an API key; it is refused from the next request on.',
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          response: { 200: Type.Object({ key: ApiKey }), ...errorResponses() },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        if (!isAdmin(actor))
          throw forbidden('ROLE_NOT_ALLOWED', 'Only an owner or admin key may revoke keys.');
        const { workspaceId: _ws, ...key } = await inCallerWorkspace(deps, request, (tx) =>
          revokeApiKey(tx, actor.workspaceId, request.params.id),
        );
        deps.keys.forgetKey(key.id);
        return { key };
      },
    );
  };
}
