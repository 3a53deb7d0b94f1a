// An image's container config (`PATCH …/images/{imageId}` `{tag?, config}`): a form for the common
// fields and a JSON view of the whole config, either one edited and saved. A save sends only what
// changed (a field removed or emptied is sent as null: "not set here"). The API's refusals land at
// the field its `property` names (`config.ports.0.external`), in the JSON view at the JSON with the
// property's path.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, api } from '../../api.js';
import { ErrorState, Loading, toast, useResource } from '../../ui/feedback.js';
import { Field, Fieldset, Form, ListField, newId } from '../../ui/form.js';
import { Page, Section } from '../../ui/layout.js';

const unset = { value: '', label: 'Not set' };
const choices = (...values) => [unset, ...values.map(([value, label]) => ({ value, label: label || value }))];
const RESTART = choices(['always'], ['unlessStopped', 'unless stopped'], ['onFailure', 'on failure'], ['no']);
const EXPOSE = choices(['none', 'not exposed'], ['expose', 'exposed over HTTP'], ['exposeWithTls', 'exposed over HTTPS (TLS)']);
const NETWORK = choices(['bridge'], ['host'], ['none']);
const VOLUME_TYPES = choices(['ro', 'read-only'], ['rwo', 'read-write, one node'], ['rwx', 'read-write, many nodes'], ['mem', 'memory'], ['tmp', 'temporary']);

/** The config without what the form leaves empty: '' and empty objects and lists mean "not set". */
export function clean(value) {
  if (Array.isArray(value)) {
    // Entries stay where they are, emptied ones too: a refusal's index (`ports.2`) names the row shown.
    const items = value.map((v) => clean(v) ?? (v && typeof v === 'object' && v.id ? { id: v.id } : undefined));
    return items.length ? items.filter((v) => v !== undefined) : undefined;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, clean(v)])
      .filter(([, v]) => v !== undefined);
    const meaningful = entries.filter(([k]) => k !== 'id');
    return meaningful.length ? Object.fromEntries(entries) : undefined;
  }
  if (value === '' || value === null) return undefined;
  return value;
}

/** The PATCH of `saved` into `edited`: changed fields whole, removed ones as null. */
export function configPatch(saved, edited) {
  const patch = {};
  for (const key of new Set([...Object.keys(saved || {}), ...Object.keys(edited || {})])) {
    const before = saved?.[key] ?? null;
    const after = edited?.[key] ?? null;
    if (JSON.stringify(before) !== JSON.stringify(after)) patch[key] = after;
  }
  return patch;
}

/** The config's fields (names under `config.`). `secrets: false` leaves out the secret keys: a
 * deployment's instance holds sealed values there instead (screens/deployment-instance.js). */
