import type {} from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getAuditKeys, verifyWorkspaceAuditChain } from '../../audit/index.ts';
import { readPrivacyState, withAdministration } from '../../governance/index.ts';
import { issuePortalLink, MAX_PORTAL_LINK_HOURS } from '../../portal/index.ts';
import { recordGpcSignal } from '../../privacy/index.ts';
import { assertPermitted } from '../../shared/access.ts';
import { AppError } from '../../shared/errors.ts';
import {
  actorOfUser,
  createUser,
  csrfTokenOf,
  endSession,
  forgetSession,
  type LiveSession,
  listUsers,
  type StaffUser,
  startSession,
  verifyLogin,
} from '../../users/index.ts';
import { getWorkspaceByRef } from '../../workspaces/index.ts';
import { FailureLimiter, SESSION_COOKIE } from '../auth.ts';
import { type ApiDeps, inCallerWorkspace, withCallerAccess, withCallerAdministration } from '../context.ts';
import { errorResponses, IdParams, PurposeQuery } from '../schemas.ts';

const StaffUserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.String(),
  purposes: Type.Array(Type.String()),
  createdAt: Type.String(),
  disabledAt: Type.Union([Type.String(), Type.Null()]),
});

const SessionSchema = Type.Object({
  user: StaffUserSchema,
  workspaceId: Type.String(),
  csrfToken: Type.String({
    description: 'Send it back as the X-CSRF-Token header on every request that changes something.',
  }),
  expiresAt: Type.String(),
});

const LoginBody = Type.Object(
  {
    workspace: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Workspace name or id; default "default".' }),
    ),
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

const CreateUserBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    role: Type.String({ minLength: 1, maxLength: 40 }),
    purposes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
    password: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Omitted: one is generated and shown once.' }),
    ),
  },
  { additionalProperties: false },
);

const PortalLinkBody = Type.Object(
  {
    expiresInHours: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PORTAL_LINK_HOURS, description: 'Default 168 (7 days).' }),
    ),
  },
  { additionalProperties: false },
);

function publicUser(user: StaffUser) {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    purposes: user.purposes,
    createdAt: user.createdAt,
    disabledAt: user.disabledAt,
  };
}

/** The staff session of a request, or 401 SESSION_REQUIRED (an API key or a portal link has none). */
function staffSessionOf(request: FastifyRequest): LiveSession {
  if (!request.staffSession) {
    throw new AppError('unauthenticated', 'SESSION_REQUIRED', 'This route is for a signed-in staff user.');
  }
  return request.staffSession;
}

/** The session cookie: HttpOnly, SameSite=Strict, Secure when the request came over TLS. */
function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: string) {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    expires: new Date(expiresAt),
  });
}

const LOGIN_WINDOW_MS = 60_000;

/** The roles that may verify the audit chain. */
const AUDIT_VERIFIERS: readonly string[] = ['owner', 'admin', 'auditor', 'privacy_officer'];

/**
 * The web's routes: staff sessions (login, current, logout), staff users, portal links, and the
 * customer's portal session (which honours Sec-GPC). Each action is audited with its user as actor.
 */
