// The host overview, /plugins/<host>: every plugin's latest data as cards (units,
// nested objects, ZFS pools, times as dates), history charts of the numeric metrics
// that vary over a selectable range (uPlot), the host's alerts, and the management
// controls its role allows. /plugins without a host shows a host picker. Main thread only.
import { api, hostList } from './api.js';
import { initPage } from './nav.js';
import * as stream from './stream.js';
import { renderHostChecks } from './checks.js';
import {
  h, setChildren, fmtAgo, fmtMetric, fmtNumber, fmtTime, fmtDuration, hostUrl, isEpochTime, numericLeaves,
  roleAtLeast, throttle, unitOf, nowSec,
} from './util.js';

// The chart library is loaded on its own: where it is missing (web/static/vendor not installed)
// every page still shows its data, and the charts' place holds a note instead.
let uPlot = null;
const chartLibrary = import('/static/vendor/uPlot.esm.js')
  .then((m) => { uPlot = m.default; })
  .catch(() => { uPlot = null; });

const RANGES = [['900', 'Last 15 minutes'], ['3600', 'Last hour'], ['21600', 'Last 6 hours'],
  ['86400', 'Last 24 hours'], ['604800', 'Last 7 days']];
const MAX_CHARTS = 24;
const HISTORY_LIMIT = 5000;

let main;
let hostName = null;
let host = null;             // the /api/0/hosts entry
let plugins = {};            // name -> {timestamp, data, sample_count}
const charts = new Map();    // metric path -> {plot, xs, ys, fig}
const state = { plugin: '', range: 3600, auto: true };

function hostFromPath() {
  const m = location.pathname.match(/^\/plugins\/(.+?)\/?$/);
  return m ? decodeURIComponent(m[1]) : null;
}

// ---------- host picker (/plugins) ----------

async function renderPicker() {
  const list = hostList(await api('/hosts')).sort((a, b) => (a.name < b.name ? -1 : 1));
  const input = h('input', { type: 'search', id: 'picker-filter', placeholder: 'Type to filter', 'aria-label': 'Filter hosts', class: 'grow' });
  const ul = h('ul', { class: 'host-list', id: 'host-list' });
  const info = h('p', { class: 'muted', 'aria-live': 'polite' });
  // Seed: owner/manager hosts by default; monitored ones behind a switch.
  const monitorBox = h('input', { type: 'checkbox', id: 'include-monitored' });
  const monitorToggle = h('label', { hidden: !list.some((x) => !roleAtLeast(x, 'manager')) }, monitorBox, 'Include hosts I only monitor');
  monitorBox.addEventListener('change', () => draw());
  const draw = () => {
    const q = input.value.trim().toLowerCase();
    const match = list.filter((x) => (monitorBox.checked || roleAtLeast(x, 'manager')) && (!q || x.name.toLowerCase().includes(q)));
    setChildren(ul, match.slice(0, 300).map((x) => h('li', {},
      h('span', { class: `badge state-${x.state || 'UNKNOWN'}` }, x.state || 'UNKNOWN'), ' ',
      h('a', { href: hostUrl(x.name) }, x.name))));
    info.textContent = match.length > 300 ? `Showing 300 of ${match.length} hosts; refine the filter.` : `${match.length} hosts`;
  };
  input.addEventListener('input', draw);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { const a = ul.querySelector('a'); if (a) location.assign(a.href); }
  });
  setChildren(main, h('h1', {}, 'Host overview'),
    h('section', { class: 'panel' }, h('h2', {}, 'Pick a host'),
      h('div', { class: 'toolbar' }, input, monitorToggle), info, ul));
  draw();
}

// ---------- plugin cards ----------

function isPlainObject(v) { return v && typeof v === 'object' && !Array.isArray(v); }

function metricTile(key, value) {
  const text = typeof value === 'string' || typeof value === 'boolean';
  return h('div', { class: 'metric', 'data-key': key },
    h('div', { class: 'k' }, key), h('div', { class: `v${text ? ' text' : ''}` }, fmtMetric(key, value)));
}

