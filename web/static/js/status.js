// The public status page /status/<service>: no login, only the names and states of the
// service's checks (from /api/0/status/<service>), refreshed every 30 s. Main thread only.
import { h, setChildren, fmtTime } from './util.js';
import { statusBadge } from './checks.js';

const main = document.getElementById('main');
const service = decodeURIComponent(location.pathname.replace(/^\/status\//, '').replace(/\/+$/, ''));

const WORDS = { passing: 'All systems operational', warning: 'Degraded performance', failing: 'Service disruption' };

async function load() {
  let data;
  try {
    const res = await fetch(`/api/0/status/${encodeURIComponent(service)}`, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(res.status === 404 ? 'No status page here.' : `${res.status} ${res.statusText}`);
    data = await res.json();
  } catch (e) {
    setChildren(main, h('h1', {}, service), h('p', { class: 'notice error', role: 'alert' }, e.message));
    return;
  }
  document.title = `${data.service} status`;
  setChildren(main,
    h('h1', {}, data.service, ' ', statusBadge(data.status)),
    h('p', { class: 'status-summary', 'data-status': data.status }, WORDS[data.status] || data.status),
    h('ul', { class: 'status-checks' }, (data.checks || []).map((c) =>
      h('li', { 'data-check': c.name, 'data-status': c.status }, statusBadge(c.status, c.level), ' ', c.name))),
    h('p', { class: 'muted' }, `Updated ${fmtTime(data.updated)}`));
}

load();
setInterval(load, 30000);
