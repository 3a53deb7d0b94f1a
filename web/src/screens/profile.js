// The person's own page (`/profile`): who they are, the teams they belong to, the invitations
// waiting for an answer (`/api/users/me/invitations/{teamId}`) and the password change.

import { html } from 'htm/preact';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { forget, refreshMe, session, useSession } from '../session.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, toast } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { Table } from '../ui/table.js';

function Invitations({ invitations }) {
  const accept = async (team) => {
    await api.post(`/api/users/me/invitations/${team.id}`);
    await refreshMe();
    toast(`You joined ${team.name}.`);
  };
  const decline = (team) => async () => {
    await api.del(`/api/users/me/invitations/${team.id}`);
    await refreshMe();
    toast(`You declined the invitation to ${team.name}.`);
  };
  const onAccept = (team) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await accept(team);
    } catch (error) {
      toast(error.message, { kind: 'error' });
      button.disabled = false;
    }
  };
  if (invitations.length === 0) {
    return html`<p class="muted">No invitations waiting. When a team invites you, it shows up here.</p>`;
  }
  const columns = [
    { label: 'Team', render: (t) => t.name },
    { label: 'Slug', render: (t) => html`<code>${t.slug}</code>` },
    {
      label: 'Answer',
      render: (t) => html`<div class="row-actions">
        <button type="button" class="button button-primary button-small" onClick=${onAccept(t)}>Accept</button>
        <${ConfirmButton}
          label="Decline"
          title=${`Decline the invitation to ${t.name}?`}
          text="The team can invite you again later."
          onConfirm=${decline(t)}
        />
      </div>`,
    },
  ];
  return html`<${Table} caption="Invitations" columns=${columns} rows=${invitations} />`;
}

function Teams({ teams }) {
  if (teams.length === 0) {
    return html`<${Empty} icon="team" title="You are in no team yet" action=${html`<a class="button button-primary" href="/teams">Create a team</a>`}>
      Create one, or accept an invitation above.
    <//>`;
  }
  const columns = [
    { label: 'Team', render: (t) => html`<a href=${`/${t.slug}/dashboard`}>${t.name}</a>` },
    { label: 'Role', render: (t) => t.role },
    { label: 'Settings', render: (t) => html`<a href=${`/${t.slug}/settings`}>Settings</a>` },
  ];
  return html`<${Table} caption="Your teams" columns=${columns} rows=${teams} />`;
}

function PasswordForm() {
  const submit = async ({ currentPassword, newPassword }) => {
    await api.put('/api/users/me/password', { currentPassword, newPassword });
    // Every session issued before ends, this one too: log in again with the new password.
    const email = session().token?.email || '';
    forget('Your password changed: log in with the new one.');
    navigate(`/login?email=${encodeURIComponent(email)}`);
  };
  return html`<${Form}
    label="Change your password"
    initial=${{ currentPassword: '', newPassword: '' }}
    submitLabel="Change password"
    onSubmit=${submit}
  >
    <${Field} name="currentPassword" label="Current password" type="password" autocomplete="current-password" required />
    <${Field}
      name="newPassword"
      label="New password"
      type="password"
      autocomplete="new-password"
      required
      minLength=${8}
      hint="Every session ends, this one too: you log in again."
    />
  <//>`;
}

function ProfileScreen() {
  const { me, token } = useSession();
  return html`<${Page} title=${me.user.name || 'Your profile'} lead=${token?.email}>
    <${Section} title=${`Invitations${me.invitations.length ? ` (${me.invitations.length})` : ''}`} id="profile-invitations">
      <${Invitations} invitations=${me.invitations} />
    <//>
    <${Section} title="Teams" id="profile-teams">
      <${Teams} teams=${me.teams} />
    <//>
    <${Section} title="Password" id="profile-password">
      <${PasswordForm} />
    <//>
  <//>`;
}

export const routes = [{ path: '/profile', view: ProfileScreen, title: 'Profile', access: 'user' }];
