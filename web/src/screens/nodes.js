// Nodes (`/api/{teamSlug}/nodes`): the Docker hosts and Kubernetes clusters deployments run on.
// The list and a node's screen follow each node's status live (live.js); a node's screen gives the
// one-line install command to copy (and makes a new one), the agent's update, its token's
// revocation, the node's settings, its events and its deletion. Its containers: node-containers.js.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLive, useNewestStatus } from '../live.js';
import { navigate } from '../router.js';
import { CopyField } from '../ui/copy.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, formatDateTime, toast, useResource } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { LiveBadge, StatusBadge } from '../ui/status.js';
import { PagedTable, Table } from '../ui/table.js';
import { ContainerScreen, ContainersScreen } from './node-containers.js';

export const nav = { path: 'nodes', label: 'Nodes', icon: 'nodes', order: 30 };

const nodePath = (team, id) => `/api/${team.slug}/nodes/${id}`;

/** A node's status in a list row, followed live. */
function NodeStatus({ team, node }) {
  const live = useLive({ teamSlug: team.slug, nodeId: node.id });
  return html`<${StatusBadge} status=${live.status || node.status} />`;
}

function CreateNodeForm({ team }) {
  const submit = async ({ name, description }) => {
    const node = await api.post(`/api/${team.slug}/nodes`, { name, description: description.trim() || undefined });
    toast(`Node ${node.name} created: install its agent next.`);
    navigate(`/${team.slug}/nodes/${node.id}`);
  };
  return html`<${Form} label="Add a node" initial=${{ name: '', description: '' }} submitLabel="Add node" onSubmit=${submit}>
    <div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} autocomplete="off" hint="How your team calls the host or cluster." />
      <${Field} name="description" label="Description" maxLength=${2000} autocomplete="off" />
    </div>
  <//>`;
}

function NodesScreen({ team }) {
  const columns = [
    { label: 'Name', render: (n) => html`<a href=${`/${team.slug}/nodes/${n.id}`}>${n.name}</a>` },
    { label: 'Status', render: (n) => html`<${NodeStatus} team=${team} node=${n} />` },
    { label: 'Type', render: (n) => (n.type === 'k8s' ? 'Kubernetes' : 'Docker') },
    { label: 'Address', render: (n) => n.address || '—' },
    { label: 'Agent', render: (n) => n.version || '—' },
    { label: 'Connected', render: (n) => formatDateTime(n.connectedAt) },
  ];
  return html`<${Page}
    title="Nodes"
    lead="The Docker hosts and Kubernetes clusters your deployments run on. Each runs an agent that connects out to the platform: nothing needs to reach in."
  >
    <${Section} title="Add a node" id="node-create">
      <${CreateNodeForm} team=${team} />
    <//>
    <${Section} title="Your nodes" id="node-list">
      <${PagedTable}
        caption="Nodes"
        load=${(page) => api.page(`/api/${team.slug}/nodes`, page)}
        columns=${columns}
        empty=${html`<${Empty} icon="nodes" title="No nodes yet">
          Add one above, then run its install command on the host: the agent connects and the node turns connected here.
        <//>`}
      />
    <//>
  <//>`;
}

// --- one node ----------------------------------------------------------------------------------

const SCRIPT_TYPES = [
  { value: 'shell', label: 'Shell (Linux, macOS)' },
  { value: 'powershell', label: 'PowerShell (Windows)' },
];
const NODE_TYPES = [
  { value: 'docker', label: 'Docker host' },
  { value: 'k8s', label: 'Kubernetes cluster' },
];

const AGENT_HERE = ['connected', 'outdated', 'updating'];

