import { useEffect, useState } from 'preact/hooks';
import { type Api, type ApiError, errorOf, fieldError, INTIMACY_LEVELS, reasonInWords } from '../api';
import type {
  Consents,
  Customer,
  Customer360,
  Facts,
  PrivacyState,
  Recommendations,
  Relationship,
  Timeline,
} from '../types';
import { Bars, ErrorNote, Section, Withheld, when } from '../ui';
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
 * The customer 360 in one screen, as the current purpose may see them: one read of
 * `GET /v1/customers/{id}/360` (profile with each value's source, identities, contact points, value
 * profile, relationship summary, consents and intimacy, segments), then the sections with their own
 * reads (facts, relationship dimensions, recommendations, the filtered timeline). Each section shows
 * what the API answered for this role and purpose: what it withholds is listed with the reason, a
 * section it refuses says why, never an empty box.
 */
export function CustomerPage({ api, purpose, id }: { api: Api; purpose: string; id: string }) {
  const [overview, setOverview] = useState<Customer360>();
  const [error, setError] = useState<ApiError>();
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    const started = performance.now();
    setError(undefined);
    void api
      .GET('/v1/customers/{id}/360', { params: { path: { id }, query: { purpose } } })
      .then(({ data, error: e }) => {
        setOverview(data);
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
  if (!overview) return <p class="loading">Loading…</p>;
  const { customer } = overview;
  const name = [customer.givenName, customer.familyName].filter(Boolean).join(' ') || 'Name hidden';
  return (
    <div class="customer">
      <h1>{name}</h1>
      <p class="muted">
        Customer {customer.id} · seen for <strong>{purpose}</strong>
      </p>
      <Withheld items={dedupe([...customer.withheld, ...overview.withheld])} />
      <nav class="jump" aria-label="Sections of this customer">
        {SECTIONS.map(([anchor, label]) => (
          <a key={anchor} href={`#/customers/${id}`} onClick={jumpTo(anchor)}>
            {label}
          </a>
        ))}
      </nav>
      <div class="grid">
        <Section title="Profile" id="profile">
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
          <h3>Identities</h3>
          <ul class="plain" aria-label="Identities">
            {customer.identities.map((i) => (
              <li key={`${i.source}:${i.externalId}`}>
                <span class="badge">{i.source}</span> {i.externalId}
              </li>
            ))}
            {customer.identities.length === 0 && (
              <li class="muted">No identity in another system this purpose may see.</li>
            )}
          </ul>
        </Section>
        <ValueCard value={customer.value} />
        <RelationshipCard api={api} id={id} purpose={purpose} version={version} />
        <PrivacyCard api={api} id={id} version={version} onChange={reload} overview={overview} />
        <SegmentsCard segments={overview.segments} purpose={purpose} />
        <RecommendationsCard api={api} id={id} purpose={purpose} />
        <Actions api={api} id={id} onChange={reload} />
      </div>
      <FactsCard api={api} id={id} purpose={purpose} version={version} />
      <TimelineCard api={api} id={id} purpose={purpose} version={version} />
    </div>
  );
}

const SECTIONS = [
  ['profile', 'Profile'],
  ['value', 'Value'],
  ['relationship', 'Relationship'],
  ['consents', 'Consents'],
  ['segments', 'Segments'],
  ['recommendations', 'Recommendations'],
  ['facts', 'Facts'],
  ['timeline', 'Timeline'],
] as const;

/** Moves focus to a section's heading (the hash stays the customer's route). */
function jumpTo(anchor: string) {
  return (event: Event) => {
    event.preventDefault();
    const heading = document.getElementById(`${anchor}-title`);
    if (!heading) return;
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  };
}

function dedupe(items: readonly { field: string; reason: string }[]) {
  return [...new Map(items.map((w) => [`${w.field}:${w.reason}`, w])).values()];
}

function ValueCard({ value }: { value: unknown }) {
  const v = (value ?? null) as Record<string, unknown> | null;
  const number = (key: string, digits = 2) =>
    typeof v?.[key] === 'number' ? (v[key] as number).toFixed(digits) : '—';
  return (
    <Section title="Value" id="value">
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
          <dt>Scored as of</dt>
          <dd>{typeof v.asOf === 'string' ? v.asOf : '—'}</dd>
        </dl>
      ) : (
        <p class="muted">No value profile yet (the model is fitted once enough customers have bought).</p>
      )}
    </Section>
  );
}

