// A list inside a <Form>: rows of a few inputs each (environment variables as key and value, ports
// as internal and external), with Add and Remove. The value is the array of rows; each input is
// registered under the API's property path (`config.environment.2.key`), so a refusal of one row
// shows at that row, and a refusal of the whole list (`config.environment: duplicate key`) above it.
//
//   <${ListField} name="config.environment" label="Environment" addLabel="Add a variable"
//     columns=${[{ prop: 'key', label: 'Name' }, { prop: 'value', label: 'Value' }]} blank=${{ key: '', value: '' }} />

import { html } from 'htm/preact';
import { useId } from 'preact/hooks';
import { useForm } from './form.js';
import { Icon } from './icons.js';

/** `columns`: `[{prop, label, type?, placeholder?, ...inputProps}]`; `blank`: a new row. */
export function ListField({ name, label, hint, columns, blank, addLabel = 'Add', empty = 'None.' }) {
  const form = useForm();
  const id = useId();
  const rows = form.values[name] || [];
  const set = (next) => form.setValue(name, next);
  const change = (index, prop, type) => (event) => {
    const raw = event.currentTarget.value;
    const value = type === 'number' ? (raw === '' ? '' : Number(raw)) : raw;
    set(rows.map((row, i) => (i === index ? { ...row, [prop]: value } : row)));
  };
  const add = () => {
    set([...rows, { ...blank }]);
    requestAnimationFrame(() => document.getElementById(`${id}-${rows.length}-0`)?.focus());
  };
  const remove = (index) => () => {
    set(rows.filter((_, i) => i !== index));
    requestAnimationFrame(() => document.getElementById(`${id}-add`)?.focus());
  };
  const listError = form.errors[name];
  return html`<fieldset class=${`list-field${listError ? ' field-invalid' : ''}`} aria-describedby=${hint ? `${id}-hint` : undefined}>
    <legend>${label}</legend>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${listError && html`<p class="field-error" role="alert">${listError}</p>`}
    ${rows.length === 0 && html`<p class="muted list-empty">${empty}</p>`}
    ${rows.map((row, index) => {
      const errors = columns.map((c) => form.errors[`${name}.${index}.${c.prop}`]).filter(Boolean);
      return html`<div class="list-row" key=${row.id || index}>
        ${columns.map(({ prop, label: columnLabel, type = 'text', ...rest }, c) => {
          const path = `${name}.${index}.${prop}`;
          return html`<label class="list-cell">
            <span class="visually-hidden">${columnLabel} ${index + 1}</span>
            <span class="list-cell-label" aria-hidden="true">${columnLabel}</span>
            <input
              id=${`${id}-${index}-${c}`}
              ref=${(el) => el && form.register(path, el)}
              type=${type}
              value=${row[prop] ?? ''}
              aria-invalid=${form.errors[path] ? 'true' : undefined}
              onInput=${change(index, prop, type)}
              ...${rest}
            />
          </label>`;
        })}
        <button type="button" class="icon-button" onClick=${remove(index)}>
          <${Icon} name="close" size=${16} /><span class="visually-hidden">Remove row ${index + 1} of ${label}</span>
        </button>
        ${errors.map((error) => html`<p class="field-error list-row-error">${error}</p>`)}
      </div>`;
    })}
    <button type="button" id=${`${id}-add`} class="button button-small" ref=${(el) => el && form.register(name, el)} onClick=${add}>
      <${Icon} name="plus" size=${16} /> ${addLabel}
    </button>
  </fieldset>`;
}

/** Rows as the API takes them: rows without `keyProp` dropped, `numeric` props left empty as null;
 * an empty list as null (the override is cleared: the image's value applies). */
export function listValue(rows, keyProp, numeric = []) {
  const kept = (rows || []).filter((row) => String(row[keyProp] ?? '').trim() !== '');
  const cleaned = kept.map((row) => {
    const copy = { ...row };
    for (const prop of numeric) if (copy[prop] === '' || copy[prop] === undefined) copy[prop] = null;
    return copy;
  });
  return cleaned.length ? cleaned : null;
}