function InstallCommand({ team, node, status, onChanged }) {
  const install = node.install;
  if (AGENT_HERE.includes(status)) {
    return html`<p>
      The agent is installed and connected. To install it again (on a new machine, or after losing this one), revoke its token
      first: the running agent stops, then make a new install command here.
    </p>`;
  }
  const generate = async (values) => {
    const body = { type: values.type, scriptType: values.scriptType };
    if (values.rootPath.trim()) body.rootPath = values.rootPath.trim();
    const acmeEmail = values.dagentTraefik?.acmeEmail?.trim();
    if (acmeEmail) body.dagentTraefik = { acmeEmail };
    // The platform hands out the same unexpired command again: a new one replaces it.
    if (install) await api.del(`${nodePath(team, node.id)}/script`);
    await api.post(`${nodePath(team, node.id)}/script`, body);
    toast(install ? 'A new install command is ready: the previous one stopped working.' : 'The install command is ready: copy it.');
    onChanged();
  };
  const discard = async () => {
    await api.del(`${nodePath(team, node.id)}/script`);
    toast('The install command was discarded.');
    onChanged();
  };
  const initial = { type: node.type || 'docker', scriptType: 'shell', rootPath: '', dagentTraefik: { acmeEmail: '' } };
  return html`${install &&
    html`<div class="install">
      <${CopyField}
        label="Install command"
        value=${install.command}
        multiline
        rows=${Math.min(8, Math.ceil(install.command.length / 110) + 1)}
        hint=${`Run it on the host as root (Docker) or with kubectl access (Kubernetes). It works once, until ${formatDateTime(install.expireAt)}; the agent then connects by itself.`}
      />
      <details class="script">
        <summary>Show the script it runs</summary>
        <pre>${install.script}</pre>
      </details>
      <div class="row-actions">
        <${ConfirmButton}
          label="Discard this command"
          title="Discard the install command?"
          text="It stops working at once. You can make a new one whenever you need it."
          confirmLabel="Discard"
          onConfirm=${discard}
        />
      </div>
    </div>`}
    <h3>${install ? 'Make a new command' : 'Make the install command'}</h3>
    <${Form} label="Make an install command" initial=${initial} submitLabel=${install ? 'Make a new command' : 'Make install command'} onSubmit=${generate}>
      <div class="field-row">
        <${Field} name="type" label="Node type" type="select" options=${NODE_TYPES} required />
        <${Field} name="scriptType" label="Script" type="select" options=${SCRIPT_TYPES} required />
      </div>
      <div class="field-row">
        <${Field} name="rootPath" label="Data directory on the host" maxLength=${255} autocomplete="off" hint="Where the agent keeps its files (default /srv/dyrector)." />
        <${Field}
          name="dagentTraefik.acmeEmail"
          label="Traefik ACME e-mail"
          type="email"
          autocomplete="off"
          hint="Docker only: run Traefik for exposed containers, with Let's Encrypt certificates for this address."
        />
      </div>
    <//>`;
}

function AgentActions({ team, node, status, onChanged }) {
  const update = async () => {
    await api.post(`${nodePath(team, node.id)}/update`);
    toast('The agent is updating itself: the node reconnects when it is done.');
    onChanged();
  };
  const revoke = async () => {
    await api.del(`${nodePath(team, node.id)}/token`);
    toast('The agent token is revoked: the agent stopped.');
    onChanged();
  };
  return html`<dl class="facts">
      <dt>Status</dt><dd><${StatusBadge} status=${status} live /></dd>
      <dt>Type</dt><dd>${node.type === 'k8s' ? 'Kubernetes' : 'Docker'}</dd>
      <dt>Agent version</dt><dd>${node.version || '—'}</dd>
      <dt>Address</dt><dd>${node.address || '—'}</dd>
      <dt>Connected</dt><dd>${formatDateTime(node.connectedAt)}</dd>
      <dt>Agent token</dt><dd>${node.hasToken ? 'issued' : 'none: install the agent'}</dd>
    </dl>
    <div class="row-actions section-actions">
      <a class="button button-small" href=${`/${team.slug}/nodes/${node.id}/containers`}>Containers</a>
      <a class="button button-small" href=${`/${team.slug}/deployments?nodeId=${node.id}`}>Deploy to this node</a>
      ${['connected', 'outdated'].includes(status) &&
      html`<${ConfirmButton}
        label="Update agent"
        danger=${false}
        title="Update the agent?"
        text="It downloads the platform's agent and replaces itself; the node reconnects in a moment. Running containers keep running."
        confirmLabel="Update"
        onConfirm=${update}
      />`}
      ${node.hasToken &&
      html`<${ConfirmButton}
        label="Revoke token"
        title="Revoke the agent's token?"
        text="The agent stops at once and the node becomes unreachable. Containers keep running; install the agent again to reconnect."
        confirmLabel="Revoke"
        onConfirm=${revoke}
      />`}
    </div>`;
}

function NodeSettings({ team, node, onSaved }) {
  const submit = async ({ name, description }) => {
    await api.put(nodePath(team, node.id), { name, description: description.trim() || undefined, icon: node.icon || undefined });
    toast('Node saved.');
    onSaved();
  };
  return html`<${Form}
    key=${`${node.name}|${node.description}`}
    label="Node settings"
    initial=${{ name: node.name, description: node.description || '' }}
    submitLabel="Save"
    onSubmit=${submit}
  >
    <div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} autocomplete="off" />
      <${Field} name="description" label="Description" maxLength=${2000} autocomplete="off" />
    </div>
  <//>`;
}

const AUDIT_PAGE = 10;

