// The console's icons: inline SVG (nothing is fetched at run time), 24-unit grid, drawn with the
// current text colour. `<Icon name="nodes" />`; decorative, so hidden from screen readers.

import { html } from 'htm/preact';

const PATHS = {
  dashboard: 'M4 4h7v9H4zM13 4h7v5h-7zM13 11h7v9h-7zM4 15h7v5H4z',
  projects: 'M3 7l9-4 9 4-9 4zM3 12l9 4 9-4M3 17l9 4 9-4',
  registries: 'M4 5h16v5H4zM4 14h16v5H4zM7 7.5h.01M7 16.5h.01',
  nodes: 'M5 3h14v6H5zM5 15h14v6H5zM12 9v6M8 6h.01M8 18h.01',
  deployments: 'M12 3l4 4h-3v7h-2V7H8zM4 15v5h16v-5',
  notifications: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0',
  storages: 'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zM4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
  templates: 'M4 4h16v4H4zM4 11h7v9H4zM14 11h6v9h-6z',
  audit: 'M6 3h9l4 4v14H6zM9 10h7M9 14h7M9 18h4',
  team: 'M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM2 20c0-3.9 3.1-6 7-6s7 2.1 7 6M16 4.5a3.5 3.5 0 0 1 0 6.5M18 14c2.4.6 4 2.6 4 6',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4.4 3.6-7 8-7s8 2.6 8 7',
  key: 'M14 10a5 5 0 1 1 0-.01zM10.5 13.5L3 21M6 18l2 2M8 16l2 2',
  logout: 'M10 4H5v16h5M15 8l4 4-4 4M19 12H9',
  plus: 'M12 5v14M5 12h14',
  menu: 'M4 6h16M4 12h16M4 18h16',
  check: 'M5 12l5 5 9-10',
  circle: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9L7 7M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1',
  copy: 'M8 8h12v12H8zM4 16V4h12',
  close: 'M6 6l12 12M18 6L6 18',
};

export function Icon({ name, size = 20 }) {
  return html`<svg
    class="icon"
    width=${size}
    height=${size}
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    stroke-width="1.8"
    stroke-linecap="round"
    stroke-linejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    <path d=${PATHS[name] || PATHS.circle} />
  </svg>`;
}
