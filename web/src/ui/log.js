// A log to read: lines with their times in a scrollable, keyboard-focusable box (`role="log"`: new
// lines are announced politely). It keeps to the newest line while the reader is at the bottom,
// and stays where they are when they scrolled up to read older lines.

import { html } from 'htm/preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

/** `lines`: `[{key, time, text, tone?}]` oldest first; `tone`: info | good | bad | muted. */
export function LogView({ label, lines, empty = 'Nothing logged yet.', before }) {
  const box = useRef(null);
  const atBottom = useRef(true);
  const count = useRef(0);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const grew = lines.length > count.current;
    if (grew && atBottom.current) el.scrollTop = el.scrollHeight;
    count.current = lines.length;
  }, [lines]);
  const onScroll = (event) => {
    const el = event.currentTarget;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };
  return html`<div class="log" ref=${box} role="log" aria-label=${label} tabindex="0" onScroll=${onScroll}>
    ${before}
    ${lines.length === 0 && html`<p class="log-empty">${empty}</p>`}
    <ol>
      ${lines.map(
        (line) => html`<li key=${line.key} class=${line.tone ? `log-${line.tone}` : undefined}>
          <time datetime=${line.time || undefined}>${line.time ? time.format(new Date(line.time)) : ''}</time>
          <span class="log-text">${line.text}</span>
        </li>`,
      )}
    </ol>
  </div>`;
}
