// Personal access tokens (`/api/tokens`): for the CLI, CI jobs and scripts. A new token is shown
// once, right after it is made; the list shows names and dates only; deleting one revokes it at once.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, formatDate, formatDateTime, toast } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Icon } from '../ui/icons.js';
import { Page, Section } from '../ui/layout.js';
import { PagedTable } from '../ui/table.js';

const EXPIRY = [
  { value: 30, label: '30 days' },
  { value: 90, label: '90 days' },
  { value: 365, label: 'One year' },
  { value: 7, label: '7 days' },
  { value: 0, label: 'Never' },
];

function NewToken({ token, onDone }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied(true);
    } catch {
      toast('Copying is not allowed here: select the token and copy it.', { kind: 'info' });
    }
  };
  return html`<div class="notice notice-success new-token" role="status">
    <p><strong>${token.name}</strong> is ready. Copy it now: it is not shown again.</p>
    <div class="secret">
      <input readonly aria-label="The new token" value=${token.token} onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" class="button" onClick=${copy}><${Icon} name="copy" size=${16} /> ${copied ? 'Copied' : 'Copy'}</button>
    </div>
    <p class="hint">Send it as <code>Authorization: Bearer …</code>. ${token.expiresAt ? `It works until ${formatDateTime(token.expiresAt)}.` : 'It never expires: delete it when it is no longer needed.'}</p>
    <button type="button" class="button button-small" onClick=${onDone}>Done</button>
  </div>`;
}

function TokensScreen() {
  const [created, setCreated] = useState(null);
  const [version, setVersion] = useState(0);
  const submit = async ({ name, expirationInDays }) => {
    const token = await api.post('/api/tokens', { name, expirationInDays: Number(expirationInDays) });
    setCreated(token);
    setVersion((v) => v + 1);
  };
  const remove = (token) => async () => {
    await api.del(`/api/tokens/${token.id}`);
    toast(`Token ${token.name} deleted: it stopped working.`);
    if (created?.id === token.id) setCreated(null);
    setVersion((v) => v + 1);
  };
  const columns = [
    { label: 'Name', render: (t) => t.name },
    { label: 'Created', render: (t) => formatDateTime(t.createdAt) },
    { label: 'Expires', render: (t) => formatDate(t.expiresAt, 'never') },
    {
      label: 'Actions',
      render: (t) => html`<${ConfirmButton}
        label="Delete"
        title=${`Delete the token ${t.name}?`}
        text="Whatever uses it is refused from now on."
        onConfirm=${remove(t)}
      />`,
    },
  ];
  return html`<${Page}
    title="Access tokens"
    lead="Tokens let the CLI, CI jobs and scripts call the API as you, in every team you belong to."
  >
    <${Section} title="Create a token" id="token-create">
      ${created && html`<${NewToken} token=${created} onDone=${() => setCreated(null)} />`}
      <${Form} label="Create a token" initial=${{ name: '', expirationInDays: 30 }} submitLabel="Create token" resetOnSuccess onSubmit=${submit}>
        <div class="field-row">
          <${Field} name="name" label="Name" required maxLength=${70} hint="What uses it, e.g. “CI deploy job”." autocomplete="off" />
          <${Field} name="expirationInDays" label="Expires after" type="select" options=${EXPIRY} required />
        </div>
      <//>
    <//>
    <${Section} title="Your tokens" id="token-list">
      <${PagedTable}
        caption="Your tokens"
        reloadKey=${version}
        load=${(page) => api.page('/api/tokens', page)}
        columns=${columns}
        empty=${html`<${Empty} icon="key" title="No tokens yet">Create one above for the CLI or a CI job.<//>`}
      />
    <//>
  <//>`;
}

export const routes = [{ path: '/tokens', view: TokensScreen, title: 'Access tokens', access: 'user' }];
