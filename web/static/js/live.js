// The /live page: every visible host's state, IPv4/IPv6 connectivity, latency, loss
// and last seen, kept current by the WebSocket stream; recent messages beside it.
// Hosts live in a Map; only one page of rows (paging) is in the DOM, so 10,000
// hosts cost one sort per redraw and at most `pageSize` rows.
import { api, hostList } from './api.js';
import { initPage } from './nav.js';
import * as stream from './stream.js';
import { h, setChildren, fmtAgo, fmtNumber, fmtTime, hostRole, hostUrl, roleAtLeast, throttle } from './util.js';

const STATES = ['UP', 'LATE', 'DOWN', 'STOPPED', 'UNKNOWN'];
const STATE_ORDER = { DOWN: 0, LATE: 1, UNKNOWN: 2, STOPPED: 3, UP: 4 };
const COLUMNS = [
  // key, label, class, sort value
  ['name', 'Host', '', (x) => x.name],
  ['state', 'State', '', (x) => STATE_ORDER[x.state] ?? 9],
  ['ipv4', 'IPv4', '', (x) => connSort(conn(x, 'ipv4'))],
  ['ipv6', 'IPv6', '', (x) => connSort(conn(x, 'ipv6'))],
  ['rtt', 'Latency', 'num', (x) => latency(x) ?? Infinity],
  ['loss', 'Loss', 'num hide-sm', (x) => lossOf(x).sort],
  ['last_seen', 'Last seen', 'hide-sm', (x) => -(x.last_seen || 0)],
];

const hosts = new Map();     // name -> host entry as /api/0/hosts gives it
const messages = [];         // newest first, at most 30
const view = { sort: 'name', dir: 1, page: 0, pageSize: 100, query: '', state: '', includeMonitored: false };

function conn(x, family) {
  return (x.connections || []).find((c) => c.family === family) || null;
}
function connSort(c) { return c ? (STATE_ORDER[c.state] ?? 9) : 10; }
function latency(x) {
  let best = null;
  for (const c of x.connections || []) {
    if (typeof c.rtt === 'number' && Number.isFinite(c.rtt) && (best === null || c.rtt < best)) best = c.rtt;
  }
  return best;
}
function lossOf(x) {
  if (!x.connections || !x.connections.length) return { text: '–', sort: -1 };
  const lost = x.connections.reduce((a, c) => a + (c.lost || 0), 0);
  const rate = x.loss ?? x.loss_rate;
  if (typeof rate === 'number') return { text: `${fmtNumber(rate * 100, 1)} %`, sort: rate, title: `${lost} heartbeats lost` };
  const sent = x.connections.reduce((a, c) => a + (c.seq || 0), 0);
  if (sent > 0) return { text: `${fmtNumber((lost / sent) * 100, 1)} %`, sort: lost / sent, title: `${lost} lost` };
  return { text: String(lost), sort: lost };
}

let main;
let tbody;
let pagerInfo;
let countsEl;
let msgList;
let prevBtn;
let nextBtn;
let monitorToggle;

function visibleHosts() {
  const q = view.query.toLowerCase();
  const out = [];
  for (const x of hosts.values()) {
    if (!view.includeMonitored && !roleAtLeast(x, 'manager')) continue;
    if (view.state && x.state !== view.state) continue;
    if (q && !x.name.toLowerCase().includes(q)) continue;
    out.push(x);
  }
  const col = COLUMNS.find((c) => c[0] === view.sort) || COLUMNS[0];
  const key = col[3];
  // Decorate once: computing keys inside the comparator costs n·log n lookups.
  const keyed = out.map((x) => [key(x), x.name, x]);
  keyed.sort((a, b) => {
    if (a[0] < b[0]) return -view.dir;
    if (a[0] > b[0]) return view.dir;
    return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
  });
  return keyed.map((k) => k[2]);
}