interface DimensionView {
  value: number;
  confidence: number;
  evidence?: string[];
}
interface ReasonView {
  dimension: string;
  op: string;
  threshold: number;
  value: number;
}
interface RelationshipView {
  archetype?: string;
  since?: string;
  guidance?: { do?: string[]; dont?: string[] };
  modifiers?: { highDemand?: boolean; discretion?: boolean };
  dimensions?: Record<string, DimensionView>;
  reasons?: ReasonView[];
}

/** The relationship: archetype with the reasons that made it, the dimensions, what to do and not do. */
function RelationshipCard(props: { api: Api; id: string; purpose: string; version: number }) {
  const { api, id, purpose } = props;
  const [answer, setAnswer] = useState<Relationship>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    void api
      .GET('/v1/customers/{id}/relationship', { params: { path: { id }, query: { purpose } } })
      .then(({ data, error: e }) => {
        setAnswer(data);
        setError(data ? undefined : errorOf(e));
      });
  }, [id, purpose, props.version]);
  const r = (answer?.relationship ?? null) as RelationshipView | null;
  return (
    <Section title="Relationship" id="relationship">
      {error?.code === 'RELATIONSHIP_NOT_COMPUTED' ? (
        <p class="muted">Not computed yet: relationships are computed by the nightly recompute.</p>
      ) : (
        <ErrorNote error={error} />
      )}
      {answer && <Withheld items={answer.withheld} />}
      {r && (
        <>
          <p>
            <strong class="archetype">{r.archetype ?? '—'}</strong>
            {r.since ? ` since ${when(r.since)}` : ''}
            {r.modifiers?.highDemand ? ' · high demand' : ''}
            {r.modifiers?.discretion ? ' · asked for discretion' : ''}
          </p>
          {(r.reasons ?? []).length > 0 && (
            <>
              <h3>Why this archetype</h3>
              <ul class="plain" aria-label="Reasons for the archetype">
                {(r.reasons ?? []).map((reason) => (
                  <li key={reason.dimension}>
                    {reason.dimension} {reason.value.toFixed(2)} (
                    {reason.op === 'lte' ? 'at most' : 'at least'} {reason.threshold.toFixed(2)})
                  </li>
                ))}
              </ul>
            </>
          )}
          {r.dimensions && (
            <Bars
              label="Relationship dimensions (0 to 1)"
              rows={Object.entries(r.dimensions).map(([name, d]) => ({
                label: `${name} (confidence ${d.confidence.toFixed(2)})`,
                value: Math.round(d.value * 100) / 100,
              }))}
            />
          )}
          {r.guidance && (
            <p class="guidance">
              <strong>Do:</strong> {(r.guidance.do ?? []).join('; ') || '—'} <strong>Don’t:</strong>{' '}
              {(r.guidance.dont ?? []).join('; ') || '—'}
            </p>
          )}
        </>
      )}
      {answer && (
        <p class="muted">
          {answer.outreach.allowed
            ? 'The archetype may steer outreach.'
            : `Not for outreach${answer.outreach.reason ? `: ${reasonInWords(answer.outreach.reason)}` : ''}.`}
        </p>
      )}
    </Section>
  );
}

function SegmentsCard({ segments, purpose }: { segments: Customer360['segments']; purpose: string }) {
  return (
    <Section title="Segments" id="segments">
      <ul class="plain" aria-label="Segments holding this customer">
        {segments.map((s) => (
          <li key={s.id}>
            {s.name} <span class="muted">since {when(s.since)}</span>
          </li>
        ))}
        {segments.length === 0 && <li class="muted">In no segment saved for {purpose}.</li>}
      </ul>
    </Section>
  );
}

/** Recommendations are for outreach purposes only: under another purpose the API says so, and so do we. */
function RecommendationsCard(props: { api: Api; id: string; purpose: string }) {
  const { api, id, purpose } = props;
  const [answer, setAnswer] = useState<Recommendations>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    void api
      .GET('/v1/customers/{id}/recommendations', { params: { path: { id }, query: { purpose, limit: 5 } } })
      .then(({ data, error: e }) => {
        setAnswer(data);
        setError(data ? undefined : errorOf(e));
      });
  }, [id, purpose]);
  return (
    <Section title="Recommendations" id="recommendations">
      <ErrorNote error={error} />
      {answer && <Withheld items={answer.withheld} />}
      {answer && (
        <ol class="plain" aria-label="Recommended items">
          {answer.items.map((item) => (
            <li key={item.item}>
              <strong>{item.name}</strong> <span class="badge">{item.kind.replace('_', ' ')}</span>
              <br />
              <span class="muted">{item.reason}</span>
            </li>
          ))}
          {answer.items.length === 0 && (
            <li class="muted">
              {answer.trainedAt
                ? 'Nothing to suggest for this customer.'
                : 'The model has not been trained yet.'}
            </li>
          )}
        </ol>
      )}
    </Section>
  );
}

