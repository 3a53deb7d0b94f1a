// Client-side routes over the History API. Plain `<a href="/...">` links navigate without a reload
// (one click handler on the document), so screens need no router-specific link component.
// The server answers every non-file path outside /api with index.html (infra/web_static.py,
// the CloudFront function on AWS), so a reload or a shared link lands on the same screen.

import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();

function current() {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  for (const listener of listeners) listener(current());
}

/** `{path, query}` of the current address; re-renders on every navigation. */
export function useLocation() {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const update = () => setWhere(current());
    listeners.add(update);
    addEventListener('popstate', update);
    update(); // a child's effect may have navigated before this one subscribed
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return where;
}

/** Same-origin links that are not downloads, new tabs or API addresses stay in the app. */
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download') || link.origin !== location.origin) return;
  if (link.pathname === '/api' || link.pathname.startsWith('/api/')) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
});

function compile(pattern) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${source}/?$`), names, literal: names.length === 0 };
}

/**
 * The first route matching `path`: routes without parameters win over routes with them, so
 * `/teams` is never read as a team slugged "teams". Returns `{route, params}` or null.
 */
export function matchRoute(routes, path) {
  const compiled = routes.map((route) => ({ route, ...compile(route.path) }));
  compiled.sort((a, b) => Number(b.literal) - Number(a.literal));
  for (const { route, regex, names } of compiled) {
    const found = regex.exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { route, params };
    }
  }
  return null;
}