function levelBar(pct) {
  const cls = pct >= 90 ? 'crit' : pct >= 80 ? 'warn' : '';
  return h('div', { class: `bar ${cls}`, role: 'img', 'aria-label': `${fmtNumber(pct, 1)} percent` },
    h('span', { style: `width:${Math.max(0, Math.min(100, pct))}%` }));
}

const HEALTH_CLASS = { ONLINE: 'state-UP', DEGRADED: 'state-LATE', FAULTED: 'state-DOWN', UNAVAIL: 'state-DOWN', OFFLINE: 'state-STOPPED', REMOVED: 'state-STOPPED', SUSPENDED: 'state-LATE' };
const pick = (o, ...keys) => { for (const k of keys) if (o[k] !== undefined) return o[k]; return undefined; };

/** ZFS pools: {"tank": {...}} or [{"name":"tank",...}] -> table with health, capacity, fragmentation. */
function poolTable(pools) {
  const rows = Array.isArray(pools) ? pools.map((p) => [p.name || p.pool || '?', p]) : Object.entries(pools);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'zfs-pools' },
    h('caption', { class: 'visually-hidden' }, 'ZFS pools'),
    h('thead', {}, h('tr', {}, ['Pool', 'Health', 'Capacity', 'Fragmentation', 'Size', 'Free'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map(([name, p]) => {
      const health = String(pick(p, 'health', 'state', 'status') ?? 'UNKNOWN').toUpperCase();
      const cap = Number(pick(p, 'capacity', 'capacity_percent', 'cap', 'percent'));
      const frag = pick(p, 'fragmentation', 'frag', 'fragmentation_percent');
      const size = pick(p, 'size_bytes', 'size');
      const free = pick(p, 'free_bytes', 'free');
      return h('tr', { 'data-pool': name },
        h('th', { scope: 'row' }, name),
        h('td', {}, h('span', { class: `badge ${HEALTH_CLASS[health] || 'state-UNKNOWN'}` }, health)),
        h('td', {}, Number.isFinite(cap) ? h('div', {}, levelBar(cap), `${fmtNumber(cap, 1)} %`) : '–'),
        h('td', {}, frag === undefined ? '–' : `${fmtNumber(Number(frag), 1)} %`),
        h('td', {}, size === undefined ? '–' : fmtMetric(typeof size === 'number' ? 'size_bytes' : 'size', size)),
        h('td', {}, free === undefined ? '–' : fmtMetric(typeof free === 'number' ? 'free_bytes' : 'free', free)));
    }))));
}

/** An object whose values are all objects of scalars (partitions, interfaces): a table. */
function isTableLike(v) {
  if (!isPlainObject(v)) return false;
  const vals = Object.values(v);
  return vals.length > 0 && vals.every((x) => isPlainObject(x) && Object.values(x).every((y) => y === null || typeof y !== 'object'));
}

function objectTable(name, obj) {
  const cols = [];
  for (const row of Object.values(obj)) for (const k of Object.keys(row)) if (!cols.includes(k)) cols.push(k);
  return h('div', { class: 'table-wrap' }, h('table', { 'data-key': name },
    h('caption', { class: 'visually-hidden' }, name),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, name), cols.map((c) => h('th', { scope: 'col', class: 'num' }, c)))),
    h('tbody', {}, Object.entries(obj).map(([rk, row]) => h('tr', {},
      h('th', { scope: 'row', class: 'mono' }, rk),
      cols.map((c) => {
        const v = row[c];
        if (unitOf(c) === '%' && typeof v === 'number') return h('td', { class: 'num' }, levelBar(v), fmtMetric(c, v));
        return h('td', { class: 'num' }, v === undefined ? '' : fmtMetric(c, v));
      }))))));
}

