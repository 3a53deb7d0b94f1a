// A version's images (`…/versions/{versionId}/images`): the list in deployment order, reordered by
// dragging a row or with its Move up / Move down buttons (`PUT …/images/order`), each linking to its
// container config; and the form that adds one from a team registry, with the registry's catalog
// searched (`GET …/registries/{id}/images?q=`) and the image's tags looked up (`…/tags?image=`).

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api.js';
import { ConfirmButton } from '../../ui/dialog.js';
import { Empty, ErrorState, toast, useResource } from '../../ui/feedback.js';
import { Field, Form, useForm } from '../../ui/form.js';
import { Section } from '../../ui/layout.js';

const move = (list, from, to) => {
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
};

function ImageRow({ image, index, count, mutable, link, onMove, onDelete, drag }) {
  const reference = `${image.name}:${image.tag || 'latest'}`;
  return html`<li
    class=${`image-row${drag.over === index ? ' drop-target' : ''}${drag.from === index ? ' dragging' : ''}`}
    draggable=${mutable}
    onDragStart=${(e) => drag.start(e, index)}
    onDragOver=${(e) => drag.over_(e, index)}
    onDrop=${(e) => drag.drop(e, index)}
    onDragEnd=${drag.end}
    aria-label=${`${index + 1}. ${reference}`}
  >
    ${mutable && html`<span class="drag-handle" aria-hidden="true" title="Drag to reorder">⠿</span>`}
    <span class="image-order" aria-hidden="true">${index + 1}</span>
    <div class="image-main">
      <a href=${link} class="image-name">${image.config?.name || image.name}</a>
      <span class="muted"><code>${reference}</code> from ${image.registry.name || 'a deleted registry'}</span>
    </div>
    <div class="row-actions">
      ${mutable &&
      html`<button
          type="button"
          class="button button-small"
          id=${`up-${image.id}`}
          aria-label=${`Move ${reference} up`}
          disabled=${index === 0}
          onClick=${() => onMove(index, index - 1, 'up')}
        >
          ↑ Up
        </button>
        <button
          type="button"
          class="button button-small"
          id=${`down-${image.id}`}
          aria-label=${`Move ${reference} down`}
          disabled=${index === count - 1}
          onClick=${() => onMove(index, index + 1, 'down')}
        >
          ↓ Down
        </button>`}
      <a class="button button-small" href=${link} aria-label=${`Config of ${reference}`}>Config</a>
      ${mutable &&
      html`<${ConfirmButton}
        label="Delete"
        title=${`Remove ${reference} from the version?`}
        text="Its container config is deleted with it."
        onConfirm=${() => onDelete(image)}
      />`}
    </div>
  </li>`;
}

