// Notifications (`/api/{teamSlug}/notifications`): chat webhooks (Discord, Slack, Teams, Rocket.Chat,
// Mattermost or any JSON receiver) told about the events they subscribe to. The list, the form that
// adds one, and one notification's screen: change it, send a test message to its saved address (the
// receiver's acceptance or the API's refusal shown where the button is), delete it.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, toast, useResource } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Icon } from '../ui/icons.js';
import { Page, Section } from '../ui/layout.js';
import { PagedTable } from '../ui/table.js';

const TYPES = [
  { value: 'discord', label: 'Discord' },
  { value: 'slack', label: 'Slack' },
  { value: 'teams', label: 'Microsoft Teams' },
  { value: 'rocket', label: 'Rocket.Chat' },
  { value: 'mattermost', label: 'Mattermost' },
  { value: 'webhook', label: 'Any JSON webhook' },
];

// The API's events (`enabledEvents`), with what sends them here; the images' are accepted, as
// dyrector has them, but nothing on this platform sends them yet.
const EVENTS = [
  { value: 'deployment-created', label: 'Deployment results', hint: 'deployment-created' },
  { value: 'deployment-status', label: 'Deployment status changes', hint: 'deployment-status' },
  { value: 'version-created', label: 'New versions', hint: 'version-created' },
  { value: 'node-added', label: 'Nodes added, going online or offline', hint: 'node-added' },
  { value: 'user-invited', label: 'Members invited', hint: 'user-invited' },
  { value: 'image-pushed', label: 'Images pushed', hint: 'image-pushed: not sent yet' },
  { value: 'image-pulled', label: 'Images pulled', hint: 'image-pulled: not sent yet' },
];

const typeLabel = (type) => TYPES.find((t) => t.value === type)?.label || type;

