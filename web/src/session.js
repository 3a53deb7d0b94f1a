// Who is signed in: the login token (kept in localStorage until it expires or the person logs out)
// and what `POST /api/users/me` says about them (their teams with roles, pending invitations).
// Screens read it with `useSession()` and call `refreshMe()` after changing teams or invitations.

import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized, setToken } from './api.js';

const STORAGE_KEY = 'dyrector.session';
const LAST_TEAM_KEY = 'dyrector.team';

const state = {
  token: null, // {token, expiresAt, email}
  me: null, // {user: {id, name}, teams: [{id, name, slug, role}], invitations: [{id, name, slug}]}
  ended: null, // why the last session ended, shown on the login screen
};
const listeners = new Set();

function publish(changes) {
  Object.assign(state, changes);
  for (const listener of listeners) listener({ ...state });
}

/** The session state; re-renders the caller whenever it changes. */
export function useSession() {
  const [snapshot, setSnapshot] = useState({ ...state });
  useEffect(() => {
    listeners.add(setSnapshot);
    setSnapshot({ ...state });
    return () => listeners.delete(setSnapshot);
  }, []);
  return snapshot;
}

export const session = () => state;

function restore() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    if (saved?.token && (!saved.expiresAt || Date.parse(saved.expiresAt) > Date.now())) return saved;
  } catch {
    // a damaged entry is no session
  }
  localStorage.removeItem(STORAGE_KEY);
  return null;
}

/** Reads a saved session at start; resolves once `me` is known (or there is no session). */
export async function startSession() {
  const saved = restore();
  if (!saved) return;
  setToken(saved.token);
  publish({ token: saved });
  try {
    await refreshMe();
  } catch (error) {
    if (error.status !== 401) throw error;
  }
}

export async function login(email, password) {
  const reply = await api.post('/api/auth/login', { email, password });
  const saved = { token: reply.token, expiresAt: reply.expiresAt, email: email.trim().toLowerCase() };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
  setToken(saved.token);
  publish({ token: saved, ended: null });
  await refreshMe();
}

/** Ends the session on the platform too (its token stops working), then forgets it here. */
export async function logout() {
  try {
    await api.post('/api/auth/logout');
  } catch {
    // already ended or unreachable: forgetting it here is what the person asked for
  }
  forget(null);
}

/** Forgets the session here (after a password change ended it on the platform). */
export function forget(reason) {
  localStorage.removeItem(STORAGE_KEY);
  setToken(null);
  publish({ token: null, me: null, ended: reason });
}

export async function refreshMe() {
  const me = await api.post('/api/users/me');
  publish({ me });
  return me;
}

/** The team the person last worked in (for `/`), if they still belong to it. */
export function lastTeam(me) {
  const slug = localStorage.getItem(LAST_TEAM_KEY);
  return me?.teams.find((team) => team.slug === slug) || me?.teams[0] || null;
}

export function rememberTeam(slug) {
  localStorage.setItem(LAST_TEAM_KEY, slug);
}

onUnauthorized(() => forget('Your session has ended: log in again.'));
