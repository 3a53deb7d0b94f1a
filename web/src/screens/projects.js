// Projects (`/api/{teamSlug}/projects`) with their versions and images: the paged list with the
// form that creates one; a project (rename, convert, delete; a versionless project shows its one
// rolling version's images right there, a versioned one lists its versions: create, set default,
// increase, delete); a version (rename, its images in deployment order); an image's container
// config (projects/config.js). The images part lives in projects/images.js.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ConfirmButton, Dialog } from '../ui/dialog.js';
import { Empty, ErrorState, Loading, formatDateTime, toast, useResource } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { PagedTable, Table } from '../ui/table.js';
import { ConfigScreen } from './projects/config.js';
import { ImagesPanel } from './projects/images.js';

const PROJECT_TYPES = [
  { value: 'versionless', label: 'Versionless: one deployable unit' },
  { value: 'versioned', label: 'Versioned: rolling and incremental versions' },
];
const VERSION_TYPES = [
  { value: 'incremental', label: 'Incremental: frozen once deployed, increased to the next' },
  { value: 'rolling', label: 'Rolling: changes in place, redeployed' },
];

const projectPath = (team, id) => `/api/${team.slug}/projects/${id}`;
const optional = (text) => text?.trim() || undefined;

function CreateProjectForm({ team }) {
  const submit = async ({ name, type, description }) => {
    const project = await api.post(`/api/${team.slug}/projects`, { name, type, description: optional(description) });
    toast(`Project ${project.name} created.`);
    navigate(`/${team.slug}/projects/${project.id}`);
  };
  return html`<${Form} label="Create a project" initial=${{ name: '', type: 'versionless', description: '' }} submitLabel="Create project" onSubmit=${submit}>
    <div class="field-row">
      <${Field} name="name" label="Name" required maxLength=${70} autocomplete="off" />
      <${Field} name="type" label="Type" type="select" required options=${PROJECT_TYPES} />
    </div>
    <${Field} name="description" label="Description" type="textarea" rows=${2} maxLength=${2000} />
  <//>`;
}

function ProjectListScreen({ team }) {
  const columns = [
    { label: 'Name', render: (p) => html`<a href=${`/${team.slug}/projects/${p.id}`}>${p.name}</a>` },
    { label: 'Type', render: (p) => p.type },
    { label: 'Versions', render: (p) => p.versionCount, className: 'num' },
    { label: 'Description', render: (p) => p.description || html`<span class="muted">—</span>` },
    { label: 'Changed', render: (p) => formatDateTime(p.audit.updatedAt) },
  ];
  return html`<${Page}
    title="Projects"
    lead="A project is what you deploy: its images, in versions or as one versionless unit."
    actions=${html`<a class="button" href=${`/${team.slug}/templates`}>Start from a template</a>`}
  >
    <${Section} title="Your projects" id="project-list">
      <${PagedTable}
        caption="Projects"
        load=${(page) => api.page(`/api/${team.slug}/projects`, page)}
        columns=${columns}
        empty=${html`<${Empty} icon="projects" title="No projects yet">
          Create one below, or <a href=${`/${team.slug}/templates`}>start from a template</a> with its images ready.
        <//>`}
      />
    <//>
    <${Section} title="Create a project" id="project-create">
      <${CreateProjectForm} team=${team} />
    <//>
  <//>`;
}

// --- one project ----------------------------------------------------------------------------------

function ProjectForm({ team, project, rolling, onSaved }) {
  const versionless = project.type === 'versionless';
  const submit = async ({ name, description, changelog }) => {
    const body = { name, description: optional(description) };
    if (versionless) body.changelog = optional(changelog);
    await api.put(projectPath(team, project.id), body);
    toast('Project saved.');
    onSaved();
  };
  const initial = { name: project.name, description: project.description || '', changelog: rolling?.changelog || '' };
  return html`<${Form} label="Project details" initial=${initial} submitLabel="Save" onSubmit=${submit}>
    <${Field} name="name" label="Name" required maxLength=${70} autocomplete="off" />
    <${Field} name="description" label="Description" type="textarea" rows=${2} maxLength=${2000} />
    ${versionless && html`<${Field} name="changelog" label="Changelog" type="textarea" rows=${3} />`}
  <//>`;
}