interface FactView {
  id: string;
  key: string;
  category: string;
  value: unknown;
  sourceKind: string;
  status: string;
  stale: boolean;
  remember: boolean;
  provenance: { source?: string; capturedAt?: string; capturedBy?: string } | null;
  consentPurposes: string[];
  minIntimacy: number;
  expiresAt: string | null;
}

/** What the customer said about a fact: declared it, confirmed it, asked us to remember it. */
function customersSay(f: FactView): string {
  const say = [
    f.sourceKind === 'declared' ? 'told us' : `${f.sourceKind}, not told`,
    f.status === 'confirmed' ? 'confirmed' : f.status === 'to_confirm' ? 'to confirm' : '',
    f.remember ? 'asked us to remember' : '',
  ];
  return say.filter(Boolean).join(', ');
}

function factValue(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function FactsCard(props: { api: Api; id: string; purpose: string; version: number }) {
  const { api, id, purpose } = props;
  const [answer, setAnswer] = useState<Facts>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    void api
      .GET('/v1/customers/{id}/facts', { params: { path: { id }, query: { purpose } } })
      .then(({ data, error: e }) => {
        setAnswer(data);
        setError(data ? undefined : errorOf(e));
      });
  }, [id, purpose, props.version]);
  const facts = (answer?.facts ?? []) as FactView[];
  return (
    <Section title="Facts" id="facts">
      <ErrorNote error={error} />
      {answer && <Withheld items={answer.withheld} />}
      {answer && (
        <table class="facts">
          <caption class="visually-hidden">Facts this purpose may see</caption>
          <thead>
            <tr>
              <th scope="col">Fact</th>
              <th scope="col">Value</th>
              <th scope="col">Source</th>
              <th scope="col">Consent</th>
              <th scope="col">Expires</th>
              <th scope="col">The customer’s say</th>
            </tr>
          </thead>
          <tbody>
            {facts.map((f) => (
              <tr key={f.id}>
                <th scope="row">
                  {f.key}{' '}
                  <span class="muted">
                    ({f.category}, level {f.minIntimacy})
                  </span>
                </th>
                <td>{factValue(f.value)}</td>
                <td>
                  {f.provenance?.source ?? '—'}
                  {f.provenance?.capturedAt ? `, ${when(f.provenance.capturedAt)}` : ''}
                </td>
                <td>{f.consentPurposes.join(', ') || 'none needed'}</td>
                <td>
                  {f.expiresAt ? when(f.expiresAt) : 'never'}
                  {f.stale ? ' (stale: not used for outreach)' : ''}
                </td>
                <td>{customersSay(f)}</td>
              </tr>
            ))}
            {facts.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No fact this purpose may see.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </Section>
  );
}

/** Consents and intimacy: read for service or legal (the privacy purposes), whatever the page's purpose. */
function PrivacyCard(props: {
  api: Api;
  id: string;
  version: number;
  onChange: () => void;
  overview: Customer360;
}) {
  const { api, id } = props;
  const [consents, setConsents] = useState<Consents>();
  const [privacy, setPrivacy] = useState<PrivacyState>();
  const [error, setError] = useState<ApiError>();
  const [form, setForm] = useState({ purpose: 'marketing', status: 'granted', channel: '' });
  const [formError, setFormError] = useState<ApiError>();
  const [saved, setSaved] = useState('');

  useEffect(() => {
    // The 360 carries consents and intimacy for service and legal; under another purpose they are read
    // for service (the agent's privacy duties), which the API refuses to a role without it.
    const fromOverview = props.overview.privacy;
    if (fromOverview) {
      setConsents({ current: fromOverview.consents } as Consents);
      setPrivacy(fromOverview as unknown as PrivacyState);
      setError(undefined);
      return;
    }
    const query = { purpose: 'service' };
    void Promise.all([
      api.GET('/v1/customers/{id}/consents', { params: { path: { id }, query } }),
      api.GET('/v1/customers/{id}/privacy', { params: { path: { id }, query } }),
    ]).then(([c, p]) => {
      setConsents(c.data);
      setPrivacy(p.data);
      setError(c.data ? undefined : errorOf(c.error));
    });
  }, [id, props.version, props.overview]);

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
    <Section title="Consents and intimacy" id="consents">
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
    <Section title="Timeline" id="timeline">
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