function connCell(x, family) {
  const c = conn(x, family);
  if (!c) return h('td', {}, h('span', { class: 'muted' }, '–'));
  return h('td', {},
    h('div', { class: 'conn' },
      h('span', { class: `badge state-${c.state || 'UNKNOWN'}` }, c.state || 'UNKNOWN'),
      c.address ? h('small', {}, c.port ? (family === 'ipv6' ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`) : c.address) : null));
}

function row(x) {
  const rtt = latency(x);
  const loss = lossOf(x);
  return h('tr', { 'data-host': x.name, 'data-state': x.state },
    h('td', {}, h('a', { href: hostUrl(x.name), class: 'host-link' }, x.name),
      hostRole(x) === 'monitor' ? h('span', { class: 'role-badge', title: 'you monitor this host' }, ' monitor') : null),
    h('td', {}, h('span', { class: `badge state-${x.state || 'UNKNOWN'}` }, x.state || 'UNKNOWN')),
    connCell(x, 'ipv4'),
    connCell(x, 'ipv6'),
    h('td', { class: 'num' }, rtt === null ? '–' : `${fmtNumber(rtt)} ms`),
    h('td', { class: 'num hide-sm', title: loss.title || null }, loss.text),
    h('td', { class: 'hide-sm', title: fmtTime(x.last_seen) }, x.last_seen ? fmtAgo(x.last_seen) : 'never'));
}

function render() {
  const list = visibleHosts();
  const pages = Math.max(1, Math.ceil(list.length / view.pageSize));
  view.page = Math.min(view.page, pages - 1);
  const start = view.page * view.pageSize;
  const slice = list.slice(start, start + view.pageSize);

  // Keep keyboard focus on the same host's link across redraws.
  const focusedHost = document.activeElement && tbody.contains(document.activeElement)
    ? document.activeElement.closest('tr')?.dataset.host : null;
  if (slice.length) setChildren(tbody, slice.map(row));
  else setChildren(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' },
    hosts.size ? 'No host matches the filter.' : 'No hosts yet. They appear here with their first heartbeat.')));
  if (focusedHost) {
    const link = tbody.querySelector(`tr[data-host="${CSS.escape(focusedHost)}"] a`);
    if (link) link.focus();
  }
  pagerInfo.textContent = list.length
    ? `${start + 1}–${start + slice.length} of ${list.length} hosts · page ${view.page + 1} of ${pages}`
    : '0 hosts';
  prevBtn.disabled = view.page === 0;
  nextBtn.disabled = view.page >= pages - 1;

  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  let monitored = 0;
  for (const x of hosts.values()) {
    if (!roleAtLeast(x, 'manager')) { monitored++; if (!view.includeMonitored) continue; }
    counts[x.state] = (counts[x.state] || 0) + 1;
  }
  setChildren(countsEl, STATES.map((s) => h('span', { class: `badge state-${s}`, 'data-count': s }, `${s} ${counts[s] || 0}`)));
  monitorToggle.hidden = monitored === 0;
  for (const th of main.querySelectorAll('th[data-col]')) {
    th.setAttribute('aria-sort', th.dataset.col === view.sort ? (view.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
}
const scheduleRender = throttle(() => requestAnimationFrame(render), 250);

function renderMessages() {
  if (!messages.length) { setChildren(msgList, h('li', { class: 'muted' }, 'No messages yet.')); return; }
  setChildren(msgList, messages.map((m) => h('li', {},
    h('time', { datetime: new Date((m.time || 0) * 1000).toISOString() }, fmtTime(m.time)),
    m.host ? h('a', { href: hostUrl(m.host) }, m.host) : null, m.host ? ': ' : '', m.msg ?? '')));
}

async function loadHosts() {
  const list = hostList(await api('/hosts'));
  const seen = new Set();
  for (const x of list) { if (x && x.name) { hosts.set(x.name, x); seen.add(x.name); } }
  for (const name of [...hosts.keys()]) if (!seen.has(name)) hosts.delete(name);
  render();
}
const refetchHosts = throttle(() => loadHosts().catch(() => {}), 300);

async function loadMessages() {
  const data = await api('/messages');
  const list = Array.isArray(data) ? data : (data && data.messages) || [];
  messages.length = 0;
  messages.push(...list.slice().sort((a, b) => (b.time || 0) - (a.time || 0)).slice(0, 30));
  renderMessages();
}

function build() {
  main = document.getElementById('main');
  const search = h('input', { type: 'search', id: 'host-filter', placeholder: 'Filter hosts by name', 'aria-label': 'Filter hosts by name', class: 'grow' });
  search.addEventListener('input', () => { view.query = search.value.trim(); view.page = 0; render(); });
  const stateSel = h('select', { id: 'state-filter', 'aria-label': 'Filter by state' },
    h('option', { value: '' }, 'All states'), STATES.map((s) => h('option', { value: s }, s)));
  stateSel.addEventListener('change', () => { view.state = stateSel.value; view.page = 0; render(); });
  const sizeSel = h('select', { id: 'page-size', 'aria-label': 'Hosts per page' },
    [50, 100, 250, 500].map((n) => h('option', { value: n, selected: n === view.pageSize }, `${n} per page`)));
  sizeSel.addEventListener('change', () => { view.pageSize = Number(sizeSel.value); view.page = 0; render(); });
  const monitorBox = h('input', { type: 'checkbox', id: 'include-monitored' });
  monitorBox.addEventListener('change', () => { view.includeMonitored = monitorBox.checked; view.page = 0; render(); });
  monitorToggle = h('label', { hidden: true }, monitorBox, 'Include hosts I only monitor');

  const headRow = h('tr', {}, COLUMNS.map(([key, label, cls]) => {
    const btn = h('button', { class: 'sort', type: 'button' }, label);
    btn.addEventListener('click', () => {
      if (view.sort === key) view.dir = -view.dir; else { view.sort = key; view.dir = 1; }
      render();
    });
    return h('th', { scope: 'col', class: cls || null, 'data-col': key, 'aria-sort': 'none' }, btn);
  }));
  tbody = h('tbody', { id: 'hosts-body' });
  prevBtn = h('button', { type: 'button', id: 'prev-page' }, '‹ Previous');
  nextBtn = h('button', { type: 'button', id: 'next-page' }, 'Next ›');
  prevBtn.addEventListener('click', () => { view.page--; render(); });
  nextBtn.addEventListener('click', () => { view.page++; render(); });
  pagerInfo = h('span', { class: 'muted', 'aria-live': 'polite', id: 'pager-info' });
  countsEl = h('div', { class: 'state-counts', id: 'state-counts', 'aria-label': 'Hosts by state' });
  msgList = h('ul', { class: 'messages', id: 'messages', 'aria-live': 'polite' });

  setChildren(main,
    h('h1', {}, 'Live view'),
    h('div', { class: 'live-layout' },
      h('section', { class: 'panel', 'aria-labelledby': 'hosts-title' },
        h('div', { class: 'toolbar' }, h('h2', { id: 'hosts-title', style: 'margin:0' }, 'Hosts'), countsEl),
        h('div', { class: 'toolbar' }, search, stateSel, sizeSel, monitorToggle),
        h('div', { class: 'table-wrap' },
          h('table', { id: 'hosts-table', 'aria-describedby': 'pager-info' },
            h('caption', { class: 'visually-hidden' }, 'Hosts, sortable by column'),
            h('thead', {}, headRow), tbody)),
        h('div', { class: 'pager' }, pagerInfo, prevBtn, nextBtn)),
      h('section', { class: 'panel', 'aria-labelledby': 'msg-title' },
        h('h2', { id: 'msg-title' }, 'Recent messages'), msgList)));
}

async function main_() {
  await initPage('live');
  build();
  render();
  renderMessages();

  stream.on('host', (d) => {
    if (!d || !d.name) return;
    if (d.removed) { hosts.delete(d.name); scheduleRender(); return; }
    const old = hosts.get(d.name);
    hosts.set(d.name, { ...(old || {}), ...d });
    // A partial event for a host we do not know yet: fetch the full entries.
    if (!old && !Array.isArray(d.connections)) refetchHosts();
    scheduleRender();
  });
  // A dropped host: {"type":"dropped","data":{"name","removed":true}} (or a host event with removed).
  stream.on('dropped', (d) => { if (d && d.name) { hosts.delete(d.name); scheduleRender(); } });
  stream.on('message', (m) => {
    messages.unshift(m);
    if (messages.length > 30) messages.length = 30;
    renderMessages();
  });
  let wasOpen = false;
  stream.onState((s) => {
    // After a reconnect, events may have been missed: resynchronise.
    if (s === 'open' && wasOpen) { refetchHosts(); loadMessages().catch(() => {}); }
    if (s === 'open') wasOpen = true;
  });

  await Promise.all([loadHosts(), loadMessages()]).catch((e) => {
    main.prepend(h('p', { class: 'notice error', role: 'alert' }, `Could not load hosts: ${e.message}`));
  });
  // Relative times tick; polling is the fallback when the stream is down.
  setInterval(() => { if (stream.isOpen()) scheduleRender(); else refetchHosts(); }, 5000);
  setInterval(() => { refetchHosts(); }, 60000);
}

main_();