function IncreaseButton({ team, project, version, onDone }) {
  const [open, setOpen] = useState(false);
  const submit = async ({ name, changelog }) => {
    const created = await api.post(`${projectPath(team, project.id)}/versions/${version.id}/increase`, {
      name,
      changelog: optional(changelog),
    });
    setOpen(false);
    toast(`Version ${created.name} created from ${version.name}, with copies of its images.`);
    onDone();
  };
  return html`<button type="button" class="button button-small" onClick=${() => setOpen(true)} aria-label=${`Increase ${version.name}`}>
      Increase
    </button>
    <${Dialog} open=${open} title=${`Increase ${version.name}`} onClose=${() => setOpen(false)}>
      <p>The new incremental version gets copies of this one's images; this one is then frozen.</p>
      <${Form}
        label="The next version"
        initial=${{ name: '', changelog: '' }}
        submitLabel="Create version"
        onSubmit=${submit}
        secondary=${html`<button type="button" class="button" onClick=${() => setOpen(false)}>Cancel</button>`}
      >
        <${Field} name="name" label="Name" required maxLength=${70} autofocus autocomplete="off" />
        <${Field} name="changelog" label="Changelog" type="textarea" rows=${3} />
      <//>
    <//>`;
}

function VersionsSection({ team, project, reload }) {
  const base = `${projectPath(team, project.id)}/versions`;
  const act = (run, message) => async () => {
    try {
      await run();
      toast(message);
      reload();
    } catch (error) {
      toast(error.message, { kind: 'error' });
    }
  };
  const remove = (v) => async () => {
    await api.del(`${base}/${v.id}`);
    toast(`Version ${v.name} deleted.`);
    reload();
  };
  const columns = [
    {
      label: 'Name',
      render: (v) => html`<a href=${`/${team.slug}/projects/${project.id}/versions/${v.id}`}>${v.name}</a>
        ${v.default ? html` <span class="badge">default</span>` : ''}`,
    },
    { label: 'Type', render: (v) => v.type },
    { label: 'Changelog', render: (v) => v.changelog || html`<span class="muted">—</span>` },
    { label: 'Created', render: (v) => formatDateTime(v.audit.createdAt) },
    {
      label: 'Actions',
      render: (v) => html`<div class="row-actions">
        ${!v.default &&
        html`<button
          type="button"
          class="button button-small"
          aria-label=${`Make ${v.name} the default`}
          onClick=${act(() => api.put(`${base}/${v.id}/default`), `${v.name} is now the default version.`)}
        >
          Set default
        </button>`}
        ${v.increasable && html`<${IncreaseButton} team=${team} project=${project} version=${v} onDone=${reload} />`}
        <${ConfirmButton}
          label="Delete"
          title=${`Delete the version ${v.name}?`}
          text="Its images and their configs are deleted with it."
          onConfirm=${remove(v)}
        />
      </div>`,
    },
  ];
  const create = async ({ name, type, changelog }) => {
    const created = await api.post(base, { name, type, changelog: optional(changelog) });
    toast(`Version ${created.name} created.`);
    reload();
  };
  return html`<${Section} title="Versions" id="project-versions">
      ${project.versions.length === 0
        ? html`<${Empty} icon="projects" title="No versions yet">Create the first one below; it becomes the default.<//>`
        : html`<${Table} caption="Versions" columns=${columns} rows=${project.versions} />`}
    <//>
    <${Section} title="Create a version" id="version-create">
      <p class="lead">A new version starts with copies of the default version's images.</p>
      <${Form} label="Create a version" initial=${{ name: '', type: 'incremental', changelog: '' }} submitLabel="Create version" resetOnSuccess onSubmit=${create}>
        <div class="field-row">
          <${Field} name="name" label="Version name" required maxLength=${70} autocomplete="off" hint="e.g. 1.0.0" />
          <${Field} name="type" label="Version type" type="select" required options=${VERSION_TYPES} />
        </div>
        <${Field} name="changelog" label="Changelog" type="textarea" rows=${2} />
      <//>
    <//>`;
}

function DeleteProject({ team, project }) {
  const remove = async () => {
    await api.del(projectPath(team, project.id));
    toast(`Project ${project.name} deleted.`);
    navigate(`/${team.slug}/projects`);
  };
  return html`<${Section} title="Delete the project" id="project-delete">
    <div class="danger-zone">
      <div>
        <p>Its versions, images and their configs are deleted with it.</p>
        <${ConfirmButton}
          label="Delete project"
          small=${false}
          title=${`Delete the project ${project.name}?`}
          text="This cannot be undone."
          onConfirm=${remove}
        />
      </div>
    </div>
  <//>`;
}

