// Registries (`/api/{teamSlug}/registries`): where the images of versions come from. The list, and
// one form for adding and changing a registry whose details follow its type (v2, Docker Hub, GitLab,
// GitHub, Google, unchecked), as the API's request models have them. Saving checks the registry
// live (the API refuses what does not answer); "Check" asks the same without saving
// (`POST …/registries/check`, or `…/{registryId}/check` for a stored one, keeping its token).

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ConfirmButton } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, toast, useResource } from '../ui/feedback.js';
import { Field, Fieldset, Form, useForm } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { PagedTable } from '../ui/table.js';

const PUBLIC = { key: 'public', label: 'Public: pull without credentials', type: 'checkbox' };
const USER = { key: 'user', label: 'User', autocomplete: 'off', private: true };
const TOKEN = { key: 'token', label: 'Password or access token', type: 'password', autocomplete: 'new-password', private: true };
const PREFIX = { key: 'imageNamePrefix', label: 'Image name prefix', hint: 'A path all its images share (acme → acme/web).' };

/** Each type's details, in the API's names (models/registries.py). `private`: hidden when public. */
export const REGISTRY_TYPES = {
  v2: {
    label: 'Docker Registry (v2)',
    fields: [
      { key: 'url', label: 'Registry URL', required: true, hint: 'host[:port], HTTPS unless it starts with http://' },
      PREFIX,
      PUBLIC,
      USER,
      TOKEN,
    ],
  },
  hub: {
    label: 'Docker Hub',
    fields: [
      { ...PREFIX, label: 'Organisation or user', required: true, hint: 'library holds the official images.' },
      PUBLIC,
      { ...USER, label: 'Docker ID' },
      { ...TOKEN, label: 'Access token' },
    ],
  },
  gitlab: {
    label: 'GitLab',
    fields: [
      { ...PREFIX, label: 'Group or project path', required: true, hint: 'e.g. acme or acme/shop' },
      { key: 'namespace', label: 'Namespace', type: 'select', required: true, options: ['group', 'project'] },
      { ...USER, required: true },
      { ...TOKEN, label: 'Access token', hint: 'A token with the read_registry scope.', required: true },
      { key: 'url', label: 'Registry URL (self-managed)', hint: 'Empty: registry.gitlab.com' },
      { key: 'apiUrl', label: 'GitLab URL (self-managed)', hint: 'Where its API answers, e.g. https://gitlab.example.com' },
    ],
  },
  github: {
    label: 'GitHub (ghcr.io)',
    fields: [
      { ...PREFIX, label: 'Organisation or user', required: true },
      { key: 'namespace', label: 'Namespace', type: 'select', required: true, options: ['organization', 'user'] },
      { ...USER, label: 'GitHub user', required: true },
      { ...TOKEN, label: 'Personal access token', hint: 'A token with the read:packages scope.', required: true },
    ],
  },
  google: {
    label: 'Google (Container or Artifact Registry)',
    fields: [
      { key: 'url', label: 'Registry host', required: true, hint: 'gcr.io, eu.gcr.io or europe-docker.pkg.dev' },
      { ...PREFIX, label: 'Project (and repository)', required: true },
      PUBLIC,
      { ...USER, label: 'Service account e-mail' },
      { ...TOKEN, label: 'Service account key (JSON)', type: 'textarea' },
    ],
  },
  unchecked: {
    label: 'Unchecked (no checks, no lookups)',
    fields: [
      { key: 'url', label: 'Registry URL', hint: 'Empty with “local images only”.' },
      { key: 'local', label: 'Local images only: the node’s own', type: 'checkbox' },
      USER,
      TOKEN,
    ],
  },
};

export const typeLabel = (type) => REGISTRY_TYPES[type]?.label || type;

/** The request body of the form's values: the type's details only, empty ones left out. */
function requestBody({ name, type, description, details = {} }) {
  const sent = {};
  for (const field of REGISTRY_TYPES[type].fields) {
    const value = details[field.key];
    if (field.type === 'checkbox') sent[field.key] = Boolean(value);
    else if (typeof value === 'string' && value.trim() !== '') sent[field.key] = field.key === 'token' ? value : value.trim();
  }
  if (sent.public) {
    delete sent.user;
    delete sent.token;
  }
  return { type, name, description: description?.trim() || undefined, details: sent };
}

