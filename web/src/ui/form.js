// Forms: `<Form>` owns the values, the busy state and the errors; `<Field>` is one labelled input.
// `derive(values, changedName)` may adjust other values as one changes (a slug following a name).
// When the API refuses a submit with `{message, property}`, the message appears at the field named
// `property` (and focus moves there); a message for no field of the form shows above the buttons.
//
//   <${Form} initial=${{ name: '' }} submitLabel="Create" onSubmit=${async (values) => api.post(...)}>
//     <${Field} name="name" label="Name" required />
//   <//>

import { html } from 'htm/preact';
import { createContext } from 'preact';
import { useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';

const FormContext = createContext(null);

export function Form({ initial, derive, onSubmit, submitLabel, busyLabel, children, secondary, resetOnSuccess, label }) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState(null);
  const [busy, setBusy] = useState(false);
  const inputs = useRef(new Map());
  const mounted = useRef(true);
  useEffect(() => () => (mounted.current = false), []);

  const setValue = (name, value) => {
    setValues((previous) => {
      const next = { ...previous, [name]: value };
      return derive ? derive(next, name) : next;
    });
    setErrors((previous) => (previous[name] ? { ...previous, [name]: null } : previous));
  };

  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      await onSubmit(values, { setValue });
      if (mounted.current && resetOnSuccess) setValues(initial);
    } catch (error) {
      if (!mounted.current) return;
      const input = error instanceof ApiError && error.property ? inputs.current.get(error.property) : null;
      if (input) {
        setErrors({ [error.property]: error.message });
        requestAnimationFrame(() => input.focus());
      } else {
        setFormError(error instanceof ApiError ? error.message : 'Something went wrong: try again.');
        if (!(error instanceof ApiError)) console.error(error);
      }
    } finally {
      if (mounted.current) setBusy(false);
    }
  };

  const context = { values, errors, setValue, register: (name, el) => inputs.current.set(name, el), busy };
  return html`<${FormContext.Provider} value=${context}>
    <form class="form" onSubmit=${submit} aria-label=${label} aria-busy=${busy}>
      ${children}
      ${formError && html`<p class="form-error" role="alert">${formError}</p>`}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled=${busy}>
          ${busy ? busyLabel || `${submitLabel}…` : submitLabel}
        </button>
        ${secondary}
      </div>
    </form>
  <//>`;
}

/**
 * One input with its label, hint and error. `type` is any input type, or `select` with `options`
 * (`[{value, label}]`), or `textarea`, or `checkbox` (a boolean value), or `checkboxes` (a list of
 * the checked `options`' values, in their order; `option.hint` is shown beside its label).
 * `autofocus` focuses it when it appears. Other props (required, autocomplete, minLength…) pass through.
 */
export function Field({ name, label, hint, type = 'text', options, autofocus, ...rest }) {
  const form = useContext(FormContext);
  const id = useId();
  const own = useRef(null);
  useEffect(() => {
    if (autofocus) own.current?.focus(); // the screen's first field, ready for typing
  }, []);
  const error = form.errors[name];
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const value = form.values[name] ?? '';
  const common = {
    id,
    name,
    ref: (el) => {
      own.current = el;
      if (el) form.register(name, el);
    },
    'aria-invalid': error ? 'true' : undefined,
    'aria-describedby': describedBy,
    ...rest,
  };
  const onInput = (event) => {
    const raw = event.currentTarget.value;
    form.setValue(name, type === 'number' && raw !== '' ? Number(raw) : raw);
  };
  if (type === 'checkbox' || type === 'checkboxes') {
    return html`<${Checks} ...${{ form, name, label, hint, type, options, id, common, error }} />`;
  }
  let control;
  if (type === 'select') {
    control = html`<select ...${common} value=${value} onChange=${onInput}>
      ${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}
    </select>`;
  } else if (type === 'textarea') {
    control = html`<textarea ...${common} value=${value} onInput=${onInput}></textarea>`;
  } else {
    control = html`<input ...${common} type=${type} value=${value} onInput=${onInput} />`;
  }
  return html`<div class=${`field${error ? ' field-invalid' : ''}`}>
    <label for=${id}>${label}${rest.required ? '' : html` <span class="optional">(optional)</span>`}</label>
    ${control}
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

/** A checkbox, or a group of them under one legend (the group's first box takes the focus of an error). */
function Checks({ form, name, label, hint, type, options, id, common, error }) {
  const notes = html`${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}`;
  if (type === 'checkbox') {
    return html`<div class=${`field field-check${error ? ' field-invalid' : ''}`}>
      <div class="check">
        <input ...${common} type="checkbox" checked=${Boolean(form.values[name])} onChange=${(e) => form.setValue(name, e.currentTarget.checked)} />
        <label for=${id}>${label}</label>
      </div>
      ${notes}
    </div>`;
  }
  const checked = new Set(form.values[name] || []);
  const toggle = (value, on) => {
    const next = new Set(checked);
    if (on) next.add(value);
    else next.delete(value);
    form.setValue(name, options.filter((o) => next.has(o.value)).map((o) => o.value));
  };
  return html`<fieldset class=${`field field-checks${error ? ' field-invalid' : ''}`} aria-describedby=${common['aria-describedby']}>
    <legend>${label}</legend>
    ${options.map(
      (o, i) => html`<div class="check">
        <input
          type="checkbox"
          id=${`${id}-${i}`}
          name=${name}
          value=${o.value}
          ref=${i === 0 ? common.ref : undefined}
          checked=${checked.has(o.value)}
          onChange=${(e) => toggle(o.value, e.currentTarget.checked)}
        />
        <label for=${`${id}-${i}`}>${o.label}${o.hint && html` <span class="hint">${o.hint}</span>`}</label>
      </div>`,
    )}
    ${notes}
  </fieldset>`;
}
