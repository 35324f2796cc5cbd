import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Api, type ApiError, errorOf, INTIMACY_LEVELS, portalClient } from '../api';
import type { AccessLog, Consents, Customer, Disclosures, PrivacyState } from '../types';
import { ErrorNote, Section, when } from '../ui';
import '../styles.css';

const FIELDS = [
  ['givenName', 'Given name'],
  ['familyName', 'Family name'],
  ['preferredName', 'Preferred name'],
  ['language', 'Language'],
  ['birthDate', 'Birth date'],
] as const;

const CHOICES = [
  { purpose: 'marketing', words: 'Send me offers and news' },
  { purpose: 'personalization', words: 'Use what you know to tailor what I see' },
  { purpose: 'analytics', words: 'Include me in statistics about customers' },
];

/**
 * The customer's privacy portal, opened by the link the company sent (`/portal.html#<token>`): what
 * the company knows and where each value came from, who looked and why, who received it, consents,
 * the intimacy level with what each level means. Every call carries the link; it opens this customer
 * only and expires.
 */
function Portal({ token }: { token: string }) {
  const api: Api = portalClient(token);
  const [opened, setOpened] = useState<{
    customerId: string;
    expiresAt: string;
    gpc: { signal: boolean; recorded: string[] };
  }>();
  const [fatal, setFatal] = useState<ApiError>();
  const [customer, setCustomer] = useState<Customer>();
  const [consents, setConsents] = useState<Consents>();
  const [privacy, setPrivacy] = useState<PrivacyState>();
  const [log, setLog] = useState<AccessLog>([]);
  const [disclosures, setDisclosures] = useState<Disclosures>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<ApiError>();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    void api.POST('/v1/portal/session').then(({ data, error: e }) => {
      if (data) setOpened(data);
      else setFatal(errorOf(e));
    });
  }, []);

  useEffect(() => {
    if (!opened) return;
    const id = opened.customerId;
    const query = { purpose: 'legal' };
    void Promise.all([
      api.GET('/v1/customers/{id}', { params: { path: { id }, query } }),
      api.GET('/v1/customers/{id}/consents', { params: { path: { id }, query } }),
      api.GET('/v1/customers/{id}/privacy', { params: { path: { id }, query } }),
      api.GET('/v1/customers/{id}/access-log', { params: { path: { id }, query: { ...query, limit: 20 } } }),
      api.GET('/v1/customers/{id}/disclosures', { params: { path: { id }, query } }),
    ]).then(([c, k, p, l, d]) => {
      setCustomer(c.data?.customer);
      setConsents(k.data);
      setPrivacy(p.data);
      setLog(l.data?.entries ?? []);
      setDisclosures(d.data?.disclosures ?? []);
      if (!c.data) setError(errorOf(c.error));
    });
  }, [opened, version]);

  if (fatal) {
    return (
      <main class="portal" id="main">
        <h1>This link does not open your page</h1>
        <p role="alert">{fatal.message}</p>
      </main>
    );
  }
  if (!opened || !customer) return <p class="loading">Opening your page…</p>;
  const id = opened.customerId;

  const setConsent = async (purpose: string, granted: boolean) => {
    const { data, error: e } = await api.POST('/v1/customers/{id}/consents', {
      params: { path: { id }, query: { purpose: 'legal' } },
      body: { purpose, status: granted ? 'granted' : 'withdrawn', explicit: true, source: 'portal' },
    });
    setError(data ? undefined : errorOf(e));
    if (data) {
      setMessage(
        granted ? `You said yes to: ${purpose}.` : `You said no to: ${purpose}. It applies at once.`,
      );
      setVersion((v) => v + 1);
    }
  };
  const setLevel = async (level: number) => {
    const { data, error: e } = await api.PUT('/v1/customers/{id}/intimacy', {
      params: { path: { id }, query: { purpose: 'legal' } },
      body: { level, source: 'portal' },
    });
    setError(data ? undefined : errorOf(e));
    if (data) {
      setMessage(`Your level is now ${level}: ${INTIMACY_LEVELS[level]?.name}.`);
      setVersion((v) => v + 1);
    }
  };
  const granted = (purpose: string) =>
    (consents?.current ?? []).some((c) => {
      const row = c as { purpose?: string; status?: string; channel?: string | null };
      return row.purpose === purpose && row.status === 'granted' && !row.channel;
    });

  return (
    <main class="portal" id="main">
      <h1>What we know about you</h1>
      <p class="muted">This page is for you only. The link works until {when(opened.expiresAt)}.</p>
      {opened.gpc.signal && (
        <p class="notice" role="status">
          Your browser asks us not to sell or share your data (Global Privacy Control). We have recorded it
          {opened.gpc.recorded.length > 0 ? ' now' : ''}.
        </p>
      )}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <ErrorNote error={error} />
      <Section title="Your details, and where each came from">
        <table class="fields">
          <tbody>
            {FIELDS.map(([field, label]) => {
              const p = customer.provenance[field];
              return (
                <tr key={field}>
                  <th scope="row">{label}</th>
                  <td>{customer[field] ?? '—'}</td>
                  <td class="provenance">{p ? `from ${p.source}, ${when(p.capturedAt)}` : ''}</td>
                </tr>
              );
            })}
            {customer.contactPoints.map((cp) => (
              <tr key={`${cp.kind}:${cp.value}`}>
                <th scope="row">{cp.kind}</th>
                <td>{cp.value}</td>
                <td class="provenance">from {cp.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="How close may we be?">
        <p>
          You choose. Today: level <strong>{privacy?.intimacyLevel ?? 1}</strong>. Lowering it takes effect at
          once.
        </p>
        <table class="levels">
          <thead>
            <tr>
              <th scope="col">Level</th>
              <th scope="col">We may remember</th>
              <th scope="col">We may contact you with</th>
              <th scope="col">
                <span class="visually-hidden">Choose</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {INTIMACY_LEVELS.map((l) => (
              <tr key={l.level} class={privacy?.intimacyLevel === l.level ? 'current' : undefined}>
                <th scope="row">
                  {l.level}. {l.name}
                </th>
                <td>{l.remember}</td>
                <td>{l.contact}</td>
                <td>
                  {privacy?.intimacyLevel === l.level ? (
                    <span class="badge granted">your choice</span>
                  ) : (
                    <button type="button" onClick={() => setLevel(l.level)}>
                      Choose level {l.level}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Your choices">
        <ul class="plain">
          {CHOICES.map((c) => (
            <li key={c.purpose}>
              <label class="check">
                <input
                  type="checkbox"
                  checked={granted(c.purpose)}
                  onChange={(e) => setConsent(c.purpose, e.currentTarget.checked)}
                />
                {c.words}
              </label>
            </li>
          ))}
        </ul>
        {privacy && privacy.objections.length > 0 && (
          <p>You object to: {privacy.objections.join(', ').replaceAll('_', ' ')}.</p>
        )}
      </Section>
      <Section title="Who looked at your data, and why">
        <ul class="plain">
          {log.map((e) => (
            <li key={`${e.seq}:${e.at}:${e.action}`}>
              {when(e.at)}:{' '}
              {e.actor.label.startsWith('customer:') ? 'you' : e.actor.role.replaceAll('_', ' ')}, {e.action}
              {e.purpose ? ` for ${e.purpose}` : ''}
            </li>
          ))}
        </ul>
      </Section>
      <Section title="Who we gave your data to">
        <ul class="plain">
          {disclosures.map((d, i) => {
            const row = d as {
              recipientName?: string;
              recipientId?: string;
              purpose?: string;
              fields?: string[];
              at?: string;
            };
            return (
              <li key={`${row.recipientId}:${i}`}>
                {row.recipientName ?? row.recipientId}: {(row.fields ?? []).join(', ')} for {row.purpose} (
                {when(row.at)})
              </li>
            );
          })}
          {disclosures.length === 0 && <li>Nobody. We have not given your data to anyone.</li>}
        </ul>
      </Section>
      <Section title="Export or erase">
        <p>
          To get a copy of everything or to be forgotten, reply to the message that brought you here; these
          requests cannot be made from this page yet.
        </p>
      </Section>
    </main>
  );
}

const token = location.hash.slice(1);
const root = document.getElementById('app');
if (root) {
  render(
    token ? (
      <Portal token={token} />
    ) : (
      <main class="portal" id="main">
        <h1>This page needs your link</h1>
        <p>Open the link the company sent you.</p>
      </main>
    ),
    root,
  );
}
