import { existsSync } from 'node:fs';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { chainAuditBacklog } from '../governance/index.ts';
import { AppError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { registerAuthentication } from './auth.ts';
import { DEFAULT_REQUEST_BUDGET, type RequestBudget, registerRequestBudget } from './budget.ts';
import type { ApiDeps } from './context.ts';
import { handleError } from './errors.ts';
import { registerInputBounds } from './input-bounds.ts';
import { privateLogging } from './logging.ts';
import { databaseRateLimitStore } from './rate-limit-store.ts';
import { registerClientRequestIds } from './request-ids.ts';
import { customerRoutes } from './routes/customers.ts';
import { factRoutes } from './routes/facts.ts';
import { identityRoutes } from './routes/identity.ts';
import { interactionRoutes } from './routes/interactions.ts';
import { jobRoutes } from './routes/jobs.ts';
import { momentRoutes } from './routes/moments.ts';
import { privacyRoutes } from './routes/privacy.ts';
import { privacyRequestRoutes } from './routes/privacy-requests.ts';
import { recommendationRoutes } from './routes/recommendations.ts';
import { relationshipRoutes } from './routes/relationships.ts';
import { segmentRoutes } from './routes/segments.ts';
import { systemRoutes } from './routes/system.ts';
import { webRoutes } from './routes/web.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { workspaceRoutes } from './routes/workspace.ts';
import { ErrorResponse } from './schemas.ts';

export type App = FastifyInstance;

export interface AppOptions {
  /**
   * Runs after each write's handler, before its answer is sent: tests pass the backbone's drain, so
   * what subscribers derive (value profiles, segment memberships) is settled when the answer arrives.
   */
  settle?: (request: FastifyRequest) => Promise<unknown>;
  bodyLimit: number;
  rateLimitPerMinute: number;
  /** Failed authentications per minute per client address and per key id (default 20). */
  authFailuresPerMinute?: number;
  /** Pino options, `false` to silence (tests). */
  logger: NonNullable<FastifyServerOptions['logger']>;
  version: string;
  /** How long requests may take (default DEFAULT_REQUEST_BUDGET). */
  budget?: RequestBudget;
  /**
   * Count rate limits in the database (`rate_limit_windows`) so that every node on it shares them; the
   * servers on PostgreSQL do. Default: in this process's memory.
   */
  sharedRateLimits?: boolean;
  /** The built web pages (`web/dist`), served at `/` when the folder exists. */
  webRoot?: string;
}

/**
 * Security headers of every answer (SPEC §14): a content security policy that lets pages load only
 * their own scripts, styles and data and never be framed, nosniff, no referrer, and the rest of the
 * plugin's defaults. No `upgrade-insecure-requests`: the embedded default serves plain HTTP on
 * localhost, and TLS is a deployment's choice.
 */
const SECURITY_HEADERS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' as const },
  crossOriginResourcePolicy: { policy: 'same-origin' as const },
};

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
  });
  (formatsPlugin as unknown as (ajv: Ajv) => Ajv)(ajv);
  return ajv;
}

/**
 * Builds the HTTP application: validation at the boundary (bodies strictly, query strings with type
 * coercion), one error handler, API-key authentication (auth.ts) and per-key rate limits on `/v1`,
 * server-made request ids in every log line, logs without personal data (logging.ts), and the OpenAPI
 * 3.1 document built from the route schemas.
 */
