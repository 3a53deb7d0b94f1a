// What the person sees while waiting, when something went wrong, when a list is empty, and after an
// action: `useResource` loads data for a screen; `Loading`, `ErrorState`, `Empty` render its states;
// `toast()` confirms an action without moving focus.

import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { Icon } from './icons.js';

/**
 * Loads `loader(signal)` when the screen mounts and whenever `deps` change:
 * `{data, error, loading, reload}`. A slower earlier load never overwrites a newer one.
 */
export function useResource(loader, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const load = useCallback(() => {
    const mine = ++generation.current;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true, error: null }));
    loader(controller.signal).then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => {
        if (error.name !== 'AbortError' && mine === generation.current) setState({ data: null, error, loading: false });
      },
    );
    return () => controller.abort();
  }, deps);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

export function Loading({ label = 'Loading…' }) {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${label}</p>`;
}

export function ErrorState({ error, retry }) {
  return html`<div class="notice notice-error" role="alert">
    <p>${error?.message || 'Something went wrong.'}</p>
    ${retry && html`<button type="button" class="button" onClick=${retry}>Try again</button>`}
  </div>`;
}

/** An empty list or screen: what it is for and the one action that fills it. */
export function Empty({ icon = 'circle', title, children, action }) {
  return html`<div class="empty">
    <span class="empty-icon"><${Icon} name=${icon} size=${32} /></span>
    <h2>${title}</h2>
    ${children && html`<p>${children}</p>`}
    ${action}
  </div>`;
}

// --- toasts -------------------------------------------------------------------------------------

let toasts = [];
let nextId = 1;
const toastListeners = new Set();

function publishToasts() {
  for (const listener of toastListeners) listener(toasts);
}

/** A short confirmation (`kind`: success | error | info), gone after a few seconds. */
export function toast(message, { kind = 'success', seconds = 5 } = {}) {
  const id = nextId++;
  toasts = [...toasts, { id, message, kind }];
  publishToasts();
  setTimeout(() => dismiss(id), seconds * 1000);
}

function dismiss(id) {
  toasts = toasts.filter((t) => t.id !== id);
  publishToasts();
}

export function Toasts() {
  const [items, setItems] = useState(toasts);
  useEffect(() => {
    toastListeners.add(setItems);
    return () => toastListeners.delete(setItems);
  }, []);
  // Two live regions: errors interrupt (alert), confirmations wait their turn (status).
  return html`<div class="toasts">
    <div role="status" aria-live="polite">
      ${items.filter((t) => t.kind !== 'error').map((t) => html`<${Toast} key=${t.id} item=${t} />`)}
    </div>
    <div role="alert">
      ${items.filter((t) => t.kind === 'error').map((t) => html`<${Toast} key=${t.id} item=${t} />`)}
    </div>
  </div>`;
}

function Toast({ item }) {
  return html`<div class=${`toast toast-${item.kind}`}>
    <span>${item.message}</span>
    <button type="button" class="icon-button" aria-label="Dismiss" onClick=${() => dismiss(item.id)}>
      <${Icon} name="close" size=${16} />
    </button>
  </div>`;
}

// --- formatting ---------------------------------------------------------------------------------

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDateTime(value) {
  return value ? dateTime.format(new Date(value)) : '—';
}

export function formatDate(value, never = '—') {
  return value ? dateOnly.format(new Date(value)) : never;
}
