import { performance } from 'node:perf_hooks';
import { type AttemptOutcome, MAX_RESPONSE_BYTES, REQUEST_TIMEOUT_MS } from './webhook.ts';

/** The HTTP side of a delivery: one POST, bounded in time and in what is read back. No database. */

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

/**
 * POSTs one signed delivery. Never throws: a timeout, a refused connection or a redirect are outcomes.
 * Redirects are not followed (a 3xx is a failure), so a receiver cannot send the delivery elsewhere.
 */
export async function postDelivery(
  fetchFn: FetchLike,
  request: { url: string; headers: Record<string, string>; body: string },
  options: { timeoutMs?: number; maxResponseBytes?: number } = {},
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
    const ok = response.status >= 200 && response.status < 300;
    return {
      status: response.status,
      error: ok ? null : `http_${response.status}`,
      sent: true,
      latencyMs: latency(),
    };
  } catch (error) {
    if (signal.aborted) return { status: null, error: 'timeout', sent: true, latencyMs: latency() };
    const code = errorCode(error);
    if (code !== undefined && NOT_SENT.has(code)) {
      return { status: null, error: `unreachable: ${code}`, sent: false, latencyMs: latency() };
    }
    // Anything else (a reset connection, a malformed answer) may have reached the receiver.
    return { status: null, error: code ? `failed: ${code}` : 'failed', sent: true, latencyMs: latency() };
  }
}