export async function buildApp(deps: ApiDeps, options: AppOptions): Promise<App> {
  const app = Fastify({
    logger: privateLogging(options.logger),
    bodyLimit: options.bodyLimit,
    requestIdHeader: false,
    genReqId: () => newId(),
    return503OnClosing: true,
    // Errors the framework meets before routing (a malformed URL) leave in the same shape as every other.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const bodyAjv = makeAjv(false);
  const queryAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema as object),
  );
  // Response schemas document the API; serialisation stays plain JSON so no field is ever dropped.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addSchema(ErrorResponse);
  bodyAjv.addSchema(ErrorResponse);
  queryAjv.addSchema(ErrorResponse);

  // During a graceful shutdown, answers to in-flight requests close their connection, so keep-alive
  // sockets do not hold the server open after the last response.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.setErrorHandler(handleError);
  registerInputBounds(app);
  registerRequestBudget(app, options.budget ?? DEFAULT_REQUEST_BUDGET);
  app.setNotFoundHandler((request, reply) =>
    handleError(
      new AppError(
        'not_found',
        'ROUTE_NOT_FOUND',
        `No route ${request.method} ${request.url.split('?')[0]}.`,
      ),
      request,
      reply,
    ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Cornerstore API',
        version: options.version,
        description:
          'Customers, their identities and their whole interaction history. Authenticate with `Authorization: Bearer <key>`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(helmet, SECURITY_HEADERS);
  // The documentation page sets its own policy (its scripts and styles), without forcing HTTPS.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(' upgrade-insecure-requests;', ''),
  });
  await app.register(cookie);

  const settle = options.settle;
  if (settle) {
    app.addHook('onSend', async (request, _reply, payload) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') await settle(request);
      return payload;
    });
  }
  registerClientRequestIds(app);
  registerAuthentication(app, deps, { failuresPerMinute: options.authFailuresPerMinute ?? 20 });

  await app.register(rateLimit, {
    ...(options.sharedRateLimits ? { store: databaseRateLimitStore(deps.db) } : {}),
    global: true,
    hook: 'preHandler',
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => request.actor === undefined,
    keyGenerator: (request) => request.actor?.keyId ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'rate_limited',
        'RATE_LIMITED',
        `Too many requests for this key; retry after ${context.after}.`,
        {
          limit: context.max,
          retryAfter: context.after,
        },
      ),
  });

  await app.register(systemRoutes(deps, options.version));
  await app.register(workspaceRoutes(deps), { prefix: '/v1' });
  await app.register(customerRoutes(deps), { prefix: '/v1' });
  await app.register(factRoutes(deps), { prefix: '/v1' });
  await app.register(identityRoutes(deps), { prefix: '/v1' });
  await app.register(interactionRoutes(deps), { prefix: '/v1' });
  await app.register(privacyRoutes(deps), { prefix: '/v1' });
  await app.register(privacyRequestRoutes(deps), { prefix: '/v1' });
  await app.register(segmentRoutes(deps), { prefix: '/v1' });
  await app.register(webhookRoutes(deps), { prefix: '/v1' });
  await app.register(relationshipRoutes(deps), { prefix: '/v1' });
  await app.register(webRoutes(deps, { loginFailuresPerMinute: options.authFailuresPerMinute ?? 20 }), {
    prefix: '/v1',
  });
  if (options.webRoot !== undefined && existsSync(options.webRoot)) {
    // One route per built file (no wildcard), so every other path keeps the API's 404 and auth rules.
    await app.register(fastifyStatic, {
      root: options.webRoot,
      prefix: '/',
      wildcard: false,
      index: 'index.html',
    });
  }
  await app.register(recommendationRoutes(deps), { prefix: '/v1' });
  await app.register(jobRoutes(deps), { prefix: '/v1' });
  await app.register(momentRoutes(deps), { prefix: '/v1' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Requests record their audit events without waiting on the chain (deferChaining); they are linked
  // here, in order, several times a second, and once more when the app closes.
  let chaining: Promise<unknown> | undefined;
  const chainer = setInterval(() => {
    chaining ??= chainAuditBacklog(deps.db)
      .catch((error: unknown) => app.log.warn({ err: error }, 'chaining audit events failed'))
      .finally(() => {
        chaining = undefined;
      });
  }, AUDIT_CHAIN_EVERY_MS);
  chainer.unref();
  app.addHook('onClose', async () => {
    clearInterval(chainer);
    await chaining;
    await chainAuditBacklog(deps.db);
  });
  return app;
}

/** How often the app links the audit events its requests recorded into their chains. */
const AUDIT_CHAIN_EVERY_MS = 200;