function renderData(obj, depth = 0) {
  const scalars = [];
  const nested = [];
  for (const [k, v] of Object.entries(obj)) {
    if (isPlainObject(v) || Array.isArray(v)) nested.push([k, v]); else scalars.push([k, v]);
  }
  const out = [];
  if (scalars.length) out.push(h('div', { class: 'metrics' }, scalars.map(([k, v]) => metricTile(k, v))));
  for (const [k, v] of nested) {
    let body;
    if (/^(pools|zpools)$/i.test(k) && (isPlainObject(v) || Array.isArray(v))) body = poolTable(v);
    else if (isTableLike(v)) body = objectTable(k, v);
    else if (Array.isArray(v)) body = v.every((x) => x === null || typeof x !== 'object')
      ? h('div', { class: 'metric' }, h('div', { class: 'v text' }, v.join(', ') || '(empty)'))
      : renderData(Object.fromEntries(v.map((x, i) => [String(i), x])), depth + 1);
    else body = renderData(v, depth + 1);
    out.push(h('details', { class: 'nested', open: depth < 2 }, h('summary', {}, k), body));
  }
  return out;
}

function pluginCard(name, p) {
  const data = (p && p.data) || {};
  const wide = isPlainObject(data) && Object.values(data).some((v) => isPlainObject(v) || Array.isArray(v));
  return h('article', { class: `panel plugin-card${wide ? ' wide' : ''}`, 'data-plugin': name, 'aria-labelledby': `card-${name}` },
    h('h3', {}, h('span', { id: `card-${name}` }, name),
      h('small', { class: 'muted', title: fmtTime(p.timestamp) },
        `${fmtAgo(p.timestamp)}${p.sample_count !== undefined ? ` · ${p.sample_count} samples` : ''}`)),
    isPlainObject(data) ? renderData(data) : h('p', {}, String(data)));
}

function renderCards() {
  const grid = document.getElementById('plugin-cards');
  const names = Object.keys(plugins).sort();
  const shown = state.plugin && names.includes(state.plugin) ? [state.plugin] : names;
  if (!names.length) { setChildren(grid, h('p', { class: 'muted' }, 'This host has sent no plugin data yet.')); return; }
  setChildren(grid, shown.map((n) => pluginCard(n, plugins[n])));
}

// ---------- history charts ----------

function themeColours() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n) => cs.getPropertyValue(n).trim();
  return { text: v('--muted'), grid: v('--border'), line: v('--accent'), fill: `${v('--accent')}22` };
}

function chartPlugin() {
  if (state.plugin) return state.plugin;
  const names = Object.keys(plugins);
  // Default: the first plugin (by preference) that has numeric metrics.
  const pref = ['cpu_monitor', 'memory_monitor', 'disk_monitor', 'network_monitor'];
  const ordered = [...pref.filter((n) => names.includes(n)), ...names.sort()];
  return ordered.find((n) => numericLeaves(plugins[n]?.data).length) || '';
}

const tickFmts = {
  sec: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
  min: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }),
  day: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
};
/** One-line time tick label whose precision follows the visible span (seconds). */
function timeTick(v, span) {
  const f = span <= 600 ? tickFmts.sec : span <= 2 * 86400 ? tickFmts.min : tickFmts.day;
  return f.format(new Date(v * 1000));
}

// The time axis: the samples' span; one sample (or several at one time) has none of its own, and
// uPlot would stretch it by 86,400,000 s: ten minutes around it instead, so the axis shows its time.
function timeRange(u, min, max) {
  const xs = u.data[0];
  if (xs && xs.length && xs[xs.length - 1] - xs[0] < 1) return [xs[0] - 300, xs[0] + 300];
  return [min, max];
}

