import { useEffect, useState } from 'preact/hooks';
import { type Api, type ApiError, errorOf, fieldError, INTIMACY_LEVELS } from '../api';
import type { Consents, Customer, PrivacyState, Timeline } from '../types';
import { ErrorNote, Section, Withheld, when } from '../ui';
import { recordTiming } from './search';

const FIELDS = [
  ['givenName', 'Given name'],
  ['familyName', 'Family name'],
  ['preferredName', 'Preferred name'],
  ['language', 'Language'],
  ['birthDate', 'Birth date'],
] as const;
type Field = (typeof FIELDS)[number][0];

const CONSENT_PURPOSES = ['marketing', 'personalization', 'analytics', 'third_party_sharing', 'sale'];

/** A field value with where it came from. */
function Provenance({ customer, field }: { customer: Customer; field: Field }) {
  const p = customer.provenance[field];
  if (!p) return <span class="muted">—</span>;
  return (
    <span class="provenance">
      from <strong>{p.source}</strong>, {when(p.capturedAt)} by {p.capturedBy}
    </span>
  );
}

/**
 * The customer in one screen, as the current purpose may see them: the golden record with each
 * value's source, contact points, value, consents and intimacy, the timeline with filters, and the
 * agent's actions (consent, note, correction, portal link). What is withheld says why.
 */
