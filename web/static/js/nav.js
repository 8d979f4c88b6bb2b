// The navigation bar of every page: links, the alert-count pie chart, the stream
// status dot and the user box. initPage() also resolves who is logged in and marks
// <body> with the user's powers so pages can hide what the role does not allow.
import { api, getMe, logout } from './api.js';
import { h, setCurrentUser, throttle } from './util.js';
import * as stream from './stream.js';

const LINKS = [
  ['live', '/live', 'Live'],
  ['plugins', '/plugins', 'Hosts'],
  ['services', '/services', 'Services'],
  ['alerts', '/alerts', 'Alerts'],
  ['events', '/events', 'Events'],
  ['settings', '/settings', 'Settings'],
];

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Draw the donut of {critical, warning, unknown} into the <svg> element. */
export function drawPie(el, counts) {
  const parts = [
    ['critical', counts.critical || 0, 'var(--pie-crit)'],
    ['warning', counts.warning || 0, 'var(--pie-warn)'],
    ['unknown', counts.unknown || 0, 'var(--pie-unknown)'],
  ];
  const total = parts.reduce((a, p) => a + p[1], 0);
  el.replaceChildren();
  const r = 15.915; // circumference 100 -> dash lengths are percentages
  el.appendChild(svg('circle', { cx: 18, cy: 18, r, fill: 'none', stroke: total ? 'var(--panel-2)' : 'var(--pie-ok)', 'stroke-width': 6 }));
  let offset = 25; // start at 12 o'clock
  for (const [name, n, colour] of parts) {
    if (!n) continue;
    const pct = (n / total) * 100;
    el.appendChild(svg('circle', {
      cx: 18, cy: 18, r, fill: 'none', stroke: colour, 'stroke-width': 6,
      'stroke-dasharray': `${pct} ${100 - pct}`, 'stroke-dashoffset': offset, 'data-part': name,
    }));
    offset -= pct;
  }
}

let pieState = { critical: 0, warning: 0, unknown: 0, total: 0 };
const pieListeners = new Set();

/** Subscribe to alert summary refreshes (the alerts page reuses the nav's fetch). */
export function onAlerts(fn) { pieListeners.add(fn); }

async function refreshPie() {
  const link = document.getElementById('alert-pie');
  if (!link) return;
  let data;
  try { data = await api('/alerts'); } catch { return; }
  const s = (data && data.summary) || {};
  const alerts = (data && data.alerts) || [];
  const count = (lvl) => alerts.filter((a) => a.level === lvl).length;
  pieState = {
    critical: s.critical ?? count('CRITICAL'),
    warning: s.warning ?? count('WARNING'),
    unknown: s.unknown ?? count('UNKNOWN'),
  };
  pieState.total = pieState.critical + pieState.warning + pieState.unknown;
  drawPie(link.querySelector('svg'), pieState);
  link.querySelector('.pie-count').textContent = String(pieState.total);
  for (const [k, v] of Object.entries(pieState)) link.dataset[k] = String(v);
  const label = `${pieState.total} active alerts: ${pieState.critical} critical, ${pieState.warning} warning, ${pieState.unknown} unknown`;
  link.setAttribute('aria-label', label);
  link.title = label;
  for (const fn of pieListeners) fn(data);
}

export const refreshAlerts = throttle(refreshPie, 1000);

function renderNav(active, me) {
  const bar = document.getElementById('topbar');
  const pieSvg = svg('svg', { viewBox: '0 0 36 36', 'aria-hidden': 'true', focusable: 'false' });
  const dot = h('span', { class: 'stream-dot', role: 'img', 'aria-label': 'live updates: connecting' });
  stream.onState((s) => {
    dot.dataset.state = s;
    dot.setAttribute('aria-label', `live updates: ${s === 'open' ? 'connected' : s}`);
    dot.title = dot.getAttribute('aria-label');
  });
  const userBox = me.auth_enabled
    ? h('div', { class: 'user-box' },
      h('span', { class: 'user-name', text: me.full_name || me.username || '' }),
      me.admin ? h('span', { class: 'role-badge', text: 'admin' }) : null,
      h('button', { type: 'button', id: 'logout', onclick: logout }, 'Log out'))
    : h('div', { class: 'user-box' }, h('span', { class: 'muted', text: 'open mode (no users)' }));
  bar.replaceChildren(
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h('a', { class: 'brand', href: '/live' }, heartIcon(), 'Heartbeat'),
    h('nav', { 'aria-label': 'Main' },
      h('ul', { class: 'nav-links' },
        LINKS.map(([key, href, label]) => h('li', {},
          h('a', { href, 'aria-current': key === active ? 'page' : null }, label))))),
    h('div', { class: 'nav-right' },
      h('a', { id: 'alert-pie', class: 'pie-link', href: '/alerts', 'aria-label': 'active alerts' },
        pieSvg, h('span', { class: 'pie-count', text: '0' })),
      dot, userBox));
  drawPie(pieSvg, pieState);
}

function heartIcon() {
  const s = svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' });
  s.appendChild(svg('path', {
    d: 'M12 21s-7.5-4.6-9.6-9.3C.9 8.3 3 4.5 6.6 4.5c2 0 3.4 1.1 4.2 2.4.3.5 1.1.5 1.4 0 .8-1.3 2.2-2.4 4.2-2.4 3.6 0 5.7 3.8 4.2 7.2C19.5 16.4 12 21 12 21z',
    fill: 'currentColor',
  }));
  return s;
}

/**
 * Render the nav bar for page `active`, resolve the user and start the pie.
 * Returns the user ({username, admin, auth_enabled, ...}); on 401 the browser is
 * already on its way to /login and the promise never resolves.
 */
export async function initPage(active) {
  let me;
  try {
    me = await getMe();
  } catch (e) {
    if (e.status === 401) return new Promise(() => {});
    me = { username: null, admin: false, auth_enabled: true, error: e.message };
  }
  setCurrentUser(me);
  document.body.classList.toggle('is-admin', !!me.admin);
  renderNav(active, me);
  refreshPie();
  setInterval(refreshPie, 15000);
  stream.on('alert', () => refreshAlerts());
  return me;
}
