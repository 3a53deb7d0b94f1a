// Storages (`/api/{teamSlug}/storages`): S3-compatible endpoints whose buckets a container's config
// imports files from (the config names the bucket and path). The list, the form that adds one, and
// one storage's screen: change it, delete it (refused by the API while a config uses it).
//
// The keys are write-only here: the fields start empty and are sent only when both are typed (an
// update without them keeps the stored ones). The screen says whether keys are stored, never what
// they are, although the API returns the access key.

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

const base = (team) => `/api/${team.slug}/storages`;
const screen = (team, id = '') => `/${team.slug}/storages${id && `/${id}`}`;

/** The request body: keys only when typed, `public` only when asked (it drops the stored keys). */
function body({ name, description, url, accessKey, secretKey, public: isPublic }, icon) {
  const keys = accessKey || secretKey ? { accessKey: accessKey || undefined, secretKey: secretKey || undefined } : {};
  return { name, url, description: description.trim() || null, icon: icon ?? undefined, ...keys, ...(isPublic ? { public: true } : {}) };
}

function StorageFields({ autofocus, keysStored }) {
  return html`<${Field} name="name" label="Name" required maxLength=${70} autofocus=${autofocus} autocomplete="off" />
    <${Field}
      name="url"
      label="Endpoint URL"
      type="url"
      required
      maxLength=${500}
      autocomplete="off"
      hint="The S3 API's address, e.g. https://s3.eu-central-1.amazonaws.com or a MinIO server's. Each container's config names the bucket and the path in it."
    />
    <${Field} name="description" label="Description" type="textarea" rows=${2} maxLength=${2000} />
    <div class="field-row">
      <${Field}
        name="accessKey"
        label="Access key"
        autocomplete="off"
        spellcheck=${false}
        maxLength=${512}
        hint=${keysStored
          ? 'Keys are stored and never shown. Leave both empty to keep them, or type both to replace them.'
          : 'Both keys, or neither for a public bucket. They are stored encrypted and never shown again.'}
      />
      <${Field} name="secretKey" label="Secret key" type="password" autocomplete="new-password" maxLength=${512} />
    </div>
    ${keysStored &&
    html`<${Field} name="public" label="Remove the stored keys: the bucket is public" type="checkbox" />`}`;
}

function DeleteStorage({ team, storage, onDeleted, small = true }) {
  const remove = async () => {
    await api.del(`${base(team)}/${storage.id}`);
    toast(`Storage ${storage.name} deleted.`);
    onDeleted();
  };
  return html`<${ConfirmButton}
    label="Delete"
    small=${small}
    title=${`Delete the storage ${storage.name}?`}
    text="Its stored keys are deleted with it. A storage that container configs use cannot be deleted."
    onConfirm=${remove}
  />`;
}

function StorageList({ team }) {
  const [version, setVersion] = useState(0);
  const add = html`<a class="button button-primary" href=${screen(team, 'new')}><${Icon} name="plus" size=${18} /> Add a storage</a>`;
  const columns = [
    { label: 'Name', render: (s) => html`<a href=${screen(team, s.id)}>${s.name}</a>` },
    { label: 'Endpoint', render: (s) => html`<code>${s.url}</code>` },
    { label: 'Description', render: (s) => s.description || '' },
    {
      label: 'Actions',
      render: (s) => html`<${DeleteStorage} team=${team} storage=${s} onDeleted=${() => setVersion((v) => v + 1)} />`,
    },
  ];
  return html`<${Page}
    title="Storages"
    lead="S3-compatible storages whose files containers can start with."
    actions=${add}
  >
    <${PagedTable}
      caption="Storages"
      reloadKey=${version}
      load=${(page) => api.page(base(team), page)}
      columns=${columns}
      empty=${html`<${Empty} icon="storages" title="No storages yet" action=${add}>
        Add an S3, MinIO or other S3-compatible endpoint; a container's config can then import a bucket's files.
      <//>`}
    />
  <//>`;
}

function NewStorage({ team }) {
  const submit = async (values) => {
    const created = await api.post(base(team), body(values));
    toast(`Storage ${created.name} created.`);
    navigate(screen(team));
  };
  const initial = { name: '', url: '', description: '', accessKey: '', secretKey: '' };
  return html`<${Page} title="Add a storage" lead="An S3-compatible endpoint and, for a private bucket, its keys.">
    <${Section} title="Settings" id="storage-settings">
      <${Form}
        label="Add a storage"
        initial=${initial}
        submitLabel="Create storage"
        busyLabel="Creating…"
        onSubmit=${submit}
        secondary=${html`<a class="button" href=${screen(team)}>Cancel</a>`}
      >
        <${StorageFields} autofocus />
      <//>
    <//>
  <//>`;
}

function StorageDetails({ team, params }) {
  const url = `${base(team)}/${params.storageId}`;
  const { data, error, reload } = useResource((signal) => api.get(url, undefined, { signal }), [url]);
  if (error) return html`<${Page} title="Storage"><${ErrorState} error=${error} retry=${reload} /><//>`;
  if (!data) return html`<${Loading} />`;
  const keysStored = Boolean(data.accessKey);
  const submit = async (values, { setValue }) => {
    await api.put(url, body(values, data.icon));
    toast(`Storage ${values.name} saved.`);
    for (const name of ['accessKey', 'secretKey']) setValue(name, '');
    setValue('public', false);
    reload();
  };
  const initial = { name: data.name, url: data.url, description: data.description || '', accessKey: '', secretKey: '', public: false };
  return html`<${Page}
    title=${data.name}
    lead=${`${keysStored ? 'Private: keys stored' : 'Public: no keys'}; ${data.inUse ? 'used by container configs' : 'not used by any container config'}.`}
    actions=${html`<a class="button" href=${screen(team)}>All storages</a>`}
  >
    <${Section} title="Settings" id="storage-settings">
      <${Form} label="Storage settings" initial=${initial} submitLabel="Save" busyLabel="Saving…" onSubmit=${submit}>
        <${StorageFields} keysStored=${keysStored} />
      <//>
    <//>
    <${Section} title="Delete" id="storage-delete">
      <div class="danger-zone">
        <div>
          <p>
            ${data.inUse
              ? 'Container configs use this storage: remove it from them before deleting it.'
              : 'Delete the storage and its stored keys.'}
          </p>
          <${DeleteStorage} team=${team} storage=${data} small=${false} onDeleted=${() => navigate(screen(team))} />
        </div>
      </div>
    <//>
  <//>`;
}

export const nav = { path: 'storages', label: 'Storages', icon: 'storages', order: 60 };

export const routes = [
  { path: '/:team/storages', view: StorageList, title: 'Storages', access: 'team' },
  { path: '/:team/storages/new', view: NewStorage, title: 'Add a storage', access: 'team' },
  { path: '/:team/storages/:storageId', view: StorageDetails, title: 'Storage', access: 'team' },
];
