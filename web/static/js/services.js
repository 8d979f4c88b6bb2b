// The /services page: every service the user may see with its status, who is on duty, its
// hosts, and its checks (status, response-time chart, last error, Run now); then the checks
// that belong to no service. Refreshed every 15 s and after each alert event. Main thread only.
import { api } from './api.js';
import { initPage } from './nav.js';
import * as stream from './stream.js';
import { h, setChildren, throttle, hostUrl } from './util.js';
import { checksTable, responseChart, statusBadge } from './checks.js';

let main;

function serviceCard(s) {
  const checks = s.check_details || [];
  const hosts = Object.entries(s.host_states || {});
  return h('section', { class: 'panel service', id: `service-${s.name}`, 'data-service': s.name, 'data-status': s.status, 'aria-labelledby': `service-${s.name}-title` },
    h('h2', { id: `service-${s.name}-title` }, s.name, ' ', statusBadge(s.status)),
    h('dl', { class: 'service-facts' },
      h('dt', {}, 'On duty'), h('dd', { class: 'on-duty' }, s.on_duty && s.on_duty.length ? s.on_duty.join(', ') : (s.rota ? 'nobody' : '–'), s.rota ? h('span', { class: 'muted' }, ` (rota ${s.rota})`) : null),
      h('dt', {}, 'Told'), h('dd', {}, s.users && s.users.length ? s.users.join(', ') : '–'),
      h('dt', {}, 'Hosts'), h('dd', {}, hosts.length
        ? hosts.map(([n, st]) => h('span', { class: 'service-host' }, h('a', { href: hostUrl(n) }, n), ' ', h('span', { class: `badge state-${st}` }, st), ' '))
        : '–'),
      s.status_page ? [h('dt', {}, 'Status page'), h('dd', {}, h('a', { href: `/status/${encodeURIComponent(s.name)}` }, `/status/${s.name}`))] : null),
    checksTable(checks, { caption: `Checks of ${s.name}`, onChange: refresh }),
    h('div', { class: 'charts' }, checks.map((c) => responseChart(c))));
}

async function load() {
  const list = ((await api('/services')) || {}).services || [];
  const services = await Promise.all(list.map((s) => api(`/services/${encodeURIComponent(s.name)}`).catch(() => ({ ...s, check_details: [] }))));
  const all = ((await api('/checks')) || {}).checks || [];
  const loose = all.filter((c) => !c.services || !c.services.length);
  const parts = [h('h1', {}, 'Services')];
  if (!services.length && !all.length) parts.push(h('p', { class: 'muted', id: 'no-services' }, 'No services or checks are configured (see docs/CHECKS.md).'));
  parts.push(...services.map(serviceCard));
  if (loose.length) {
    parts.push(h('section', { class: 'panel', id: 'other-checks', 'aria-labelledby': 'other-checks-title' },
      h('h2', { id: 'other-checks-title' }, 'Checks in no service'),
      checksTable(loose, { caption: 'Checks in no service', onChange: refresh })));
  }
  parts.push(h('p', { class: 'muted', id: 'services-info', 'aria-live': 'polite' }, `${services.length} services, ${all.length} checks · updated ${new Date().toLocaleTimeString()}`));
  setChildren(main, parts);
}

const refresh = throttle(() => load().catch((e) => {
  if (e.status !== 401) setChildren(main, h('h1', {}, 'Services'), h('p', { class: 'notice error', role: 'alert' }, `Could not load: ${e.message}`));
}), 1000);

async function start() {
  await initPage('services');
  main = document.getElementById('main');
  refresh();
  stream.on('alert', (d) => { if (String(d.metric_path || '').startsWith('check.')) refresh(); });
  setInterval(refresh, 15000);
}

start();
