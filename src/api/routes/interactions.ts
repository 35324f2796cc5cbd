import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../context.ts';

/** Interaction routes (being built). */
export function interactionRoutes(_deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async () => {};
}
