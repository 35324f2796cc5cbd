import { useEffect, useState } from 'preact/hooks';
import { type Api, type ApiError, errorOf } from '../api';
import type { Deliveries, JobFailures, JobStatus, Recipients } from '../types';
import { ErrorNote, Section, when } from '../ui';

/**
 * Operations, for owners and admins: the event backbone (queue, failures per subscriber, scheduled
 * jobs, dead letters with retry) and the webhooks (status, delivery log with every attempt, replay,
 * enable, secret rotation). Every read and change goes through the same API as a script would; a role
 * the API refuses sees the API's reason.
 */
export function OperationsView({ api, purpose }: { api: Api; purpose: string }) {
  return (
    <div>
      <h1>Operations</h1>
      <JobsSection api={api} />
      <WebhooksSection api={api} purpose={purpose} />
    </div>
  );
}

function JobsSection({ api }: { api: Api }) {
  const [status, setStatus] = useState<JobStatus>();
  const [failures, setFailures] = useState<JobFailures>();
  const [error, setError] = useState<ApiError>();
  const [version, setVersion] = useState(0);
  const [outcome, setOutcome] = useState<{ ok?: string; error?: ApiError }>({});

  useEffect(() => {
    void Promise.all([
      api.GET('/v1/jobs'),
      api.GET('/v1/jobs/failures', { params: { query: { limit: 50 } } }),
    ]).then(([s, f]) => {
      setStatus(s.data);
      setFailures(f.data?.failures);
      setError(s.data ? (f.data ? undefined : errorOf(f.error)) : errorOf(s.error));
    });
  }, [version]);

  const retry = async (filter: { subscriber?: string; eventId?: string }, what: string) => {
    const { data, error: e } = await api.POST('/v1/jobs/failures/retry', { body: filter });
    setOutcome(
      data
        ? { ok: `${what}: ${data.requeued} dead letter${data.requeued === 1 ? '' : 's'} back in the queue.` }
        : { error: errorOf(e) },
    );
    setVersion((v) => v + 1);
  };

  const dead = failures?.filter((f) => f.status === 'dead') ?? [];
  return (
    <Section
      title="Event backbone"
      id="jobs"
      actions={
        <button type="button" onClick={() => setVersion((v) => v + 1)}>
          Refresh jobs
        </button>
      }
    >
      <ErrorNote error={error} />
      {status && (
        <>
          <dl class="stats">
            <dt>Events pending</dt>
            <dd>{status.events.pending}</dd>
            <dt>Lag</dt>
            <dd>{status.events.lagSeconds.toFixed(1)} s</dd>
            <dt>Events kept</dt>
            <dd>{status.events.stored}</dd>
          </dl>
          <table class="list">
            <caption>Subscribers</caption>
            <thead>
              <tr>
                <th scope="col">Subscriber</th>
                <th scope="col">Purpose</th>
                <th scope="col">Retrying</th>
                <th scope="col">Dead letters</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {[
                ...status.subscribers,
                ...status.unregistered.map((u) => ({ ...u, purpose: '(unregistered)' })),
              ].map((s) => (
                <tr key={s.name}>
                  <th scope="row">{s.name}</th>
                  <td>{s.purpose}</td>
                  <td>{s.retrying}</td>
                  <td>{s.dead}</td>
                  <td>
                    {s.dead > 0 && (
                      <button type="button" onClick={() => retry({ subscriber: s.name }, s.name)}>
                        Retry {s.name}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Scheduled jobs</h3>
          <ul class="plain" aria-label="Scheduled jobs">
            {status.scheduled.map((job) => {
              const j = job as { name?: string; lastStatus?: string | null; lastRunAt?: string | null };
              return (
                <li key={j.name}>
                  <span class={`badge ${j.lastStatus ?? ''}`}>{j.lastStatus ?? 'not run'}</span> {j.name}{' '}
                  <span class="muted">{j.lastRunAt ? `last run ${when(j.lastRunAt)}` : ''}</span>
                </li>
              );
            })}
            {status.scheduled.length === 0 && <li class="muted">No scheduled job has run yet.</li>}
          </ul>
        </>
      )}
      {failures && (
        <>
          <h3>Failures</h3>
          <p>
            <button type="button" disabled={dead.length === 0} onClick={() => retry({}, 'All')}>
              Retry every dead letter
            </button>
          </p>
          <table class="list">
            <caption class="visually-hidden">Subscriber failures, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Subscriber</th>
                <th scope="col">Status</th>
                <th scope="col">Tries</th>
                <th scope="col">Last error</th>
                <th scope="col">Next try</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {failures.map((f) => (
                <tr key={`${f.subscriber}:${f.eventId}`}>
                  <th scope="row">
                    {f.eventType} <span class="muted code">{f.eventId}</span>
                  </th>
                  <td>{f.subscriber}</td>
                  <td>
                    <span class={`badge ${f.status}`}>{f.status}</span>
                  </td>
                  <td>{f.attempts}</td>
                  <td>{f.error}</td>
                  <td>{f.nextAttemptAt ? when(f.nextAttemptAt) : '—'}</td>
                  <td>
                    {f.status === 'dead' && (
                      <button
                        type="button"
                        aria-label={`Retry ${f.eventType} for ${f.subscriber}`}
                        onClick={() => retry({ subscriber: f.subscriber, eventId: f.eventId }, f.eventType)}
                      >
                        Retry
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {failures.length === 0 && (
                <tr>
                  <td colSpan={7} class="muted">
                    No failure: every subscriber is keeping up.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
      {outcome.ok && <p role="status">{outcome.ok}</p>}
      <ErrorNote error={outcome.error} />
    </Section>
  );
}

/** Webhooks are read and changed under the page's purpose (the recipient registry is governed). */
function WebhooksSection({ api, purpose }: { api: Api; purpose: string }) {
  const [recipients, setRecipients] = useState<Recipients>();
  const [error, setError] = useState<ApiError>();
  const [version, setVersion] = useState(0);
  const [open, setOpen] = useState<string>();
  const [outcome, setOutcome] = useState<{ ok?: string; secret?: string; error?: ApiError }>({});

  useEffect(() => {
    void api.GET('/v1/recipients', { params: { query: { purpose } } }).then(({ data, error: e }) => {
      setRecipients(data?.recipients);
      setError(data ? undefined : errorOf(e));
    });
  }, [version, purpose]);

  const enable = async (id: string, name: string) => {
    const { data, error: e } = await api.POST('/v1/recipients/{id}/enable', {
      params: { path: { id }, query: { purpose } },
    });
    setOutcome(
      data ? { ok: `${name} is enabled again; its waiting deliveries go out now.` } : { error: errorOf(e) },
    );
    setVersion((v) => v + 1);
  };
  const rotate = async (id: string, name: string) => {
    const { data, error: e } = await api.POST('/v1/recipients/{id}/rotate-secret', {
      params: { path: { id }, query: { purpose } },
    });
    setOutcome(
      data
        ? {
            ok: `${name} has a new signing secret; the previous one also signs for 24 hours.`,
            ...(data.secret ? { secret: data.secret } : {}),
          }
        : { error: errorOf(e) },
    );
    setVersion((v) => v + 1);
  };

  const webhooks = recipients?.filter((r) => r.webhook !== null) ?? [];
  return (
    <Section
      title="Webhooks"
      id="webhooks"
      actions={
        <button type="button" onClick={() => setVersion((v) => v + 1)}>
          Refresh webhooks
        </button>
      }
    >
      <ErrorNote error={error} />
      {outcome.ok && <p role="status">{outcome.ok}</p>}
      {outcome.secret && (
        <p class="secret">
          New secret (shown once, give it to the receiver): <code>{outcome.secret}</code>
        </p>
      )}
      <ErrorNote error={outcome.error} />
      {recipients && webhooks.length === 0 && (
        <p class="muted">
          No webhook yet: register one with <code>POST /v1/recipients</code> (kind webhook, with its url).
        </p>
      )}
      {webhooks.map((r) => {
        const hook = r.webhook as NonNullable<(typeof r)['webhook']>;
        return (
          <article key={r.id} class="webhook" aria-labelledby={`webhook-${r.id}`}>
            <h3 id={`webhook-${r.id}`}>
              {r.name} <span class={`badge ${hook.status}`}>{hook.status}</span>
            </h3>
            <p>
              <code>{hook.url}</code> · events: {hook.events?.join(', ') ?? 'every type its purposes allow'} ·
              purposes: {r.purposes.join(', ')}
            </p>
            {hook.consecutiveFailures > 0 && (
              <p class="notice">
                {hook.consecutiveFailures} failures in a row
                {hook.failingSince ? ` since ${when(hook.failingSince)}` : ''}.
              </p>
            )}
            {hook.disabledReason && <p class="notice">Disabled: {hook.disabledReason}</p>}
            {hook.previousSecretUntil && (
              <p class="muted">
                Also signed with the previous secret until {when(hook.previousSecretUntil)}.
              </p>
            )}
            <div class="inline">
              {hook.status === 'disabled' && (
                <button type="button" onClick={() => enable(r.id, r.name)}>
                  Enable {r.name}
                </button>
              )}
              <button type="button" onClick={() => rotate(r.id, r.name)}>
                Rotate the secret of {r.name}
              </button>
              <button
                type="button"
                aria-expanded={open === r.id}
                onClick={() => setOpen(open === r.id ? undefined : r.id)}
              >
                {open === r.id ? 'Hide' : 'Show'} the delivery log of {r.name}
              </button>
            </div>
            {open === r.id && (
              <DeliveryLog
                api={api}
                purpose={purpose}
                recipientId={r.id}
                version={version}
                onReplay={setOutcome}
              />
            )}
          </article>
        );
      })}
    </Section>
  );
}

function DeliveryLog(props: {
  api: Api;
  purpose: string;
  recipientId: string;
  version: number;
  onReplay: (outcome: { ok?: string; error?: ApiError }) => void;
}) {
  const { api, recipientId, purpose } = props;
  const [status, setStatus] = useState('');
  const [deliveries, setDeliveries] = useState<Deliveries>();
  const [error, setError] = useState<ApiError>();
  const [replayed, setReplayed] = useState(0);
  useEffect(() => {
    const query = status
      ? { limit: 50, purpose, status: status as 'pending' | 'delivered' | 'parked' }
      : { limit: 50, purpose };
    void api
      .GET('/v1/recipients/{id}/deliveries', { params: { path: { id: recipientId }, query } })
      .then(({ data, error: e }) => {
        setDeliveries(data?.deliveries);
        setError(data ? undefined : errorOf(e));
      });
  }, [recipientId, status, purpose, props.version, replayed]);

  const replay = async (id: string) => {
    const { data, error: e } = await api.POST('/v1/deliveries/{id}/replay', {
      params: { path: { id }, query: { purpose } },
    });
    props.onReplay(
      data ? { ok: `Delivery ${id} is sent again (status ${data.delivery.status}).` } : { error: errorOf(e) },
    );
    setReplayed((n) => n + 1);
  };

  return (
    <div class="delivery-log">
      <label>
        Show deliveries
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">all</option>
          <option value="pending">pending</option>
          <option value="delivered">delivered</option>
          <option value="parked">parked</option>
        </select>
      </label>
      <ErrorNote error={error} />
      {deliveries && (
        <table class="list">
          <caption class="visually-hidden">Deliveries, newest first, with every attempt</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id}>
                <th scope="row">
                  {d.eventType} <span class="muted">for {d.purpose}</span>
                </th>
                <td>
                  <span class={`badge ${d.status}`}>{d.status}</span>
                  {d.lastError ? <span class="muted"> {d.lastError}</span> : ''}
                </td>
                <td>
                  <ol class="attempts" aria-label={`Attempts of delivery ${d.id}`}>
                    {d.log.map((a) => (
                      <li key={a.attempt}>
                        {when(a.startedAt)}: {a.responseStatus ?? 'no answer'} in {a.latencyMs} ms
                        {a.error ? ` (${a.error})` : ''}
                      </li>
                    ))}
                    {d.log.length === 0 && <li class="muted">not tried yet</li>}
                  </ol>
                </td>
                <td>{when(d.createdAt)}</td>
                <td>
                  <button type="button" aria-label={`Replay delivery ${d.id}`} onClick={() => replay(d.id)}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
            {deliveries.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No delivery{status ? ` ${status}` : ''} yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}
