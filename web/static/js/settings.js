// The /settings page: the server configuration (secrets masked by the server),
// the threshold configuration, maintenance windows, duty rotas, the hbd nodes of a
// cluster (which one is the leader), and user management for admins.
// Non-admins see their account and what the server lets them read. Main thread only.
import { api } from './api.js';
import { initPage } from './nav.js';
import { h, setChildren, fmtDuration, fmtTime } from './util.js';

let main;
let me;

function section(id, title, ...body) {
  return h('section', { class: 'panel', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...body);
}

function isMasked(v) { return typeof v === 'string' && /^\*{3,}$/.test(v); }

/** Collapsible tree of a JSON value; masked secrets shown as "hidden". */
function tree(value, key = null, depth = 0) {
  if (value && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const label = key === null ? 'configuration' : key;
    return h('details', { open: depth < 1 },
      h('summary', {}, h('span', { class: 'key' }, label), h('span', { class: 'muted' }, Array.isArray(value) ? ` [${entries.length}]` : ` {${entries.length}}`)),
      entries.map(([k, v]) => tree(v, k, depth + 1)));
  }
  return h('div', { class: 'leaf' }, h('span', { class: 'key' }, key), ': ',
    isMasked(value) ? h('span', { class: 'masked', title: 'secret, not shown' }, 'hidden') : h('span', {}, JSON.stringify(value)));
}

const RULE_KEYS = ['warning', 'critical', 'operator', 'hysteresis', 'display'];
function isRule(v) { return v && typeof v === 'object' && !Array.isArray(v) && RULE_KEYS.some((k) => k in v) && Object.values(v).every((x) => x === null || typeof x !== 'object'); }

/** Flatten a thresholds tree into [{path, rule}] ("disk_monitor.partitions./.percent"). */
function rules(obj, prefix = '', out = []) {
  if (!obj || typeof obj !== 'object') return out;
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (isRule(v)) out.push({ path: p, rule: v });
    else if (v && typeof v === 'object') rules(v, p, out);
  }
  return out;
}

function rulesTable(list, caption) {
  if (!list.length) return h('p', { class: 'muted' }, 'No thresholds.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'thresholds' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ['Metric path', 'Warning', 'Critical', 'Operator', 'Hysteresis', 'Display'].map((c, i) => h('th', { scope: 'col', class: [1, 2, 4].includes(i) ? 'num' : null }, c)))),
    h('tbody', {}, list.map(({ path, rule }) => h('tr', {},
      h('td', {}, h('code', {}, path)),
      h('td', { class: 'num' }, rule.warning ?? '–'), h('td', { class: 'num' }, rule.critical ?? '–'),
      h('td', {}, rule.operator ?? '>'), h('td', { class: 'num' }, rule.hysteresis ?? '–'),
      h('td', {}, rule.display ? h('code', {}, rule.display) : ''))))));
}

function thresholdsSection(cfg) {
  const body = [];
  if (cfg.threshold_renotify_interval !== undefined && cfg.threshold_renotify_interval !== null) {
    body.push(h('p', {}, 'Reminders for ongoing alerts every ', h('strong', {}, fmtDuration(Number(cfg.threshold_renotify_interval))), '.'));
  }
  body.push(h('h3', {}, 'Default thresholds'), rulesTable(rules(cfg.thresholds || {}), 'Default thresholds'));
  for (const [name, prof] of Object.entries(cfg.threshold_configs || {})) {
    body.push(h('h3', {}, `Profile ${name}`), rulesTable(rules((prof && prof.thresholds) || prof || {}), `Profile ${name}`));
  }
  const hostProfiles = Object.entries(cfg.hosts || {}).filter(([, x]) => x && x.threshold_config);
  if (hostProfiles.length) {
    body.push(h('h3', {}, 'Hosts with profiles'), h('ul', {}, hostProfiles.map(([n, x]) => h('li', {}, h('code', {}, n), ': ',
      [].concat(x.threshold_config).join(' → ')))));
  }
  return section('thresholds', 'Thresholds', body);
}

function fmtWhen(v) {
  if (typeof v === 'number') return fmtTime(v);
  return v ?? '–';
}

function maintenanceSection(windows) {
  if (!windows || !windows.length) return section('maintenance', 'Maintenance windows', h('p', { class: 'muted' }, 'No maintenance windows configured.'));
  return section('maintenance', 'Maintenance windows',
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Hosts', 'Start', 'End', 'Reason', 'Active'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, windows.map((w) => h('tr', {},
        h('td', {}, Array.isArray(w.hosts) ? w.hosts.join(', ') : String(w.hosts ?? w.host ?? 'all hosts')),
        h('td', {}, fmtWhen(w.start ?? w.from)), h('td', {}, fmtWhen(w.end ?? w.until)),
        h('td', {}, w.reason ?? w.comment ?? ''),
        h('td', {}, w.active === undefined ? '–' : (w.active ? h('span', { class: 'badge state-LATE' }, 'active') : 'no'))))))));
}