export function CustomerPage({ api, purpose, id }: { api: Api; purpose: string; id: string }) {
  const [customer, setCustomer] = useState<Customer>();
  const [error, setError] = useState<ApiError>();
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    const started = performance.now();
    setError(undefined);
    void api
      .GET('/v1/customers/{id}', { params: { path: { id }, query: { purpose } } })
      .then(({ data, error: e }) => {
        setCustomer(data?.customer);
        setError(data ? undefined : errorOf(e));
        if (data) requestAnimationFrame(() => recordTiming('customer-render', performance.now() - started));
      });
  }, [id, purpose, version]);

  if (error) {
    const merged =
      error.code === 'CUSTOMER_MERGED' ? (error.details as { mergedInto?: string })?.mergedInto : undefined;
    return (
      <div>
        <h1>Customer</h1>
        <ErrorNote error={error} />
        {merged && <a href={`#/customers/${merged}`}>Open the customer it was merged into</a>}
      </div>
    );
  }
  if (!customer) return <p class="loading">Loading…</p>;
  const name = [customer.givenName, customer.familyName].filter(Boolean).join(' ') || 'Name hidden';
  return (
    <div class="customer">
      <h1>{name}</h1>
      <p class="muted">
        Customer {customer.id} · seen for <strong>{purpose}</strong>
      </p>
      <Withheld items={customer.withheld} />
      <div class="grid">
        <Section title="Profile">
          <table class="fields">
            <tbody>
              {FIELDS.map(([field, label]) => (
                <tr key={field}>
                  <th scope="row">{label}</th>
                  <td>{customer[field] ?? <span class="muted">—</span>}</td>
                  <td>
                    <Provenance customer={customer} field={field} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Contact</h3>
          <ul class="plain" aria-label="Contact points">
            {customer.contactPoints.map((cp) => (
              <li key={`${cp.kind}:${cp.value}`}>
                <span class="badge">{cp.kind}</span> {cp.value}{' '}
                <span class="provenance">
                  from {cp.source}
                  {cp.verified ? ', verified' : ''}
                </span>
              </li>
            ))}
            {customer.contactPoints.length === 0 && <li class="muted">None this purpose may see.</li>}
          </ul>
        </Section>
        <ValueCard value={customer.value} />
        <PrivacyCard api={api} id={id} version={version} onChange={reload} />
        <Actions api={api} id={id} onChange={reload} />
      </div>
      <TimelineCard api={api} id={id} purpose={purpose} version={version} />
    </div>
  );
}

function ValueCard({ value }: { value: unknown }) {
  const v = (value ?? null) as Record<string, unknown> | null;
  const number = (key: string, digits = 2) =>
    typeof v?.[key] === 'number' ? (v[key] as number).toFixed(digits) : '—';
  return (
    <Section title="Value">
      {v ? (
        <dl class="stats">
          <dt>CLV</dt>
          <dd>{number('clv')}</dd>
          <dt>P(alive)</dt>
          <dd>{number('pAlive')}</dd>
          <dt>RFM segment</dt>
          <dd>{typeof v.rfmSegment === 'string' ? v.rfmSegment : '—'}</dd>
          <dt>Purchases</dt>
          <dd>{number('purchases', 0)}</dd>
        </dl>
      ) : (
        <p class="muted">No value profile yet (the model is fitted once enough customers have bought).</p>
      )}
    </Section>
  );
}

/** Consents and intimacy: read for service or legal (the privacy purposes), whatever the page's purpose. */
function PrivacyCard(props: { api: Api; id: string; version: number; onChange: () => void }) {
  const { api, id } = props;
  const [consents, setConsents] = useState<Consents>();
  const [privacy, setPrivacy] = useState<PrivacyState>();
  const [error, setError] = useState<ApiError>();
  const [form, setForm] = useState({ purpose: 'marketing', status: 'granted', channel: '' });
  const [formError, setFormError] = useState<ApiError>();
  const [saved, setSaved] = useState('');

  useEffect(() => {
    const query = { purpose: 'service' };
    void Promise.all([
      api.GET('/v1/customers/{id}/consents', { params: { path: { id }, query } }),
      api.GET('/v1/customers/{id}/privacy', { params: { path: { id }, query } }),
    ]).then(([c, p]) => {
      setConsents(c.data);
      setPrivacy(p.data);
      setError(c.data ? undefined : errorOf(c.error));
    });
  }, [id, props.version]);

  const record = async (event: Event) => {
    event.preventDefault();
    const { data, error: e } = await api.POST('/v1/customers/{id}/consents', {
      params: { path: { id }, query: { purpose: 'service' } },
      body: {
        purpose: form.purpose,
        status: form.status as 'granted' | 'denied' | 'withdrawn',
        ...(form.channel ? { channel: form.channel } : {}),
        explicit: true,
        source: 'web',
      },
    });
    setFormError(data ? undefined : errorOf(e));
    if (data) {
      setSaved(`Recorded: ${form.purpose} ${form.status}.`);
      props.onChange();
    }
  };

  const level = privacy ? INTIMACY_LEVELS[privacy.intimacyLevel] : undefined;
  return (
    <Section title="Consents and intimacy">
      <ErrorNote error={error} />
      {privacy && (
        <p>
          Intimacy level <strong>{privacy.intimacyLevel}</strong>
          {level ? ` — ${level.name}` : ''}. {privacy.restricted ? 'Processing is restricted. ' : ''}
          {privacy.objections.length > 0 ? `Objects to: ${privacy.objections.join(', ')}.` : ''}
        </p>
      )}
      {consents && (
        <ul class="plain" aria-label="Current consents">
          {consents.current.map((c) => {
            const row = c as { purpose?: string; status?: string; channel?: string | null };
            return (
              <li key={`${row.purpose}:${row.channel ?? '*'}`}>
                <span class={`badge ${row.status}`}>{row.status}</span> {row.purpose}
                {row.channel ? ` (${row.channel})` : ''}
              </li>
            );
          })}
          {consents.current.length === 0 && <li class="muted">No consent recorded.</li>}
        </ul>
      )}
      <form class="inline" onSubmit={record} aria-label="Record a consent">
        <label>
          Consent purpose
          <select value={form.purpose} onChange={(e) => setForm({ ...form, purpose: e.currentTarget.value })}>
            {CONSENT_PURPOSES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={form.status} onChange={(e) => setForm({ ...form, status: e.currentTarget.value })}>
            <option>granted</option>
            <option>denied</option>
            <option>withdrawn</option>
          </select>
        </label>
        <label>
          Channel (optional)
          <input value={form.channel} onInput={(e) => setForm({ ...form, channel: e.currentTarget.value })} />
        </label>
        <button type="submit">Record consent</button>
      </form>
      <ErrorNote error={formError} />
      {saved && <p role="status">{saved}</p>}
    </Section>
  );
}

function Actions(props: { api: Api; id: string; onChange: () => void }) {
  const { api, id } = props;
  const [note, setNote] = useState('');
  const [noteState, setNoteState] = useState<{ ok?: string; error?: ApiError }>({});
  const [fix, setFix] = useState<{ field: Field; value: string; reason: string }>({
    field: 'familyName',
    value: '',
    reason: '',
  });
  const [fixState, setFixState] = useState<{ ok?: string; error?: ApiError }>({});
  const [link, setLink] = useState<{ url?: string; error?: ApiError }>({});

  const saveNote = async (event: Event) => {
    event.preventDefault();
    const { data, error } = await api.POST('/v1/interactions', {
      body: {
        type: 'note',
        channel: 'staff',
        occurredAt: new Date().toISOString(),
        source: 'web',
        externalId: crypto.randomUUID(),
        customer: { id },
        text: note,
      },
    });
    setNoteState(data ? { ok: 'Note saved.' } : { error: errorOf(error) });
    if (data) {
      setNote('');
      props.onChange();
    }
  };
  const saveFix = async (event: Event) => {
    event.preventDefault();
    const { data, error } = await api.POST('/v1/customers/{id}/rectify', {
      params: { path: { id } },
      body: { field: fix.field, value: fix.value, reason: fix.reason },
    });
    setFixState(
      data ? { ok: 'Corrected; every recipient of the old value will be told.' } : { error: errorOf(error) },
    );
    if (data) props.onChange();
  };
  const makeLink = async () => {
    const { data, error } = await api.POST('/v1/customers/{id}/portal-links', {
      params: { path: { id } },
      body: { expiresInHours: 168 },
    });
    setLink(data ? { url: `${location.origin}${data.path}` } : { error: errorOf(error) });
  };
  const valueError = fieldError(fixState.error, 'value');
  return (
    <Section title="Act">
      <form onSubmit={saveNote} aria-label="Capture a note">
        <label>
          Note
          <textarea rows={2} value={note} required onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        <button type="submit">Save note</button>
        {noteState.ok && <span role="status"> {noteState.ok}</span>}
        <ErrorNote error={noteState.error} />
      </form>
      <form class="inline" onSubmit={saveFix} aria-label="Correct a field">
        <label>
          Field
          <select
            value={fix.field}
            onChange={(e) => setFix({ ...fix, field: e.currentTarget.value as Field })}
          >
            {FIELDS.map(([f, label]) => (
              <option key={f} value={f}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Correct value
          <input
            value={fix.value}
            required
            aria-invalid={valueError ? 'true' : undefined}
            onInput={(e) => setFix({ ...fix, value: e.currentTarget.value })}
          />
        </label>
        <label>
          Reason
          <input
            value={fix.reason}
            required
            onInput={(e) => setFix({ ...fix, reason: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Correct</button>
      </form>
      {valueError && <p class="field-error">{valueError}</p>}
      {fixState.ok && <p role="status">{fixState.ok}</p>}
      <ErrorNote error={valueError ? undefined : fixState.error} />
      <p>
        <button type="button" onClick={makeLink}>
          Make a privacy-portal link
        </button>
      </p>
      {link.url && (
        <p class="portal-link">
          Send this to the customer (valid 7 days): <code>{link.url}</code>
        </p>
      )}
      <ErrorNote error={link.error} />
    </Section>
  );
}

function TimelineCard(props: { api: Api; id: string; purpose: string; version: number }) {
  const { api, id, purpose } = props;
  const [type, setType] = useState('');
  const [channel, setChannel] = useState('');
  const [timeline, setTimeline] = useState<Timeline>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    const clean = (s: string) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .join(',');
    const query = {
      purpose,
      limit: 50,
      ...(clean(type) ? { type: clean(type) } : {}),
      ...(clean(channel) ? { channel: clean(channel) } : {}),
    };
    const timer = setTimeout(() => {
      void api
        .GET('/v1/customers/{id}/timeline', { params: { path: { id }, query } })
        .then(({ data, error: e }) => {
          setTimeline(data);
          setError(data ? undefined : errorOf(e));
        });
    }, 150);
    return () => clearTimeout(timer);
  }, [id, purpose, type, channel, props.version]);
  return (
    <Section title="Timeline">
      <div class="inline">
        <label>
          Types
          <input
            placeholder="purchase, complaint"
            value={type}
            onInput={(e) => setType(e.currentTarget.value)}
          />
        </label>
        <label>
          Channels
          <input
            placeholder="web, store"
            value={channel}
            onInput={(e) => setChannel(e.currentTarget.value)}
          />
        </label>
      </div>
      <ErrorNote error={error} />
      {timeline && <Withheld items={timeline.withheld} />}
      <ol class="timeline">
        {timeline?.interactions.map((i) => {
          const row = i as {
            id: string;
            type: string;
            channel: string;
            occurredAt: string;
            text?: string | null;
            amount?: number | null;
            currency?: string | null;
          };
          return (
            <li key={row.id}>
              <time dateTime={row.occurredAt}>{when(row.occurredAt)}</time>{' '}
              <span class="badge">{row.type}</span> <span class="muted">{row.channel}</span> {row.text ?? ''}
              {typeof row.amount === 'number' ? ` ${row.amount} ${row.currency ?? ''}` : ''}
            </li>
          );
        })}
        {timeline && timeline.interactions.length === 0 && (
          <li class="muted">Nothing this purpose may see.</li>
        )}
      </ol>
    </Section>
  );
}
