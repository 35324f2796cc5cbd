import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request's work must be over (epoch ms); its transactions end by then (`inWorkspace`). */
    deadline?: number;
  }
  interface FastifyContextConfig {
    /** Whole-workspace work (a refit, identity resolution) that gets the long budget. */
    longRunning?: boolean;
  }
}

/** How long a request may take, in milliseconds. */
export interface RequestBudget {
  /** Every request. */
  requestMs: number;
  /** Routes marked `longRunning`. */
  longRunningMs: number;
}

/** The budgets when the app is built without any (tests): 30 seconds, 10 minutes. */
export const DEFAULT_REQUEST_BUDGET: RequestBudget = { requestMs: 30_000, longRunningMs: 600_000 };

/**
 * Gives every request a deadline from the moment it arrives. Its workspace transactions carry it
 * (statement timeouts on the server, no statement started after it on both engines), so no request
 * holds a transaction or the embedded engine's single connection past its budget; past it the
 * request is answered 503 REQUEST_TIMEOUT and nothing of it is stored. CPU work on the event loop
 * is bounded by the inputs' limits instead (schemas, MAX_JSON_DEPTH, the valuation's horizon).
 */
export function registerRequestBudget(app: FastifyInstance, budget: RequestBudget): void {
  app.addHook('onRequest', async (request) => {
    const ms = request.routeOptions.config.longRunning === true ? budget.longRunningMs : budget.requestMs;
    request.deadline = Date.now() + ms;
  });
}
