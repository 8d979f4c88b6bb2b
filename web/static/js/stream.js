// The live event stream: one WebSocket per page to /ws on the page's own origin
// (so the session cookie goes with the upgrade), reconnecting with backoff.
// Pages subscribe per message type: "host", "plugin", "message", "alert".

const listeners = new Map();   // type -> Set<fn(data)>
const stateListeners = new Set();
let socket = null;
let backoff = 500;
let state = 'connecting';

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  try {
    socket = new WebSocket(`${proto}//${location.host}/ws`);
  } catch {
    scheduleReconnect();
    return;
  }
  setState('connecting');
  socket.addEventListener('open', () => { backoff = 500; setState('open'); });
  socket.addEventListener('message', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (!msg || typeof msg.type !== 'string') return;
    const set = listeners.get(msg.type);
    if (set) for (const fn of set) { try { fn(msg.data || {}); } catch (e) { console.error(e); } }
    const all = listeners.get('*');
    if (all) for (const fn of all) { try { fn(msg); } catch (e) { console.error(e); } }
  });
  socket.addEventListener('close', () => { setState('closed'); scheduleReconnect(); });
  socket.addEventListener('error', () => { /* close follows */ });
}

function scheduleReconnect() {
  socket = null;
  setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 15000);
}

/** on('host', fn) -> unsubscribe function. Opens the socket on first use. */
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  if (!socket && state !== 'closed') connect();
  return () => listeners.get(type).delete(fn);
}

/** onState(fn): fn('connecting'|'open'|'closed') now and on every change. */
export function onState(fn) {
  stateListeners.add(fn);
  fn(state);
}

export const isOpen = () => state === 'open';
