// The /alerts page: summary cards, a severity filter, every active alert with its
// duration and a link to its events (/events), and an Acknowledge button on hosts where
// the user is manager or owner.
// Data comes from the nav bar's /api/0/alerts refresh (every 15 s and on each alert
// event of the stream), so the pie and this table always agree. Main thread only.
import { api, hostList } from './api.js';
import { initPage, onAlerts, refreshAlerts } from './nav.js';
import { h, setChildren, fmtDuration, fmtMetric, fmtAgo, fmtTime, hostUrl, roleAtLeast, nowSec } from './util.js';

const LEVELS = ['CRITICAL', 'WARNING', 'UNKNOWN'];
const LEVEL_ORDER = { CRITICAL: 0, WARNING: 1, UNKNOWN: 2, OK: 3 };
const view = { level: '', query: '' };
let last = { alerts: [], summary: {}, host_count: 0 };
let roles = null;   // host name -> host entry (for the role); loaded when there is something to acknowledge
let rolesAt = 0;
let main;

/** Host roles from /api/0/hosts; reloaded (at most every 30 s) when an alert names a host not seen yet. */
async function loadRoles(names) {
  if (roles && (names.every((n) => roles.has(n)) || Date.now() - rolesAt < 30000)) return;
  rolesAt = Date.now();
  const next = new Map();
  try {
    for (const x of hostList(await api('/hosts'))) next.set(x.name, x);
    roles = next;
  } catch { roles = roles || next; /* no buttons then */ }
}

/** The check an alert belongs to (`check.<name>`), or ''. */
function checkOf(a) { return String(a.metric_path || '').startsWith('check.') ? a.metric_path.slice(6) : ''; }

/** Alerts of checks without a host carry the check's name as host: they link to the Services page. */
function hostLink(a) {
  const p = String(a.metric_path || '');
  const hostless = checkOf(a) === a.hostname || (p.startsWith('checks.') && p.slice(7).startsWith(`${a.hostname}.`));
  return hostless ? '/services' : hostUrl(a.hostname);
}

function canAck(a) {
  if (checkOf(a)) return true;  // the server checks the role on the check's host or service
  if (!roles || !roles.has(a.hostname)) return false;
  return roleAtLeast(roles.get(a.hostname), 'manager');
}

async function ack(a, btn) {
  btn.disabled = true;
  try {
    if (checkOf(a)) await api(`/checks/${encodeURIComponent(checkOf(a))}/ack`, { method: 'POST', body: {} });
    else await api(`/hosts/${encodeURIComponent(a.hostname)}/alerts/ack`, { method: 'POST', body: { metric_path: a.metric_path } });
    a.acknowledged = true;
    btn.replaceWith(h('span', { class: 'muted' }, 'acknowledged'));
    refreshAlerts();
  } catch (e) {
    btn.disabled = false;
    btn.title = e.message;
    btn.textContent = `Retry (${e.message})`;
  }
}

function metricName(path) { return String(path || '').split('.').pop(); }

/** The /events timeline of one alert: its transitions and what became of each notification. */
function eventsUrl(a) {
  return `/events?host=${encodeURIComponent(a.hostname)}&metric=${encodeURIComponent(a.metric_path)}`;
}