function makeChart(path, xs, ys, container) {
  const c = themeColours();
  const unit = unitOf(path.split('.').pop());
  const fig = h('figure', { class: 'chart', 'data-metric': path });
  const cap = h('figcaption', {}, unit ? `${path} (${unit})` : path);
  const plotBox = h('div', { class: 'plot' });
  fig.append(cap, plotBox);
  container.appendChild(fig);
  const width = Math.max(280, plotBox.clientWidth || fig.clientWidth - 16 || 400);
  const plot = new uPlot({
    width, height: 180,
    scales: { x: { time: true, range: timeRange } },
    legend: { show: true },
    cursor: { drag: { x: true, y: false } },
    // The time axis drawn, for tests and tools (the ticks themselves are on the canvas).
    hooks: { draw: [(u) => { fig.dataset.xMin = String(u.scales.x.min); fig.dataset.xMax = String(u.scales.x.max); }] },
    axes: [
      { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid },
        space: (u, i, min, max) => (max - min <= 600 ? 100 : max - min <= 2 * 86400 ? 80 : 120),
        values: (u, vals) => vals.map((v) => timeTick(v, u.scales.x.max - u.scales.x.min)) },
      { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid }, size: 60,
        values: (u, vals) => vals.map((v) => fmtNumber(v)) },
    ],
    series: [{}, {
      label: path.split('.').pop(), stroke: c.line, fill: c.fill, width: 1.5,
      points: { show: xs.length < 80, size: 5 },
      value: (u, v) => (v === null || v === undefined ? '–' : fmtMetric(path.split('.').pop(), v)),
    }],
  }, [xs, ys], plotBox);
  const entry = { plot, xs, ys, fig };
  describeChart(entry, path);
  return entry;
}

/** Text equivalent of a chart for screen readers and tests. */
function describeChart(entry, path) {
  const ys = entry.ys.filter((v) => v !== null);
  entry.fig.dataset.points = String(ys.length);
  entry.fig.dataset.values = ys.slice(-200).join(',');
  const label = ys.length
    ? `${path}: ${ys.length} points, min ${fmtNumber(Math.min(...ys))}, max ${fmtNumber(Math.max(...ys))}, latest ${fmtNumber(ys[ys.length - 1])}`
    : `${path}: no data in range`;
  entry.fig.setAttribute('aria-label', label);
  entry.fig.setAttribute('role', 'img');
}

// The history in range of the charted plugin: sample times and every numeric leaf's values.
const history = { plugin: '', since: 0, xs: [], ys: new Map() };

function leafValue(data, path) {
  const v = path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), data);
  return typeof v === 'number' ? v : null;
}

/**
 * Whether a series gets a chart: it must vary (a constant such as cpu_count says nothing over
 * time), except while the range holds a single sample; times (boot_time) are dates, not measures.
 */
function chartable(path, ys) {
  const vals = ys.filter((v) => v !== null);
  if (!vals.length || vals.some((v) => isEpochTime(path.split('.').pop(), v))) return false;
  return history.xs.length <= 1 || vals.some((v) => v !== vals[0]);
}

function chartedPaths() {
  return [...history.ys.keys()].filter((p) => chartable(p, history.ys.get(p)));
}

function chartsStatus(live) {
  const { plugin, since, xs } = history;
  const all = history.ys.size;
  const shown = charts.size;
  const constant = all - chartedPaths().length;
  if (!xs.length) return `${plugin}: no samples in this range.`;
  const parts = [`${plugin}: ${xs.length} samples since ${fmtTime(since)}`];
  if (constant > 0) parts.push(`${constant} metric${constant === 1 ? '' : 's'} without change not charted`);
  if (chartedPaths().length > shown) parts.push(`first ${shown} of ${chartedPaths().length} metrics`);
  return `${parts.join('; ')}${live ? ' (live)' : ''}.`;
}

// Draws one chart per series that gets one (at most MAX_CHARTS), or the note that charts are
// not available.
function drawCharts(live = false) {
  const box = document.getElementById('charts');
  const status = document.getElementById('charts-status');
  for (const c of charts.values()) c.plot.destroy();
  charts.clear();
  box.replaceChildren();
  box.dataset.plugin = history.plugin;
  if (!uPlot) {
    box.append(h('p', { class: 'notice', id: 'charts-unavailable', role: 'note' },
      'Charts are not available: the chart library (static/vendor/uPlot.esm.js) is not installed on the server. The latest data is shown above.'));
    status.textContent = `${history.plugin}: ${history.xs.length} samples since ${fmtTime(history.since)}.`;
    return;
  }
  for (const p of chartedPaths().slice(0, MAX_CHARTS)) {
    charts.set(p, makeChart(p, history.xs.slice(), history.ys.get(p).slice(), box));
  }
  status.textContent = chartsStatus(live);
}

