// Templates (`/api/templates`): the catalog of ready stacks with their icons, and a project made from
// one in this team (`POST /api/templates`) with its registries, images and configs in place.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { Dialog } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, toast, useResource } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Icon } from '../ui/icons.js';
import { Page } from '../ui/layout.js';

/** The template's icon: its SVG fetched with the session's token, shown as a data: URL (as the CSP allows). */
function TemplateIcon({ id }) {
  const { data } = useResource(
    async (signal) => {
      const svg = await api.get(`/api/templates/${encodeURIComponent(id)}/image`, undefined, { signal });
      return typeof svg === 'string' ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` : null;
    },
    [id],
  );
  return data
    ? html`<img class="template-icon" src=${data} alt="" width="56" height="56" />`
    : html`<span class="template-icon template-icon-missing"><${Icon} name="templates" size=${28} /></span>`;
}

function CreateFromTemplate({ team, template }) {
  const [open, setOpen] = useState(false);
  const submit = async ({ name, type, description }) => {
    const project = await api.post('/api/templates', {
      id: template.id,
      teamSlug: team.slug,
      name,
      type,
      description: description.trim() || undefined,
    });
    setOpen(false);
    toast(`Project ${project.name} created from ${template.name}.`);
    navigate(`/${team.slug}/projects/${project.id}`);
  };
  return html`<button type="button" class="button button-primary" onClick=${() => setOpen(true)} aria-label=${`Create a project from ${template.name}`}>
      Create project
    </button>
    <${Dialog} open=${open} title=${`A project from ${template.name}`} onClose=${() => setOpen(false)}>
      <p>It gets the template's images with their configs, and the registries they come from.</p>
      <${Form}
        label=${`A project from ${template.name}`}
        initial=${{ name: template.name, type: 'versionless', description: template.description || '' }}
        submitLabel="Create project"
        onSubmit=${submit}
        secondary=${html`<button type="button" class="button" onClick=${() => setOpen(false)}>Cancel</button>`}
      >
        <${Field} name="name" label="Project name" required maxLength=${70} autofocus autocomplete="off" />
        <${Field}
          name="type"
          label="Type"
          type="select"
          required
          options=${[
            { value: 'versionless', label: 'Versionless' },
            { value: 'versioned', label: 'Versioned (its first version is 1.0.0)' },
          ]}
        />
        <${Field} name="description" label="Description" type="textarea" rows=${2} maxLength=${2000} />
      <//>
    <//>`;
}

function TemplatesScreen({ team }) {
  const { data, error, reload } = useResource((signal) => api.get('/api/templates', undefined, { signal }), []);
  return html`<${Page} title="Templates" lead="Common stacks, ready to deploy: a template becomes a project of this team in one step.">
    ${error && html`<${ErrorState} error=${error} retry=${reload} />`}
    ${!data && !error && html`<${Loading} />`}
    ${data?.length === 0 && html`<${Empty} icon="templates" title="No templates in the catalog" />`}
    ${data?.length > 0 &&
    html`<ul class="gallery" aria-label="Templates">
      ${data.map(
        (t) => html`<li class="template-card" key=${t.id}>
          <div class="template-head">
            <${TemplateIcon} id=${t.id} />
            <h2>${t.name}</h2>
          </div>
          <p>${t.description}</p>
          <ul class="tags" aria-label=${`Technologies of ${t.name}`}>
            ${t.technologies.map((tech) => html`<li class="badge">${tech}</li>`)}
          </ul>
          <div class="template-actions"><${CreateFromTemplate} team=${team} template=${t} /></div>
        </li>`,
      )}
    </ul>`}
  <//>`;
}

export const nav = { path: 'templates', label: 'Templates', icon: 'templates', order: 70 };

export const routes = [{ path: '/:team/templates', view: TemplatesScreen, title: 'Templates', access: 'team' }];