export function ConfigFields({ secrets = true } = {}) {
  return html`<${Fieldset} name="config" legend="Container" className="config-group">
      <div class="field-row">
        <${Field} name="config.name" label="Container name" autocomplete="off" hint="Letters, digits, _ . -; unique in the version." />
        <${Field} name="config.restartPolicy" label="Restart policy" type="select" options=${RESTART} />
        <${Field} name="config.networkMode" label="Network mode" type="select" options=${NETWORK} />
      </div>
      <div class="field-row">
        <${Field} name="config.workingDirectory" label="Working directory" autocomplete="off" />
        <${Field} name="config.user" label="User id" type="number" hint="-1 for the image's own" />
      </div>
      <${Field} name="config.tty" label="Allocate a TTY" type="checkbox" />
    <//>
    <${ListField}
      name="config.environment"
      legend="Environment"
      hint="Plain values. Passwords and keys belong in secrets."
      itemLabel="variable"
      columns=${[{ key: 'key', label: 'Name' }, { key: 'value', label: 'Value' }]}
      blank=${() => ({ id: newId(), key: '', value: '' })}
    />
    ${secrets &&
    html`<${ListField}
      name="config.secrets"
      legend="Secrets"
      hint="Keys only: each deployment gives the values, sealed for its node."
      itemLabel="secret"
      columns=${[{ key: 'key', label: 'Key' }, { key: 'required', label: 'Required', type: 'checkbox' }]}
      blank=${() => ({ id: newId(), key: '', required: false })}
    />`}
    <${ListField}
      name="config.ports"
      legend="Ports"
      hint="The container's port, and the node's port it is published on (empty: not published)."
      itemLabel="port"
      columns=${[
        { key: 'internal', label: 'Container port', type: 'number' },
        { key: 'external', label: 'Published port', type: 'number' },
      ]}
      blank=${() => ({ id: newId(), internal: '', external: '' })}
    />
    <${ListField}
      name="config.volumes"
      legend="Volumes"
      itemLabel="volume"
      columns=${[
        { key: 'name', label: 'Volume name' },
        { key: 'path', label: 'Mount path' },
        { key: 'type', label: 'Access', type: 'select', options: VOLUME_TYPES },
        { key: 'size', label: 'Size', hint: 'e.g. 1Gi' },
      ]}
      blank=${() => ({ id: newId(), name: '', path: '', type: '', size: '' })}
    />
    <div class="config-pair">
      <${ListField}
        name="config.commands"
        legend="Command"
        hint="Replaces the image's entrypoint, one word a row."
        itemLabel="command word"
        columns=${[{ key: 'key', label: 'Word' }]}
        blank=${() => ({ id: newId(), key: '' })}
      />
      <${ListField}
        name="config.args"
        legend="Arguments"
        hint="Replace the image's command, one a row."
        itemLabel="argument"
        columns=${[{ key: 'key', label: 'Argument' }]}
        blank=${() => ({ id: newId(), key: '' })}
      />
    </div>
    <${Fieldset} name="config.routing" legend="Exposure and routing" className="config-group">
      <div class="field-row">
        <${Field} name="config.expose" label="Expose" type="select" options=${EXPOSE} />
        <${Field} name="config.routing.domain" label="Domain" autocomplete="off" hint="Empty: the node's root domain" />
        <${Field} name="config.routing.path" label="Path" autocomplete="off" hint="e.g. /api" />
      </div>
      <div class="field-row">
        <${Field} name="config.routing.port" label="Routed port" type="number" hint="A container port above" />
        <${Field} name="config.routing.uploadLimit" label="Upload limit" autocomplete="off" hint="e.g. 10m" />
      </div>
      <${Field} name="config.routing.stripPath" label="Strip the path before passing requests on" type="checkbox" />
    <//>
    <${Fieldset} name="config.resourceConfig" legend="Resource limits" className="config-group">
      <div class="field-row">
        <${Field} name="config.resourceConfig.limits.cpu" label="CPU limit" autocomplete="off" hint="e.g. 500m or 1" />
        <${Field} name="config.resourceConfig.limits.memory" label="Memory limit" autocomplete="off" hint="e.g. 256Mi" />
      </div>
      <div class="field-row">
        <${Field} name="config.resourceConfig.requests.cpu" label="CPU request" autocomplete="off" />
        <${Field} name="config.resourceConfig.requests.memory" label="Memory request" autocomplete="off" />
      </div>
    <//>
    <${Fieldset} name="config.healthCheckConfig" legend="Health check" className="config-group">
      <div class="field-row">
        <${Field} name="config.healthCheckConfig.port" label="Probe port" type="number" hint="Empty: the first container port" />
        <${Field} name="config.healthCheckConfig.livenessProbe" label="Liveness path" autocomplete="off" hint="e.g. /healthz" />
      </div>
      <div class="field-row">
        <${Field} name="config.healthCheckConfig.readinessProbe" label="Readiness path" autocomplete="off" />
        <${Field} name="config.healthCheckConfig.startupProbe" label="Startup path" autocomplete="off" />
      </div>
    <//>`;
}

const asJson = (config) => JSON.stringify(clean(config) || {}, null, 2);

function parseJson(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, { message: `Not valid JSON: ${error.message}`, property: 'json' });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, { message: 'The config is a JSON object: { … }.', property: 'json' });
  }
  return parsed;
}