function NodeEvents({ team, node, version }) {
  const [skip, setSkip] = useState(0);
  const { data, error, loading, reload } = useResource(
    (signal) => api.get(`${nodePath(team, node.id)}/audit`, { skip, take: AUDIT_PAGE }, { signal }),
    [skip, version],
  );
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  if (data.items.length === 0 && skip === 0) return html`<p class="muted">Nothing happened on this node yet.</p>`;
  const columns = [
    { label: 'When', render: (e) => formatDateTime(e.createdAt) },
    { label: 'Event', render: (e) => e.event },
    { label: 'Details', render: (e) => (e.data ? html`<code>${JSON.stringify(e.data)}</code>` : '—') },
  ];
  return html`<div aria-busy=${loading}>
    <${Table} caption="Node events" columns=${columns} rows=${data.items} rowKey=${(e) => `${e.createdAt}${e.event}`} />
    ${(skip > 0 || data.total > skip + data.items.length) &&
    html`<nav class="pager" aria-label="Event pages">
      <button type="button" class="button" disabled=${skip === 0 || loading} onClick=${() => setSkip(Math.max(0, skip - AUDIT_PAGE))}>Newer</button>
      <button type="button" class="button" disabled=${data.total <= skip + data.items.length || loading} onClick=${() => setSkip(skip + AUDIT_PAGE)}>Older</button>
    </nav>`}
  </div>`;
}

function NodeScreen({ team, params }) {
  const [version, setVersion] = useState(0);
  const { data: node, error, reload } = useResource(
    (signal) => api.get(nodePath(team, params.nodeId), undefined, { signal }),
    [params.nodeId, version],
  );
  const changed = () => setVersion((v) => v + 1);
  // A status change (the agent connected, left, updated) changes what the screen shows: read it again.
  const live = useLive(
    { teamSlug: team.slug, nodeId: params.nodeId },
    {
      onMessage: (message) => message.type === 'node-status' && changed(),
      onSubscribed: (status) => node && status !== node.status && changed(),
    },
  );
  const status = useNewestStatus(node, live);
  if (error) return html`<${Page} title="Node"><${ErrorState} error=${error} retry=${reload} /><//>`;
  if (!node) return html`<${Page} title="Node"><${Loading} /><//>`;
  const remove = async () => {
    await api.del(nodePath(team, node.id));
    toast(`Node ${node.name} deleted.`);
    navigate(`/${team.slug}/nodes`, { replace: true });
  };
  return html`<${Page}
    title=${node.name}
    lead=${node.description || (node.type === 'k8s' ? 'A Kubernetes cluster' : 'A Docker host')}
    actions=${html`<${StatusBadge} status=${status} /> <${LiveBadge} live=${live} />`}
  >
    <p class="breadcrumbs"><a href=${`/${team.slug}/nodes`}>Nodes</a> / ${node.name}</p>
    ${status !== 'connected' &&
    !node.hasToken &&
    html`<p class="notice" role="status">
      The agent is not installed yet: make the install command below and run it on the host. This screen shows the node connected as soon as the agent is.
    </p>`}
    <${Section} title="Agent" id="node-agent">
      <${AgentActions} team=${team} node=${node} status=${status} onChanged=${changed} />
    <//>
    <${Section} title="Install the agent" id="node-install">
      <${InstallCommand} team=${team} node=${node} status=${status} onChanged=${changed} />
    <//>
    <${Section} title="Settings" id="node-settings">
      <${NodeSettings} team=${team} node=${node} onSaved=${changed} />
    <//>
    <${Section} title="Events" id="node-events">
      <${NodeEvents} team=${team} node=${node} version=${version} />
    <//>
    <${Section} title="Delete the node" id="node-delete">
      <div class="danger-zone">
        <div>
          <p>${node.inUse ? 'Its deployments must be deleted first.' : 'Its agent is locked out; containers on the host keep running.'}</p>
          <${ConfirmButton}
            label="Delete node"
            small=${false}
            title=${`Delete ${node.name}?`}
            text="This cannot be undone. The agent stops and can no longer connect."
            confirmLabel="Delete for good"
            onConfirm=${remove}
          />
        </div>
      </div>
    <//>
  <//>`;
}

export const routes = [
  { path: '/:team/nodes', view: NodesScreen, title: 'Nodes', access: 'team' },
  { path: '/:team/nodes/:nodeId', view: NodeScreen, title: 'Node', access: 'team' },
  { path: '/:team/nodes/:nodeId/containers', view: ContainersScreen, title: 'Containers', access: 'team' },
  { path: '/:team/nodes/:nodeId/containers/:prefix/:name', view: ContainerScreen, title: 'Container', access: 'team' },
];