function ProjectScreen({ team, params }) {
  const path = projectPath(team, params.projectId);
  const { data: project, error, reload } = useResource((signal) => api.get(path, undefined, { signal }), [path]);
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!project) return html`<${Loading} />`;
  const versionless = project.type === 'versionless';
  const rolling = versionless ? project.versions[0] : null;
  const convert = async () => {
    await api.post(`${path}/convert`);
    toast(`${project.name} is versioned now: its rolling version stays.`);
    reload();
  };
  return html`<${Page}
    title=${project.name}
    lead=${`${versionless ? 'Versionless project' : `Versioned project · ${project.versions.length} version${project.versions.length === 1 ? '' : 's'}`}${project.description ? ` · ${project.description}` : ''}`}
    actions=${html`<a class="button" href=${`/${team.slug}/projects`}>All projects</a>`}
  >
    ${rolling && html`<${VersionImages} team=${team} projectId=${project.id} versionId=${rolling.id} />`}
    ${!versionless && html`<${VersionsSection} team=${team} project=${project} reload=${reload} />`}
    <${Section} title="Project details" id="project-details">
      <${ProjectForm} key=${project.audit.updatedAt} team=${team} project=${project} rolling=${rolling} onSaved=${reload} />
      ${versionless &&
      html`<div class="convert">
        <p class="hint">Need versions? Converting keeps this project's images in its rolling version.</p>
        <${ConfirmButton}
          label="Convert to versioned"
          danger=${false}
          small=${false}
          title=${`Convert ${project.name} to a versioned project?`}
          text="It keeps its rolling version and can then have more versions. This cannot be undone."
          confirmLabel="Convert"
          onConfirm=${convert}
        />
      </div>`}
    <//>
    <${DeleteProject} team=${team} project=${project} />
  <//>`;
}

/** A version's images as a section (loads the version itself: the versionless project's screen). */
function VersionImages({ team, projectId, versionId }) {
  const path = `${projectPath(team, projectId)}/versions/${versionId}`;
  const { data: version, error, reload } = useResource((signal) => api.get(path, undefined, { signal }), [path]);
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!version) return html`<${Loading} />`;
  return html`<${ImagesPanel} team=${team} projectId=${projectId} version=${version} reload=${reload} />`;
}

// --- one version ----------------------------------------------------------------------------------

function VersionScreen({ team, params }) {
  const projectUrl = projectPath(team, params.projectId);
  const path = `${projectUrl}/versions/${params.versionId}`;
  const { data, error, reload } = useResource(
    async (signal) => {
      const [project, version] = await Promise.all([
        api.get(projectUrl, undefined, { signal }),
        api.get(path, undefined, { signal }),
      ]);
      return { project, version };
    },
    [path],
  );
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  const { project, version } = data;
  const save = async ({ name, changelog }) => {
    await api.put(path, { name, changelog: optional(changelog) });
    toast('Version saved.');
    reload();
  };
  const remove = async () => {
    await api.del(path);
    toast(`Version ${version.name} deleted.`);
    navigate(`/${team.slug}/projects/${project.id}`);
  };
  return html`<${Page}
    title=${`${project.name} ${version.name}`}
    lead=${`${version.type === 'rolling' ? 'Rolling' : 'Incremental'} version${version.default ? ' · the default' : ''}${version.mutable ? '' : ' · frozen'} · ${version.deployments.length} deployment${version.deployments.length === 1 ? '' : 's'}`}
    actions=${html`<a class="button" href=${`/${team.slug}/projects/${project.id}`}>${project.name}</a>`}
  >
    <${ImagesPanel} team=${team} projectId=${project.id} version=${version} reload=${reload} />
    <${Section} title="Version details" id="version-details">
      <${Form} key=${version.audit.updatedAt} label="Version details" initial=${{ name: version.name, changelog: version.changelog || '' }} submitLabel="Save" onSubmit=${save}>
        <${Field} name="name" label="Name" required maxLength=${70} autocomplete="off" />
        <${Field} name="changelog" label="Changelog" type="textarea" rows=${3} />
      <//>
    <//>
    <${Section} title="Delete the version" id="version-delete">
      <div class="danger-zone">
        <div>
          <p>${version.deletable ? 'Its images and their configs are deleted with it.' : 'It cannot be deleted now: a deployment of it is in progress.'}</p>
          <${ConfirmButton} label="Delete version" small=${false} title=${`Delete the version ${version.name}?`} text="This cannot be undone." onConfirm=${remove} />
        </div>
      </div>
    <//>
  <//>`;
}

export const nav = { path: 'projects', label: 'Projects', icon: 'projects', order: 10 };

export const routes = [
  { path: '/:team/projects', view: ProjectListScreen, title: 'Projects', access: 'team' },
  { path: '/:team/projects/:projectId', view: ProjectScreen, title: 'Project', access: 'team' },
  { path: '/:team/projects/:projectId/versions/:versionId', view: VersionScreen, title: 'Version', access: 'team' },
  {
    path: '/:team/projects/:projectId/versions/:versionId/images/:imageId',
    view: ConfigScreen,
    title: 'Container config',
    access: 'team',
  },
];