function render() {
  const s = last.summary || {};
  const alerts = (last.alerts || []).filter((a) => a.level && a.level !== 'OK');
  const count = (lvl) => alerts.filter((a) => a.level === lvl).length;
  const hostsWith = new Set(alerts.map((a) => a.hostname)).size;
  setChildren(document.getElementById('summary'),
    h('div', { class: 'card crit', 'data-card': 'critical' }, h('div', { class: 'muted' }, 'Critical'), h('div', { class: 'value' }, String(s.critical ?? count('CRITICAL')))),
    h('div', { class: 'card warn', 'data-card': 'warning' }, h('div', { class: 'muted' }, 'Warning'), h('div', { class: 'value' }, String(s.warning ?? count('WARNING')))),
    h('div', { class: 'card unknown', 'data-card': 'unknown' }, h('div', { class: 'muted' }, 'Unknown'), h('div', { class: 'value' }, String(s.unknown ?? count('UNKNOWN')))),
    h('div', { class: 'card hosts', 'data-card': 'hosts' }, h('div', { class: 'muted' }, 'Hosts with alerts / total'),
      h('div', { class: 'value' }, `${hostsWith} / ${last.host_count ?? '–'}`)));

  for (const b of main.querySelectorAll('[data-level-filter]')) {
    b.setAttribute('aria-pressed', String(b.dataset.levelFilter === view.level));
  }
  const q = view.query.toLowerCase();
  const shown = alerts
    .filter((a) => !view.level || a.level === view.level)
    .filter((a) => !q || `${a.hostname} ${a.metric_path}`.toLowerCase().includes(q))
    .sort((a, b) => (LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level]) || ((a.since || 0) - (b.since || 0)));
  const tbody = document.getElementById('alerts-body');
  if (!shown.length) {
    setChildren(tbody, h('tr', {}, h('td', { colspan: 8, class: 'muted' },
      alerts.length ? 'No alert matches the filter.' : 'No active alerts. All monitored metrics are OK.')));
  } else {
    setChildren(tbody, shown.map((a) => {
      let ackCell;
      const by = a.ack_by || a.acked_by;
      if (a.acknowledged) ackCell = h('span', { class: 'muted', title: by ? `by ${by}` : null }, by ? `acknowledged by ${by}` : 'acknowledged');
      else if (canAck(a)) {
        const btn = h('button', { type: 'button', class: 'ack', 'aria-label': `Acknowledge ${a.metric_path} on ${a.hostname}` }, 'Acknowledge');
        btn.addEventListener('click', () => ack(a, btn));
        ackCell = btn;
      } else ackCell = '';
      return h('tr', { 'data-host': a.hostname, 'data-metric': a.metric_path, 'data-level': a.level },
        h('td', {}, h('span', { class: `badge level-${a.level}` }, a.level)),
        h('td', {}, h('a', { href: hostLink(a) }, a.hostname)),
        h('td', {}, h('code', {}, a.metric_path), ' ',
          h('a', { class: 'events-link', href: eventsUrl(a), title: 'Why was this (not) notified?', 'aria-label': `Events of ${a.metric_path} on ${a.hostname}` }, 'events'),
          a.display || a.text ? h('div', { class: 'muted' }, a.display || a.text) : null,
          a.maintenance ? h('div', {}, h('span', { class: 'badge state-STOPPED' }, `maintenance: ${a.maintenance}`)) : null),
        h('td', { class: 'num', title: typeof a.threshold === 'number' ? `threshold ${a.threshold}` : null },
          a.last_value === null || a.last_value === undefined ? '–' : fmtMetric(metricName(a.metric_path), a.last_value)),
        h('td', { title: fmtTime(a.since) }, a.since ? fmtDuration(nowSec() - a.since) : '–'),
        h('td', { class: 'hide-sm', title: fmtTime(a.last_check) }, a.last_check ? fmtAgo(a.last_check) : '–'),
        h('td', { class: 'num hide-sm' }, String(a.notification_count ?? 0)),
        h('td', {}, ackCell));
    }));
  }
  document.getElementById('alerts-info').textContent = `${shown.length} of ${alerts.length} active alerts · updated ${new Date().toLocaleTimeString()}`;
}

async function start() {
  await initPage('alerts');
  main = document.getElementById('main');
  const search = h('input', { type: 'search', id: 'alert-filter', placeholder: 'Filter by host or metric', 'aria-label': 'Filter alerts by host or metric', class: 'grow' });
  search.addEventListener('input', () => { view.query = search.value.trim(); render(); });
  const filters = h('div', { role: 'group', 'aria-label': 'Severity', class: 'toolbar', style: 'margin:0' },
    [['', 'All'], ['CRITICAL', 'Critical'], ['WARNING', 'Warning'], ['UNKNOWN', 'Unknown']].map(([lvl, label]) => {
      const b = h('button', { type: 'button', 'data-level-filter': lvl, 'aria-pressed': String(lvl === view.level) }, label);
      b.addEventListener('click', () => { view.level = lvl; render(); });
      return b;
    }));
  setChildren(main,
    h('h1', {}, 'Alerts'),
    h('div', { class: 'summary-cards', id: 'summary', 'aria-live': 'polite' }),
    h('section', { class: 'panel', 'aria-labelledby': 'alerts-title' },
      h('h2', { id: 'alerts-title' }, 'Active alerts'),
      h('div', { class: 'toolbar' }, filters, search),
      h('div', { class: 'table-wrap' }, h('table', { id: 'alerts-table' },
        h('caption', { class: 'visually-hidden' }, 'Active alerts'),
        h('thead', {}, h('tr', {}, ['Level', 'Host', 'Metric', 'Value', 'Duration', 'Last check', 'Notified', ''].map((c, i) =>
          h('th', { scope: 'col', class: i === 3 || i === 6 ? 'num' : (i === 5 ? 'hide-sm' : null) }, c || h('span', { class: 'visually-hidden' }, 'Actions'))))),
        h('tbody', { id: 'alerts-body' }))),
      h('p', { class: 'muted', id: 'alerts-info', 'aria-live': 'polite' })));
  render();
  onAlerts(async (data) => {
    last = data || last;
    const open = (last.alerts || []).filter((a) => a.level !== 'OK' && !a.acknowledged);
    if (open.length) await loadRoles(open.map((a) => a.hostname));
    render();
  });
  refreshAlerts();
  // Durations tick between refreshes.
  setInterval(render, 5000);
}

start();
