// The team's dashboard (`GET /api/{teamSlug}/dashboard`): its counts and the onboarding checklist
// from sign-up to the first deployment, each open step linking to the screen that does it.

import { html } from 'htm/preact';
import { api } from '../api.js';
import { ErrorState, Loading, useResource } from '../ui/feedback.js';
import { Icon } from '../ui/icons.js';
import { Page, Section } from '../ui/layout.js';

// The API's onboarding keys in their order, with what each asks and where it is done.
const STEPS = [
  { key: 'signUp', label: 'Sign up', path: null },
  { key: 'createTeam', label: 'Create a team', path: 'settings' },
  { key: 'createNode', label: 'Add a node and install its agent', path: 'nodes' },
  { key: 'createProject', label: 'Create a project', path: 'projects' },
  { key: 'createVersion', label: 'Create a version of it', path: 'projects' },
  { key: 'addImages', label: 'Add images to the version', path: 'projects' },
  { key: 'addDeployment', label: 'Create a deployment', path: 'deployments' },
  { key: 'deploy', label: 'Deploy it', path: 'deployments' },
];

const COUNTS = [
  { key: 'users', label: 'Members', path: 'settings' },
  { key: 'projects', label: 'Projects', path: 'projects' },
  { key: 'versions', label: 'Versions', path: 'projects' },
  { key: 'deployments', label: 'Deployments', path: 'deployments' },
  { key: 'failedDeployments', label: 'Failed deployments', path: 'deployments' },
  { key: 'auditLog', label: 'Audit log entries', path: 'audit-log' },
];

function Onboarding({ onboarding, team }) {
  const done = STEPS.filter((s) => onboarding[s.key]?.done).length;
  const next = STEPS.find((s) => !onboarding[s.key]?.done);
  return html`<div class="onboarding">
    <p>
      <strong>${done} of ${STEPS.length}</strong> steps done.
      ${next ? html` Next: <a href=${`/${team.slug}/${next.path}`}>${next.label.toLowerCase()}</a>.` : ' Your team is all set.'}
    </p>
    <progress max=${STEPS.length} value=${done} aria-label="Onboarding progress">${done} of ${STEPS.length}</progress>
    <ol class="steps">
      ${STEPS.map((step) => {
        const isDone = onboarding[step.key]?.done;
        return html`<li class=${isDone ? 'step done' : 'step'}>
          <span class="step-mark"><${Icon} name=${isDone ? 'check' : 'circle'} size=${18} /></span>
          ${isDone || !step.path
            ? html`<span>${step.label}</span>`
            : html`<a href=${`/${team.slug}/${step.path}`}>${step.label}</a>`}
          <span class="visually-hidden">${isDone ? '(done)' : '(to do)'}</span>
        </li>`;
      })}
    </ol>
  </div>`;
}

function DashboardScreen({ team }) {
  const { data, error, reload } = useResource(
    (signal) => api.get(`/api/${team.slug}/dashboard`, undefined, { signal }),
    [team.slug],
  );
  return html`<${Page} title="Dashboard" lead=${team.name}>
    ${error && html`<${ErrorState} error=${error} retry=${reload} />`}
    ${!data && !error && html`<${Loading} />`}
    ${data &&
    html`<ul class="cards" aria-label="Team counts">
        ${COUNTS.map(
          (c) => html`<li class="card">
            <a href=${`/${team.slug}/${c.path}`}>
              <span class="card-value">${data[c.key]}</span>
              <span class="card-label">${c.label}</span>
            </a>
          </li>`,
        )}
      </ul>
      <${Section} title="Getting started" id="onboarding">
        <${Onboarding} onboarding=${data.onboarding} team=${team} />
      <//>`}
  <//>`;
}

export const routes = [{ path: '/:team/dashboard', view: DashboardScreen, title: 'Dashboard', access: 'team' }];

export const nav = { path: 'dashboard', label: 'Dashboard', icon: 'dashboard', order: 0 };
