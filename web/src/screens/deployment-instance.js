// One instance of a deployment (`…/deployments/{id}/instances/{instanceId}`): an image of the version
// as this deployment runs it. Its secrets are typed here and sealed in this browser for the node
// agent's public key (lib/seal.js: a libsodium sealed box, as `python -m cli set-secret` makes), so
// the platform only ever stores what the agent alone can open. Its overrides (environment, ports,
// restart policy, exposure, limits…: the image config's form) win over the deployment's and the
// image's config at the next deploy.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { sealForNode } from '../lib/seal.js';
import { ConfirmButton } from '../ui/dialog.js';
import { ErrorState, Loading, toast, useResource } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { Table } from '../ui/table.js';
import { ConfigFields, clean, configPatch } from './projects/config.js';

/** The container an instance becomes (without the prefix): its own name, the image config's, or the image's. */
export function containerName(instance) {
  return instance.config?.name || instance.image.config?.name || instance.image.name.split('/').pop();
}

/**
 * Each secret key of an instance, declared by its image or set on it: `{key, required, state, own}`;
 * state: `sealed` (for the node's current key), `stale` (sealed for a key the node no longer has:
 * its agent was installed again) or `unset`.
 */
export function secretStates(instance, publicKey) {
  const declared = instance.image.config?.secrets || [];
  const own = instance.config?.secrets || [];
  const keys = [...new Set([...declared.map((s) => s.key), ...own.map((s) => s.key)])];
  return keys.map((key) => {
    const set = own.find((s) => s.key === key);
    const required = Boolean(declared.find((s) => s.key === key)?.required || set?.required);
    let state = 'unset';
    if (set?.value) state = set.encrypted && set.publicKey && set.publicKey !== publicKey ? 'stale' : 'sealed';
    return { key, required, state, own: Boolean(set) };
  });
}

const STATE_TEXT = {
  sealed: 'set (sealed for the node)',
  stale: 'sealed for an earlier agent: set it again',
  unset: 'not set',
};