async function loadCharts() {
  const box = document.getElementById('charts');
  const status = document.getElementById('charts-status');
  const plugin = chartPlugin();
  for (const c of charts.values()) c.plot.destroy();
  charts.clear();
  box.replaceChildren();
  if (!plugin) { status.textContent = 'No numeric metrics to chart.'; return; }
  const since = nowSec() - state.range;
  status.textContent = `Loading ${plugin} history…`;
  let data;
  try {
    [data] = await Promise.all([
      api(`/hosts/${encodeURIComponent(hostName)}/plugins/${encodeURIComponent(plugin)}?limit=${HISTORY_LIMIT}&since=${Math.floor(since)}`),
      chartLibrary,
    ]);
  } catch (e) {
    status.textContent = `Could not load history: ${e.message}`;
    return;
  }
  const samples = ((data && data.samples) || [])
    .filter((s) => typeof s.timestamp === 'number' && s.timestamp >= since)
    .sort((a, b) => a.timestamp - b.timestamp);
  const paths = [];
  const seen = new Set();
  for (const s of samples) for (const [p] of numericLeaves(s.data)) if (!seen.has(p)) { seen.add(p); paths.push(p); }
  history.plugin = plugin;
  history.since = since;
  history.xs = samples.map((s) => s.timestamp);
  history.ys = new Map(paths.map((p) => [p, samples.map((s) => leafValue(s.data, p))]));
  drawCharts();
}

function appendSample(plugin, ts, dataObj) {
  const box = document.getElementById('charts');
  if (!box || box.dataset.plugin !== plugin || history.plugin !== plugin) return;
  const leaves = new Map(numericLeaves(dataObj));
  const since = nowSec() - state.range;
  const before = chartedPaths().slice(0, MAX_CHARTS).join('\n');
  history.since = since;
  history.xs.push(ts);
  for (const [p, ys] of history.ys) ys.push(leaves.has(p) ? leaves.get(p) : null);
  for (const [p, v] of leaves) {
    if (!history.ys.has(p)) history.ys.set(p, [...new Array(history.xs.length - 1).fill(null), v]);
  }
  while (history.xs.length && history.xs[0] < since) {
    history.xs.shift();
    for (const ys of history.ys.values()) ys.shift();
  }
  // A series that starts or stops varying (or the second sample) changes which charts there are.
  if (!uPlot || chartedPaths().slice(0, MAX_CHARTS).join('\n') !== before) { drawCharts(true); return; }
  for (const [path, c] of charts) {
    c.xs = history.xs.slice();
    c.ys = history.ys.get(path).slice();
    c.plot.setData([c.xs, c.ys]);
    describeChart(c, path);
  }
  document.getElementById('charts-status').textContent = chartsStatus(true);
}

// ---------- alerts and management ----------

async function renderHostAlerts() {
  const box = document.getElementById('host-alerts');
  let data;
  try { data = await api(`/hosts/${encodeURIComponent(hostName)}/alerts`); } catch { box.hidden = true; return; }
  const active = ((data && data.alerts) || []).filter((a) => a.level && a.level !== 'OK');
  box.hidden = false;
  const s = (data && data.summary) || {};
  setChildren(box, h('h2', {}, 'Alerts'),
    h('p', { class: 'state-counts' },
      h('span', { class: 'badge level-CRITICAL' }, `CRITICAL ${s.critical ?? 0}`),
      h('span', { class: 'badge level-WARNING' }, `WARNING ${s.warning ?? 0}`),
      h('span', { class: 'badge level-UNKNOWN' }, `UNKNOWN ${s.unknown ?? 0}`),
      h('span', { class: 'badge level-OK' }, `OK ${s.ok ?? 0}`)),
    active.length
      ? h('ul', {}, active.map((a) => h('li', {},
        h('span', { class: `badge level-${a.level}` }, a.level), ' ', h('code', {}, a.metric_path),
        ` = ${a.last_value ?? '–'} for ${fmtDuration(nowSec() - (a.since || nowSec()))}`,
        a.acknowledged ? h('span', { class: 'muted' }, ` · acknowledged${a.ack_by ? ` by ${a.ack_by}` : ''}`) : null)))
      : h('p', { class: 'muted' }, 'No active alerts.'));
}

