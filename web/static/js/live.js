// The /live page: every visible host's state, IPv4/IPv6 connectivity, latency, loss
// and last seen, kept current by the WebSocket stream; recent messages beside it.
// The server filters, sorts and pages (GET /api/0/hosts?q=&state=&role=&sort=&order=
// &limit=&offset=, docs/API.md): the page holds only the rows it shows, so a million
// hosts cost the browser no more than a hundred. Stream events update those rows; an
// event that may move a host into or out of the page re-reads it, throttled.
import { api, apiResponse, hostList } from './api.js';
import { initPage } from './nav.js';
import * as stream from './stream.js';
import { h, setChildren, fmtAgo, fmtNumber, fmtTime, hostRole, hostUrl, roleAtLeast, throttle } from './util.js';

const STATES = ['UP', 'LATE', 'DOWN', 'STOPPED', 'UNKNOWN'];
const STATE_ORDER = { DOWN: 0, LATE: 1, UNKNOWN: 2, STOPPED: 3, UP: 4 };
const COLUMNS = [
  // key, label, class, sort value (the server orders sort=<key> the same way, ties by name)
  ['name', 'Host', '', (x) => x.name],
  ['state', 'State', '', (x) => STATE_ORDER[x.state] ?? 9],
  ['ipv4', 'IPv4', '', (x) => connSort(conn(x, 'ipv4'))],
  ['ipv6', 'IPv6', '', (x) => connSort(conn(x, 'ipv6'))],
  ['rtt', 'Latency', 'num', (x) => latency(x) ?? Infinity],
  ['loss', 'Loss', 'num hide-sm', (x) => lossOf(x).sort],
  ['last_seen', 'Last seen', 'hide-sm', (x) => -(x.last_seen || 0)],
];

let rows = [];               // the page's host entries as /api/0/hosts gives them, in its order
const onPage = new Map();    // name -> index into rows
const messages = [];         // newest first, at most 30
const view = { sort: 'name', dir: 1, page: 0, pageSize: 100, query: '', state: '', includeMonitored: false };
// What the last answer said about the whole filtered list.
// `any`: some host is listed at all (known from an answer without a name filter).
const found = { total: 0, counts: Object.fromEntries(STATES.map((s) => [s, 0])), any: false, query: '' };
let me = null;               // the user (/api/0/me): only non-admins with users may monitor hosts
let monitored = null;        // hosts the user only monitors (null: not known yet)
// Stream-driven re-reads: at most one per REFRESH_MS, or four times the last read's duration.
const REFRESH_MS = 1000;
let loadSeq = 0;
let lastLoadMs = 0;
let lastRefreshAt = 0;
let refreshTimer = null;

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