/** The images of `version` (its details answer), ordered, with the add form when it is mutable. */
export function ImagesPanel({ team, projectId, version, reload }) {
  const [images, setImages] = useState(version.images);
  const [drag, setDrag] = useState({ from: null, over: null });
  useEffect(() => setImages(version.images), [version]);
  const base = `/api/${team.slug}/projects/${projectId}/versions/${version.id}/images`;
  const linkOf = (image) => `/${team.slug}/projects/${projectId}/versions/${version.id}/images/${image.id}`;

  const reorder = async (from, to, keepFocus) => {
    if (to < 0 || to >= images.length || from === to) return;
    const before = images;
    const next = move(images, from, to);
    setImages(next);
    const moved = next[to];
    if (keepFocus) {
      // The moved image's button keeps focus; at an end, the other direction's button takes it.
      const edge = (keepFocus === 'up' && to === 0) || (keepFocus === 'down' && to === next.length - 1);
      const id = `${edge ? (keepFocus === 'up' ? 'down' : 'up') : keepFocus}-${moved.id}`;
      requestAnimationFrame(() => document.getElementById(id)?.focus());
    }
    try {
      await api.put(`${base}/order`, next.map((i) => i.id));
      toast(`${moved.name} moved to position ${to + 1}.`);
    } catch (error) {
      setImages(before);
      toast(error.message, { kind: 'error' });
    }
  };
  const remove = async (image) => {
    await api.del(`${base}/${image.id}`);
    toast(`${image.name} removed from the version.`);
    reload();
  };
  const dragging = {
    ...drag,
    start: (event, index) => {
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', String(index));
      setDrag({ from: index, over: null });
    },
    over_: (event, index) => {
      event.preventDefault();
      if (drag.over !== index) setDrag({ ...drag, over: index });
    },
    drop: (event, index) => {
      event.preventDefault();
      const from = drag.from ?? Number(event.dataTransfer.getData('text/plain'));
      setDrag({ from: null, over: null });
      reorder(from, index);
    },
    end: () => setDrag({ from: null, over: null }),
  };
  return html`<${Section} title=${`Images (${images.length})`} id="version-images">
      ${!version.mutable &&
      html`<p class="notice" role="note">This version is frozen (a deployment of it ran, or it was increased): its images stay as they are.</p>`}
      ${images.length === 0
        ? html`<${Empty} icon="registries" title="No images yet">
            ${version.mutable ? 'Add the first one below, from one of your registries.' : 'It holds nothing to deploy.'}
          <//>`
        : html`<p class="hint" id="image-order-hint">
              Deployed in this order.${version.mutable ? ' Drag a row, or use its Up and Down buttons, to change it.' : ''}
            </p>
            <ol class="image-list" aria-label="Images in deployment order" aria-describedby="image-order-hint">
              ${images.map(
                (image, i) => html`<${ImageRow}
                  key=${image.id}
                  image=${image}
                  index=${i}
                  count=${images.length}
                  mutable=${version.mutable}
                  link=${linkOf(image)}
                  onMove=${reorder}
                  onDelete=${remove}
                  drag=${dragging}
                />`,
              )}
            </ol>`}
    <//>
    ${version.mutable &&
    html`<${Section} title="Add an image" id="image-add">
      <${AddImageForm} team=${team} base=${base} onAdded=${reload} />
    <//>`}`;
}

// --- adding an image ------------------------------------------------------------------------------

/** Found names or tags as buttons that fill a field (keyboard: Tab to one, Enter). */
function Choices({ label, items, onPick }) {
  return html`<div class="choices" role="group" aria-label=${label}>
    ${items.map((item) => html`<button type="button" class="chip" onClick=${() => onPick(item)}>${item}</button>`)}
  </div>`;
}

function Lookup({ team, registries }) {
  const form = useForm();
  const [found, setFound] = useState(null); // {kind: 'images' | 'tags', items, message}
  const [busy, setBusy] = useState(false);
  const { registryId, images: name } = form.values;
  const registry = registries.find((r) => r.id === registryId);
  useEffect(() => setFound(null), [registryId]);
  const ask = async (kind, query) => {
    setBusy(true);
    setFound(null);
    try {
      const path = `/api/${team.slug}/registries/${registryId}/${kind}`;
      const answer = await api.get(path, query);
      const items = kind === 'images' ? answer.map((i) => i.name) : answer.tags;
      const what = kind === 'images' ? 'image' : 'tag';
      setFound({ kind, items, message: items.length ? `${items.length} ${what}${items.length === 1 ? '' : 's'} found: pick one.` : `No ${what}s found.` });
    } catch (error) {
      setFound({ kind, items: [], message: error.message, failed: true });
    } finally {
      setBusy(false);
    }
  };
  const findTags = (image) => ask('tags', { image });
  const canLook = registry && registry.type !== 'unchecked';
  return html`<div class="lookup">
    <div class="form-actions">
      <button type="button" class="button button-small" disabled=${!canLook || busy} onClick=${() => ask('images', { q: name || '' })}>
        Search images
      </button>
      <button type="button" class="button button-small" disabled=${!canLook || busy || !name} onClick=${() => findTags(name.trim())}>
        Find tags
      </button>
      ${registry?.type === 'unchecked' && html`<span class="hint">An unchecked registry cannot be searched: type the name and tag.</span>`}
    </div>
    <div role="status" class=${`lookup-answer${found?.failed ? ' field-error' : ''}`}>
      ${busy ? 'Asking the registry…' : found?.message}
    </div>
    ${found?.kind === 'images' &&
    html`<${Choices}
      label="Images found"
      items=${found.items}
      onPick=${(image) => {
        form.setValue('images', image);
        findTags(image);
      }}
    />`}
    ${found?.kind === 'tags' &&
    html`<${Choices}
      label="Tags found"
      items=${found.items}
      onPick=${(tag) => {
        form.setValue('tag', tag);
        requestAnimationFrame(() => document.querySelector('#image-add button[type=submit]')?.focus());
      }}
    />`}
  </div>`;
}

function AddImageForm({ team, base, onAdded }) {
  const { data: registries, error, reload } = useResource(
    (signal) => api.all(`/api/${team.slug}/registries`, { signal }),
    [team.slug],
  );
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!registries) return null;
  const submit = async ({ registryId, images, tag }, { setValue }) => {
    const reference = tag.trim() ? `${images.trim()}:${tag.trim()}` : images.trim();
    const [added] = await api.post(base, [{ registryId, images: [reference] }]);
    toast(`${added.name}:${added.tag || 'latest'} added.`);
    setValue('images', ''); // the registry stays chosen for the next one
    setValue('tag', '');
    onAdded();
  };
  const options = registries.map((r) => ({ value: r.id, label: `${r.name} (${r.url || 'local'})` }));
  return html`<${Form}
    label="Add an image"
    initial=${{ registryId: registries[0]?.id || '', images: '', tag: '' }}
    submitLabel="Add image"
    onSubmit=${submit}
  >
    <${Field} name="registryId" label="Registry" type="select" required options=${options} hint=${html`Not there? <a href=${`/${team.slug}/registries/new`}>Add a registry</a>.`} />
    <div class="field-row">
      <${Field} name="images" label="Image" required autocomplete="off" hint="Its name in the registry, e.g. nginx or acme/web" />
      <${Field} name="tag" label="Tag" autocomplete="off" hint="Empty: latest" />
    </div>
    <${Lookup} team=${team} registries=${registries} />
  <//>`;
}