function actionForm(label, fields, submitText, onSubmit, cls = '') {
  const msg = h('p', { class: 'notice', role: 'status', hidden: true });
  const form = h('form', { class: 'panel manage-form', 'aria-label': label },
    h('h3', {}, label),
    h('div', { class: 'form-grid' }, fields.map(([id, text, attrs]) => [
      h('label', { for: id }, text), h('input', { id, name: id, ...(attrs || {}) })])),
    h('p', {}, h('button', { type: 'submit', class: cls || 'primary' }, submitText)), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hidden = false;
    msg.className = 'notice';
    msg.textContent = 'Working…';
    try {
      const text = await onSubmit(form);
      msg.className = 'notice ok';
      msg.textContent = text;
    } catch (e) {
      msg.className = 'notice error';
      msg.textContent = e.message;
    }
  });
  return form;
}

const splitList = (s) => s.split(/[\s,]+/).filter(Boolean);

async function renderManage() {
  const box = document.getElementById('manage');
  if (!host || !roleAtLeast(host, 'manager')) { box.hidden = true; return; }
  const base = `/hosts/${encodeURIComponent(hostName)}`;
  const forms = [
    actionForm('Run a command', [['cmd-name', 'Command', { required: true, placeholder: 'a name from the client allow-list' }], ['cmd-args', 'Arguments', { placeholder: 'space separated' }]],
      'Queue command', async (f) => {
        const r = await api(`${base}/commands`, { method: 'POST', body: { command: f['cmd-name'].value.trim(), args: splitList(f['cmd-args'].value) } });
        return `Queued${r && (r.id || r.cmd_id) ? ` as ${r.id || r.cmd_id}` : ''}; it is sent with the next heartbeat.`;
      }),
    actionForm('Update DNS', [], 'Request DNS update', async () => {
      await api(`${base}/dns`, { method: 'POST', body: {} });
      return 'DNS update requested.';
    }),
    actionForm('Upgrade the client', [['upg-version', 'Version', { placeholder: 'optional' }]], 'Queue upgrade', async (f) => {
      const v = f['upg-version'].value.trim();
      await api(`${base}/upgrade`, { method: 'POST', body: v ? { version: v } : {} });
      return 'Upgrade queued.';
    }),
  ];
  if (roleAtLeast(host, 'owner')) {
    let access = { owner: '', managers: [], monitors: [] };
    try { access = { ...access, ...(await api(`${base}/access`)) }; } catch { /* shown empty */ }
    const accessForm = actionForm('Access', [
      ['acc-owner', 'Owner', { value: access.owner || '' }],
      ['acc-managers', 'Managers', { value: (access.managers || []).join(', '), placeholder: 'user names, comma separated' }],
      ['acc-monitors', 'Monitors', { value: (access.monitors || []).join(', ') }],
    ], 'Save access', async (f) => {
      await api(`${base}/access`, { method: 'PUT', body: { owner: f['acc-owner'].value.trim(), managers: splitList(f['acc-managers'].value), monitors: splitList(f['acc-monitors'].value) } });
      return 'Access saved.';
    });
    const dropForm = actionForm('Drop host', [], 'Drop this host', async () => {
      if (!window.confirm(`Drop ${hostName}? Its state and history are removed until it sends again.`)) return 'Cancelled.';
      await api(base, { method: 'DELETE' });
      location.assign('/live');
      return 'Dropped.';
    }, 'danger');
    forms.push(accessForm, dropForm);
  }
  box.hidden = false;
  setChildren(box, h('summary', {}, h('h2', { style: 'display:inline' }, 'Manage host')),
    h('div', { class: 'plugin-grid' }, forms));
}

