// The /events page: "why was I (not) notified?" as a timeline of every alert transition and
// notification outcome (sent, retried, failed, fell back, suppressed with its reason,
// escalated, partition) from /api/0/events, newest first, with filters that live in the URL
// (/alerts links here with ?host=&metric=). Refreshes on alert events of the stream and every
// 30 s. Main thread only.
import { api } from './api.js';
import { initPage } from './nav.js';
import * as stream from './stream.js';
import { h, setChildren, fmtTime, fmtAgo, hostUrl, throttle } from './util.js';

const KINDS = ['alert', 'reminder', 'acknowledged', 'host_down', 'host_up', 'host_stopped', 'channel_failure', 'digest', 'partition'];
const RESULTS = ['notify', 'silent', 'suppressed', 'sent', 'retried', 'failed', 'fell_back', 'dropped', 'escalated', 'partition', 'partition_over'];
const FIELDS = ['host', 'metric', 'kind', 'result', 'since', 'until', 'limit'];

let form;

/** The filters from the URL: {host, metric, kind, result, since, until, limit} (strings). */
function filtersFromUrl() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of FIELDS) f[k] = q.get(k) || '';
  return f;
}

// <input type="datetime-local"> values are local wall-clock time; the API wants Unix seconds.
function toLocalInput(unix) {
  if (!unix) return '';
  const d = new Date(Number(unix) * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(v) {
  if (!v) return '';
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? String(Math.floor(t / 1000)) : '';
}

function readForm() {
  const v = (name) => form.elements[name].value.trim();
  return {
    host: v('host'), metric: v('metric'), kind: v('kind'), result: v('result'),
    since: fromLocalInput(v('since')), until: fromLocalInput(v('until')), limit: v('limit'),
  };
}

function query(f) {
  const q = new URLSearchParams();
  for (const k of FIELDS) if (f[k]) q.set(k, f[k]);
  return q.toString();
}

function badge(cls, text) { return h('span', { class: `badge ${cls}` }, text); }

function item(e) {
  const who = [e.user ? `user ${e.user}` : null, e.channel ? `via ${e.channel}` : null].filter(Boolean).join(' ');
  const why = [e.reason, e.error ? `error: ${e.error}` : null].filter(Boolean).join(' · ');
  return h('li', { 'data-id': e.id, 'data-kind': e.kind, 'data-result': e.result, 'data-host': e.host || '', 'data-metric': e.metric_path || '' },
    h('time', { datetime: new Date(e.time * 1000).toISOString(), title: fmtAgo(e.time) }, fmtTime(e.time)),
    h('div', { class: 'what' },
      badge(`result-${e.result}`, e.result.replace('_', ' ')),
      badge('', e.kind.replace('_', ' ')),
      e.host ? h('a', { href: hostUrl(e.host) }, e.host) : h('span', { class: 'muted' }, '(all hosts)'),
      e.metric_path ? h('code', {}, e.metric_path) : null,
      h('span', { class: 'text' }, e.text || ''),
      who ? h('span', { class: 'muted' }, who) : null),
    why ? h('div', { class: 'why' }, why) : null);
}

async function load() {
  const f = readForm();
  const info = document.getElementById('events-info');
  const list = document.getElementById('timeline');
  let data;
  try {
    data = await api(`/events${query(f) ? `?${query(f)}` : ''}`);
  } catch (e) {
    setChildren(list, h('li', {}, h('span', { class: 'notice error', role: 'alert' }, e.message)));
    info.textContent = '';
    return;
  }
  const events = (data && data.events) || [];
  setChildren(list, events.length ? events.map(item) : h('li', { class: 'muted' }, 'No event matches the filters.'));
  info.textContent = `${events.length} event${events.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
}

const refresh = throttle(load, 2000);

async function start() {
  await initPage('events');
  const f = filtersFromUrl();
  const select = (name, label, values) => h('label', {}, label,
    h('select', { name, id: `ev-${name}` }, h('option', { value: '' }, 'any'),
      values.map((v) => h('option', { value: v, selected: v === f[name] }, v.replace('_', ' ')))));
  const text = (name, label, extra = {}) => h('label', {}, label, h('input', { name, id: `ev-${name}`, value: f[name], ...extra }));
  form = h('form', { class: 'toolbar', 'aria-label': 'Event filters', role: 'search' },
    text('host', 'Host', { placeholder: 'any', size: 14 }),
    text('metric', 'Metric', { placeholder: 'any', size: 22 }),
    select('kind', 'Kind', KINDS),
    select('result', 'Result', RESULTS),
    h('label', {}, 'Since', h('input', { type: 'datetime-local', name: 'since', id: 'ev-since', value: toLocalInput(f.since) })),
    h('label', {}, 'Until', h('input', { type: 'datetime-local', name: 'until', id: 'ev-until', value: toLocalInput(f.until) })),
    text('limit', 'Limit', { type: 'number', min: 1, max: 1000, placeholder: '100', style: 'width:5.5rem' }),
    h('button', { type: 'submit', class: 'primary', id: 'ev-apply' }, 'Show'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = query(readForm());
    history.replaceState(null, '', q ? `/events?${q}` : '/events');
    load();
  });
  for (const name of ['kind', 'result']) form.elements[name].addEventListener('change', () => form.requestSubmit());
  setChildren(document.getElementById('main'),
    h('h1', {}, 'Events'),
    h('p', { class: 'muted' }, 'Every alert transition and what became of each notification: sent, retried, failed, fell back, suppressed (with the reason), escalated, partition.'),
    h('section', { class: 'panel', 'aria-labelledby': 'events-title' },
      h('h2', { id: 'events-title' }, 'Timeline'),
      form,
      h('ol', { class: 'timeline', id: 'timeline', 'aria-live': 'polite' }),
      h('p', { class: 'muted', id: 'events-info' })));
  await load();
  stream.on('alert', () => refresh());
  setInterval(load, 30000);
}

start();
