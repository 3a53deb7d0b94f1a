// The frames screens render in: `Shell` (header with the team switcher and the account menu, the
// team's navigation, the main area), `AuthLayout` (the centred card of log-in and sign-up) and
// `Page` (a screen's heading, its actions and content).

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { navigate } from '../router.js';
import { logout } from '../session.js';
import { Icon } from './icons.js';

function Brand() {
  return html`<a class="brand" href="/">
    <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="currentColor" />
      <path d="M9 8h7a8 8 0 0 1 0 16H9z" fill="none" stroke="#fff" stroke-width="3.2" stroke-linejoin="round" />
    </svg>
    <span>dyrector</span>
  </a>`;
}

function TeamSwitcher({ me, team }) {
  if (!me || me.teams.length === 0) return null;
  const onChange = (event) => {
    const slug = event.currentTarget.value;
    if (slug === '+new') navigate('/teams');
    else navigate(`/${slug}/dashboard`);
  };
  return html`<div class="team-switcher">
    <label for="team-switcher">Team</label>
    <select id="team-switcher" value=${team?.slug || ''} onChange=${onChange}>
      ${!team && html`<option value="" disabled>Choose a team</option>`}
      ${me.teams.map((t) => html`<option value=${t.slug}>${t.name}</option>`)}
      <option value="+new">+ Create or manage teams…</option>
    </select>
  </div>`;
}

function NavLink({ href, icon, label, path }) {
  const current = path === href || path.startsWith(`${href}/`);
  return html`<li>
    <a href=${href} class="nav-link" aria-current=${current ? 'page' : undefined}>
      <${Icon} name=${icon} /><span>${label}</span>
    </a>
  </li>`;
}

/**
 * The signed-in frame. `nav`: the team's screen families (`[{path, label, icon}]`, `path` relative
 * to the team: `nodes` → `/<team>/nodes`), shown when a team is chosen.
 */
export function Shell({ me, team, nav, path, children }) {
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const invitations = me?.invitations.length || 0;
  return html`<div class="shell">
    <a class="skip-link" href="#main" onClick=${(e) => (e.preventDefault(), document.getElementById('main').focus())}>
      Skip to content
    </a>
    <header class="topbar">
      <${Brand} />
      <${TeamSwitcher} me=${me} team=${team} />
      <button
        type="button"
        class="icon-button menu-button"
        aria-expanded=${menuOpen}
        aria-controls="sidebar"
        onClick=${() => setMenuOpen(!menuOpen)}
      >
        <${Icon} name="menu" /><span class="visually-hidden">Menu</span>
      </button>
    </header>
    <nav id="sidebar" class=${`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
      ${team &&
      html`<p class="nav-heading">${team.name}</p>
        <ul>
          ${nav.map((item) => html`<${NavLink} href=${`/${team.slug}/${item.path}`} icon=${item.icon} label=${item.label} path=${path} />`)}
        </ul>`}
      <p class="nav-heading">${me?.user.name || 'Account'}</p>
      <ul>
        <${NavLink} href="/teams" icon="team" label="Teams" path=${path} />
        <${NavLink}
          href="/profile"
          icon="user"
          label=${html`Profile${invitations ? html` <span class="badge">${invitations} invitation${invitations > 1 ? 's' : ''}</span>` : ''}`}
          path=${path}
        />
        <${NavLink} href="/tokens" icon="key" label="Access tokens" path=${path} />
        <li>
          <button type="button" class="nav-link" onClick=${async () => (await logout(), navigate('/login'))}>
            <${Icon} name="logout" /><span>Log out</span>
          </button>
        </li>
      </ul>
    </nav>
    <main id="main" class="main" tabindex="-1">${children}</main>
  </div>`;
}

export function AuthLayout({ children }) {
  return html`<div class="auth">
    <header class="auth-brand"><${Brand} /></header>
    <main id="main" class="auth-card" tabindex="-1">${children}</main>
  </div>`;
}

/** A screen: its heading (focused after a navigation, for keyboard and screen-reader users). */
export function Page({ title, lead, actions, children }) {
  return html`<div class="page">
    <div class="page-head">
      <div>
        <h1 id="page-title" tabindex="-1">${title}</h1>
        ${lead && html`<p class="lead">${lead}</p>`}
      </div>
      ${actions && html`<div class="page-actions">${actions}</div>`}
    </div>
    ${children}
  </div>`;
}

/** A titled block inside a page. */
export function Section({ title, children, id }) {
  return html`<section class="section" aria-labelledby=${id}>
    <h2 id=${id}>${title}</h2>
    ${children}
  </section>`;
}
