// Teams (`/api/teams/...`): the list of the person's teams with the form that creates one
// (`/teams`), and a team's settings (`/<team>/settings`): rename, members and their roles,
// invitations, leaving and deleting. The API decides who may do what (owner > admin > user);
// the screen only hides what the person's role can never do.

import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { refreshMe, session, useSession } from '../session.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, formatDateTime, toast, useResource } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { PagedTable, Table } from '../ui/table.js';

/** A slug suggested by a name: lower-case ASCII words joined by hyphens, 16 characters at most. */
export function slugify(name) {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 16)
    .replace(/-+$/g, '');
}

function CreateTeamForm({ first }) {
  const slugTouched = useRef(false);
  // The slug follows the name until the person types a slug of their own (clearing it resumes).
  const derive = (values, changed) => {
    if (changed === 'slug') slugTouched.current = values.slug !== '';
    if (changed === 'name' && !slugTouched.current) return { ...values, slug: slugify(values.name) };
    return values;
  };
  const submit = async ({ name, slug }) => {
    const team = await api.post('/api/teams', { name, slug });
    await refreshMe();
    toast(`Team ${team.name} created.`);
    navigate(`/${team.slug}/dashboard`);
  };
  return html`<${Form} label="Create a team" initial=${{ name: '', slug: '' }} derive=${derive} submitLabel="Create team" onSubmit=${submit}>
    <div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} autofocus=${first} />
      <${SlugField} hint="3–16 lower-case letters, digits and hyphens: the team's part of every address." />
    </div>
  <//>`;
}

function SlugField({ hint }) {
  return html`<${Field}
    name="slug"
    label="Slug"
    required
    minLength=${3}
    maxLength=${16}
    pattern="[a-z0-9]+(-[a-z0-9]+)*"
    title="lower-case letters and digits, words joined by single hyphens"
    hint=${hint}
  />`;
}

function TeamsScreen() {
  const { me } = useSession();
  const first = !me || me.teams.length === 0;
  const columns = [
    { label: 'Name', render: (t) => html`<a href=${`/${t.slug}/dashboard`}>${t.name}</a>` },
    { label: 'Slug', render: (t) => html`<code>${t.slug}</code>` },
    { label: 'Members', render: (t) => t.statistics.users, className: 'num' },
    { label: 'Projects', render: (t) => t.statistics.projects, className: 'num' },
    { label: 'Nodes', render: (t) => t.statistics.nodes, className: 'num' },
    { label: 'Deployments', render: (t) => t.statistics.deployments, className: 'num' },
    { label: 'Settings', render: (t) => html`<a href=${`/${t.slug}/settings`}>Settings</a>` },
  ];
  return html`<${Page}
    title=${first ? 'Create your first team' : 'Teams'}
    lead=${first
      ? 'Everything in dyrector belongs to a team: its nodes, projects and deployments. You become its owner.'
      : 'The teams you belong to.'}
  >
    ${me?.invitations.length > 0 &&
    html`<p class="notice" role="status">
      You are invited to ${me.invitations.map((t) => t.name).join(', ')}: <a href="/profile">answer on your profile</a>.
    </p>`}
    ${!first &&
    html`<${PagedTable}
      caption="Your teams"
      load=${(page) => api.page('/api/teams', page)}
      columns=${columns}
      empty=${html`<${Empty} icon="team" title="No teams yet" />`}
    />`}
    <${Section} title="Create a team" id="create-team">
      <${CreateTeamForm} first=${first} />
    <//>
  <//>`;
}

// --- one team's settings ----------------------------------------------------------------------

const ROLE_RANK = { user: 0, admin: 1, owner: 2 };

function RenameForm({ details, canEdit, onRenamed }) {
  const submit = async ({ name, slug }) => {
    await api.put(`/api/teams/${details.id}`, { name, slug });
    toast('Team renamed.');
    onRenamed(slug);
  };
  if (!canEdit) {
    return html`<dl class="facts">
      <dt>Name</dt><dd>${details.name}</dd>
      <dt>Slug</dt><dd><code>${details.slug}</code></dd>
    </dl>`;
  }
  return html`<${Form} label="Rename the team" initial=${{ name: details.name, slug: details.slug }} submitLabel="Save" onSubmit=${submit}>
    <div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} />
      <${SlugField} hint="Changing it changes the team's addresses in the API and the console." />
    </div>
  <//>`;
}

function InviteForm({ teamId, onInvited }) {
  const submit = async ({ email, firstName, lastName }) => {
    const body = { email, firstName, lastName: lastName.trim() || undefined };
    const invited = await api.post(`/api/teams/${teamId}/users`, body);
    toast(`Invitation sent to ${invited.email}.`);
    onInvited();
  };
  return html`<${Form}
    label="Invite a member"
    initial=${{ email: '', firstName: '', lastName: '' }}
    submitLabel="Send invitation"
    resetOnSuccess
    onSubmit=${submit}
  >
    <${Field} name="email" label="E-mail" type="email" required autocomplete="off" />
    <div class="field-row">
      <${Field} name="firstName" label="First name" required maxLength=${32} autocomplete="off" />
      <${Field} name="lastName" label="Last name" maxLength=${32} autocomplete="off" />
    </div>
  <//>`;
}

