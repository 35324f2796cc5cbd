import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { ApiDeps } from '../context.ts';

/** Liveness and readiness, outside `/v1` and without authentication. */
export function systemRoutes(deps: ApiDeps, version: string): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          operationId: 'getHealth',
          tags: ['system'],
          summary: 'Liveness: the process is up.',
          security: [],
          response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) },
        },
      },
      async () => ({ status: 'ok' as const, version }),
    );
    app.get(
      '/ready',
      {
        schema: {
          operationId: 'getReadiness',
          tags: ['system'],
          summary: 'Readiness: the database answers and the schema is migrated.',
          security: [],
          response: {
            200: Type.Object({ status: Type.Literal('ready') }),
            503: Type.Ref('Error'),
          },
        },
      },
      async (_request, reply) => {
        try {
          await sql`SELECT 1 FROM workspaces LIMIT 1`.execute(deps.db);
          return { status: 'ready' as const };
        } catch (error) {
          return reply.status(503).send({
            error: {
              code: 'NOT_READY',
              message: 'The database is not reachable or not migrated.',
              details: { reason: error instanceof Error ? error.message : String(error) },
            },
          });
        }
      },
    );
  };
}
