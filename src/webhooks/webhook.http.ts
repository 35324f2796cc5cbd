import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { type AttemptOutcome, MAX_RESPONSE_BYTES, REQUEST_TIMEOUT_MS } from './webhook.ts';

/**
 * The HTTP side of a delivery: one POST, bounded in time and in what is read back. No database.
 * Sent with node:http(s) and keep-alive agents by default: on this machine it carried three to five
 * times the requests per second of the platform's fetch to the same local receiver. A caller may pass
 * a fetch of its own instead (tests, a proxy).
 */

const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
};

/** The fetch a delivery uses (the platform's by default; tests and benchmarks may pass their own). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Connection errors that mean the request never reached the receiver. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** Reads at most `limit` bytes of a body and lets the rest go, so a receiver cannot make us hold much. */
async function drainBounded(response: Response, limit: number): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  let read = 0;
  try {
    while (read <= limit) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The answer's status is what counts; a body cut short is not a failed delivery.
  }
}

/** One request to send. */
export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** How a request is sent. */
export interface SendOptions {
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
  maxResponseBytes?: number | undefined;
}

function failure(error: unknown, signal: AbortSignal, latencyMs: number): AttemptOutcome {
  if (signal.aborted) return { status: null, error: 'timeout', sent: true, latencyMs };
  const code = errorCode(error);
  if (code !== undefined && NOT_SENT.has(code)) {
    return { status: null, error: `unreachable: ${code}`, sent: false, latencyMs };
  }
  // Anything else (a reset connection, a malformed answer) may have reached the receiver.
  return { status: null, error: code ? `failed: ${code}` : 'failed', sent: true, latencyMs };
}

function answered(status: number, latencyMs: number): AttemptOutcome {
  const ok = status >= 200 && status < 300;
  return { status, error: ok ? null : `http_${status}`, sent: true, latencyMs };
}

/**
 * POSTs one signed delivery. Never throws: a timeout, a refused connection or a redirect are outcomes.
 * Redirects are not followed (a 3xx is a failure), so a receiver cannot send the delivery elsewhere.
 */
export function postDelivery(request: DeliveryRequest, options: SendOptions = {}): Promise<AttemptOutcome> {
  return options.fetch ? postWithFetch(options.fetch, request, options) : postWithNode(request, options);
}

function postWithNode(request: DeliveryRequest, options: SendOptions): Promise<AttemptOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS);
  const limit = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const https = request.url.startsWith('https:');
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const onResponse = (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.byteLength;
        // Enough read: the status is what counts, and a receiver cannot make us hold more.
        if (read > limit) {
          response.destroy();
          settle(answered(status, latency()));
        }
      });
      response.on('end', () => settle(answered(status, latency())));
      response.on('error', () => settle(answered(status, latency())));
    };
    const headers = { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const options_ = { method: 'POST', headers, signal, agent: https ? agents.https : agents.http };
    const send = (retry: boolean) => {
      const req = https
        ? httpsRequest(request.url, options_, onResponse)
        : httpRequest(request.url, options_, onResponse);
      req.on('error', (error) => {
        // A kept-alive connection the receiver closed while it sat idle fails at once, before anything
        // was read: that is no answer from the receiver, so the request goes again, once, on a new one.
        const code = errorCode(error);
        if (retry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') && !signal.aborted) {
          send(false);
          return;
        }
        settle(failure(error, signal, latency()));
      });
      req.end(request.body);
    };
    send(true);
  });
}

async function postWithFetch(
  fetchFn: FetchLike,
  request: DeliveryRequest,
  options: SendOptions,
): Promise<AttemptOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS);
  try {
    const response = await fetchFn(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal,
    });
    await drainBounded(response, options.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    return answered(response.status, latency());
  } catch (error) {
    return failure(error, signal, latency());
  }
}
