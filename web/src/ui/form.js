// Forms: `<Form>` owns the values, the busy state and the errors; `<Field>` is one labelled input,
// `<Fieldset>` a titled group of them (a list, a section), `<ListField>` a list of rows to add to and
// remove from. `derive(values, changedName)` may adjust other values as one changes (a slug following
// a name); `onChange(values)` tells the screen what the form holds now.
//
// Names are the API's request properties, dotted for nested ones (`details.url`,
// `config.ports.0.internal`): values are nested objects and arrays, so a form's values are the
// request body. When the API refuses with `{message, property}`, the message appears at the field
// named `property`, or else at the nearest group holding it (`config.ports` for `config.ports.3`,
// prefixed with the property's path), and focus moves there; a message for nothing in the form shows
// above the buttons. `useForm().run(action)` runs another action (a check, a lookup) the same way.
//
//   <${Form} initial=${{ name: '' }} submitLabel="Create" onSubmit=${async (values) => api.post(...)}>
//     <${Field} name="name" label="Name" required />
//   <//>

import { html } from 'htm/preact';
import { createContext } from 'preact';
import { useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';

const FormContext = createContext(null);

/** The value at a dotted path (`config.ports.0.internal`) of nested objects and arrays. */
export function getPath(values, path) {
  return path.split('.').reduce((at, part) => (at == null ? undefined : at[part]), values);
}

/** A copy of `values` with `value` at the dotted path (objects and arrays along it copied too). */
export function setPath(values, path, value) {
  const [head, ...rest] = path.split('.');
  const container = Array.isArray(values) ? [...values] : { ...(values || {}) };
  container[head] = rest.length ? setPath(container[head] ?? (/^\d+$/.test(rest[0]) ? [] : {}), rest.join('.'), value) : value;
  return container;
}

/** A fresh id for a list entry (the API keeps the ids clients give). */
export const newId = () => crypto.randomUUID();

const FOCUSABLE = 'input, select, textarea, button';

export function Form({
  initial,
  derive,
  onSubmit,
  onChange,
  submitLabel,
  busyLabel,
  children,
  secondary,
  resetOnSuccess,
  label,
  marksOptional = true, // false: every field is optional (a config), so none says it
}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState(null);
  const [busy, setBusy] = useState(null); // null, 'submit' or 'action'
  const anchors = useRef(new Map()); // property name → {el, owner}: where its errors show
  const current = useRef(values);
  const mounted = useRef(true);
  current.current = values;
  useEffect(() => () => (mounted.current = false), []);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else onChange?.(values);
  }, [values]);

  const setValue = (name, value) => {
    setValues((previous) => {
      const next = setPath(previous, name, value);
      return derive ? derive(next, name) : next;
    });
    setErrors((previous) => (previous[name] ? { ...previous, [name]: null } : previous));
  };

  /** Where a refusal's `property` shows: the field of that name, else the nearest group holding it. */
  const locate = (property) => {
    const parts = property.split('.');
    for (let n = parts.length; n > 0; n--) {
      const anchor = anchors.current.get(parts.slice(0, n).join('.'));
      if (anchor?.el.isConnected) return { ...anchor, exact: n === parts.length };
    }
    return null;
  };

  const report = (error) => {
    const anchor = error instanceof ApiError && error.property ? locate(error.property) : null;
    if (anchor) {
      const where = error.property;
      const message = anchor.exact || error.message.startsWith(where) ? error.message : `${where}: ${error.message}`;
      setErrors({ [anchor.owner]: message });
      const target = anchor.el.matches(FOCUSABLE) ? anchor.el : anchor.el.querySelector(FOCUSABLE) || anchor.el;
      requestAnimationFrame(() => target.focus());
    } else {
      setFormError(error instanceof ApiError ? error.message : 'Something went wrong: try again.');
      if (!(error instanceof ApiError)) console.error(error);
    }
  };

  /** Runs `action(values)` with the form busy, its refusal shown like a submit's; resolves to its result. */
  const run = async (action, kind = 'action') => {
    if (busy) return undefined;
    setBusy(kind);
    setErrors({});
    setFormError(null);
    try {
      return await action(current.current, { setValue });
    } catch (error) {
      if (mounted.current) report(error);
      return undefined;
    } finally {
      if (mounted.current) setBusy(null);
    }
  };

  const submit = async (event) => {
    event.preventDefault();
    const done = await run(async (submitted, helpers) => {
      await onSubmit(submitted, helpers);
      return true;
    }, 'submit');
    if (done && mounted.current && resetOnSuccess) setValues(initial);
  };

  const context = {
    values,
    errors,
    setValue,
    run,
    busy: Boolean(busy),
    marksOptional,
    register: (name, el, owner = name) => anchors.current.set(name, { el, owner }),
    unregister: (name, el) => anchors.current.get(name)?.el === el && anchors.current.delete(name),
  };
  return html`<${FormContext.Provider} value=${context}>
    <form class="form" onSubmit=${submit} aria-label=${label} aria-busy=${Boolean(busy)}>
      ${children}
      ${formError && html`<p class="form-error" role="alert">${formError}</p>`}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled=${Boolean(busy)}>
          ${busy === 'submit' ? busyLabel || `${submitLabel}…` : submitLabel}
        </button>
        ${secondary}
      </div>
    </form>
  <//>`;
}