/** The hbd nodes sharing one PostgreSQL (GET /api/0/cluster), the leader marked. */
function clusterSection(c) {
  const nodes = (c && c.nodes) || [];
  const lease = c && typeof c.lease_expires === 'number'
    ? h('p', {}, 'Leader ', h('strong', {}, c.leader), ', lease until ', fmtTime(c.lease_expires), '.')
    : h('p', { class: 'muted' }, c && c.leader ? `Leader ${c.leader} (a single node).` : 'No node holds the lease right now: notifications wait for one.');
  return section('cluster', 'Cluster', lease,
    h('div', { class: 'table-wrap' }, h('table', { id: 'cluster-table' },
      h('thead', {}, h('tr', {}, ['Node', 'Role', 'Last seen', 'Version'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, nodes.map((n) => h('tr', { 'data-node': n.name },
        h('td', {}, n.name), h('td', {}, n.leader ? h('span', { class: 'badge state-UP' }, 'leader') : 'follower'),
        h('td', {}, n.last_seen ? fmtTime(n.last_seen) : '–'), h('td', {}, n.version || '')))))));
}

// ---------- users (admin) ----------

function status() { return h('p', { class: 'notice', role: 'status', hidden: true }); }
function say(el, cls, text) { el.hidden = false; el.className = `notice ${cls}`; el.textContent = text; }

/** Duty rotas: who is on duty now and who takes over when. */
function rotasSection(rotas) {
  return section('rotas', 'Duty rotas', h('div', { class: 'table-wrap' }, h('table', { class: 'rotas' },
    h('caption', { class: 'visually-hidden' }, 'Duty rotas'),
    h('thead', {}, h('tr', {}, ['Rota', 'On duty', 'Next', 'Turn', 'Shift'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rotas.map((r) => h('tr', { 'data-rota': r.name },
      h('td', {}, r.name),
      h('td', { class: 'on-duty' }, h('strong', {}, r.on_duty || '–')),
      h('td', { class: 'next' }, r.next ? `${r.next.user} from ${fmtTime(r.next.at)}` : '–'),
      h('td', {}, (r.users || []).join(' → ')),
      h('td', {}, `${fmtDuration(r.shift)} (${r.timezone || 'UTC'})`)))))));
}

async function usersSection() {
  const box = section('users', 'Users');
  const msg = status();
  const tbody = h('tbody', { id: 'users-body' });
  const load = async () => {
    let data;
    try { data = await api('/users'); } catch (e) { say(msg, 'error', `Could not load users: ${e.message}`); return; }
    const list = Array.isArray(data) ? data : (data && data.users) || Object.entries(data || {}).map(([username, u]) => ({ username, ...u }));
    setChildren(tbody, list.map((u) => {
      const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete user ${u.username}` }, 'Delete');
      del.addEventListener('click', async () => {
        if (!window.confirm(`Delete user ${u.username}?`)) return;
        try { await api(`/users/${encodeURIComponent(u.username)}`, { method: 'DELETE' }); say(msg, 'ok', `Deleted ${u.username}.`); load(); } catch (e) { say(msg, 'error', e.message); }
      });
      const adminBox = h('input', { type: 'checkbox', checked: !!u.admin, 'aria-label': `${u.username} is admin`, disabled: u.username === me.username });
      adminBox.addEventListener('change', async () => {
        try { await api(`/users/${encodeURIComponent(u.username)}`, { method: 'PUT', body: { admin: adminBox.checked } }); say(msg, 'ok', `Saved ${u.username}.`); } catch (e) { adminBox.checked = !adminBox.checked; say(msg, 'error', e.message); }
      });
      const pw = h('button', { type: 'button', 'aria-label': `Set password of ${u.username}` }, 'Set password');
      pw.addEventListener('click', async () => {
        const p = window.prompt(`New password for ${u.username}`);
        if (!p) return;
        try { await api(`/users/${encodeURIComponent(u.username)}`, { method: 'PUT', body: { password: p } }); say(msg, 'ok', `Password of ${u.username} changed.`); } catch (e) { say(msg, 'error', e.message); }
      });
      const channels = h('input', { value: (u.notification_channels || []).join(', '), size: 18, 'aria-label': `Notification channels of ${u.username}`, placeholder: 'notifier names' });
      channels.addEventListener('change', async () => {
        const list = channels.value.split(/[\s,]+/).filter(Boolean);
        try { await api(`/users/${encodeURIComponent(u.username)}`, { method: 'PUT', body: { notification_channels: list } }); say(msg, 'ok', `Saved channels of ${u.username}.`); } catch (e) { say(msg, 'error', e.message); }
      });
      return h('tr', { 'data-user': u.username },
        h('td', {}, u.username), h('td', {}, u.full_name || ''), h('td', {}, adminBox),
        h('td', {}, channels),
        h('td', {}, pw, ' ', u.username === me.username ? null : del));
    }));
  };
  const form = h('form', { id: 'add-user', 'aria-label': 'Add a user' },
    h('h3', {}, 'Add a user'),
    h('div', { class: 'form-grid' },
      h('label', { for: 'nu-name' }, 'User name'), h('input', { id: 'nu-name', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9._-]+' }),
      h('label', { for: 'nu-full' }, 'Full name'), h('input', { id: 'nu-full', autocomplete: 'off' }),
      h('label', { for: 'nu-pass' }, 'Password'), h('input', { id: 'nu-pass', type: 'password', required: true, autocomplete: 'new-password' }),
      h('label', { for: 'nu-admin' }, 'Administrator'), h('input', { id: 'nu-admin', type: 'checkbox', style: 'justify-self:start' })),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { username: form.querySelector('#nu-name').value.trim(), full_name: form.querySelector('#nu-full').value.trim(), password: form.querySelector('#nu-pass').value, admin: form.querySelector('#nu-admin').checked };
    if (!body.username || !body.password) { say(msg, 'error', 'User name and password are required.'); return; }
    try { await api('/users', { method: 'POST', body }); say(msg, 'ok', `Added ${body.username}.`); form.reset(); load(); } catch (e) { say(msg, 'error', e.message); }
  });
  if (!me.auth_enabled) box.append(h('p', { class: 'notice' }, 'The server is open (no users). Adding a user turns on authentication: you will have to log in.'));
  box.append(h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' },
    h('thead', {}, h('tr', {}, ['User', 'Full name', 'Admin', 'Notification channels', h('span', { class: 'visually-hidden' }, 'Actions')].map((c) => h('th', { scope: 'col' }, c)))), tbody)),
  msg, form);
  await load();
  return box;
}

async function start() {
  me = await initPage('settings');
  main = document.getElementById('main');
  const parts = [h('h1', {}, 'Settings')];
  parts.push(section('account', 'Account',
    me.auth_enabled
      ? h('p', {}, 'Logged in as ', h('strong', {}, me.username || '?'), me.full_name ? ` (${me.full_name})` : '', me.admin ? ' · administrator' : '')
      : h('p', {}, 'No users are configured: the server is open and everyone has full access.')));

  let cfg = null;
  let cfgError = null;
  try { cfg = await api('/config'); } catch (e) {
    cfgError = e;
    // Older servers: /api/0/settings carries the non-secret settings only.
    if (e.status === 404) { try { cfg = await api('/settings'); cfgError = null; } catch (e2) { cfgError = e2; } }
  }
  // Non-admins may not read /config (403): the thresholds come from the non-secret /settings.
  let publicSettings = null;
  if (!cfg && cfgError && cfgError.status === 403) { try { publicSettings = await api('/settings'); } catch { /* none */ } }
  let windows = null;
  try {
    const m = await api('/maintenance');
    windows = Array.isArray(m) ? m : (m && m.windows) || [];
  } catch {
    if (cfg) windows = Array.isArray(cfg.maintenance) ? cfg.maintenance : [];
  }

  if (cfg) {
    parts.push(section('server-config', 'Server configuration',
      h('p', { class: 'muted' }, 'Effective configuration; secrets are masked by the server.'),
      h('div', { class: 'tree' }, tree(cfg))));
    parts.push(thresholdsSection(cfg));
  } else {
    parts.push(section('server-config', 'Server configuration',
      h('p', { class: 'muted' }, cfgError && cfgError.status === 403 ? 'Only administrators can see the server configuration.' : `Not available (${cfgError ? cfgError.message : 'no data'}).`)));
    if (publicSettings) parts.push(thresholdsSection(publicSettings));
  }
  if (windows) parts.push(maintenanceSection(windows));
  try {
    const r = await api('/rotas');
    if (r && r.rotas && r.rotas.length) parts.push(rotasSection(r.rotas));
  } catch { /* a server without checks */ }
  try { parts.push(clusterSection(await api('/cluster'))); } catch { /* older servers: no cluster status */ }
  setChildren(main, parts);
  if (me.admin) main.appendChild(await usersSection());
}

start();