function Secrets({ team, details, instance, onSaved }) {
  const path = `/api/${team.slug}/deployments/${details.id}/instances/${instance.id}`;
  const states = secretStates(instance, details.publicKey);
  const declared = instance.image.config?.secrets || [];
  const own = instance.config?.secrets || [];
  const save = (secrets) => api.patch(path, { config: { secrets: secrets.length ? secrets : null } });
  const submit = async ({ key, value }) => {
    const name = key.trim();
    // Sealed here, in the browser: the platform receives only the sealed box.
    const sealed = await sealForNode(details.publicKey, value);
    const required = Boolean(declared.find((s) => s.key === name)?.required);
    await save([
      ...own.filter((s) => s.key !== name),
      { key: name, value: sealed, encrypted: true, publicKey: details.publicKey, required },
    ]);
    toast(`${name} sealed for ${details.node.name}'s agent and saved.`);
    onSaved();
  };
  const remove = (key) => async () => {
    await save(own.filter((s) => s.key !== key));
    toast(`${key} removed.`);
    onSaved();
  };
  const columns = [
    { label: 'Secret', render: (s) => html`<code>${s.key}</code>${s.required ? html` <span class="badge">required</span>` : ''}` },
    {
      label: 'Value',
      render: (s) =>
        html`<span class=${`state state-${s.state === 'sealed' ? 'good' : s.required || s.state === 'stale' ? 'bad' : 'idle'}`}>
          <span class="state-mark" aria-hidden="true"></span>${STATE_TEXT[s.state]}
        </span>`,
    },
    {
      label: 'Actions',
      render: (s) =>
        s.own &&
        html`<${ConfirmButton}
          label="Remove"
          title=${`Remove the value of ${s.key}?`}
          text=${s.required ? 'It is required: the deployment cannot start without it.' : 'The container no longer gets it at the next deploy.'}
          onConfirm=${remove(s.key)}
        />`,
    },
  ];
  const firstUnset = states.find((s) => s.state !== 'sealed')?.key || '';
  return html`${states.length > 0
      ? html`<${Table} caption="Secrets" columns=${columns} rows=${states} rowKey=${(s) => s.key} />`
      : html`<p class="muted">The image declares no secrets; add one below if the container needs it.</p>`}
    ${details.publicKey
      ? html`<h3>Set a secret</h3>
          <${Form}
            key=${states.map((s) => s.key + s.state).join()}
            label="Set a secret"
            initial=${{ key: firstUnset, value: '' }}
            submitLabel="Seal and save"
            busyLabel="Sealing…"
            resetOnSuccess
            onSubmit=${submit}
          >
            <div class="field-row">
              <${Field} name="key" label="Secret name" required maxLength=${512} pattern="\\S+" title="no spaces" autocomplete="off" list="declared-secrets" />
              <${Field} name="value" label="Secret value" type="password" required autocomplete="new-password" />
            </div>
            <datalist id="declared-secrets">${declared.map((s) => html`<option value=${s.key} />`)}</datalist>
            <p class="hint">
              The value is sealed in this browser for ${details.node.name}'s agent (a libsodium sealed box): the platform stores only the sealed box and never sees the value.
            </p>
          <//>`
      : html`<p class="notice" role="status">
          ${details.node.name}'s agent has not connected yet. Secrets are sealed for its key:${' '}
          <a href=${`/${team.slug}/nodes/${details.node.id}`}>install the agent</a>, then set them here.
        </p>`}`;
}

/** The instance's own config (the secrets are the section above's), edited with the image config's
 * form: what is left empty here comes from the deployment and the image. */
function Overrides({ team, details, instance, onSaved }) {
  const path = `/api/${team.slug}/deployments/${details.id}/instances/${instance.id}`;
  const { secrets: _sealed, ...own } = instance.config || {};
  const saved = clean(own) || {};
  const submit = async (values) => {
    const { secrets: _ignored, ...patch } = configPatch(saved, clean(values.config) || {});
    if (!Object.keys(patch).length) {
      toast('Nothing changed.', { kind: 'info' });
      return;
    }
    await api.patch(path, { config: patch });
    toast('Overrides saved: they apply at the next deploy.');
    onSaved();
  };
  return html`<p class="hint">Every field is optional: what is empty here, the deployment's environment and the image's config give.</p>
    <details class="labels">
      <summary>The image's config</summary>
      <pre class="config-json">${JSON.stringify(clean(instance.image.config) || {}, null, 2)}</pre>
    </details>
    <div class="config-editor">
      <${Form}
        key=${instance.updatedAt}
        label="Instance overrides"
        marksOptional=${false}
        initial=${{ config: own }}
        submitLabel="Save overrides"
        onSubmit=${submit}
      >
        <${ConfigFields} secrets=${false} />
      <//>
    </div>`;
}

export function InstanceScreen({ team, params }) {
  const [version, setVersion] = useState(0);
  const { data: details, error, reload } = useResource(
    (signal) => api.get(`/api/${team.slug}/deployments/${params.deploymentId}`, undefined, { signal }),
    [params.deploymentId, version],
  );
  if (error) return html`<${Page} title="Instance"><${ErrorState} error=${error} retry=${reload} /><//>`;
  if (!details) return html`<${Page} title="Instance"><${Loading} /><//>`;
  const instance = details.instances.find((i) => i.id === params.instanceId);
  const back = `/${team.slug}/deployments/${details.id}`;
  if (!instance) {
    return html`<${Page} title="Instance"><${ErrorState} error=${{ message: 'This instance is not part of the deployment.' }} /><//>`;
  }
  const saved = () => setVersion((v) => v + 1);
  const name = containerName(instance);
  return html`<${Page}
    title=${`${name} in ${details.prefix}`}
    lead=${html`<code>${instance.image.name}:${instance.image.tag}</code> as deployed by ${details.project.name} · ${details.version.name} on ${details.node.name}`}
    actions=${html`<a class="button" href=${back}>Back to the deployment</a>`}
  >
    <p class="breadcrumbs">
      <a href=${`/${team.slug}/deployments`}>Deployments</a> / <a href=${back}>${details.project.name} · ${details.prefix}</a> / ${name}
    </p>
    <${Section} title="Secrets" id="instance-secrets">
      <${Secrets} team=${team} details=${details} instance=${instance} onSaved=${saved} />
    <//>
    <${Section} title="Overrides" id="instance-overrides">
      <${Overrides} team=${team} details=${details} instance=${instance} onSaved=${saved} />
    <//>
  <//>`;
}