/** The surrounding form: `{values, errors, setValue, run, busy}`, for buttons and parts inside it. */
export function useForm() {
  return useContext(FormContext);
}

/** Registers `ref`'s element as where the errors of `name` (and of `catches`) show. */
function useAnchor(form, name, catches = []) {
  const own = useRef(null);
  const ref = (el) => {
    if (el) {
      own.current = el;
      for (const property of [name, ...catches]) form.register(property, el, name);
    } else if (own.current) {
      for (const property of [name, ...catches]) form.unregister(property, own.current);
      own.current = null;
    }
  };
  return [own, ref];
}

/**
 * One input with its label, hint and error. `type` is any input type, or `select` with `options`
 * (`[{value, label}]`), or `textarea`, or `checkbox` (a boolean value), or `checkboxes` (a list of
 * the checked `options`' values, in their order; `option.hint` is shown beside its label).
 * `autofocus` focuses it when it appears. `catches`: other properties whose refusals show here (a JSON
 * view catching `config`). Other props (required, autocomplete, minLength, list…) pass through.
 */
export function Field({ name, label, hint, type = 'text', options, autofocus, catches, ...rest }) {
  const form = useContext(FormContext);
  const id = useId();
  const [own, ref] = useAnchor(form, name, catches);
  useEffect(() => {
    if (autofocus) own.current?.focus(); // the screen's first field, ready for typing
  }, []);
  const error = form.errors[name];
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const value = getPath(form.values, name) ?? '';
  const common = {
    id,
    name,
    ref,
    'aria-invalid': error ? 'true' : undefined,
    'aria-describedby': describedBy,
    ...rest,
  };
  const onInput = (event) => {
    const raw = event.currentTarget.value;
    form.setValue(name, type === 'number' && raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw);
  };
  const notes = html`${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}`;
  if (type === 'checkbox' || type === 'checkboxes') {
    return html`<${Checks} ...${{ form, name, label, type, options, id, common, error, value, notes }} />`;
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
    <label for=${id}>${label}${rest.required || !form.marksOptional ? '' : html` <span class="optional">(optional)</span>`}</label>
    ${control}
    ${notes}
  </div>`;
}

/** A checkbox, or a group of them under one legend (the group's first box takes the focus of an error). */
function Checks({ form, name, label, type, options, id, common, error, value, notes }) {
  if (type === 'checkbox') {
    return html`<div class=${`field field-check${error ? ' field-invalid' : ''}`}>
      <div class="check">
        <input ...${common} type="checkbox" checked=${Boolean(value)} onChange=${(e) => form.setValue(name, e.currentTarget.checked)} />
        <label for=${id}>${label}</label>
      </div>
      ${notes}
    </div>`;
  }
  const checked = new Set(value || []);
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

/** A titled group of fields; refusals of `name` itself (`config.ports`: a duplicate) show under its title. */
export function Fieldset({ name, legend, hint, children, className = '' }) {
  const form = useContext(FormContext);
  const id = useId();
  const [, ref] = useAnchor(form, name);
  const error = form.errors[name];
  return html`<fieldset
    ref=${ref}
    class=${`fieldset ${className}${error ? ' fieldset-invalid' : ''}`}
    aria-describedby=${[hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined}
  >
    <legend>${legend}</legend>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
    ${children}
  </fieldset>`;
}

/**
 * A list of entries (`config.ports`): each a row of fields named `<name>.<i>.<column>`, with a Remove
 * button, and an Add button appending `blank()`. `columns`: `[{key, label, type?, options?, hint?}]`.
 * `itemLabel` names one entry for the buttons ("port" → "Add port", "Remove port 2").
 */
export function ListField({ name, legend, hint, columns, blank, itemLabel }) {
  const form = useContext(FormContext);
  const entries = getPath(form.values, name) || [];
  const remove = (index) => {
    form.setValue(name, entries.filter((_, i) => i !== index));
    requestAnimationFrame(() => document.getElementById(`${name}-add`)?.focus());
  };
  return html`<${Fieldset} name=${name} legend=${legend} hint=${hint} className="list-field">
    ${entries.length === 0 && html`<p class="muted list-empty">None.</p>`}
    ${entries.map(
      (entry, i) => html`<div class="list-row" key=${entry.id || i}>
        ${columns.map(
          (c) => html`<${Field}
            name=${`${name}.${i}.${c.key}`}
            label=${c.label}
            type=${c.type}
            options=${c.options}
            required=${c.required}
            hint=${c.hint}
            inputmode=${c.type === 'number' ? 'numeric' : undefined}
            autocomplete="off"
          />`,
        )}
        <button type="button" class="button button-small list-remove" aria-label=${`Remove ${itemLabel} ${i + 1}`} onClick=${() => remove(i)}>
          Remove
        </button>
      </div>`,
    )}
    <button type="button" id=${`${name}-add`} class="button button-small" onClick=${() => form.setValue(name, [...entries, blank()])}>
      + Add ${itemLabel}
    </button>
  <//>`;
}