// ---------- page ----------

async function loadHost() {
  try {
    host = await api(`/hosts/${encodeURIComponent(hostName)}`);
    if (!host || !host.name) host = null;
  } catch (e) {
    if (e.status === 401) throw e;
    host = null;
  }
  if (!host) host = hostList(await api('/hosts')).find((x) => x.name === hostName) || null;
}

function renderHead() {
  const head = document.getElementById('host-head');
  const conns = (host && host.connections) || [];
  setChildren(head,
    h('h1', { style: 'margin:0' }, hostName),
    host ? h('span', { class: `badge state-${host.state || 'UNKNOWN'}`, id: 'host-state' }, host.state || 'UNKNOWN') : null,
    host ? h('span', { class: 'muted' }, `last seen ${fmtAgo(host.last_seen)}`) : null,
    conns.map((c) => h('span', { class: `badge state-${c.state || 'UNKNOWN'}` },
      `${c.family} ${c.address || ''}${typeof c.rtt === 'number' ? ` · ${fmtNumber(c.rtt)} ms` : ''}`)));
  // Facts the host entry carries beyond its state, when present.
  const facts = [];
  if (host) {
    if (host.agent) facts.push(['agent', host.agent]);
    if (typeof host.clock_skew === 'number') facts.push(['clock skew', `${fmtNumber(host.clock_skew, 3)} s`]);
    if (host.boot_time) facts.push(['booted', fmtTime(host.boot_time)]);
    if (host.reboots) facts.push(['reboots', String(host.reboots)]);
    if (host.commands_pending) facts.push(['commands pending', String(host.commands_pending)]);
    if (host.dyn) facts.push(['dynamic DNS', 'yes']);
    if (host.watch === false) facts.push(['notifications', 'silenced (watch: false)']);
    if (host.owner) facts.push(['owner', host.owner]);
  }
  let factsEl = document.getElementById('host-facts');
  if (!factsEl) {
    factsEl = h('p', { id: 'host-facts', class: 'muted' });
    head.after(factsEl);
  }
  setChildren(factsEl, facts.map(([k, v], i) => [i ? ' · ' : '', `${k}: `, h('strong', {}, v)]));
}

async function loadPlugins() {
  const data = await api(`/hosts/${encodeURIComponent(hostName)}/plugins`);
  plugins = (data && data.plugins) || {};
  const sel = document.getElementById('plugin-select');
  const names = Object.keys(plugins).sort();
  const cur = sel.value || state.plugin;
  setChildren(sel, h('option', { value: '' }, 'All plugins'), names.map((n) => h('option', { value: n, selected: n === cur }, n)));
  renderCards();
}

