// Statuses of nodes, deployments and containers as a word with a coloured mark (never colour alone),
// and how live a screen's updates are (`LiveBadge`, from live.js's `useLive`).

import { html } from 'htm/preact';

// Each status word and the tone it is shown in.
const TONES = {
  connected: 'good',
  successful: 'good',
  running: 'good',
  healthy: 'good',
  unreachable: 'bad',
  failed: 'bad',
  exited: 'bad',
  unhealthy: 'bad',
  outdated: 'warn',
  updating: 'busy',
  'in-progress': 'busy',
  preparing: 'idle',
  waiting: 'busy',
  starting: 'busy',
  obsolete: 'idle',
  downgraded: 'idle',
};

/** A status word with its mark; `live` makes changes to it announced (aria-live) where it shows. */
export function StatusBadge({ status, live = false, label }) {
  const tone = TONES[status] || 'idle';
  return html`<span class=${`state state-${tone}`} aria-live=${live ? 'polite' : undefined}>
    <span class="state-mark" aria-hidden="true"></span>${label ? `${label}: ` : ''}${status || 'unknown'}
  </span>`;
}

const LIVE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  refused: 'Not live',
};

/** Whether the screen follows changes as they happen (`live`: what `useLive` returns). */
export function LiveBadge({ live }) {
  if (!live || live.state === 'off') return null;
  const title =
    live.state === 'live'
      ? 'Changes show here as they happen.'
      : live.state === 'refused'
        ? live.error
        : 'Live updates are paused until the connection is back; reload to see the latest.';
  return html`<span class=${`live live-${live.state}`} title=${title}>
    <span class="live-dot" aria-hidden="true"></span>${LIVE_TEXT[live.state] || live.state}
    ${live.state === 'refused' && html`<span class="visually-hidden">: ${live.error}</span>`}
  </span>`;
}
