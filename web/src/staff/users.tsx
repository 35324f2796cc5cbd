import { useEffect, useState } from 'preact/hooks';
import { type Api, type ApiError, errorOf, fieldError } from '../api';
import type { Answer } from '../types';
import { ErrorNote, Section, when } from '../ui';

type Users = Answer<'/v1/users', 'get'>['users'];

const ROLES = ['agent', 'marketer', 'analyst', 'privacy_officer', 'auditor', 'admin', 'owner'];

/** Staff users (owner and admin): the list, and a new user with a password generated and shown once. */
export function UsersView({ api }: { api: Api }) {
  const [users, setUsers] = useState<Users>([]);
  const [error, setError] = useState<ApiError>();
  const [form, setForm] = useState({ email: '', role: 'agent' });
  const [formError, setFormError] = useState<ApiError>();
  const [created, setCreated] = useState<{ email: string; password?: string | undefined }>();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    void api.GET('/v1/users').then(({ data, error: e }) => {
      setUsers(data?.users ?? []);
      setError(data ? undefined : errorOf(e));
    });
  }, [version]);

  const create = async (event: Event) => {
    event.preventDefault();
    const { data, error: e } = await api.POST('/v1/users', { body: form });
    setFormError(data ? undefined : errorOf(e));
    if (data) {
      setCreated({ email: data.user.email, password: data.password });
      setForm({ email: '', role: form.role });
      setVersion((v) => v + 1);
    }
  };
  const emailError = fieldError(formError, 'email');
  return (
    <div>
      <h1>Staff users</h1>
      <ErrorNote error={error} />
      <div class="grid">
        <Section title="New user">
          <form onSubmit={create}>
            <label>
              Email
              <input
                type="email"
                required
                value={form.email}
                aria-invalid={emailError ? 'true' : undefined}
                onInput={(e) => setForm({ ...form, email: e.currentTarget.value })}
              />
            </label>
            {emailError && <p class="field-error">{emailError}</p>}
            <label>
              Role
              <select value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}>
                {ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </label>
            <button type="submit">Create user</button>
          </form>
          <ErrorNote error={emailError ? undefined : formError} />
          {created && (
            <p role="status" class="notice">
              Created {created.email}.{' '}
              {created.password && (
                <>
                  Password (shown once): <code>{created.password}</code>
                </>
              )}
            </p>
          )}
        </Section>
        <Section title="Users">
          <table class="fields">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>{u.email}</td>
                  <td>{u.role}</td>
                  <td>{when(u.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      </div>
    </div>
  );
}