// The page's rows as the current view would have them: the server's answer already is, but
// after a view change or a stream event the rows shown follow at once, before the re-read.
function visibleRows() {
  const q = view.query.toLowerCase();
  const out = rows.filter((x) => (view.includeMonitored || roleAtLeast(x, 'manager'))
    && (!view.state || x.state === view.state) && (!q || x.name.toLowerCase().includes(q)));
  const col = COLUMNS.find((c) => c[0] === view.sort) || COLUMNS[0];
  const key = col[3];
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

function renderHeader() {
  for (const th of main.querySelectorAll('th[data-col]')) {
    th.setAttribute('aria-sort', th.dataset.col === view.sort ? (view.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
}

function render() {
  const slice = visibleRows();
  const total = Math.max(found.total, slice.length);
  const pages = Math.max(1, Math.ceil(total / view.pageSize));
  const start = view.page * view.pageSize;

  // Keep keyboard focus on the same host's link across redraws.
  const focusedHost = document.activeElement && tbody.contains(document.activeElement)
    ? document.activeElement.closest('tr')?.dataset.host : null;
  if (slice.length) setChildren(tbody, slice.map(row));
  else setChildren(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' },
    found.any || monitored || view.query || view.state ? 'No host matches the filter.' : 'No hosts yet. They appear here with their first heartbeat.')));
  if (focusedHost) {
    const link = tbody.querySelector(`tr[data-host="${CSS.escape(focusedHost)}"] a`);
    if (link) link.focus();
  }
  pagerInfo.textContent = total && slice.length
    ? `${start + 1}–${start + slice.length} of ${total} hosts · page ${view.page + 1} of ${pages}`
    : `${total} hosts`;
  prevBtn.disabled = view.page === 0;
  nextBtn.disabled = view.page >= pages - 1;

  setChildren(countsEl, STATES.map((s) => h('span', { class: `badge state-${s}`, 'data-count': s }, `${s} ${found.counts[s] || 0}`)));
  monitorToggle.hidden = !(me && me.auth_enabled && !me.admin) || monitored === 0;
  renderHeader();
}
const scheduleRender = throttle(() => requestAnimationFrame(render), 250);

function renderMessages() {
  if (!messages.length) { setChildren(msgList, h('li', { class: 'muted' }, 'No messages yet.')); return; }
  setChildren(msgList, messages.map((m) => h('li', {},
    h('time', { datetime: new Date((m.time || 0) * 1000).toISOString() }, fmtTime(m.time)),
    m.host ? h('a', { href: hostUrl(m.host) }, m.host) : null, m.host ? ': ' : '', m.msg ?? '')));
}

function pageQuery() {
  const p = new URLSearchParams({
    limit: String(view.pageSize), offset: String(view.page * view.pageSize),
    sort: view.sort, order: view.dir > 0 ? 'asc' : 'desc',
  });
  if (view.query) p.set('q', view.query);
  if (view.state) p.set('state', view.state);
  if (!view.includeMonitored) p.set('role', 'manager');
  return p;
}

function parseCounts(header) {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const part of (header || '').split(',')) {
    const [k, v] = part.split('=');
    if (k in counts) counts[k] = Number(v) || 0;
  }
  return counts;
}

// Reads the page the view shows; a newer read makes an older answer moot.
async function loadPage() {
  const seq = ++loadSeq;
  const query = pageQuery();
  const t0 = performance.now();
  const { data, headers } = await apiResponse(`/hosts?${query}`);
  if (seq !== loadSeq) return;
  lastLoadMs = performance.now() - t0;
  if (errorShown) { errorShown.remove(); errorShown = null; }
  const list = hostList(data);
  found.total = Number(headers.get('X-Total-Count') ?? list.length) || 0;
  found.counts = parseCounts(headers.get('X-State-Counts'));
  if (!view.query) found.any = STATES.some((s) => found.counts[s] > 0);
  const pages = Math.max(1, Math.ceil(found.total / view.pageSize));
  if (view.page >= pages) { view.page = pages - 1; return loadPage(); }
  rows = list.filter((x) => x && x.name);
  onPage.clear();
  rows.forEach((x, i) => onPage.set(x.name, i));
  found.query = String(query);
  render();
  document.getElementById('hosts-table').dataset.query = found.query;
  if (!view.query && !view.includeMonitored) countMonitored(found.counts).catch(() => {});
}

// Whether the user only monitors some hosts (the "include" switch shows then): the hosts
// visible at all against those managed (`managed`: the counts of an unfiltered page).
async function countMonitored(managed) {
  if (!me || !me.auth_enabled || me.admin) return;
  const { headers } = await apiResponse(`/hosts?${new URLSearchParams({ limit: '1', role: 'monitor' })}`);
  const all = parseCounts(headers.get('X-State-Counts'));
  const n = STATES.reduce((a, s) => a + all[s] - managed[s], 0);
  if (n !== monitored) { monitored = n; render(); }
}

// After a view change: the rows at hand at once, the server's page as soon as it answers.
function viewChanged() {
  render();
  loadPage().catch(showError);
}
let typing = null;
function queryChanged() {
  render();
  clearTimeout(typing);
  typing = setTimeout(() => loadPage().catch(showError), 120);
}

// A stream event that may move hosts into or out of the page (or change the counts).
function scheduleRefresh() {
  if (refreshTimer) return;
  const gap = Math.max(REFRESH_MS, 4 * lastLoadMs);
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    lastRefreshAt = Date.now();
    loadPage().catch(() => {});
  }, Math.max(0, lastRefreshAt + gap - Date.now()));
}

function sortValue(x) {
  return (COLUMNS.find((c) => c[0] === view.sort) || COLUMNS[0])[3](x);
}

