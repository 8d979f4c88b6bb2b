// DOM building and value formatting shared by every page (main thread only).
// Text always goes through textContent, never innerHTML, so host names and plugin
// data from the network cannot inject markup.

/** h('a', {href, class}, child...) -> Element; children may be strings, nodes, arrays, null. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace all children of el. */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** "3s", "4m 10s", "2h 5m", "3d 4h" */
export function fmtDuration(seconds) {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return '–';
  let s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

export const nowSec = () => Date.now() / 1000;

/** "12s ago" for a unix timestamp (seconds). */
export function fmtAgo(ts) {
  if (!ts) return 'never';
  return `${fmtDuration(nowSec() - ts)} ago`;
}

// Intl formatters are costly to create: one per precision, reused (pages format
// thousands of values per redraw).
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const numFmts = new Map();
function numFmt(digits) {
  let f = numFmts.get(digits);
  if (!f) { f = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 }); numFmts.set(digits, f); }
  return f;
}

export function fmtTime(ts) {
  if (!ts) return '–';
  return dateFmt.format(new Date(ts * 1000));
}

export function fmtNumber(v, digits = 2) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return numFmt(0).format(v);
  const a = Math.abs(v);
  return numFmt(a >= 1000 ? 0 : a >= 100 ? 1 : digits).format(v);
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
function fmtBytes(v, startUnit = 0) {
  let u = startUnit;
  let x = v;
  while (Math.abs(x) >= 1024 && u < BYTE_UNITS.length - 1) { x /= 1024; u++; }
  return `${fmtNumber(x)} ${BYTE_UNITS[u]}`;
}

/** The unit a metric's key implies: '%', 'MB', 'GB', 'ms', 'B', 's' or ''. */
export function unitOf(key) {
  const k = String(key).toLowerCase();
  if (/(^|_)(percent|pct|usage_percent)$|percent|_pct$|^capacity$|^cap$|^frag(mentation)?$/.test(k)) return '%';
  if (/(^|_)(mb|mib)$|_mb_|^mb_/.test(k)) return 'MB';
  if (/(^|_)(gb|gib)$|_gb_/.test(k)) return 'GB';
  if (/(^|_)(kb|kib)$/.test(k)) return 'KB';
  if (/(^|_)ms$|^rtt|latency|_rtt$|rtt_/.test(k)) return 'ms';
  if (/bytes/.test(k)) return 'B';
  if (/(^|_)(seconds|secs|uptime)$|_s$/.test(k)) return 's';
  if (/temp(erature)?(_c)?$/.test(k)) return '°C';
  return '';
}

// Keys that hold a point in time (boot_time, timestamp, started_at, last_seen, since, ...).
const TIME_KEY = /(^|_)(time|timestamp|ts|at|since|seen|epoch)$/i;

/** True for a Unix time (seconds, 2001..5138) under a key that names a time: shown as a date. */
export function isEpochTime(key, v) {
  return typeof v === 'number' && v >= 1e9 && v < 1e11 && TIME_KEY.test(String(key));
}

/** A metric value with its unit, for cards. */
export function fmtMetric(key, v) {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  if (isEpochTime(key, v)) return fmtTime(v);
  if (/per_sec$|_per_s$|_ps$/.test(String(key))) {
    const base = fmtMetric(String(key).replace(/_?(per_sec|per_s|ps)$/, ''), v);
    return `${base}/s`;
  }
  switch (unitOf(key)) {
    case '%': return `${fmtNumber(v, 1)} %`;
    case 'MB': return v >= 1024 ? fmtBytes(v, 2) : `${fmtNumber(v)} MB`;
    case 'GB': return `${fmtNumber(v)} GB`;
    case 'KB': return fmtBytes(v, 1);
    case 'ms': return `${fmtNumber(v)} ms`;
    case 'B': return fmtBytes(v, 0);
    case 's': return fmtDuration(v);
    case '°C': return `${fmtNumber(v, 1)} °C`;
    default: return fmtNumber(v);
  }
}

/** Flatten nested plugin data into [[path, number]] for charts ("partitions./.percent"). */
export function numericLeaves(obj, prefix = '', out = []) {
  if (obj === null || typeof obj !== 'object') return out;
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' && Number.isFinite(v)) out.push([p, v]);
    else if (typeof v === 'boolean') continue;
    else if (v && typeof v === 'object') numericLeaves(v, p, out);
  }
  return out;
}

/** Calls fn at most once per `ms`, always with the latest arguments (trailing call kept). */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  let pending = null;
  return (...args) => {
    pending = args;
    const wait = last + ms - Date.now();
    if (wait <= 0 && !timer) {
      last = Date.now();
      fn(...pending);
      pending = null;
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        if (pending) { const a = pending; pending = null; fn(...a); }
      }, Math.max(wait, 0));
    }
  };
}

export const ROLE_RANK = { monitor: 1, manager: 2, owner: 3 };
let currentUser = null;
/** Called once by the nav with /api/0/me, so roles can be worked out per host. */
export function setCurrentUser(me) { currentUser = me; }

/**
 * The logged-in user's role on a host entry: its `role` field when the server gives
 * one, else worked out from the entry's owner/managers/monitors (admins and the open
 * mode: owner). The server only lists hosts the user may see, so the floor is monitor.
 */
export function hostRole(x) {
  if (!x) return 'monitor';
  if (x.role) return x.role;
  const me = currentUser;
  if (!me || !me.auth_enabled || me.admin) return 'owner';
  if (!('owner' in x) && !('managers' in x) && !('monitors' in x)) return 'owner';
  if (x.owner && x.owner === me.username) return 'owner';
  if ((x.managers || []).includes(me.username)) return 'manager';
  return 'monitor';
}

/** True when the user's role on host entry `x` is at least `need`. */
export function roleAtLeast(x, need) {
  return (ROLE_RANK[hostRole(x)] || 0) >= ROLE_RANK[need];
}

export const hostUrl = (name) => `/plugins/${encodeURIComponent(name)}`;