async function renderHostPage() {
  setChildren(main, h('p', { class: 'muted' }, 'Loading…'));
  const q = new URLSearchParams(location.search);
  state.plugin = q.get('plugin') || '';
  if (RANGES.some(([v]) => v === q.get('range'))) state.range = Number(q.get('range'));
  await loadHost();
  const pluginSel = h('select', { id: 'plugin-select', 'aria-label': 'Plugin' }, h('option', { value: '' }, 'All plugins'));
  const rangeSel = h('select', { id: 'range-select', 'aria-label': 'History range' },
    RANGES.map(([v, l]) => h('option', { value: v, selected: Number(v) === state.range }, l)));
  const autoBox = h('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
  setChildren(main,
    h('p', {}, h('a', { href: '/plugins' }, '‹ All hosts')),
    h('div', { class: 'host-head', id: 'host-head' }),
    h('div', { class: 'toolbar', style: 'margin-top:0.75rem' },
      h('label', {}, 'Plugin ', pluginSel), h('label', {}, 'Range ', rangeSel),
      h('label', {}, autoBox, 'Auto-refresh')),
    h('section', { class: 'panel', id: 'host-alerts', hidden: true, 'aria-label': 'Host alerts' }),
    h('section', { class: 'panel', id: 'host-checks', hidden: true, 'aria-label': 'Host checks' }),
    h('section', { 'aria-labelledby': 'cards-title' },
      h('h2', { id: 'cards-title' }, 'Latest data'),
      h('div', { class: 'plugin-grid', id: 'plugin-cards' })),
    h('section', { class: 'panel', 'aria-labelledby': 'charts-title', style: 'margin-top:1rem' },
      h('h2', { id: 'charts-title' }, 'History'),
      h('p', { class: 'muted', id: 'charts-status', 'aria-live': 'polite' }),
      h('div', { class: 'charts', id: 'charts' })),
    h('details', { class: 'panel', id: 'manage', hidden: true }));
  renderHead();
  if (!host) {
    main.insertBefore(h('p', { class: 'notice error', role: 'alert' }, `Host ${hostName} is not known or not visible to you.`), main.children[1]);
  }
  // The chosen plugin and range live in the URL (?plugin=&range=) so a view can be shared.
  const remember = () => {
    const q = new URLSearchParams();
    if (state.plugin) q.set('plugin', state.plugin);
    if (state.range !== 3600) q.set('range', String(state.range));
    history.replaceState(null, '', `${location.pathname}${q.toString() ? `?${q}` : ''}`);
  };
  pluginSel.addEventListener('change', () => { state.plugin = pluginSel.value; remember(); renderCards(); loadCharts(); });
  rangeSel.addEventListener('change', () => { state.range = Number(rangeSel.value); remember(); loadCharts(); });
  autoBox.addEventListener('change', () => { state.auto = autoBox.checked; });

  await loadPlugins().catch((e) => setChildren(document.getElementById('plugin-cards'), h('p', { class: 'notice error' }, e.message)));
  const checksBox = document.getElementById('host-checks');
  await Promise.all([loadCharts(), renderHostAlerts(), renderManage(), renderHostChecks(checksBox, hostName)]);
  setInterval(() => { if (state.auto) renderHostChecks(checksBox, hostName); }, 30000);

  const redrawCards = throttle(() => renderCards(), 1000);
  stream.on('plugin', (d) => {
    if (!state.auto || d.host !== hostName || !d.plugin) return;
    const known = !!plugins[d.plugin];
    const old = plugins[d.plugin] || {};
    plugins[d.plugin] = { ...old, data: d.data, timestamp: d.timestamp ?? nowSec(), sample_count: (old.sample_count || 0) + 1 };
    if (!known) loadPlugins().catch(() => {}); else redrawCards();
    appendSample(d.plugin, d.timestamp ?? nowSec(), d.data);
  });
  stream.on('host', (d) => {
    if (d.name !== hostName) return;
    host = { ...(host || {}), ...d };
    renderHead();
  });
  stream.on('alert', (d) => { if (d.hostname === hostName || d.host === hostName) renderHostAlerts(); });
  // Seed: auto-refresh every 30 s (covers a closed stream); charts re-read once a minute.
  setInterval(() => { if (state.auto) { loadPlugins().catch(() => {}); renderHostAlerts(); } }, 30000);
  setInterval(() => { if (state.auto && !stream.isOpen()) loadCharts(); }, 60000);
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const c of charts.values()) {
        const w = c.fig.querySelector('.plot').clientWidth;
        if (w > 100) c.plot.setSize({ width: w, height: 180 });
      }
    }, 150);
  });
}

async function start() {
  await initPage('plugins');
  main = document.getElementById('main');
  hostName = hostFromPath();
  try {
    if (hostName) await renderHostPage(); else await renderPicker();
  } catch (e) {
    if (e.status !== 401) setChildren(main, h('p', { class: 'notice error', role: 'alert' }, `Could not load: ${e.message}`));
  }
}

start();