function RoleSelect({ member, teamId, myRole, onChanged }) {
  const [busy, setBusy] = useState(false);
  const choices = ['user', 'admin', ...(myRole === 'owner' ? ['owner'] : [])];
  const change = async (event) => {
    const role = event.currentTarget.value;
    setBusy(true);
    try {
      await api.put(`/api/teams/${teamId}/users/${member.id}/role`, { role });
      toast(`${member.name || member.email} is now ${role === 'user' ? 'a user' : `an ${role}`}.`);
      onChanged();
    } catch (error) {
      toast(error.message, { kind: 'error' });
      event.currentTarget.value = member.role;
    } finally {
      setBusy(false);
    }
  };
  return html`<select aria-label=${`Role of ${member.name || member.email}`} value=${member.role} disabled=${busy} onChange=${change}>
    ${choices.map((role) => html`<option value=${role}>${role}</option>`)}
  </select>`;
}

function MembersTable({ details, me, myRole, reload }) {
  const isAdmin = ROLE_RANK[myRole] >= ROLE_RANK.admin;
  const manageable = (m) => isAdmin && m.role !== 'owner' && m.id !== me.user.id;
  const remove = (m) => async () => {
    await api.del(`/api/teams/${details.id}/users/${m.id}`);
    toast(`${m.name || m.email} removed from the team.`);
    reload();
  };
  const reinvite = (m) => async () => {
    await api.post(`/api/teams/${details.id}/users/${m.id}/reinvite`);
    toast(`A new invitation went to ${m.email}.`);
    reload();
  };
  const columns = [
    { label: 'Name', render: (m) => html`${m.name || '—'}${m.id === me.user.id ? html` <span class="badge">you</span>` : ''}` },
    { label: 'E-mail', render: (m) => m.email },
    {
      label: 'Role',
      render: (m) =>
        manageable(m) && m.status === 'verified'
          ? html`<${RoleSelect} member=${m} teamId=${details.id} myRole=${myRole} onChanged=${reload} />`
          : m.role,
    },
    { label: 'Status', render: (m) => html`<span class=${`status status-${m.status}`}>${m.status}</span>` },
    { label: 'Last login', render: (m) => formatDateTime(m.lastLogin) },
    {
      label: 'Actions',
      render: (m) =>
        manageable(m) &&
        html`<div class="row-actions">
          ${m.status !== 'verified' &&
          html`<${ConfirmButton}
            label="Re-invite"
            danger=${false}
            title=${`Invite ${m.email} again?`}
            text="They get a new invitation mail; the old one stops working."
            confirmLabel="Send"
            onConfirm=${reinvite(m)}
          />`}
          <${ConfirmButton}
            label="Remove"
            title=${`Remove ${m.name || m.email}?`}
            text=${m.status === 'verified'
              ? 'They lose access to everything of this team at once.'
              : 'Their invitation stops working.'}
            onConfirm=${remove(m)}
          />
        </div>`,
    },
  ];
  return html`<${Table} caption="Members" columns=${columns} rows=${details.users} />`;
}

function DangerZone({ details, myRole }) {
  const leave = async () => {
    await api.del(`/api/teams/${details.id}/users/leave`);
    await refreshMe();
    toast(`You left ${details.name}.`);
    navigate('/', { replace: true });
  };
  const remove = async () => {
    await api.del(`/api/teams/${details.id}`);
    await refreshMe();
    toast(`Team ${details.name} deleted.`);
    navigate('/', { replace: true });
  };
  return html`<div class="danger-zone">
    ${myRole !== 'owner' &&
    html`<div>
      <p>Leave the team: you lose access to its projects, nodes and deployments.</p>
      <${ConfirmButton} label="Leave team" small=${false} title=${`Leave ${details.name}?`} text="An admin can invite you again." onConfirm=${leave} />
    </div>`}
    ${myRole === 'owner' &&
    html`<div>
      <p>Delete the team with everything in it: projects, versions, nodes, deployments, registries, storages.</p>
      <${ConfirmButton}
        label="Delete team"
        small=${false}
        title=${`Delete ${details.name}?`}
        text="This cannot be undone. Agents on the team's nodes stop."
        confirmLabel="Delete for good"
        onConfirm=${remove}
      />
    </div>`}
  </div>`;
}

function TeamSettingsScreen({ team }) {
  const { data: details, error, reload } = useResource(() => api.get(`/api/teams/${team.id}`), [team.id]);
  const me = session().me;
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!details) return html`<${Loading} />`;
  const myRole = team.role;
  const isAdmin = ROLE_RANK[myRole] >= ROLE_RANK.admin;
  const renamed = async (slug) => {
    await refreshMe();
    if (slug !== team.slug) navigate(`/${slug}/settings`, { replace: true });
    else reload();
  };
  return html`<${Page} title=${`${details.name}: settings`} lead=${`You are ${myRole === 'user' ? 'a user' : `the ${myRole}`} of this team.`}>
    <${Section} title="General" id="team-general">
      <${RenameForm} details=${details} canEdit=${isAdmin} onRenamed=${renamed} />
    <//>
    <${Section} title=${`Members (${details.users.length})`} id="team-members">
      <${MembersTable} details=${details} me=${me} myRole=${myRole} reload=${reload} />
    <//>
    ${isAdmin &&
    html`<${Section} title="Invite a member" id="team-invite">
      <p class="lead">They get a mail and answer the invitation on their profile once they have an account.</p>
      <${InviteForm} teamId=${details.id} onInvited=${reload} />
    <//>`}
    <${Section} title=${myRole === 'owner' ? 'Delete the team' : 'Leave the team'} id="team-danger">
      <${DangerZone} details=${details} myRole=${myRole} />
    <//>
  <//>`;
}

export const routes = [
  { path: '/teams', view: TeamsScreen, title: 'Teams', access: 'user' },
  { path: '/:team/settings', view: TeamSettingsScreen, title: 'Team settings', access: 'team' },
];

export const nav = { path: 'settings', label: 'Team settings', icon: 'settings', order: 90 };