let errorShown = null;
function showError(e) {
  if (errorShown) errorShown.remove();
  errorShown = h('p', { class: 'notice error', role: 'alert' }, `Could not load hosts: ${e.message}`);
  main.prepend(errorShown);
}

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
  search.addEventListener('input', () => { view.query = search.value.trim(); view.page = 0; queryChanged(); });
  const stateSel = h('select', { id: 'state-filter', 'aria-label': 'Filter by state' },
    h('option', { value: '' }, 'All states'), STATES.map((s) => h('option', { value: s }, s)));
  stateSel.addEventListener('change', () => { view.state = stateSel.value; view.page = 0; viewChanged(); });
  const sizeSel = h('select', { id: 'page-size', 'aria-label': 'Hosts per page' },
    [50, 100, 250, 500].map((n) => h('option', { value: n, selected: n === view.pageSize }, `${n} per page`)));
  sizeSel.addEventListener('change', () => { view.pageSize = Number(sizeSel.value); view.page = 0; viewChanged(); });
  const monitorBox = h('input', { type: 'checkbox', id: 'include-monitored' });
  monitorBox.addEventListener('change', () => { view.includeMonitored = monitorBox.checked; view.page = 0; viewChanged(); });
  monitorToggle = h('label', { hidden: true }, monitorBox, 'Include hosts I only monitor');

  const headRow = h('tr', {}, COLUMNS.map(([key, label, cls]) => {
    const btn = h('button', { class: 'sort', type: 'button' }, label);
    btn.addEventListener('click', () => {
      if (view.sort === key) view.dir = -view.dir; else { view.sort = key; view.dir = 1; }
      view.page = 0;
      viewChanged();
    });
    return h('th', { scope: 'col', class: cls || null, 'data-col': key, 'aria-sort': 'none' }, btn);
  }));
  tbody = h('tbody', { id: 'hosts-body' });
  prevBtn = h('button', { type: 'button', id: 'prev-page' }, '‹ Previous');
  nextBtn = h('button', { type: 'button', id: 'next-page' }, 'Next ›');
  prevBtn.addEventListener('click', () => { view.page--; loadPage().catch(showError); });
  nextBtn.addEventListener('click', () => { view.page++; loadPage().catch(showError); });
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
  me = await initPage('live');
  build();
  render();
  renderMessages();

  stream.on('host', (d) => {
    if (!d || !d.name) return;
    if (d.removed) { dropped(d.name); return; }
    const i = onPage.get(d.name);
    if (i === undefined) { scheduleRefresh(); return; }  // it may enter the page; the counts change
    const old = rows[i];
    const next = { ...old, ...d };
    rows[i] = next;
    if (old.state !== next.state || sortValue(old) !== sortValue(next)
        || roleAtLeast(old, 'manager') !== roleAtLeast(next, 'manager')) scheduleRefresh();
    scheduleRender();
  });
  // A dropped host: {"type":"dropped","data":{"name","removed":true}} (or a host event with removed).
  function dropped(name) {
    const i = onPage.get(name);
    if (i !== undefined) {
      rows.splice(i, 1);
      onPage.clear();
      rows.forEach((x, j) => onPage.set(x.name, j));
      found.total = Math.max(0, found.total - 1);
      scheduleRender();
    }
    scheduleRefresh();
  }
  stream.on('dropped', (d) => { if (d && d.name) dropped(d.name); });
  stream.on('message', (m) => {
    messages.unshift(m);
    if (messages.length > 30) messages.length = 30;
    renderMessages();
  });
  let wasOpen = false;
  stream.onState((s) => {
    // After a reconnect, events may have been missed: resynchronise.
    if (s === 'open' && wasOpen) { scheduleRefresh(); loadMessages().catch(() => {}); }
    if (s === 'open') wasOpen = true;
  });

  await Promise.all([loadPage(), loadMessages()]).catch(showError);
  // Relative times tick; polling is the fallback when the stream is down.
  setInterval(() => { if (stream.isOpen()) scheduleRender(); else scheduleRefresh(); }, 5000);
  setInterval(() => { scheduleRefresh(); }, 60000);
}

main_();