function ConfigEditor({ image, path, mutable, initialView, onSaved }) {
  const saved = clean(image.config) || {};
  const [view, setView] = useState(initialView);
  const [draft, setDraft] = useState({ tag: image.tag || '', config: image.config || {} });
  const [json, setJson] = useState(() => (initialView === 'json' ? asJson(image.config) : null));
  const [switchError, setSwitchError] = useState(null);

  const show = (next) => {
    if (next === view) return;
    setSwitchError(null);
    if (next === 'json') {
      setJson(asJson(draft.config));
    } else {
      try {
        setDraft({ ...draft, config: parseJson(json) });
      } catch (error) {
        setSwitchError(`${error.message} Fix it, or save it, before switching.`);
        return;
      }
    }
    setView(next);
  };

  const save = async (config, tag) => {
    const patch = configPatch(saved, clean(config) || {});
    const body = {};
    if (Object.keys(patch).length) body.config = patch;
    if (tag !== undefined && tag.trim() !== (image.tag || '')) body.tag = tag.trim();
    if (!Object.keys(body).length) {
      toast('Nothing changed.', { kind: 'info' });
      return;
    }
    await api.patch(path, body);
    toast(`Config of ${image.name} saved.`);
    onSaved(view); // shown again from the API's answer, in the same view
  };

  return html`<div class="config-editor">
    <div class="view-switch" role="group" aria-label="Edit as">
      <button type="button" class="button button-small" aria-pressed=${view === 'form'} onClick=${() => show('form')}>Form</button>
      <button type="button" class="button button-small" aria-pressed=${view === 'json'} onClick=${() => show('json')}>JSON</button>
    </div>
    ${switchError && html`<p class="notice notice-error" role="alert">${switchError}</p>`}
    <p class="hint">Every field is optional: what is not set here, a deployment may set.</p>
    ${!mutable && html`<p class="notice" role="note">The version is frozen: this config can be read, not changed.</p>`}
    ${view === 'form'
      ? html`<${Form}
          key="form"
          label="Container config"
          marksOptional=${false}
          initial=${draft}
          onChange=${setDraft}
          submitLabel="Save config"
          onSubmit=${(values) => save(values.config, values.tag)}
        >
          <${Field} name="tag" label="Tag" autocomplete="off" hint="Changing it checks the tag in the registry." />
          <${ConfigFields} />
        <//>`
      : html`<${Form}
          key="json"
          label="Container config as JSON"
          marksOptional=${false}
          initial=${{ json }}
          onChange=${(values) => setJson(values.json)}
          submitLabel="Save config"
          onSubmit=${(values) => save(parseJson(values.json))}
        >
          <${Field}
            name="json"
            label="The whole config (JSON)"
            type="textarea"
            rows=${24}
            spellcheck=${false}
            class="code"
            catches=${['config']}
            hint="Fields left out are cleared (not set here: the deployment may set them)."
          />
        <//>`}
  </div>`;
}

export function ConfigScreen({ team, params }) {
  const projectUrl = `/api/${team.slug}/projects/${params.projectId}`;
  const versionUrl = `${projectUrl}/versions/${params.versionId}`;
  const path = `${versionUrl}/images/${params.imageId}`;
  const [saves, setSaves] = useState({ count: 0, view: 'form' });
  const { data, error, reload } = useResource(
    async (signal) => {
      const [project, version, image] = await Promise.all([
        api.get(projectUrl, undefined, { signal }),
        api.get(versionUrl, undefined, { signal }),
        api.get(path, undefined, { signal }),
      ]);
      return { project, version, image, loaded: performance.now() };
    },
    [path, saves],
  );
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  const { project, version, image } = data;
  const back =
    project.type === 'versionless'
      ? { href: `/${team.slug}/projects/${project.id}`, label: project.name }
      : { href: `/${team.slug}/projects/${project.id}/versions/${version.id}`, label: `${project.name} ${version.name}` };
  return html`<${Page}
    title=${`Config of ${image.config?.name || image.name}`}
    lead=${html`<code>${image.name}:${image.tag || 'latest'}</code> from ${image.registry.name}, in ${back.label}`}
    actions=${html`<a class="button" href=${back.href}>Back to ${back.label}</a>`}
  >
    <${Section} title="Container config" id="image-config">
      <${ConfigEditor}
        key=${data.loaded}
        image=${image}
        path=${path}
        mutable=${version.mutable}
        initialView=${saves.view}
        onSaved=${(view) => setSaves(({ count }) => ({ count: count + 1, view }))}
      />
    <//>
  <//>`;
}
