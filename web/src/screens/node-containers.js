// A node's containers (`/api/{teamSlug}/nodes/{nodeId}/[{prefix}/]containers/...`), as its agent
// reports them: the list with start, stop, restart and delete, and one container's log and
// inspection (secret values masked by the agent; they never leave the node). Every call goes
// through the node's agent, so an unreachable node answers 412 and the screens say so.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, formatDateTime, toast, useResource } from '../ui/feedback.js';
import { Page, Section } from '../ui/layout.js';
import { LogView } from '../ui/log.js';
import { StatusBadge } from '../ui/status.js';
import { Table } from '../ui/table.js';

const NO_PREFIX = '_'; // the API's path segment for a container without a prefix

/** The API path of one container (`prefix` empty or `_`: none). */
function containerPath(team, nodeId, prefix, name) {
  const node = `/api/${team.slug}/nodes/${encodeURIComponent(nodeId)}`;
  const own = prefix && prefix !== NO_PREFIX ? `/${encodeURIComponent(prefix)}` : '';
  return `${node}${own}/containers/${encodeURIComponent(name)}`;
}

/** The console's address of one container's screen. */
export function containerLink(team, nodeId, prefix, name) {
  return `/${team.slug}/nodes/${nodeId}/containers/${encodeURIComponent(prefix || NO_PREFIX)}/${encodeURIComponent(name)}`;
}

const fullName = (id) => (id.prefix ? `${id.prefix}-${id.name}` : id.name);

function ports(list) {
  if (!list?.length) return '—';
  return list.map((p) => (p.external ? `${p.external}→${p.internal}` : `${p.internal}`)).join(', ');
}

/** Start, stop, restart and delete one container; `onDone(operation)` after each. */
function ContainerActions({ team, nodeId, id, state, onDone }) {
  const [busy, setBusy] = useState(null);
  const path = containerPath(team, nodeId, id.prefix, id.name);
  const run = (operation) => async () => {
    setBusy(operation);
    try {
      await api.post(`${path}/${operation}`);
      toast(`${fullName(id)}: ${operation} sent to the agent.`);
      onDone(operation);
    } catch (error) {
      toast(`${fullName(id)}: ${error.message}`, { kind: 'error' });
    } finally {
      setBusy(null);
    }
  };
  const remove = async () => {
    await api.del(path);
    toast(`${fullName(id)} deleted.`);
    onDone('delete');
  };
  const button = (operation, label) =>
    html`<button type="button" class="button button-small" disabled=${busy !== null} onClick=${run(operation)}>
      ${busy === operation ? `${label}…` : label}<span class="visually-hidden"> ${fullName(id)}</span>
    </button>`;
  return html`<div class="row-actions">
    ${state !== 'running' && button('start', 'Start')}
    ${state === 'running' && button('stop', 'Stop')}
    ${button('restart', 'Restart')}
    <${ConfirmButton}
      label="Delete"
      title=${`Delete the container ${fullName(id)}?`}
      text="The agent stops and removes it. A deployment that made it can make it again."
      onConfirm=${remove}
    />
  </div>`;
}

