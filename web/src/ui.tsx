import type { ComponentChildren } from 'preact';
import { type ApiError, reasonInWords } from './api';

/** Small shared pieces of the pages. */

export function ErrorNote({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error.message} <span class="code">({error.code})</span>
    </p>
  );
}

export function Withheld({ items }: { items: readonly { field: string; reason: string }[] }) {
  if (items.length === 0) return null;
  return (
    <ul class="withheld" aria-label="Withheld for this purpose">
      {items.map((w) => (
        <li key={`${w.field}:${w.reason}`}>
          <span class="badge">hidden</span> {w.field === '*' ? 'everything' : w.field}:{' '}
          {reasonInWords(w.reason)}
        </li>
      ))}
    </ul>
  );
}

export function Section(props: {
  title: string;
  id?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  const headingId = `${props.id ?? props.title.toLowerCase().replace(/\W+/g, '-')}-title`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <header class="card-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A horizontal bar chart: one labelled bar per row, values written out for screen readers. */
export function Bars({ rows, label }: { rows: { label: string; value: number }[]; label: string }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <table class="bars" aria-label={label}>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label}>
            <th scope="row">{r.label}</th>
            <td>
              <span class="bar" style={{ width: `${(r.value / max) * 100}%` }} />
              <span class="bar-value">{r.value}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
