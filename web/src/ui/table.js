// Tables: `<Table>` renders rows it is given; `<PagedTable>` pages a list of the API with `take`
// and `cursor` (the `X-Next-Cursor` of the previous page), Previous/Next keeping the cursors seen.
// On a narrow screen each row becomes a card with the column names as labels (styles.css).
//
//   <${PagedTable} caption="Tokens" load=${(page) => api.page('/api/tokens', page)}
//     columns=${[{ label: 'Name', render: (t) => t.name }]} empty=${html`<${Empty} … />`} />

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ErrorState, Loading, useResource } from './feedback.js';

/** `columns`: `[{label, render(row), className?}]`; `rowKey(row)` defaults to `row.id`. */
export function Table({ caption, columns, rows, rowKey = (row) => row.id }) {
  return html`<div class="table-wrap">
    <table class="table">
      ${caption && html`<caption class="visually-hidden">${caption}</caption>`}
      <thead>
        <tr>
          ${columns.map((c) => html`<th scope="col" class=${c.className}>${c.label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) => html`<tr key=${rowKey(row)}>
            ${columns.map((c) => html`<td data-label=${c.label} class=${c.className}><div class="cell">${c.render(row)}</div></td>`)}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/**
 * A list of the API, a page at a time. `load({take, cursor, signal})` resolves to `{items, next}`
 * (`api.page` does). Change `reloadKey` to start again from the first page (after a create/delete).
 */
export function PagedTable({ load, take = 20, reloadKey, empty, ...table }) {
  const [cursors, setCursors] = useState([null]); // cursors[i]: where page i starts
  const [key, setKey] = useState(reloadKey);
  if (key !== reloadKey) {
    setKey(reloadKey);
    setCursors([null]);
  }
  const page = cursors.length - 1;
  const cursor = cursors[page];
  const { data, error, loading, reload } = useResource(
    (signal) => load({ take, cursor, signal }),
    [cursor, page, reloadKey],
  );
  if (error) return html`<${ErrorState} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  if (data.items.length === 0 && page === 0) return empty;
  return html`<div class="paged" aria-busy=${loading}>
    <${Table} ...${table} rows=${data.items} />
    ${(page > 0 || data.next) &&
    html`<nav class="pager" aria-label="Pages">
      <button type="button" class="button" disabled=${page === 0 || loading} onClick=${() => setCursors(cursors.slice(0, -1))}>
        Previous
      </button>
      <span>Page ${page + 1}</span>
      <button type="button" class="button" disabled=${!data.next || loading} onClick=${() => setCursors([...cursors, data.next])}>
        Next
      </button>
    </nav>`}
  </div>`;
}
