// Active checks in the web UI, shared by the Services page and the host page: status badges,
// the checks table (status, response time, last run, last error, a Run now button) and the
// response-time chart of a check's recent results (uPlot, loaded on first use: without it the
// chart's place holds a note and the rest of the page still renders). Main thread only.
import { api } from './api.js';
import { h, setChildren, fmtAgo, fmtNumber, fmtTime } from './util.js';

/** The badge class of a check or service status: passing, warning, failing (with its level), unknown. */
export function statusClass(status, level) {
  if (status === 'passing') return 'level-OK';
  if (status === 'warning') return 'level-WARNING';
  if (status === 'failing') return level === 'WARNING' ? 'level-WARNING' : 'level-CRITICAL';
  return 'level-UNKNOWN';
}

export function statusBadge(status, level) {
  const text = status === 'failing' && level ? `failing (${level})` : status || 'unknown';
  return h('span', { class: `badge ${statusClass(status, level)}`, 'data-status': status || 'unknown' }, text);
}

// The chart library, imported once when the first chart is drawn; resolves to null when missing.
let chartLibrary = null;
function loadChartLibrary() {
  if (!chartLibrary) {
    chartLibrary = import('/static/vendor/uPlot.esm.js').then((m) => m.default).catch(() => null);
  }
  return chartLibrary;
}

const fmtMs = (v) => (typeof v === 'number' ? `${fmtNumber(v)} ms` : '–');

/** Response times of a check's history as a small uPlot chart (failed runs as gaps). */
export function responseChart(check) {
  const hist = check.history || [];
  const fig = h('figure', { class: 'chart check-chart', 'data-check': check.name });
  const xs = hist.map((r) => r.checked_at);
  const ys = hist.map((r) => (r.succeeded && typeof r.response_ms === 'number' ? r.response_ms : null));
  const shown = ys.filter((v) => v !== null);
  fig.dataset.points = String(shown.length);
  fig.setAttribute('role', 'img');
  fig.setAttribute('aria-label', shown.length
    ? `${check.name} response time: ${shown.length} runs, latest ${fmtMs(shown[shown.length - 1])}`
    : `${check.name} response time: no successful run yet`);
  const box = h('div', { class: 'plot' });
  fig.append(h('figcaption', {}, `${check.name} response time (ms)`), box);
  if (!xs.length) return fig;
  const cs = getComputedStyle(document.documentElement);
  const v = (n) => cs.getPropertyValue(n).trim();
  // Drawn once the library is there and the figure is in the document (uPlot needs its width).
  loadChartLibrary().then((uPlot) => requestAnimationFrame(() => {
    if (!uPlot) {
      box.append(h('p', { class: 'notice chart-unavailable', role: 'note' },
        'Chart not available: the chart library (static/vendor/uPlot.esm.js) is not installed on the server.'));
      return;
    }
    const width = Math.max(240, box.clientWidth || 320);
    // eslint-disable-next-line no-new
    new uPlot({
      width, height: 120, legend: { show: false }, scales: { x: { time: true } },
      axes: [{ stroke: v('--muted'), grid: { stroke: v('--border') } },
        { stroke: v('--muted'), grid: { stroke: v('--border') }, size: 50, values: (u, vals) => vals.map((x) => fmtNumber(x)) }],
      series: [{}, { label: 'ms', stroke: v('--accent'), fill: `${v('--accent')}22`, width: 1.5, spanGaps: false, points: { show: xs.length < 40, size: 4 } }],
    }, [xs, ys], box);
  }));
  return fig;
}

/** Runs a check now; resolves to the run's result. */
export function runCheck(name) {
  return api(`/checks/${encodeURIComponent(name)}/run`, { method: 'POST', body: {} });
}

// What the last manual run of each check said (kept across redraws of the tables).
const lastRun = new Map();

/** A table of checks; `onChange` is called after a manual run. */
export function checksTable(checks, { caption = 'Checks', onChange = null } = {}) {
  if (!checks.length) return h('p', { class: 'muted' }, 'No checks.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'checks' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ['Status', 'Check', 'Response', 'Last run', 'Last error', ''].map((c, i) =>
      h('th', { scope: 'col', class: i === 2 ? 'num' : null }, c || h('span', { class: 'visually-hidden' }, 'Actions'))))),
    h('tbody', {}, checks.map((c) => {
      const msg = h('span', { class: 'muted run-result', role: 'status' }, lastRun.get(c.name) || '');
      const btn = h('button', { type: 'button', class: 'run-check', 'aria-label': `Run ${c.name} now` }, 'Run now');
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        msg.textContent = 'running…';
        try {
          const r = await runCheck(c.name);
          msg.textContent = r.succeeded ? `passed (${fmtMs(r.response_ms)})` : `failed: ${r.error}`;
          lastRun.set(c.name, msg.textContent);
          if (onChange) onChange();
        } catch (e) {
          msg.textContent = e.message;
        } finally {
          btn.disabled = false;
        }
      });
      return h('tr', { 'data-check': c.name, 'data-status': c.status },
        h('td', {}, statusBadge(c.status, c.level)),
        h('td', {}, h('strong', {}, c.name), h('div', { class: 'muted' }, c.description || c.type)),
        h('td', { class: 'num' }, fmtMs(c.response_ms)),
        h('td', { title: fmtTime(c.last_run) }, c.last_run ? fmtAgo(c.last_run) : 'not yet'),
        h('td', { class: 'check-error' }, c.error || ''),
        h('td', {}, btn, ' ', msg));
    }))));
}

/** The checks of one host, for the host page (hidden when it has none). */
export async function renderHostChecks(box, host) {
  let data;
  try { data = await api('/checks'); } catch { box.hidden = true; return; }
  const mine = ((data && data.checks) || []).filter((c) => c.host === host);
  box.hidden = !mine.length;
  if (!mine.length) return;
  setChildren(box, h('h2', {}, 'Checks'), checksTable(mine, { caption: `Checks of ${host}`, onChange: () => renderHostChecks(box, host) }));
}