/** A new type's defaults: only Docker Hub starts public; namespaces start at the first choice. */
function deriveType(values, changed) {
  if (changed !== 'type') return values;
  const details = { ...values.details, public: values.type === 'hub' };
  const namespace = REGISTRY_TYPES[values.type].fields.find((f) => f.key === 'namespace');
  if (namespace && !namespace.options.includes(details.namespace)) details.namespace = namespace.options[0];
  return { ...values, details };
}

function DetailsFields({ editing }) {
  const { values } = useForm();
  const spec = REGISTRY_TYPES[values.type];
  const isPublic = Boolean(values.details?.public);
  const canBePublic = spec.fields.includes(PUBLIC);
  // A private registry needs its user and token (a stored token is kept when the field stays empty).
  const required = (f) =>
    f.key === 'token' && editing ? false : f.required || (canBePublic && f.private);
  return html`<${Fieldset} name="details" legend=${`${spec.label}: details`}>
    ${spec.fields
      .filter((f) => !(f.private && isPublic))
      .map(
        (f) => html`<${Field}
          key=${`${values.type}-${f.key}`}
          name=${`details.${f.key}`}
          label=${f.label}
          type=${f.type}
          options=${f.options?.map((o) => ({ value: o, label: o }))}
          required=${required(f)}
          autocomplete=${f.autocomplete}
          hint=${f.key === 'token' && editing ? `${f.hint ? `${f.hint} ` : ''}Empty: the stored one is kept.` : f.hint}
        />`,
      )}
  <//>`;
}

/** What a live check answered, under the form or the list. */
function CheckAnswer({ answer }) {
  if (!answer) return null;
  return html`<p class=${`notice ${answer.checked ? 'notice-success' : ''} check-answer`} role="status">
    <strong>${answer.checked ? 'Check passed. ' : 'Not checked. '}</strong>${answer.message}
  </p>`;
}

function CheckButton({ path, onAnswer }) {
  const form = useForm();
  const check = () =>
    form.run(async (values) => {
      onAnswer(null);
      onAnswer(await api.post(path, requestBody(values)));
    });
  return html`<button type="button" class="button" disabled=${form.busy} onClick=${check}>Check connection</button>`;
}

function RegistryForm({ team, initial, registryId, onSaved, submitLabel }) {
  const [answer, setAnswer] = useState(null);
  const base = `/api/${team.slug}/registries`;
  const submit = async (values) => {
    await onSaved(requestBody(values));
  };
  return html`<${Form}
    label=${registryId ? 'Change the registry' : 'Add a registry'}
    initial=${initial}
    derive=${deriveType}
    onChange=${() => setAnswer(null)}
    submitLabel=${submitLabel}
    onSubmit=${submit}
    secondary=${html`<${CheckButton} path=${registryId ? `${base}/${registryId}/check` : `${base}/check`} onAnswer=${setAnswer} />`}
  >
    <div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} autofocus=${!registryId} autocomplete="off" />
      <${Field}
        name="type"
        label="Type"
        type="select"
        required
        options=${Object.entries(REGISTRY_TYPES).map(([value, t]) => ({ value, label: t.label }))}
      />
    </div>
    <${Field} name="description" label="Description" type="textarea" rows=${2} maxLength=${2000} />
    <${DetailsFields} editing=${Boolean(registryId)} />
    <${CheckAnswer} answer=${answer} />
  <//>`;
}

const checkedNote = (body) =>
  body.type === 'unchecked' || (body.type === 'hub' && body.details.public) ? 'not checked: nothing to check' : 'it answered the check';

function NewRegistryScreen({ team }) {
  const save = async (body) => {
    const created = await api.post(`/api/${team.slug}/registries`, body);
    toast(`Registry ${created.name} added (${checkedNote(body)}).`);
    navigate(`/${team.slug}/registries`);
  };
  return html`<${Page} title="Add a registry" lead="Saving checks that the registry answers with these credentials.">
    <${Section} title="Registry" id="registry-new">
      <${RegistryForm}
        team=${team}
        submitLabel="Add registry"
        initial=${{ name: '', type: 'v2', description: '', details: { public: false } }}
        onSaved=${save}
      />
    <//>
  <//>`;
}

