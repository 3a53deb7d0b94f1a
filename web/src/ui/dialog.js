// Modal dialogs on the native <dialog> element (focus stays inside, Escape closes, focus returns to
// the button that opened it). `<ConfirmButton>` asks before a destructive action and shows the
// API's refusal inside the dialog.

import { html } from 'htm/preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';

export function Dialog({ open, title, onClose, children }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`<dialog ref=${ref} class="dialog" aria-labelledby=${titleId} onClose=${onClose}>
    ${open && html`<h2 id=${titleId}>${title}</h2>${children}`}
  </dialog>`;
}

/** A button that opens "`title` — `text`" with Cancel / `confirmLabel`; confirming runs `onConfirm`. */
export function ConfirmButton({ label, title, text, confirmLabel = label, onConfirm, danger = true, small = true }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const close = () => {
    setOpen(false);
    setError(null);
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      close();
    } catch (failure) {
      setError(failure.message || 'Something went wrong: try again.');
    } finally {
      setBusy(false);
    }
  };
  const classes = `button${danger ? ' button-danger' : ''}${small ? ' button-small' : ''}`;
  return html`<button type="button" class=${classes} onClick=${() => setOpen(true)}>${label}</button>
    <${Dialog} open=${open} title=${title} onClose=${close}>
      <p>${text}</p>
      ${error && html`<p class="form-error" role="alert">${error}</p>`}
      <div class="form-actions">
        <button type="button" class=${`button ${danger ? 'button-danger' : 'button-primary'}`} disabled=${busy} onClick=${confirm}>
          ${busy ? `${confirmLabel}…` : confirmLabel}
        </button>
        <button type="button" class="button" onClick=${close} autofocus>Cancel</button>
      </div>
    <//>`;
}
