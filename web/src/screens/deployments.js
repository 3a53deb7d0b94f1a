// Deployments (`/api/{teamSlug}/deployments`): a version's images on a node under a prefix. The list
// (paged, newest first) with the form that makes one; a deployment's screen: deploy, its status and
// event log followed live (live.js) with older events paged in from the log route, its instances,
// settings, environment, CI token, copy and delete. An instance's overrides and secrets:
// deployment-instance.js.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLive, useNewestStatus } from '../live.js';
import { navigate } from '../router.js';
import { CopyField } from '../ui/copy.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, formatDateTime, toast, useResource } from '../ui/feedback.js';
import { Field, Form, ListField, newId, useForm } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { LogView } from '../ui/log.js';
import { LiveBadge, StatusBadge } from '../ui/status.js';
import { PagedTable, Table } from '../ui/table.js';
import { InstanceScreen, containerName, secretStates } from './deployment-instance.js';
import { clean } from './projects/config.js';
import { slugify } from './teams.js';

export const nav = { path: 'deployments', label: 'Deployments', icon: 'deployments', order: 40 };

const deploymentPath = (team, id) => `/api/${team.slug}/deployments/${id}`;
const FOLLOWED = ['preparing', 'in-progress']; // list rows that may change soon follow live

/** A deployment's status in a list row; followed live while it may change by itself. */
function DeploymentStatus({ team, deployment }) {
  const follows = FOLLOWED.includes(deployment.status);
  const live = useLive(follows ? { teamSlug: team.slug, deploymentId: deployment.id } : null);
  return html`<${StatusBadge} status=${live.status || deployment.status} />`;
}


/** The version select of the create form: the chosen project's versions, its default preselected. */
function VersionField({ team }) {
  const form = useForm();
  const projectId = form.values.projectId;
  const { data: project, error } = useResource(
    (signal) => (projectId ? api.get(`/api/${team.slug}/projects/${projectId}`, undefined, { signal }) : Promise.resolve(null)),
    [projectId],
  );
  useEffect(() => {
    if (!project) return;
    const chosen = project.versions.find((v) => v.id === form.values.versionId);
    if (!chosen) form.setValue('versionId', (project.versions.find((v) => v.default) || project.versions[0])?.id || '');
  }, [project]);
  const options = (project?.versions || []).map((v) => ({ value: v.id, label: `${v.name}${v.default ? ' (default)' : ''}` }));
  if (error) return html`<p class="form-error">${error.message}</p>`;
  return html`<${Field}
    name="versionId"
    label="Version"
    type="select"
    required
    options=${options.length ? options : [{ value: '', label: projectId ? 'Loading…' : 'Choose a project first' }]}
  />`;
}

function CreateDeploymentForm({ team, projects, nodes, nodeId }) {
  const prefixTouched = useRef(false);
  const projectName = (id) => projects.find((p) => p.id === id)?.name || '';
  const first = projects[0];
  const initial = {
    projectId: first.id,
    versionId: '',
    nodeId: nodeId && nodes.some((n) => n.id === nodeId) ? nodeId : nodes[0].id,
    prefix: slugify(first.name, 63),
    note: '',
  };
  // The prefix follows the project until the person types one of their own.
  const derive = (values, changed) => {
    if (changed === 'prefix') prefixTouched.current = values.prefix !== '';
    if (changed === 'projectId') {
      const next = { ...values, versionId: '' };
      if (!prefixTouched.current) next.prefix = slugify(projectName(values.projectId), 63);
      return next;
    }
    return values;
  };
  const submit = async ({ versionId, nodeId: node, prefix, note }) => {
    const created = await api.post(`/api/${team.slug}/deployments`, { versionId, nodeId: node, prefix, note: note.trim() || undefined });
    toast('Deployment created: check its instances, then deploy.');
    navigate(`/${team.slug}/deployments/${created.id}`);
  };
  return html`<${Form} label="New deployment" initial=${initial} derive=${derive} submitLabel="Create deployment" onSubmit=${submit}>
    <div class="field-row">
      <${Field} name="projectId" label="Project" type="select" required options=${projects.map((p) => ({ value: p.id, label: p.name }))} />
      <${VersionField} team=${team} />
    </div>
    <div class="field-row">
      <${Field} name="nodeId" label="Node" type="select" required options=${nodes.map((n) => ({ value: n.id, label: `${n.name} (${n.status})` }))} />
      <${Field}
        name="prefix"
        label="Prefix"
        required
        maxLength=${63}
        pattern="[a-z0-9]([\\-a-z0-9]*[a-z0-9])?"
        title="lower-case letters, digits and hyphens"
        autocomplete="off"
        hint="Names the containers (prefix-name) and, on Kubernetes, the namespace; one deployment per prefix and node."
      />
    </div>
    <${Field} name="note" label="Note" maxLength=${2000} autocomplete="off" />
  <//>`;
}

