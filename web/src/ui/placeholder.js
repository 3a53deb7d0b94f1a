// The stand-in screen of a screen family the console does not show yet: what it will hold and the
// API routes that already do it. Replace a family's `routes` view with its real screens.

import { html } from 'htm/preact';
import { Empty } from './feedback.js';
import { Page } from './layout.js';

export function comingSoon({ title, icon, text, routes }) {
  return function ComingSoon({ team }) {
    const shown = routes.map((route) => route.replace('{teamSlug}', team.slug));
    return html`<${Page} title=${title}>
      <${Empty} icon=${icon} title=${`${title}: not in the console yet`}>
        ${text} Until then the API does it:
        ${shown.map((route, i) => html`${i ? ', ' : ' '}<code>${route}</code>`)} (<a href="/api/docs">API documentation</a>).
      <//>
    <//>`;
  };
}