function NodeNotReachable({ error, team, nodeId, retry }) {
  return html`<div class="notice notice-error" role="alert">
    <p>${error.message}</p>
    ${error.status === 412 && html`<p>Containers are read through the node's agent: <a href=${`/${team.slug}/nodes/${nodeId}`}>check the node</a>.</p>`}
    <button type="button" class="button" onClick=${retry}>Try again</button>
  </div>`;
}

export function ContainersScreen({ team, params, query }) {
  const nodeId = params.nodeId;
  const prefix = query.get('prefix') || '';
  const [filter, setFilter] = useState(prefix);
  const { data: node } = useResource((signal) => api.get(`/api/${team.slug}/nodes/${nodeId}`, undefined, { signal }), [nodeId]);
  const { data, error, loading, reload } = useResource(
    (signal) => api.get(`/api/${team.slug}/nodes/${nodeId}/containers`, { prefix }, { signal }),
    [nodeId, prefix],
  );
  const show = (event) => {
    event.preventDefault();
    const value = filter.trim();
    navigate(`/${team.slug}/nodes/${nodeId}/containers${value ? `?prefix=${encodeURIComponent(value)}` : ''}`);
  };
  const removePrefix = async () => {
    await api.del(`/api/${team.slug}/nodes/${nodeId}/${encodeURIComponent(prefix)}/containers`);
    toast(`Every container of ${prefix} deleted.`);
    reload();
  };
  const columns = [
    {
      label: 'Container',
      render: (c) => html`<a href=${containerLink(team, nodeId, c.id.prefix, c.id.name)}>${c.id.name}</a>
        ${c.id.prefix && html`<span class="muted"> in ${c.id.prefix}</span>`}`,
    },
    { label: 'State', render: (c) => html`<${StatusBadge} status=${c.state} />${c.reason && html` <span class="muted">${c.reason}</span>`}` },
    { label: 'Image', render: (c) => html`<code>${c.imageName}:${c.imageTag}</code>` },
    { label: 'Ports', render: (c) => ports(c.ports) },
    { label: 'Created', render: (c) => formatDateTime(c.createdAt) },
    {
      label: 'Actions',
      render: (c) => html`<${ContainerActions} team=${team} nodeId=${nodeId} id=${c.id} state=${c.state} onDone=${reload} />`,
    },
  ];
  const name = node?.name || 'the node';
  return html`<${Page}
    title=${`Containers on ${name}`}
    lead="What the node's agent reports now, deployed by the platform or not."
    actions=${html`<button type="button" class="button" onClick=${reload} disabled=${loading}>Refresh</button>`}
  >
    <p class="breadcrumbs"><a href=${`/${team.slug}/nodes`}>Nodes</a> / <a href=${`/${team.slug}/nodes/${nodeId}`}>${name}</a> / Containers</p>
    <form class="filter" onSubmit=${show} role="search" aria-label="Filter containers">
      <label for="container-prefix">Prefix</label>
      <input id="container-prefix" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} placeholder="every prefix" autocomplete="off" />
      <button type="submit" class="button">Show</button>
    </form>
    ${error && html`<${NodeNotReachable} error=${error} team=${team} nodeId=${nodeId} retry=${reload} />`}
    ${!error && !data && html`<${Loading} label="Asking the node's agent…" />`}
    ${data &&
    (data.length === 0
      ? html`<${Empty} icon="nodes" title=${prefix ? `No containers in ${prefix}` : 'No containers on this node'}>
          Deploy to the node and its containers show here.
        <//>`
      : html`<div aria-busy=${loading}><${Table} caption="Containers" columns=${columns} rows=${data} rowKey=${(c) => fullName(c.id)} /></div>`)}
    ${data?.length > 0 &&
    prefix &&
    html`<div class="section-actions">
      <${ConfirmButton}
        label=${`Delete every container of ${prefix}`}
        small=${false}
        title=${`Delete every container of ${prefix}?`}
        text="The agent stops and removes them all."
        confirmLabel="Delete them"
        onConfirm=${removePrefix}
      />
    </div>`}
  <//>`;
}

// --- one container: inspection and log ----------------------------------------------------------

const TAILS = [100, 500, 1000];
const FOLLOW_MS = 3000;

function ContainerLog({ path }) {
  const [tail, setTail] = useState(100);
  const [lines, setLines] = useState(null);
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState(null);
  const [following, setFollowing] = useState(false);
  const last = useRef(null);
  const read = async ({ since } = {}) => {
    try {
      const reply = await api.get(`${path}/log`, { tail, since });
      setError(null);
      setTruncated(reply.truncated);
      const shaped = reply.lines.map((line, i) => ({
        key: `${line.time}|${i}|${line.text}`,
        time: line.time,
        text: line.text,
        tone: line.stream === 'stderr' ? 'bad' : undefined,
      }));
      if (since) {
        // `since` includes lines of that very moment: keep only the ones not shown yet.
        setLines((shown) => {
          const seen = new Set((shown || []).map((l) => `${l.time}|${l.text}`));
          const fresh = shaped.filter((l) => !seen.has(`${l.time}|${l.text}`));
          return [...(shown || []), ...fresh].slice(-tail);
        });
      } else {
        setLines(shaped);
      }
      if (reply.lines.length) last.current = reply.lines[reply.lines.length - 1].time;
    } catch (failure) {
      setError(failure);
    }
  };
  useEffect(() => {
    last.current = null;
    read();
  }, [path, tail]);
  useEffect(() => {
    if (!following) return undefined;
    const timer = setInterval(() => read({ since: last.current || undefined }), FOLLOW_MS);
    return () => clearInterval(timer);
  }, [following, path, tail]);
  return html`<div class="log-controls">
      <label>Lines
        <select value=${tail} onChange=${(e) => setTail(Number(e.currentTarget.value))}>
          ${TAILS.map((n) => html`<option value=${n}>${n} newest</option>`)}
        </select>
      </label>
      <label class="log-follow"><input type="checkbox" checked=${following} onChange=${(e) => setFollowing(e.currentTarget.checked)} /> Follow</label>
      <button type="button" class="button button-small" onClick=${() => read()}>Refresh log</button>
    </div>
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${truncated && html`<p class="hint">Older lines were left out to keep the answer small.</p>`}
    ${lines ? html`<${LogView} label="Container log" lines=${lines} empty="The container has not written anything yet." />` : !error && html`<${Loading} label="Reading the log…" />`}`;
}