function RegistryScreen({ team, params }) {
  const path = `/api/${team.slug}/registries/${params.registryId}`;
  const { data, error, reload } = useResource((signal) => api.get(path, undefined, { signal }), [path]);
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  const save = async (body) => {
    await api.put(path, body);
    toast(`Registry ${body.name} saved (${checkedNote(body)}).`);
    reload();
  };
  const remove = async () => {
    await api.del(path);
    toast(`Registry ${data.name} deleted.`);
    navigate(`/${team.slug}/registries`);
  };
  const initial = { name: data.name, type: data.type, description: data.description || '', details: { ...data.details, token: '' } };
  return html`<${Page}
    title=${data.name}
    lead=${`${typeLabel(data.type)}${data.inUse ? ' · images of versions come from it' : ''}`}
    actions=${html`<a class="button" href=${`/${team.slug}/registries`}>All registries</a>`}
  >
    <${Section} title="Registry" id="registry-edit">
      <${RegistryForm} key=${data.updatedAt} team=${team} registryId=${data.id} initial=${initial} submitLabel="Save" onSaved=${save} />
    <//>
    <${Section} title="Delete the registry" id="registry-delete">
      <div class="danger-zone">
        <div>
          <p>${data.inUse ? 'Images of versions come from it: remove them first.' : 'No image comes from it.'}</p>
          <${ConfirmButton}
            label="Delete registry"
            small=${false}
            title=${`Delete the registry ${data.name}?`}
            text="Its stored credentials are deleted with it."
            onConfirm=${remove}
          />
        </div>
      </div>
    <//>
  <//>`;
}

function RegistryListScreen({ team }) {
  const [version, setVersion] = useState(0);
  const [answer, setAnswer] = useState(null);
  const base = `/api/${team.slug}/registries`;
  const check = (r) => async () => {
    setAnswer(null);
    try {
      const result = await api.post(`${base}/${r.id}/check`);
      setAnswer({ ...result, message: `${r.name}: ${result.message}` });
    } catch (error) {
      setAnswer({ failed: true, message: `${r.name}: ${error.message}` });
    }
  };
  const remove = (r) => async () => {
    await api.del(`${base}/${r.id}`);
    toast(`Registry ${r.name} deleted.`);
    setVersion((v) => v + 1);
  };
  const columns = [
    { label: 'Name', render: (r) => html`<a href=${`/${team.slug}/registries/${r.id}`}>${r.name}</a>` },
    { label: 'Type', render: (r) => typeLabel(r.type) },
    { label: 'URL', render: (r) => (r.url ? html`<code>${r.url}</code>` : html`<span class="muted">local images</span>`) },
    {
      label: 'Actions',
      render: (r) => html`<div class="row-actions">
        <button type="button" class="button button-small" onClick=${check(r)} aria-label=${`Check ${r.name}`}>Check</button>
        <a class="button button-small" href=${`/${team.slug}/registries/${r.id}`} aria-label=${`Edit ${r.name}`}>Edit</a>
        <${ConfirmButton}
          label="Delete"
          title=${`Delete the registry ${r.name}?`}
          text="Its stored credentials are deleted with it. A registry images come from cannot be deleted."
          onConfirm=${remove(r)}
        />
      </div>`,
    },
  ];
  return html`<${Page}
    title="Registries"
    lead="Where the images of your versions come from. Credentials are stored encrypted and never shown again."
    actions=${html`<a class="button button-primary" href=${`/${team.slug}/registries/new`}>Add registry</a>`}
  >
    ${answer?.failed && html`<p class="notice notice-error" role="alert">${answer.message}</p>`}
    ${answer && !answer.failed && html`<${CheckAnswer} answer=${answer} />`}
    <${PagedTable}
      caption="Registries"
      reloadKey=${version}
      load=${(page) => api.page(base, page)}
      columns=${columns}
      empty=${html`<${Empty}
        icon="registries"
        title="No registries yet"
        action=${html`<a class="button button-primary" href=${`/${team.slug}/registries/new`}>Add registry</a>`}
      >
        Add the registry your images are in: Docker Hub, GitHub, GitLab, Google or your own.
      <//>`}
    />
  <//>`;
}

export const nav = { path: 'registries', label: 'Registries', icon: 'registries', order: 20 };

export const routes = [
  { path: '/:team/registries', view: RegistryListScreen, title: 'Registries', access: 'team' },
  { path: '/:team/registries/new', view: NewRegistryScreen, title: 'Add a registry', access: 'team' },
  { path: '/:team/registries/:registryId', view: RegistryScreen, title: 'Registry', access: 'team' },
];
