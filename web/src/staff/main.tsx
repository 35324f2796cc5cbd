import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, errorOf, fieldError, setCsrfToken, staffClient, whenSessionExpires } from '../api';
import type { SessionInfo } from '../types';
import { ErrorNote } from '../ui';
import { CustomerPage } from './customer';
import { AuditView, IdentityQueue, SegmentsView, ValueView } from './manager';
import { OperationsView } from './operations';
import { Search } from './search';
import { UsersView } from './users';
import '../styles.css';

const api = staffClient();

/**
 * The page a hash names: `#/`, `#/customers/<id>`, `#/value`, `#/segments`, `#/identity`, `#/audit`,
 * and for owners and admins `#/operations` and `#/users`.
 */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/');
  useEffect(() => {
    const onChange = () => setRoute(location.hash.slice(1) || '/');
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function Login(props: { onSignedIn: (s: SessionInfo) => void; expired: boolean }) {
  const [workspace, setWorkspace] = useState('default');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const { data, error: failed } = await api.POST('/v1/sessions', { body: { workspace, email, password } });
    setBusy(false);
    if (data) props.onSignedIn(data);
    else setError(errorOf(failed));
  };
  const passwordError = fieldError(error, 'password');
  return (
    <main class="login" id="main">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Cornerstore</h1>
        {props.expired && (
          <p class="notice" role="status">
            Your session ended. Sign in again; what you were doing is still here.
          </p>
        )}
        <label>
          Workspace
          <input name="workspace" value={workspace} onInput={(e) => setWorkspace(e.currentTarget.value)} />
        </label>
        <label>
          Email
          <input
            name="email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={passwordError ? 'true' : undefined}
            aria-describedby={passwordError ? 'password-error' : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {passwordError ? (
          <p class="field-error" id="password-error" role="alert">
            {error?.message}
          </p>
        ) : (
          <ErrorNote error={error} />
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

const ADMIN_ROLES = ['owner', 'admin'];

const NAV = [
  { href: '#/', label: 'Find a customer' },
  { href: '#/value', label: 'Value' },
  { href: '#/segments', label: 'Segments' },
  { href: '#/identity', label: 'Identity reviews' },
  { href: '#/audit', label: 'Audit' },
];

function App() {
  const [session, setSession] = useState<SessionInfo | null>();
  const [expired, setExpired] = useState(false);
  const [purpose, setPurpose] = useState('service');
  const route = useRoute();

  useEffect(() => {
    whenSessionExpires(() => setExpired(true));
    void api.GET('/v1/sessions/current').then(({ data }) => {
      if (data) signedIn(data);
      else setSession(null);
    });
  }, []);

  const signedIn = (s: SessionInfo) => {
    setCsrfToken(s.csrfToken);
    setSession(s);
    setExpired(false);
    setPurpose((current) =>
      s.user.purposes.includes(current) ? current : (s.user.purposes[0] ?? 'service'),
    );
  };

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <Login onSignedIn={signedIn} expired={false} />;

  const signOut = async () => {
    await api.DELETE('/v1/sessions/current');
    setCsrfToken(undefined);
    setSession(null);
    location.hash = '#/';
  };

  let page = <Search api={api} purpose={purpose} />;
  const customer = /^\/customers\/([0-9a-f-]{36})$/.exec(route);
  if (customer?.[1]) page = <CustomerPage api={api} purpose={purpose} id={customer[1]} />;
  else if (route === '/value') page = <ValueView api={api} purpose={purpose} />;
  else if (route === '/segments') page = <SegmentsView api={api} purpose={purpose} />;
  else if (route === '/identity') page = <IdentityQueue api={api} purpose={purpose} />;
  else if (route === '/audit') page = <AuditView api={api} />;
  else if (route === '/users') page = <UsersView api={api} />;
  else if (route === '/operations') page = <OperationsView api={api} purpose={purpose} />;

  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Cornerstore</span>
        <nav aria-label="Main">
          {[
            ...NAV,
            ...(ADMIN_ROLES.includes(session.user.role)
              ? [
                  { href: '#/operations', label: 'Operations' },
                  { href: '#/users', label: 'Users' },
                ]
              : []),
          ].map((n) => (
            <a key={n.href} href={n.href} aria-current={`#${route}` === n.href ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <label class="purpose">
          Purpose
          <select value={purpose} onChange={(e) => setPurpose(e.currentTarget.value)}>
            {session.user.purposes.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <span class="who">
          {session.user.email} <span class="role">{session.user.role}</span>
        </span>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      {expired && (
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Sign in again">
          <Login onSignedIn={signedIn} expired />
        </div>
      )}
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
