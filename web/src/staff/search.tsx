import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, type ApiError, errorOf } from '../api';
import type { CustomerList } from '../types';
import { ErrorNote } from '../ui';

declare global {
  interface Window {
    /** Times the pages measured (search answers, first render of a customer), read by the browser tests. */
    cornerstoreTimings?: { name: string; ms: number }[];
  }
}

/** Records a measured time for the browser tests' benchmark report. */
export function recordTiming(name: string, ms: number): void {
  window.cornerstoreTimings ??= [];
  window.cornerstoreTimings.push({ name, ms });
}

/** How long a keystroke waits for the next before the page asks the server. */
const SEARCH_DEBOUNCE_MS = 80;

function displayName(c: CustomerList[number]): string {
  const name = [c.givenName, c.familyName].filter(Boolean).join(' ');
  return name || c.preferredName || c.emails[0] || c.id;
}

/**
 * Search as you type, keyboard first: `/` focuses the box from anywhere, ArrowDown and ArrowUp move
 * through the results, Enter opens the selected customer.
 */
export function Search({ api, purpose }: { api: Api; purpose: string }) {
  const [q, setQ] = useState('');
  const [results, setResults] = useState<CustomerList>([]);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<ApiError>();
  const input = useRef<HTMLInputElement>(null);
  const asked = useRef(0);

  useEffect(() => {
    input.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && document.activeElement !== input.current) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setResults([]);
      return;
    }
    const ticket = ++asked.current;
    const typedAt = performance.now();
    // A newer question aborts this one if it is still in flight: its answer would be thrown away, and
    // the browser's connection is free for the question that counts.
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      const started = performance.now();
      const { data, error: failed } = await api
        .GET('/v1/customers', { params: { query: { q: text, limit: 10, purpose } }, signal: abort.signal })
        .catch(() => ({ data: undefined, error: undefined }));
      if (ticket !== asked.current) return;
      recordTiming('search', performance.now() - started);
      setError(data ? undefined : errorOf(failed));
      setResults(data?.customers ?? []);
      setActive(0);
      requestAnimationFrame(() => recordTiming('search-typed', performance.now() - typedAt));
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [q, purpose]);

  const open = (id: string) => {
    location.hash = `#/customers/${id}`;
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((i) => Math.min(i + 1, results.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === 'Enter' && results[active]) {
      e.preventDefault();
      open(results[active].id);
    }
  };

  return (
    <div class="search">
      <h1>Find a customer</h1>
      <label for="search-box" class="visually-hidden">
        Name, email, phone or external id
      </label>
      <input
        id="search-box"
        ref={input}
        type="search"
        aria-describedby="search-hint"
        placeholder="Name, email, phone or external id — typos are fine"
        autoComplete="off"
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
        onKeyDown={onKeyDown}
      />
      <p class="hint" id="search-hint">
        Press <kbd>/</kbd> to search, <kbd>↓</kbd> <kbd>↑</kbd> to move, <kbd>Enter</kbd> to open. Searching
        for <strong>{purpose}</strong>: only customers this purpose may see are listed.
      </p>
      <ErrorNote error={error} />
      <p class="visually-hidden" aria-live="polite">
        {results.length > 0
          ? `${results.length} found; selected ${displayName((results[active] ?? results[0]) as CustomerList[number])}`
          : ''}
      </p>
      <ul aria-label="Customers found" class="results">
        {results.map((c, i) => (
          <li key={c.id} class={i === active ? 'active' : undefined}>
            <a href={`#/customers/${c.id}`} aria-current={i === active ? 'true' : undefined}>
              <span class="name">{displayName(c)}</span>
              <span class="meta">
                {[c.emails[0], c.phones[0]].filter(Boolean).join(' · ') || 'contact hidden'}
              </span>
            </a>
          </li>
        ))}
      </ul>
      {q.trim().length >= 2 && results.length === 0 && !error && <p class="muted">No customer found yet.</p>}
    </div>
  );
}
