import { useEffect, useState } from 'preact/hooks';
import { RFM_SEGMENTS } from '../../../src/value/rfm.ts';
import { type Api, type ApiError, errorOf } from '../api';
import type { Answer, Customer, Review } from '../types';
import { Bars, ErrorNote, Section } from '../ui';

/** Counts customers matching a definition, through the segment preview (under the page's purpose). */
async function countOf(api: Api, purpose: string, definition: unknown): Promise<number> {
  const { data, error } = await api.POST('/v1/segments/preview', {
    params: { query: { purpose } },
    body: { definition },
  });
  if (!data) throw error;
  return data.count;
}

/**
 * Value: RFM segment sizes and the distributions of CLV and P(alive), each bar a live count of the
 * segment filter language (so the same access rules hold as for any segment).
 */
export function ValueView({ api, purpose }: { api: Api; purpose: string }) {
  const [rfm, setRfm] = useState<{ label: string; value: number }[]>();
  const [alive, setAlive] = useState<{ label: string; value: number }[]>();
  const [clv, setClv] = useState<{ label: string; value: number }[]>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    const run = async () => {
      try {
        setRfm(
          await Promise.all(
            RFM_SEGMENTS.map(async (s) => ({
              label: s,
              value: await countOf(api, purpose, { field: 'rfm.segment', op: 'eq', value: s }),
            })),
          ),
        );
        const steps = [0, 0.2, 0.4, 0.6, 0.8];
        setAlive(
          await Promise.all(
            steps.map(async (low) => ({
              label: `${low.toFixed(1)}–${(low + 0.2).toFixed(1)}`,
              value: await countOf(api, purpose, {
                all: [
                  { field: 'pAlive', op: 'gte', value: low },
                  { field: 'pAlive', op: low === 0.8 ? 'lte' : 'lt', value: low + 0.2 },
                ],
              }),
            })),
          ),
        );
        const bounds = [0, 50, 100, 250, 500, 1000, 2500];
        setClv(
          await Promise.all(
            bounds.map(async (low, i) => {
              const high = bounds[i + 1];
              return {
                label: high === undefined ? `${low}+` : `${low}–${high}`,
                value: await countOf(
                  api,
                  purpose,
                  high === undefined
                    ? { field: 'clv', op: 'gte', value: low }
                    : {
                        all: [
                          { field: 'clv', op: 'gte', value: low },
                          { field: 'clv', op: 'lt', value: high },
                        ],
                      },
                ),
              };
            }),
          ),
        );
        setError(undefined);
      } catch (e) {
        setError(errorOf(e));
      }
    };
    void run();
  }, [purpose]);
  return (
    <div>
      <h1>Customer value</h1>
      <p class="muted">
        Counts for <strong>{purpose}</strong>; value data is behavioural, read for analytics or by an owner.
      </p>
      <ErrorNote error={error} />
      <div class="grid">
        <Section title="RFM segments">
          {rfm ? <Bars rows={rfm} label="Customers per RFM segment" /> : <p>Counting…</p>}
        </Section>
        <Section title="P(alive)">
          {alive ? <Bars rows={alive} label="Customers per P(alive) band" /> : <p>Counting…</p>}
        </Section>
        <Section title="CLV">
          {clv ? <Bars rows={clv} label="Customers per CLV band" /> : <p>Counting…</p>}
        </Section>
      </div>
    </div>
  );
}

type SegmentList = Answer<'/v1/segments', 'get'>['segments'];