function NewDeployment({ team, query }) {
  const { data, error, reload } = useResource(
    (signal) =>
      Promise.all([api.all(`/api/${team.slug}/projects`, { signal }), api.all(`/api/${team.slug}/nodes`, { signal })]),
    [team.slug],
  );
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  const [projects, nodes] = data;
  if (projects.length === 0) {
    return html`<${Empty} icon="projects" title="No project to deploy yet" action=${html`<a class="button" href=${`/${team.slug}/projects`}>Projects</a>`}>
      A deployment puts a version of a project on a node: create a project with its images first.
    <//>`;
  }
  if (nodes.length === 0) {
    return html`<${Empty} icon="nodes" title="No node to deploy to yet" action=${html`<a class="button" href=${`/${team.slug}/nodes`}>Add a node</a>`}>
      Add a node and install its agent: deployments run there.
    <//>`;
  }
  return html`<${CreateDeploymentForm} team=${team} projects=${projects} nodes=${nodes} nodeId=${query.get('nodeId')} />`;
}

function DeploymentsScreen({ team, query }) {
  const columns = [
    {
      label: 'Project',
      render: (d) => html`<a href=${`/${team.slug}/deployments/${d.id}`}>${d.project.name}</a> <span class="muted">${d.version.name}</span>`,
    },
    { label: 'Node', render: (d) => d.node.name },
    { label: 'Prefix', render: (d) => html`<code>${d.prefix}</code>` },
    { label: 'Status', render: (d) => html`<${DeploymentStatus} team=${team} deployment=${d} />` },
    { label: 'Created', render: (d) => formatDateTime(d.audit.createdAt) },
    { label: 'Note', render: (d) => d.note || '' },
  ];
  return html`<${Page} title="Deployments" lead="Versions of your projects on your nodes: create one, set its secrets, deploy and follow it live.">
    <${Section} title="New deployment" id="deployment-create">
      <${NewDeployment} team=${team} query=${query} />
    <//>
    <${Section} title="Deployments" id="deployment-list">
      <${PagedTable}
        caption="Deployments"
        load=${(page) => api.page(`/api/${team.slug}/deployments`, page)}
        columns=${columns}
        empty=${html`<${Empty} icon="deployments" title="No deployments yet">Create one above: pick a version, a node and a prefix.<//>`}
      />
    <//>
  <//>`;
}

// --- one deployment: deploy, live status and event log ------------------------------------------

const LOG_PAGE = 50;
const eventKey = (e) => JSON.stringify([e.createdAt, e.type, e.deploymentStatus, e.log, e.containerState]);

