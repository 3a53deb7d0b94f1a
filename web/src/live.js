// Live events: the platform's WebSocket API, the only code that opens it (api.js is the HTTP one).
//
// A browser cannot set the handshake's Authorization header and a token must never be in the URL
// (API Gateway logs query strings), so the token is offered as the second of two subprotocols,
// `new WebSocket(url, ['bearer', token])`; the platform answers with the `bearer` subprotocol.
//
// One connection serves every screen: `follow({teamSlug, deploymentId | nodeId}, handlers)` subscribes
// and returns the function that stops following. Subscriptions are sent one at a time (API Gateway
// may run two messages of a connection at once, and an answer does not say which request it
// answers); each answer carries the current status, so after a lost connection the console
// reconnects (growing, jittered pauses), subscribes again and learns what it missed. The connection
// pings inside API Gateway's 10-minute idle limit and closes once nothing is followed.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, bearerToken } from './api.js';

const SUBPROTOCOL = 'bearer';
const PING_MS = 5 * 60 * 1000;
const ANSWER_MS = 15_000;
const IDLE_CLOSE_MS = 3_000;
const RETRY_MAX_MS = 30_000;

const followers = new Set(); // {request, handlers, state}
let queue = []; // followers waiting to send their subscription
let waiting = null; // {follower, timer}: the subscription sent, its answer not yet in
let socket = null;
let opening = false; // reading the address: no second socket meanwhile
let opened = false;
let attempts = 0;
let retryTimer = null;
let pingTimer = null;
let idleTimer = null;
let address = null;

function socketAddress() {
  address ||= api.get('/api/socket').then(
    (reply) => reply.url,
    (error) => {
      address = null;
      throw error;
    },
  );
  return address;
}

let sequence = 0; // orders what followers hear: a newer status has a higher `seq`

function report(follower, changes) {
  if (changes.status) changes.seq = ++sequence;
  follower.state = { ...follower.state, ...changes };
  follower.handlers.onState?.(follower.state);
}

async function open() {
  if (socket || opening || retryTimer || followers.size === 0) return;
  const token = bearerToken();
  if (!token) return;
  let url;
  opening = true;
  try {
    url = await socketAddress();
  } catch {
    scheduleRetry();
    return;
  } finally {
    opening = false;
  }
  if (!url) {
    for (const follower of followers) report(follower, { state: 'refused', error: 'This platform has no live updates: reload to see changes.' });
    address = null; // asked again by the next screen that follows something
    return;
  }
  if (socket || followers.size === 0) return;
  opened = false;
  const ws = new WebSocket(url, [SUBPROTOCOL, token]);
  socket = ws;
  ws.onopen = () => {
    opened = true;
    attempts = 0;
    pingTimer = setInterval(() => send({ action: 'ping' }), PING_MS);
    queue = [...followers];
    next();
  };
  ws.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    receive(message);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    clearInterval(pingTimer);
    if (waiting) clearTimeout(waiting.timer);
    waiting = null;
    queue = [];
    for (const follower of followers) report(follower, { state: 'reconnecting' });
    // A refused handshake looks like a lost connection to a browser (no status): after the second in
    // a row, one API call tells whether the session ended (api.js then ends it: a 401 signs out).
    if (!opened && attempts === 1) api.post('/api/users/me').catch(() => {});
    if (followers.size > 0) scheduleRetry();
  };
}

function scheduleRetry() {
  if (retryTimer) return;
  const pause = Math.min(RETRY_MAX_MS, 1000 * 2 ** attempts) * (0.5 + Math.random() / 2);
  attempts += 1;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    open();
  }, pause);
}

function send(message) {
  if (socket && opened && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** Sends the next queued subscription once the previous one is answered. */
function next() {
  if (waiting || !opened) return;
  const follower = queue.shift();
  if (!follower) return;
  if (!followers.has(follower)) return next();
  const timer = setTimeout(() => {
    // No answer: the connection is not working; a new one subscribes everyone again.
    socket?.close();
  }, ANSWER_MS);
  waiting = { follower, timer };
  send({ action: 'subscribe', ...follower.request });
}

function answered(changes) {
  const { follower, timer } = waiting;
  clearTimeout(timer);
  waiting = null;
  if (followers.has(follower)) {
    report(follower, changes);
    if (changes.state === 'live') follower.handlers.onSubscribed?.(changes.status);
  }
  next();
}

function receive(message) {
  if (message.type === 'subscribed' && waiting) return answered({ state: 'live', status: message.status, error: null });
  if ((message.type === 'error' || (!message.type && message.message)) && waiting) {
    return answered({ state: 'refused', error: message.message || 'The platform refused to send live updates.' });
  }
  const id = message.deploymentId || message.nodeId;
  for (const follower of followers) {
    const { deploymentId, nodeId } = follower.request;
    if (!id || (message.deploymentId ? deploymentId : nodeId) !== id) continue;
    if (message.type === 'deployment-status' || message.type === 'node-status') report(follower, { status: message.status });
    follower.handlers.onMessage?.(message);
  }
}

/**
 * Follows a deployment (`{teamSlug, deploymentId}`) or a node (`{teamSlug, nodeId}`). Handlers:
 * `onState({state, status, error})` (state: connecting | live | reconnecting | refused; status: the
 * latest known), `onSubscribed(status)` after every (re)subscription, `onMessage(push)` for each push.
 * Returns the function that stops following.
 */
export function follow(request, handlers) {
  const follower = { request, handlers, state: { state: 'connecting', status: null, error: null } };
  followers.add(follower);
  clearTimeout(idleTimer);
  if (socket && opened) {
    queue.push(follower);
    next();
  } else {
    open();
  }
  return () => {
    followers.delete(follower);
    queue = queue.filter((f) => f !== follower);
    if (followers.size === 0) {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(closeIfUnused, IDLE_CLOSE_MS);
    }
  };
}

function closeIfUnused() {
  if (followers.size > 0) return;
  clearTimeout(retryTimer);
  retryTimer = null;
  attempts = 0;
  const ws = socket;
  socket = null;
  clearInterval(pingTimer);
  if (waiting) clearTimeout(waiting.timer);
  waiting = null;
  ws?.close(1000, 'Nothing followed');
}

/**
 * `follow` for a screen: `{state, status, error}` of the subscription, re-rendered as it changes.
 * `request` null follows nothing; `handlers` may change between renders (the newest are called).
 */
export function useLive(request, handlers = {}) {
  const [live, setLive] = useState({ state: request ? 'connecting' : 'off', status: null, error: null });
  const latest = useRef(handlers);
  latest.current = handlers;
  const key = request ? JSON.stringify(request) : null;
  useEffect(() => {
    if (!request) return undefined;
    setLive({ state: 'connecting', status: null, error: null });
    return follow(request, {
      onState: setLive,
      onSubscribed: (status) => latest.current.onSubscribed?.(status),
      onMessage: (message) => latest.current.onMessage?.(message),
    });
  }, [key]);
  return live;
}

/**
 * The newest status of an item a screen reads over HTTP (`item.status`, read again after changes)
 * and follows live: whichever came last wins, so a read after an unannounced change is not
 * overwritten by an older push, nor a push by an older read.
 */
export function useNewestStatus(item, live) {
  const [newest, setNewest] = useState(null);
  useEffect(() => {
    if (item) setNewest(item.status);
  }, [item]);
  useEffect(() => {
    if (live.status) setNewest(live.status);
  }, [live.seq]);
  return newest || item?.status || live.status;
}