export function webRoutes(
  deps: ApiDeps,
  options: { loginFailuresPerMinute: number },
): FastifyPluginAsyncTypebox {
  const byAddress = new FailureLimiter(options.loginFailuresPerMinute, LOGIN_WINDOW_MS);
  const byEmail = new FailureLimiter(options.loginFailuresPerMinute, LOGIN_WINDOW_MS);

  return async (app) => {
    app.post(
      '/sessions',
      {
        schema: {
          operationId: 'login',
          tags: ['web'],
          summary: 'Sign a staff user in: sets the HttpOnly session cookie and answers the CSRF token.',
          description:
            'Public. The password is checked with a slow hash; failures are limited per address and per email ' +
            '(429 AUTH_RATE_LIMITED). A wrong email or password is 401 LOGIN_FAILED either way. Audited (session.start).',
          security: [],
          body: LoginBody,
          response: { 201: SessionSchema, ...errorResponses(401) },
        },
      },
      async (request, reply) => {
        const email = request.body.email.trim().toLowerCase();
        const waitMs = Math.max(byAddress.waitFor(request.ip), byEmail.waitFor(email));
        if (waitMs > 0) {
          const retryAfter = Math.ceil(waitMs / 1000);
          reply.header('retry-after', String(retryAfter));
          throw new AppError(
            'rate_limited',
            'AUTH_RATE_LIMITED',
            `Too many failed sign-ins; retry after ${retryAfter} s.`,
            { retryAfter },
          );
        }
        byAddress.recordFailure(request.ip);
        byEmail.recordFailure(email);
        let user: StaffUser;
        try {
          const workspace = await getWorkspaceByRef(deps.db, request.body.workspace ?? 'default');
          user = await verifyLogin(deps.db, workspace.id, request.body);
        } catch (error) {
          if (error instanceof AppError && error.code === 'WORKSPACE_NOT_FOUND') {
            throw new AppError('unauthenticated', 'LOGIN_FAILED', 'The email or the password is wrong.');
          }
          throw error;
        }
        byAddress.forgive(request.ip);
        byEmail.forgive(email);
        const started = await withAdministration(
          deps.db,
          actorOfUser(user),
          { requestId: request.id, clientRequestId: request.clientRequestId, deferChaining: true },
          async (tx, audit) => {
            const session = await startSession(tx, user);
            audit({
              action: 'session.start',
              purpose: null,
              customerIds: [],
              fields: [],
              details: { sessionId: session.session.id },
            });
            return session;
          },
        );
        setSessionCookie(request, reply, started.token, started.session.expiresAt);
        reply.status(201);
        return {
          user: publicUser(user),
          workspaceId: user.workspaceId,
          csrfToken: started.csrfToken,
          expiresAt: started.session.expiresAt,
        };
      },
    );

    app.get(
      '/sessions/current',
      {
        schema: {
          operationId: 'getCurrentSession',
          tags: ['web'],
          summary: 'The signed-in staff user, the session expiry and its CSRF token.',
          description: 'Needs the session cookie; 401 SESSION_EXPIRED when it has ended or expired.',
          response: { 200: SessionSchema, ...errorResponses() },
        },
      },
      async (request) => {
        const live = staffSessionOf(request);
        return {
          user: publicUser(live.user),
          workspaceId: live.user.workspaceId,
          csrfToken: csrfTokenOf(live.secret),
          expiresAt: live.session.expiresAt,
        };
      },
    );

    app.delete(
      '/sessions/current',
      {
        schema: {
          operationId: 'logout',
          tags: ['web'],
          summary: 'Sign out: ends the session and clears its cookie.',
          description: 'Needs the X-CSRF-Token header. Audited (session.end).',
          response: { 204: Type.Null(), ...errorResponses() },
        },
      },
      async (request, reply) => {
        const live = staffSessionOf(request);
        await withCallerAdministration(deps, request, async (tx, _actor, audit) => {
          await endSession(tx, live.session);
          audit({
            action: 'session.end',
            purpose: null,
            customerIds: [],
            fields: [],
            details: { sessionId: live.session.id },
          });
        });
        forgetSession(deps.db, live.session.id);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        reply.status(204);
        return null;
      },
    );

    app.post(
      '/users',
      {
        schema: {
          operationId: 'createUser',
          tags: ['web'],
          summary: 'Create a staff user with a role (and the role’s purposes, or fewer).',
          description:
            'Owner and admin only (the permission to create keys). Without a password one is generated and ' +
            'answered once as `password`. Audited (user.create) without the password.',
          body: CreateUserBody,
          response: {
            201: Type.Object({ user: StaffUserSchema, password: Type.Optional(Type.String()) }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) => {
        const created = await withCallerAdministration(deps, request, async (tx, actor, audit) => {
          const result = await createUser(tx, actor, request.body);
          audit({
            action: 'user.create',
            purpose: null,
            customerIds: [],
            fields: [],
            details: { userId: result.user.id, role: result.user.role, purposes: result.user.purposes },
          });
          return result;
        });
        reply.status(201);
        return {
          user: publicUser(created.user),
          ...(created.generatedPassword === undefined ? {} : { password: created.generatedPassword }),
        };
      },
    );

    app.get(
      '/users',
      {
        schema: {
          operationId: 'listUsers',
          tags: ['web'],
          summary: 'The workspace’s staff users (never their passwords).',
          description: 'Owner and admin only.',
          response: { 200: Type.Object({ users: Type.Array(StaffUserSchema) }), ...errorResponses() },
        },
      },
      async (request) =>
        inCallerWorkspace(deps, request, async (tx, actor) => {
          assertPermitted(actor, 'keys.list');
          return { users: (await listUsers(tx, actor.workspaceId)).map(publicUser) };
        }),
    );

    app.post(
      '/customers/:id/portal-links',
      {
        schema: {
          operationId: 'createPortalLink',
          tags: ['web'],
          summary: 'A signed, expiring link to the customer’s privacy portal, for that customer only.',
          description:
            'For service or legal (writes default to service). The token goes in the fragment of `path` so it ' +
            'never reaches logs or referrers; deliver it through your own messaging. Audited (portal_link.create).',
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Optional(PortalLinkBody),
          response: {
            201: Type.Object({ token: Type.String(), path: Type.String(), expiresAt: Type.String() }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) => {
        const link = await withCallerAccess(deps, request, 'write', async (scope) => {
          // The customer's privacy state is what the portal opens: only for service or legal.
          await readPrivacyState(scope, request.params.id);
          const issued = await issuePortalLink(scope.tx, scope.actor.workspaceId, request.params.id, {
            hours: request.body?.expiresInHours,
          });
          scope.audit({
            action: 'portal_link.create',
            purpose: scope.purpose,
            customerIds: [request.params.id],
            fields: [],
            details: { expiresAt: issued.expiresAt },
          });
          return issued;
        });
        reply.status(201);
        return { ...link, path: `/portal.html#${link.token}` };
      },
    );

    app.post(
      '/audit/verify',
      {
        schema: {
          operationId: 'verifyAuditChain',
          tags: ['web'],
          summary:
            'Walks the workspace’s audit chain and names the first broken link, as `audit verify` does.',
          description:
            'For owner, admin, auditor and privacy officer. Recomputes every keyed hash, checks the latest signed ' +
            'checkpoint, and signs a new one when the chain holds. Audited (audit.verify).',
          response: {
            200: Type.Object({
              ok: Type.Boolean(),
              events: Type.Integer(),
              pending: Type.Integer(),
              head: Type.Optional(Type.String()),
              checkpoint: Type.Optional(
                Type.Union([Type.Object({ seq: Type.Integer(), at: Type.String() }), Type.Null()]),
              ),
              break: Type.Optional(
                Type.Object({ seq: Type.Integer(), problem: Type.String(), detail: Type.String() }),
              ),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) => {
        const actor = request.actor;
        if (!actor || !AUDIT_VERIFIERS.includes(actor.role)) {
          throw new AppError(
            'forbidden',
            'ROLE_NOT_ALLOWED',
            `Verifying the audit chain is for ${AUDIT_VERIFIERS.join(', ')}.`,
            { allowed: AUDIT_VERIFIERS },
          );
        }
        const report = await verifyWorkspaceAuditChain(deps.db, actor.workspaceId, getAuditKeys(deps.db));
        await withCallerAdministration(deps, request, async (_tx, _actor, audit) => {
          audit({
            action: 'audit.verify',
            purpose: null,
            customerIds: [],
            fields: [],
            details: { ok: report.ok, events: report.events },
          });
        });
        return report;
      },
    );

    app.post(
      '/portal/session',
      {
        schema: {
          operationId: 'openPortalSession',
          tags: ['web'],
          summary:
            'Opens the customer’s portal: who the link is for, until when, and the Sec-GPC signal honoured.',
          description:
            'Authenticated by `Authorization: Portal <token>`. With `Sec-GPC: 1` the customer’s objection to sale ' +
            'and third-party sharing is recorded (once). Audited with the customer as actor.',
          security: [],
          response: {
            200: Type.Object({
              customerId: Type.String(),
              expiresAt: Type.String(),
              gpc: Type.Object({ signal: Type.Boolean(), recorded: Type.Array(Type.String()) }),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) => {
        const grant = request.portalGrant;
        if (!grant) {
          throw new AppError(
            'unauthenticated',
            'PORTAL_LINK_REQUIRED',
            'Open this with the link the company sent you (Authorization: Portal <token>).',
          );
        }
        const signal = request.headers['sec-gpc'] === '1';
        const recorded: string[] = [];
        if (signal) {
          // The signal is a do-not-sell/share request, completed at once (recorded once).
          const gpc = await withCallerAccess(deps, request, 'write', (scope) =>
            recordGpcSignal(scope, grant.customerId),
          );
          recorded.push(...gpc.recorded);
        }
        return { customerId: grant.customerId, expiresAt: grant.expiresAt, gpc: { signal, recorded } };
      },
    );
  };
}