/** The host a webhook posts to: enough to recognise it without showing its secret path. */
function host(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const base = (team) => `/api/${team.slug}/notifications`;
const screen = (team, id = '') => `/${team.slug}/notifications${id && `/${id}`}`;

function body({ name, type, url, active, enabledEvents }) {
  return { name, type, url, active, enabledEvents };
}

function NotificationFields({ autofocus }) {
  return html`<div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} autofocus=${autofocus} autocomplete="off" />
      <${Field} name="type" label="Type" type="select" options=${TYPES} required />
    </div>
    <${Field}
      name="url"
      label="Webhook URL"
      type="url"
      required
      maxLength=${1000}
      autocomplete="off"
      hint="The incoming-webhook address your chat gave you. The platform posts the messages there."
    />
    <${Field} name="enabledEvents" label="Send a message for" type="checkboxes" options=${EVENTS} />
    <${Field} name="active" label="Active" type="checkbox" hint="An inactive notification keeps its settings but sends nothing." />`;
}

function DeleteNotification({ team, notification, onDeleted, small = true }) {
  const remove = async () => {
    await api.del(`${base(team)}/${notification.id}`);
    toast(`Notification ${notification.name} deleted.`);
    onDeleted();
  };
  return html`<${ConfirmButton}
    label="Delete"
    small=${small}
    title=${`Delete the notification ${notification.name}?`}
    text="Its channel gets no more messages from this team."
    onConfirm=${remove}
  />`;
}

function NotificationList({ team }) {
  const [version, setVersion] = useState(0);
  const add = html`<a class="button button-primary" href=${screen(team, 'new')}><${Icon} name="plus" size=${18} /> Add a notification</a>`;
  const columns = [
    { label: 'Name', render: (n) => html`<a href=${screen(team, n.id)}>${n.name}</a>` },
    { label: 'Type', render: (n) => typeLabel(n.type) },
    { label: 'Sends to', render: (n) => html`<code>${host(n.url)}</code>` },
    {
      label: 'Status',
      render: (n) => html`<span class=${`status status-${n.active ? 'active' : 'inactive'}`}>${n.active ? 'active' : 'inactive'}</span>`,
    },
    { label: 'Created by', render: (n) => n.creatorName },
    {
      label: 'Actions',
      render: (n) => html`<${DeleteNotification} team=${team} notification=${n} onDeleted=${() => setVersion((v) => v + 1)} />`,
    },
  ];
  return html`<${Page}
    title="Notifications"
    lead="Chat channels told about deployments, new versions, nodes and invitations."
    actions=${add}
  >
    <${PagedTable}
      caption="Notifications"
      reloadKey=${version}
      load=${(page) => api.page(base(team), page)}
      columns=${columns}
      empty=${html`<${Empty} icon="notifications" title="No notifications yet" action=${add}>
        Add a Discord, Slack, Teams, Rocket.Chat or Mattermost webhook and choose what it hears about.
      <//>`}
    />
  <//>`;
}

function NewNotification({ team }) {
  const submit = async (values) => {
    const created = await api.post(base(team), body(values));
    toast(`Notification ${created.name} created: send it a test message.`);
    navigate(screen(team, created.id));
  };
  const initial = { name: '', type: 'discord', url: '', active: true, enabledEvents: ['deployment-created'] };
  return html`<${Page} title="Add a notification" lead="Messages go to the webhook as the chat expects them.">
    <${Section} title="Settings" id="notification-settings">
      <${Form}
        label="Add a notification"
        initial=${initial}
        submitLabel="Create notification"
        busyLabel="Creating…"
        onSubmit=${submit}
        secondary=${html`<a class="button" href=${screen(team)}>Cancel</a>`}
      >
        <${NotificationFields} autofocus />
      <//>
    <//>
  <//>`;
}

/** Sends a test message to the saved address and says how it went: the receiver took it, or why not. */
function TestMessage({ team, notification }) {
  const [state, setState] = useState({ busy: false, result: null });
  const send = async () => {
    setState({ busy: true, result: null });
    try {
      await api.post(`${base(team)}/${notification.id}/test`);
      setState({ busy: false, result: { ok: true, text: `Test message delivered to ${host(notification.url)}: look for it in the channel.` } });
    } catch (error) {
      setState({ busy: false, result: { ok: false, text: error.message } });
    }
  };
  const { busy, result } = state;
  return html`<p>Posts a short message to the saved webhook URL, whether the notification is active or not.</p>
    <div class="form-actions">
      <button type="button" class="button" disabled=${busy} onClick=${send}>
        <${Icon} name="notifications" size=${18} /> ${busy ? 'Sending…' : 'Send a test message'}
      </button>
    </div>
    <div class="test-result">
      ${result &&
      html`<p class=${`notice ${result.ok ? 'notice-success' : 'notice-error'}`} role=${result.ok ? 'status' : 'alert'}>${result.text}</p>`}
    </div>`;
}

function NotificationDetails({ team, params }) {
  const url = `${base(team)}/${params.notificationId}`;
  const { data, error, reload } = useResource((signal) => api.get(url, undefined, { signal }), [url]);
  if (error) return html`<${Page} title="Notification"><${ErrorState} error=${error} retry=${reload} /><//>`;
  if (!data) return html`<${Loading} />`;
  const submit = async (values) => {
    const saved = await api.put(url, body(values));
    toast(`Notification ${saved.name} saved.`);
    reload();
  };
  const initial = { name: data.name, type: data.type, url: data.url, active: data.active, enabledEvents: data.enabledEvents };
  return html`<${Page}
    title=${data.name}
    lead=${`${typeLabel(data.type)} notification, ${data.active ? 'active' : 'inactive'}; created by ${data.creatorName}.`}
    actions=${html`<a class="button" href=${screen(team)}>All notifications</a>`}
  >
    <${Section} title="Settings" id="notification-settings">
      <${Form} label="Notification settings" initial=${initial} submitLabel="Save" busyLabel="Saving…" onSubmit=${submit}>
        <${NotificationFields} />
      <//>
    <//>
    <${Section} title="Test message" id="notification-test">
      <${TestMessage} team=${team} notification=${data} />
    <//>
    <${Section} title="Delete" id="notification-delete">
      <div class="danger-zone">
        <div>
          <p>Delete the notification: its channel gets no more messages.</p>
          <${DeleteNotification} team=${team} notification=${data} small=${false} onDeleted=${() => navigate(screen(team))} />
        </div>
      </div>
    <//>
  <//>`;
}

export const nav = { path: 'notifications', label: 'Notifications', icon: 'notifications', order: 50 };

export const routes = [
  { path: '/:team/notifications', view: NotificationList, title: 'Notifications', access: 'team' },
  { path: '/:team/notifications/new', view: NewNotification, title: 'Add a notification', access: 'team' },
  { path: '/:team/notifications/:notificationId', view: NotificationDetails, title: 'Notification', access: 'team' },
];
