// A value to copy (an install command, a token, a curl command): shown read-only, selected on focus,
// with a Copy button. The clipboard may be refused (plain http, a browser setting): then the value
// is selected for the person to copy themselves.

import { html } from 'htm/preact';
import { useId, useRef, useState } from 'preact/hooks';
import { toast } from './feedback.js';
import { Icon } from './icons.js';

export function CopyField({ label, value, hint, multiline = false, rows = 3, hideLabel = false }) {
  const id = useId();
  const field = useRef(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 3000);
    } catch {
      field.current?.select();
      toast('Copying is not allowed here: the text is selected, copy it with your keyboard.', { kind: 'info' });
    }
  };
  const common = {
    id,
    ref: field,
    readonly: true,
    value,
    onFocus: (e) => e.currentTarget.select(),
    'aria-describedby': hint ? `${id}-hint` : undefined,
    spellcheck: false,
  };
  return html`<div class="copy-field">
    <label for=${id} class=${hideLabel ? 'visually-hidden' : undefined}>${label}</label>
    <div class="copy-row">
      ${multiline ? html`<textarea ...${common} rows=${rows}></textarea>` : html`<input ...${common} />`}
      <button type="button" class="button" onClick=${copy}>
        <${Icon} name="copy" size=${16} /> ${copied ? 'Copied' : 'Copy'}<span class="visually-hidden"> ${label}</span>
      </button>
    </div>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
  </div>`;
}
