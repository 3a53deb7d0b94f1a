// The console's frame: picks the screen for the address, enforces who may see it (guest, signed in,
// member of the team in the path), and wraps it in the right layout. Screens live in screens/.

import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { matchRoute, navigate, useLocation } from './router.js';
import { routes, teamNav } from './screens/index.js';
import { lastTeam, rememberTeam, useSession } from './session.js';
import { Empty, Toasts } from './ui/feedback.js';
import { AuthLayout, Page, Shell } from './ui/layout.js';

function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function NotFound() {
  return html`<${Page} title="Not found">
    <${Empty} title="There is nothing at this address" action=${html`<a class="button" href="/">Go to the start</a>`}>
      The link may be old, or the thing it pointed to was deleted.
    <//>
  <//>`;
}

function NotAMember({ slug }) {
  return html`<${Page} title="Not your team">
    <${Empty} icon="team" title=${`You are not a member of “${slug}”`} action=${html`<a class="button" href="/teams">Your teams</a>`}>
      Ask one of its admins for an invitation; it will show up on your profile.
    <//>
  <//>`;
}

/** Moves focus to the new screen's heading after a navigation (not on the first load). */
function useFocusOnNavigation(path, title) {
  const first = useRef(true);
  useEffect(() => {
    document.title = title ? `${title} · dyrector` : 'dyrector';
    if (first.current) {
      first.current = false;
      return;
    }
    requestAnimationFrame(() => {
      const main = document.getElementById('main');
      if (main?.contains(document.activeElement) && document.activeElement !== main) return; // a field took it
      (document.getElementById('page-title') || main)?.focus();
    });
  }, [path]);
}

function home(me) {
  const team = lastTeam(me);
  return team ? `/${team.slug}/dashboard` : '/teams';
}

function Screen({ path, query, session }) {
  const found = matchRoute(routes, path);
  useFocusOnNavigation(path, found?.route.title);
  const signedIn = Boolean(session.token && session.me);
  if (path === '/') return html`<${Redirect} to=${signedIn ? home(session.me) : '/login'} />`;
  if (!found) {
    const page = html`<${NotFound} />`;
    return signedIn ? html`<${Shell} me=${session.me} nav=${teamNav} path=${path}>${page}<//>` : html`<${AuthLayout}>${page}<//>`;
  }
  const { route, params } = found;
  if (route.access === 'guest') {
    if (signedIn) return html`<${Redirect} to=${home(session.me)} />`;
    return html`<${AuthLayout}><${route.view} params=${params} query=${query} /><//>`;
  }
  if (!signedIn) return html`<${Redirect} to=${`/login?next=${encodeURIComponent(path)}`} />`;
  const team = params.team ? session.me.teams.find((t) => t.slug === params.team) : null;
  let page;
  if (route.access === 'team' && !team) page = html`<${NotAMember} slug=${params.team} />`;
  else page = html`<${route.view} key=${path} params=${params} query=${query} team=${team} />`;
  return html`<${Shell} me=${session.me} team=${team} nav=${teamNav} path=${path}>${page}<//>`;
}

export function App() {
  const { path, query } = useLocation();
  const session = useSession();
  const slug = path.split('/')[1];
  useEffect(() => {
    if (session.me?.teams.some((t) => t.slug === slug)) rememberTeam(slug);
  }, [slug, session.me]);
  return html`<${Screen} path=${path} query=${query} session=${session} /><${Toasts} />`;
}