function Inspection({ info }) {
  const env = info.environment || [];
  return html`<dl class="facts">
      <dt>State</dt><dd><${StatusBadge} status=${info.state} /> <span class="muted">(${info.status})</span></dd>
      ${info.health && html`<dt>Health</dt><dd><${StatusBadge} status=${info.health} /></dd>`}
      <dt>Image</dt><dd><code>${info.image}</code></dd>
      <dt>Started</dt><dd>${formatDateTime(info.startedAt)}</dd>
      ${info.finishedAt && html`<dt>Finished</dt><dd>${formatDateTime(info.finishedAt)}</dd>`}
      ${info.exitCode !== null && html`<dt>Exit code</dt><dd>${info.exitCode}</dd>`}
      ${info.error && html`<dt>Error</dt><dd>${info.error}</dd>`}
      <dt>Restarts</dt><dd>${info.restartCount}</dd>
      <dt>Ports</dt><dd>${ports(info.ports)}</dd>
      <dt>Created</dt><dd>${formatDateTime(info.createdAt)}</dd>
    </dl>
    <h3>Environment</h3>
    ${env.length === 0
      ? html`<p class="muted">No variables.</p>`
      : html`<${Table}
          caption="Environment"
          rowKey=${(v) => v.key}
          rows=${env}
          columns=${[
            { label: 'Variable', render: (v) => html`<code>${v.key}</code>` },
            { label: 'Value', render: (v) => (v.secret ? html`<span class="muted">secret, not shown</span>` : html`<code>${v.value}</code>`) },
          ]}
        />`}
    ${info.mounts?.length > 0 &&
    html`<h3>Mounts</h3>
      <${Table}
        caption="Mounts"
        rowKey=${(m) => m.destination}
        rows=${info.mounts}
        columns=${[
          { label: 'Path', render: (m) => html`<code>${m.destination}</code>` },
          { label: 'Source', render: (m) => `${m.type}: ${m.source}` },
          { label: 'Access', render: (m) => (m.readOnly ? 'read-only' : 'read-write') },
        ]}
      />`}
    <details class="labels">
      <summary>Labels (${Object.keys(info.labels || {}).length})</summary>
      <dl class="facts">
        ${Object.entries(info.labels || {}).map(([k, v]) => html`<dt><code>${k}</code></dt><dd><code>${v}</code></dd>`)}
      </dl>
    </details>
    ${info.truncated && html`<p class="hint">Some values were cut to keep the answer small.</p>`}`;
}

export function ContainerScreen({ team, params }) {
  const { nodeId, name } = params;
  const prefix = params.prefix === NO_PREFIX ? '' : params.prefix;
  const path = containerPath(team, nodeId, prefix, name);
  const { data: info, error, reload } = useResource((signal) => api.get(`${path}/inspect`, undefined, { signal }), [path]);
  const { data: node } = useResource((signal) => api.get(`/api/${team.slug}/nodes/${nodeId}`, undefined, { signal }), [nodeId]);
  const listLink = `/${team.slug}/nodes/${nodeId}/containers${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ''}`;
  const done = (operation) => (operation === 'delete' ? navigate(listLink, { replace: true }) : reload());
  const id = { prefix, name };
  return html`<${Page}
    title=${name}
    lead=${prefix ? `A container of ${prefix} on ${node?.name || 'the node'}` : `A container on ${node?.name || 'the node'}`}
    actions=${info && html`<${StatusBadge} status=${info.state} live />`}
  >
    <p class="breadcrumbs">
      <a href=${`/${team.slug}/nodes`}>Nodes</a> / <a href=${`/${team.slug}/nodes/${nodeId}`}>${node?.name || 'Node'}</a> / <a href=${listLink}>Containers</a> / ${fullName(id)}
    </p>
    ${error && html`<${NodeNotReachable} error=${error} team=${team} nodeId=${nodeId} retry=${reload} />`}
    ${info &&
    html`<div class="toolbar">
      <${ContainerActions} team=${team} nodeId=${nodeId} id=${id} state=${info.state} onDone=${done} />
    </div>`}
    <${Section} title="Log" id="container-log">
      <${ContainerLog} path=${path} />
    <//>
    <${Section} title="Details" id="container-details">
      ${info ? html`<${Inspection} info=${info} />` : !error && html`<${Loading} label="Asking the node's agent…" />`}
    <//>
  <//>`;
}
