import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../context.ts';

/** Customer routes (being built). */
export function customerRoutes(_deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async () => {};
}
