// The one way the console talks to the platform: JSON over the public API, the session's bearer
// token on every call, every failure turned into an ApiError that says what the person can do.
//
// The API answers errors as `{message, property, value}`; `property` names the request field at
// fault, and forms (ui/form.js) show the message at the field of that name. Lists are paged with
// `take` and `cursor` and say where the next page starts in the `X-Next-Cursor` header.

/** Where the API lives: the page's own origin, or the `api-base` meta tag of a split deployment. */
const BASE = (document.querySelector('meta[name="api-base"]')?.content || '').replace(/\/$/, '');

export class ApiError extends Error {
  constructor(status, { message, property, value } = {}, retryAfter = null) {
    const wait = status === 429 && retryAfter ? ` Try again in ${retryAfter} s.` : '';
    super((message || describeStatus(status)) + wait);
    this.name = 'ApiError';
    this.status = status;
    this.property = property || null;
    this.value = value ?? null;
    this.retryAfter = retryAfter;
  }
}

function describeStatus(status) {
  if (status === 0) return 'The platform is not reachable: check your connection and try again.';
  if (status === 401) return 'Your session has ended: log in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found: it may have been deleted.';
  if (status === 429) return 'Too many attempts: wait a moment and try again.';
  if (status >= 500) return `The platform could not answer (${status}): try again in a moment.`;
  return `The request failed (${status}).`;
}

let token = null;
let onSessionEnded = () => {};

/** The bearer token sent with every call (null: none). */
export function setToken(value) {
  token = value;
}

/** The bearer token (null: none), for the one other way the console talks to the platform: live.js. */
export function bearerToken() {
  return token;
}

/** Called when an authenticated call answers 401: the token expired or was logged out elsewhere. */
export function onUnauthorized(handler) {
  onSessionEnded = handler;
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `${BASE}${path}${search ? `?${search}` : ''}`;
}

async function readBody(response) {
  const type = response.headers.get('content-type') || '';
  if (response.status === 204 || !type) return null;
  if (type.includes('json')) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return response.text();
}

/**
 * One call: `request('POST', '/api/teams', {body})` resolves to `{data, headers, status}` for a 2xx
 * and rejects with an ApiError otherwise (status 0 when the platform could not be reached).
 */
export async function request(method, path, { body, query, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'omit', // bearer tokens only: no cookie ever rides along (no CSRF to guard)
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0);
  }
  const data = await readBody(response);
  if (response.ok) return { data, headers: response.headers, status: response.status };
  const retry = Number(response.headers.get('retry-after')) || null;
  const error = new ApiError(response.status, data && typeof data === 'object' ? data : {}, retry);
  if (response.status === 401 && token) onSessionEnded(error);
  throw error;
}

const call = (method) => async (path, body, options) => (await request(method, path, { ...options, body })).data;

export const api = {
  get: async (path, query, options) => (await request('GET', path, { ...options, query })).data,
  post: call('POST'),
  put: call('PUT'),
  patch: call('PATCH'),
  del: async (path, options) => (await request('DELETE', path, options)).data,

  /** One page of a paged list: `{items, next}`; `next` is the cursor of the following page or null. */
  async page(path, { take, cursor, query, signal } = {}) {
    const reply = await request('GET', path, { query: { ...query, take, cursor }, signal });
    return { items: reply.data || [], next: reply.headers.get('x-next-cursor') };
  },

  /** Every item of a paged list (for a choice among them: a registry to add images from), `max` at most. */
  async all(path, { max = 1000, query, signal } = {}) {
    const items = [];
    let cursor = null;
    do {
      const page = await api.page(path, { take: 100, cursor, query, signal });
      items.push(...page.items);
      cursor = page.next;
    } while (cursor && items.length < max);
    return items;
  },
};