/** `known` with `incoming` added: each event once, oldest first. */
function mergeEvents(known, incoming) {
  const byKey = new Map(known.map((e) => [eventKey(e), e]));
  for (const event of incoming) byKey.set(eventKey(event), event);
  return [...byKey.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

function eventLine(event, instances) {
  const base = { key: eventKey(event), time: event.createdAt };
  if (event.type === 'deployment-status') {
    const status = event.deploymentStatus;
    return { ...base, text: `Deployment ${status}`, tone: status === 'successful' ? 'good' : status === 'failed' ? 'bad' : 'info' };
  }
  if (event.type === 'container-state') {
    const { state, instanceId } = event.containerState || {};
    const instance = instances.find((i) => i.id === instanceId);
    const name = instance ? containerName(instance) : instanceId;
    return { ...base, text: `Container ${name}: ${state}`, tone: state === 'running' ? 'good' : state === 'exited' ? 'bad' : 'info' };
  }
  return { ...base, text: (event.log || []).join('\n') };
}

/** The deployment's events: the newest page, live pushes, older pages on request. */
function useEventLog(team, deploymentId) {
  const [events, setEvents] = useState([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const count = useRef(0);
  count.current = events.length;
  const first = useRef(true);
  const read = async (skip) => {
    setBusy(true);
    try {
      const page = await api.get(`${deploymentPath(team, deploymentId)}/log`, { skip, take: LOG_PAGE });
      setError(null);
      setEvents((known) => mergeEvents(known, page.items));
      // `total` is exact on the last page, one more than the page reaches otherwise. A later read of
      // the newest page (after a lost connection) leaves the older pages as they were.
      if (skip > 0) setMore(page.total > skip + page.items.length);
      else if (first.current) setMore(page.total > page.items.length);
      first.current = false;
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return {
    events,
    more,
    error,
    busy,
    newest: () => read(0),
    older: () => read(count.current),
    add: (incoming) => setEvents((known) => mergeEvents(known, incoming)),
  };
}

function EventLog({ log, instances }) {
  const lines = log.events.map((e) => eventLine(e, instances));
  const before =
    log.more &&
    html`<button type="button" class="button button-small log-older" disabled=${log.busy} onClick=${log.older}>
      ${log.busy ? 'Loading older events…' : 'Load older events'}
    </button>`;
  return html`${log.error && html`<p class="form-error" role="alert">${log.error.message}</p>`}
    <${LogView} label="Event log" lines=${lines} before=${before} empty="No events yet: deploy to see what happens, as it happens." />`;
}

function DeployForm({ team, deployment, status, onStarted }) {
  const start = async () => {
    await api.post(`${deploymentPath(team, deployment.id)}/start`);
    toast('Deployment started: follow it in the event log.');
    onStarted();
  };
  const again = ['successful', 'failed', 'obsolete', 'downgraded'].includes(status);
  return html`<${Form} label="Deploy" initial=${{}} submitLabel=${again ? 'Deploy again' : 'Deploy'} busyLabel="Starting…" onSubmit=${start}>
    <p class="hint">
      The node's agent pulls the images and (re)creates the containers of ${deployment.prefix}; required secrets must be set on the instances first.
    </p>
  <//>`;
}

/** The config fields an instance sets itself (the API answers every field, null when not set). */
const overrides = (config) =>
  Object.entries(config || {})
    .filter(([key, value]) => key !== 'secrets' && value !== null && !(Array.isArray(value) && value.length === 0))
    .map(([key]) => key);

function Instances({ team, details }) {
  const columns = [
    { label: 'Container', render: (i) => html`<a href=${`/${team.slug}/deployments/${details.id}/instances/${i.id}`}>${containerName(i)}</a>` },
    { label: 'Image', render: (i) => html`<code>${i.image.name}:${i.image.tag}</code>` },
    {
      label: 'Secrets',
      render: (i) => {
        const states = secretStates(i, details.publicKey);
        if (states.length === 0) return html`<span class="muted">none</span>`;
        const missing = states.filter((s) => s.required && s.state !== 'sealed');
        return missing.length
          ? html`<span class="state state-bad"><span class="state-mark" aria-hidden="true"></span>${missing.map((s) => s.key).join(', ')} to set</span>`
          : html`${states.filter((s) => s.state === 'sealed').length} of ${states.length} set`;
      },
    },
    { label: 'Overrides', render: (i) => overrides(i.config).join(', ') || html`<span class="muted">none</span>` },
    { label: 'Configure', render: (i) => html`<a href=${`/${team.slug}/deployments/${details.id}/instances/${i.id}`}>Configure<span class="visually-hidden"> ${containerName(i)}</span></a>` },
  ];
  if (details.instances.length === 0) {
    return html`<p class="muted">The version has no images: add images to it, then create the deployment again.</p>`;
  }
  return html`<${Table} caption="Instances" columns=${columns} rows=${details.instances} />`;
}

function DeploymentSettings({ team, details, onSaved }) {
  const submit = async ({ note, prefix }) => {
    await api.patch(deploymentPath(team, details.id), { note: note.trim() || null, prefix });
    toast('Deployment saved.');
    onSaved();
  };
  return html`<${Form}
    key=${`${details.prefix}|${details.note}`}
    label="Deployment settings"
    initial=${{ prefix: details.prefix, note: details.note || '' }}
    submitLabel="Save"
    onSubmit=${submit}
  >
    <div class="field-row">
      <${Field} name="prefix" label="Prefix" required maxLength=${63} autocomplete="off" />
      <${Field} name="note" label="Note" maxLength=${2000} autocomplete="off" />
    </div>
  <//>`;
}

function DeploymentEnvironment({ team, details, onSaved }) {
  const submit = async (values) => {
    await api.patch(deploymentPath(team, details.id), { environment: clean(values.environment) || [] });
    toast('Environment saved: it applies at the next deploy.');
    onSaved();
  };
  return html`<${Form}
    key=${JSON.stringify(details.environment)}
    label="Deployment environment"
    initial=${{ environment: details.environment.map((e) => ({ ...e })) }}
    submitLabel="Save environment"
    onSubmit=${submit}
  >
    <${ListField}
      name="environment"
      legend="Variables for every container"
      hint="An instance's own variables win over these; these win over the image's."
      itemLabel="variable"
      columns=${[
        { key: 'key', label: 'Name', required: true },
        { key: 'value', label: 'Value' },
      ]}
      blank=${() => ({ id: newId(), key: '', value: '' })}
    />
  <//>`;
}

const EXPIRY = [
  { value: 30, label: '30 days' },
  { value: 90, label: '90 days' },
  { value: 365, label: 'One year' },
  { value: 0, label: 'Never' },
];

function DeploymentToken({ team, details, onChanged }) {
  const [created, setCreated] = useState(null);
  if (details.version.type !== 'rolling') {
    return html`<p class="muted">Only deployments of rolling versions have a CI token: a new push of the same tags deploys again.</p>`;
  }
  const submit = async ({ name, expirationInDays }) => {
    const days = Number(expirationInDays);
    const token = await api.put(`${deploymentPath(team, details.id)}/token`, { name, expirationInDays: days || undefined });
    setCreated(token);
    onChanged();
  };
  const revoke = async () => {
    await api.del(`${deploymentPath(team, details.id)}/token`);
    toast('The deployment token is revoked.');
    setCreated(null);
    onChanged();
  };
  const current = details.token;
  return html`${created &&
    html`<div class="notice notice-success" role="status">
      <p><strong>${created.name}</strong> is ready. Copy it now: it is not shown again.</p>
      <${CopyField} label="Deployment token" value=${created.token} />
      <${CopyField} label="curl command" value=${created.curl} multiline hint="Run it from CI: it starts this deployment, nothing else." />
      <button type="button" class="button button-small" onClick=${() => setCreated(null)}>Done</button>
    </div>`}
    ${current &&
    html`<dl class="facts">
        <dt>Token</dt><dd>${current.name}</dd>
        <dt>Created</dt><dd>${formatDateTime(current.createdAt)}</dd>
        <dt>Expires</dt><dd>${current.expiresAt ? formatDateTime(current.expiresAt) : 'never'}</dd>
      </dl>
      <div class="section-actions">
        <${ConfirmButton} label="Revoke token" title="Revoke the deployment token?" text="CI jobs using it are refused from now on." confirmLabel="Revoke" onConfirm=${revoke} />
      </div>`}
    <${Form} label="Create a deployment token" initial=${{ name: '', expirationInDays: 90 }} submitLabel=${current ? 'Replace token' : 'Create token'} resetOnSuccess onSubmit=${submit}>
      <div class="field-row">
        <${Field} name="name" label="Token name" required minLength=${3} maxLength=${70} autocomplete="off" hint="What uses it, e.g. “GitHub Actions”." />
        <${Field} name="expirationInDays" label="Expires after" type="select" options=${EXPIRY} required />
      </div>
    <//>`;
}

function CopyDeployment({ team, details }) {
  const { data: nodes } = useResource((signal) => api.all(`/api/${team.slug}/nodes`, { signal }), [team.slug]);
  if (!nodes) return html`<${Loading} />`;
  const submit = async ({ nodeId, prefix, note }) => {
    const copy = await api.post(`${deploymentPath(team, details.id)}/copy`, { nodeId, prefix, note: note.trim() || undefined });
    toast('Deployment copied: its secrets are sealed for the new node, set them again there.');
    navigate(`/${team.slug}/deployments/${copy.id}`);
  };
  return html`<${Form} label="Copy the deployment" initial=${{ nodeId: details.node.id, prefix: `${details.prefix}-copy`.slice(0, 63), note: '' }} submitLabel="Copy" onSubmit=${submit}>
    <div class="field-row">
      <${Field} name="nodeId" label="To node" type="select" required options=${nodes.map((n) => ({ value: n.id, label: n.name }))} />
      <${Field} name="prefix" label="Prefix" required maxLength=${63} autocomplete="off" />
    </div>
    <${Field} name="note" label="Note" maxLength=${2000} autocomplete="off" />
  <//>`;
}

function DeploymentScreen({ team, params }) {
  const id = params.deploymentId;
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  const { data: details, error, reload } = useResource(
    (signal) => api.get(deploymentPath(team, id), undefined, { signal }),
    [id, version],
  );
  const log = useEventLog(team, id);
  // Follow first, then read the newest events: nothing between the two is lost (merged, each once).
  const live = useLive(
    { teamSlug: team.slug, deploymentId: id },
    {
      onMessage: (message) => {
        if (message.type === 'deployment-events') log.add(message.events);
        if (message.type === 'deployment-status' && ['successful', 'failed'].includes(message.status)) changed();
      },
      onSubscribed: () => log.newest(), // after a lost connection too: what happened meanwhile
    },
  );
  const status = useNewestStatus(details, live);
  useEffect(() => {
    log.newest();
  }, [id]);
  if (error) return html`<${Page} title="Deployment"><${ErrorState} error=${error} retry=${reload} /><//>`;
  if (!details) return html`<${Page} title="Deployment"><${Loading} /><//>`;
  const remove = async () => {
    await api.del(deploymentPath(team, details.id));
    toast('Deployment deleted; its containers stay on the node.');
    navigate(`/${team.slug}/deployments`, { replace: true });
  };
  return html`<${Page}
    title=${`${details.project.name} on ${details.node.name}`}
    lead=${html`Version <strong>${details.version.name}</strong> under prefix <code>${details.prefix}</code>${details.note ? ` — ${details.note}` : ''}`}
    actions=${html`<${StatusBadge} status=${status} live /> <${LiveBadge} live=${live} />`}
  >
    <p class="breadcrumbs"><a href=${`/${team.slug}/deployments`}>Deployments</a> / ${details.project.name} · ${details.prefix}</p>
    <${Section} title="Deploy" id="deployment-deploy">
      <${DeployForm} team=${team} deployment=${details} status=${status} onStarted=${changed} />
    <//>
    <${Section} title="Event log" id="deployment-log">
      <${EventLog} log=${log} instances=${details.instances} />
    <//>
    <${Section} title=${`Instances (${details.instances.length})`} id="deployment-instances">
      <${Instances} team=${team} details=${details} />
    <//>
    <${Section} title="Settings" id="deployment-settings">
      <${DeploymentSettings} team=${team} details=${details} onSaved=${changed} />
    <//>
    <${Section} title="Environment" id="deployment-environment">
      <${DeploymentEnvironment} team=${team} details=${details} onSaved=${changed} />
    <//>
    <${Section} title="CI token" id="deployment-token">
      <${DeploymentToken} team=${team} details=${details} onChanged=${changed} />
    <//>
    <${Section} title="Copy" id="deployment-copy">
      <${CopyDeployment} team=${team} details=${details} />
    <//>
    <${Section} title="Delete the deployment" id="deployment-delete">
      <div class="danger-zone">
        <div>
          <p>The deployment and its log go; its containers stay on the node (delete them from the node's containers).</p>
          <${ConfirmButton}
            label="Delete deployment"
            small=${false}
            title="Delete this deployment?"
            text="This cannot be undone."
            confirmLabel="Delete for good"
            onConfirm=${remove}
          />
        </div>
      </div>
    <//>
  <//>`;
}

export const routes = [
  { path: '/:team/deployments', view: DeploymentsScreen, title: 'Deployments', access: 'team' },
  { path: '/:team/deployments/:deploymentId', view: DeploymentScreen, title: 'Deployment', access: 'team' },
  { path: '/:team/deployments/:deploymentId/instances/:instanceId', view: InstanceScreen, title: 'Instance', access: 'team' },
];