/** Segments: a builder over the filter language with a live count, and the saved segments. */
export function SegmentsView({ api, purpose }: { api: Api; purpose: string }) {
  const [text, setText] = useState('{"field": "rfm.segment", "op": "in", "value": ["champions", "loyal"]}');
  const [count, setCount] = useState<number>();
  const [error, setError] = useState<ApiError>();
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<SegmentList>([]);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    void api
      .GET('/v1/segments', { params: { query: { purpose } } })
      .then(({ data }) => setSaved(data?.segments ?? []));
  }, [purpose, version]);

  useEffect(() => {
    const timer = setTimeout(async () => {
      let definition: unknown;
      try {
        definition = JSON.parse(text);
      } catch {
        setCount(undefined);
        setError({ code: 'JSON_INVALID', message: 'The definition is not valid JSON yet.' });
        return;
      }
      try {
        setCount(await countOf(api, purpose, definition));
        setError(undefined);
      } catch (e) {
        setCount(undefined);
        setError(errorOf(e));
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [text, purpose]);

  const save = async (event: Event) => {
    event.preventDefault();
    const { data, error: e } = await api.POST('/v1/segments', {
      params: { query: { purpose } },
      body: { name, definition: JSON.parse(text) },
    });
    if (data) setVersion((v) => v + 1);
    else setError(errorOf(e));
  };
  return (
    <div>
      <h1>Segments</h1>
      <div class="grid">
        <Section title="Builder">
          <form onSubmit={save}>
            <label>
              Definition (the segment filter language)
              <textarea rows={6} class="mono" value={text} onInput={(e) => setText(e.currentTarget.value)} />
            </label>
            <p aria-live="polite" class="count">
              {count === undefined ? '—' : count} customers match for <strong>{purpose}</strong>
            </p>
            <ErrorNote error={error} />
            <label>
              Name
              <input value={name} required onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <button type="submit">Save segment</button>
          </form>
        </Section>
        <Section title="Saved segments">
          <ul class="plain">
            {saved.map((s) => {
              const row = s as { id: string; name: string };
              return <li key={row.id}>{row.name}</li>;
            })}
            {saved.length === 0 && <li class="muted">None yet.</li>}
          </ul>
        </Section>
      </div>
    </div>
  );
}

function CustomerColumn({ api, purpose, id }: { api: Api; purpose: string; id: string }) {
  const [c, setC] = useState<Customer>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    void api
      .GET('/v1/customers/{id}', { params: { path: { id }, query: { purpose } } })
      .then(({ data, error: e }) => {
        setC(data?.customer);
        setError(data ? undefined : errorOf(e));
      });
  }, [id, purpose]);
  if (error) return <ErrorNote error={error} />;
  if (!c) return <p>Loading…</p>;
  return (
    <dl class="stats">
      <dt>Name</dt>
      <dd>{[c.givenName, c.familyName].filter(Boolean).join(' ') || '—'}</dd>
      <dt>Birth date</dt>
      <dd>{c.birthDate ?? '—'}</dd>
      <dt>Emails</dt>
      <dd>{c.emails.join(', ') || '—'}</dd>
      <dt>Phones</dt>
      <dd>{c.phones.join(', ') || '—'}</dd>
      <dt>Sources</dt>
      <dd>{[...new Set(c.identities.map((i) => (i as { source: string }).source))].join(', ') || '—'}</dd>
    </dl>
  );
}

/** The identity review queue: the two records side by side with what each field contributed. */
export function IdentityQueue({ api, purpose }: { api: Api; purpose: string }) {
  const [reviews, setReviews] = useState<Review[]>();
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState('');
  const [version, setVersion] = useState(0);
  useEffect(() => {
    void api
      .GET('/v1/identity/reviews', { params: { query: { purpose, status: 'pending' } } })
      .then(({ data, error: e }) => {
        setReviews(data?.reviews);
        setError(data ? undefined : errorOf(e));
      });
  }, [purpose, version]);
  const decide = async (review: Review, decision: 'accept' | 'reject') => {
    const { data, error: e } = await api.POST('/v1/identity/reviews/{id}/decision', {
      params: { path: { id: review.id }, query: { purpose } },
      body: { decision },
    });
    if (!data) return setError(errorOf(e));
    const survivor = (data.merge as { survivorId?: string } | null)?.survivorId;
    setDone(decision === 'accept' ? 'Merged.' : 'Kept apart; this pair will not be proposed again.');
    if (survivor && decision === 'accept') location.hash = `#/customers/${survivor}`;
    else setVersion((v) => v + 1);
  };
  return (
    <div>
      <h1>Identity reviews</h1>
      <ErrorNote error={error} />
      {done && <p role="status">{done}</p>}
      {reviews?.length === 0 && <p class="muted">No pair waits for a decision.</p>}
      {reviews?.map((r) => (
        <Section
          key={r.id}
          id={`review-${r.id}`}
          title={`Same person? (probability ${(r.probability * 100).toFixed(0)}%)`}
        >
          <div class="pair">
            <CustomerColumn api={api} purpose={purpose} id={r.customerA} />
            <CustomerColumn api={api} purpose={purpose} id={r.customerB} />
          </div>
          <table class="fields" aria-label="What each field contributed">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Agreement</th>
                <th scope="col">Weight</th>
              </tr>
            </thead>
            <tbody>
              {r.explanation.fields.map((f) => (
                <tr key={f.field}>
                  <th scope="row">{f.field}</th>
                  <td>{f.level}</td>
                  <td>{f.weight.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted">
            {r.reason === 'guard'
              ? 'Held for review: the evidence rules did not let it merge by itself.'
              : 'In the review band.'}
          </p>
          <div class="buttons">
            <button type="button" onClick={() => decide(r, 'accept')}>
              Accept: same person
            </button>
            <button type="button" class="secondary" onClick={() => decide(r, 'reject')}>
              Reject: different people
            </button>
          </div>
        </Section>
      ))}
    </div>
  );
}

type ChainReport = Answer<'/v1/audit/verify', 'post'>;

/** Audit-chain verification, as `cornerstore audit verify` does it. */
export function AuditView({ api }: { api: Api }) {
  const [report, setReport] = useState<ChainReport>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    const { data, error: e } = await api.POST('/v1/audit/verify');
    setBusy(false);
    setReport(data);
    setError(data ? undefined : errorOf(e));
  };
  return (
    <div>
      <h1>Audit chain</h1>
      <p>Every access to personal data is in a hash chain signed with a key outside the database.</p>
      <button type="button" onClick={verify} disabled={busy}>
        Verify the audit chain
      </button>
      <ErrorNote error={error} />
      {report && (
        <p role="status" class={report.ok ? 'ok' : 'error'}>
          {report.ok
            ? `The chain holds: ${report.events} events verified${report.checkpoint ? `, matching the checkpoint of event ${report.checkpoint.seq}` : ''}.`
            : `The chain is broken at event ${report.break?.seq} (${report.break?.problem}): ${report.break?.detail}`}
        </p>
      )}
    </div>
  );
}
