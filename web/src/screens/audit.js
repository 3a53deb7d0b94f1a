// Audit log (`GET /api/{teamSlug}/audit-log`): every write in the team, newest first: who, when,
// what they called and with which body (the API leaves secrets out). Paged with the API's
// skip/take (its `total` says how many entries match), filtered by a date range and a text the API
// looks for in names, e-mail addresses and the called address. The filters live in the page's
// address, so a filtered view survives a reload and can be shared.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { Empty } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page, Section } from '../ui/layout.js';
import { PagedTable } from '../ui/table.js';

const TAKE = 20;
const FILTERS = ['from', 'to', 'filter'];

/** The first (or, with `end`, the last) millisecond of a `yyyy-mm-dd` day in the person's time zone. */
function dayBound(day, end = false) {
  if (!day) return undefined;
  const at = new Date(`${day}T00:00:00`);
  if (Number.isNaN(at.getTime())) return day; // not a day: the API says what is wrong with it
  if (end) at.setDate(at.getDate() + 1);
  return new Date(at.getTime() - (end ? 1 : 0)).toISOString();
}

function address(team, filters) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]?.trim()) params.set(name, filters[name].trim());
  const search = params.toString();
  return `/${team.slug}/audit-log${search ? `?${search}` : ''}`;
}

/**
 * One page for `PagedTable`: its cursor is the number of entries before the page (the API's
 * `skip`), and the next page exists while the API's `total` says more entries match.
 */
function loader(team, filters, onTotal) {
  return async ({ take, cursor, signal }) => {
    const skip = Number(cursor) || 0;
    const query = { skip, take, from: dayBound(filters.from), to: dayBound(filters.to, true), filter: filters.filter };
    let page;
    try {
      page = await api.get(`/api/${team.slug}/audit-log`, query, { signal });
    } catch (error) {
      onTotal(null); // no count for a refused query
      throw error;
    }
    onTotal(page.total);
    const items = page.items.map((entry, i) => ({ ...entry, key: skip + i })); // entries have no id
    return { items, next: skip + page.items.length < page.total ? String(skip + take) : null };
  };
}

function Who({ entry }) {
  const email = entry.user?.email;
  if (!entry.name && !email) return html`<span class="muted">${entry.actorType}</span>`;
  return html`<span class="audit-who">
    ${entry.name || email}
    ${entry.name && email && html`<span class="muted">${email}</span>`}
    ${entry.actorType !== 'user' && html`<span class="badge">${entry.actorType}</span>`}
  </span>`;
}

/** The request's body, folded: its summary names the fields it set (the API leaves secrets out). */
function RequestBody({ data }) {
  if (data === null || data === undefined) return '';
  const fields = typeof data === 'object' && !Array.isArray(data) ? Object.keys(data).filter((k) => data[k] !== null) : [];
  return html`<details class="audit-body">
    <summary>Request body${fields.length ? `: ${fields.join(', ')}` : ''}</summary>
    <pre>${JSON.stringify(data, null, 2)}</pre>
  </details>`;
}

// To the second: entries of one minute stay apart.
const stamp = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const COLUMNS = [
  {
    label: 'When',
    className: 'audit-when',
    render: (e) => html`<time datetime=${e.createdAt}>${stamp.format(new Date(e.createdAt))}</time>`,
  },
  { label: 'Who', render: (e) => html`<${Who} entry=${e} />` },
  {
    label: 'What',
    className: 'audit-what',
    render: (e) => html`<span><span class="method">${e.method}</span> <code>${e.event}</code></span>
      <${RequestBody} data=${e.data} />`,
  },
];

function Filters({ team, filters, filtered }) {
  return html`<${Form}
    label="Filter the audit log"
    initial=${filters}
    submitLabel="Apply filters"
    onSubmit=${async (values) => navigate(address(team, values))}
    secondary=${filtered && html`<a class="button" href=${address(team, {})}>Clear filters</a>`}
  >
    <div class="field-row">
      <${Field} name="from" label="From" type="date" />
      <${Field} name="to" label="To" type="date" />
    </div>
    <${Field}
      name="filter"
      label="Contains"
      type="search"
      maxLength=${200}
      autocomplete="off"
      hint="Part of a name, an e-mail address or the address called, e.g. “storages”."
    />
  <//>`;
}

function AuditLog({ team, query }) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || '']));
  const filtered = FILTERS.some((name) => filters[name]);
  const key = address(team, filters);
  const [total, setTotal] = useState(null);
  const clear = html`<a class="button" href=${address(team, {})}>Clear filters</a>`;
  return html`<${Page} title="Audit log" lead="Every change made in the team, by whom and when, newest first. Reads are not recorded.">
    <${Section} title="Filters" id="audit-filters">
      <${Filters} key=${key} team=${team} filters=${filters} filtered=${filtered} />
    <//>
    <${Section} title="Entries" id="audit-entries">
      <p class="muted" role="status">
        ${total === null ? '' : `${total} ${total === 1 ? 'entry' : 'entries'}${filtered ? ' match the filters' : ''}.`}
      </p>
      <${PagedTable}
        caption="Audit log"
        take=${TAKE}
        reloadKey=${key}
        rowKey=${(e) => e.key}
        load=${loader(team, filters, setTotal)}
        columns=${COLUMNS}
        empty=${filtered
          ? html`<${Empty} icon="audit" title="Nothing matches these filters" action=${clear}>
              Widen the dates or change the text.
            <//>`
          : html`<${Empty} icon="audit" title="No changes yet">
              Everything the team's members, the CLI and CI tokens change shows here.
            <//>`}
      />
    <//>
  <//>`;
}

export const nav = { path: 'audit-log', label: 'Audit log', icon: 'audit', order: 80 };

export const routes = [{ path: '/:team/audit-log', view: AuditLog, title: 'Audit log', access: 'team' }];
