// Development stand-in for hbd's HTTP side: serves web/ exactly as hbd maps it and
// answers /api/0/* with generated data plus a WebSocket at /ws. Only for working on
// the pages without a server build; the browser tests run against the real hbd.
//   node web/scripts/dev-server.mjs [port] [hosts]      (default 8099, 40 hosts)
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.argv[2] || 8099);
const nHosts = Number(process.argv[3] || 40);
const AUTH = process.env.AUTH === '1';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const PAGES = { '/login': 'login.html', '/live': 'live.html', '/plugins': 'plugins.html', '/alerts': 'alerts.html', '/settings': 'settings.html' };

// The pages' `<!--#include file="NAME" key="value" -->` directives, put in as hbd does
// (include/heartbeat/api/web_files.hpp, docs/WEB.md "Shared page parts").
async function expandIncludes(page) {
  let out = '';
  let pos = 0;
  for (let m; (m = page.slice(pos).match(/<!--#include ([^]*?)-->/)); ) {
    const at = pos + m.index;
    out += page.slice(pos, at);
    const attrs = Object.fromEntries([...m[1].matchAll(/(\S+?)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
    let part = null;
    if (attrs.file && !attrs.file.startsWith('.') && !attrs.file.includes('/')) {
      part = await readFile(join(web, 'partials', attrs.file), 'utf8').catch(() => null);
    }
    out += part === null ? m[0]
      : part.replace(/\n$/, '').replace(/\{\{(.*?)\}\}/g, (all, k) => (Object.hasOwn(attrs, k) ? attrs[k] : all));
    pos = at + m[0].length;
  }
  return out + page.slice(pos);
}

const now = () => Date.now() / 1000;
const states = ['UP', 'UP', 'UP', 'UP', 'UP', 'UP', 'LATE', 'DOWN', 'STOPPED', 'UNKNOWN'];
const hosts = [];
for (let i = 0; i < nHosts; i++) {
  const st = states[i % states.length];
  hosts.push({
    name: `host-${String(i).padStart(5, '0')}.example.org`, dyn: i % 3 === 0, ver: 1, state: st,
    last_seen: now() - (i % 50), role: i % 7 === 3 ? 'monitor' : 'owner',
    connections: [
      { family: 'ipv4', address: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 40000 + (i % 1000), state: st, last_seen: now() - (i % 50), rtt: 0.5 + (i % 37) * 1.3, seq: 1000 + i, lost: i % 5 },
      ...(i % 2 ? [{ family: 'ipv6', address: `fd00::${i.toString(16)}`, port: 40001, state: st === 'UP' ? 'UP' : 'DOWN', last_seen: now() - 3, rtt: 0.7 + (i % 11), seq: 900, lost: 0 }] : []),
    ],
  });
}
const messages = Array.from({ length: 12 }, (_, i) => ({ time: now() - i * 60, host: hosts[i % hosts.length]?.name, msg: i % 3 ? 'heartbeat received' : 'boot' }));
function sample(t, k) {
  return {
    cpu_monitor: { cpu_percent: 30 + 20 * Math.sin(t / 300 + k), load_1min: 1 + Math.abs(Math.sin(t / 900)), load_5min: 1.2, load_15min: 1.1 },
    memory_monitor: { percent: 60 + 5 * Math.cos(t / 600), available_mb: 4096 + 100 * Math.sin(t / 100), total_mb: 16384, swap_percent: 2 },
    disk_monitor: { partitions: { '/': { percent: 71.5, free_gb: 40.2, total_gb: 120 }, '/var': { percent: 88.1, free_gb: 5.1, total_gb: 50 } } },
    zfs_monitor: { pools: { tank: { health: 'ONLINE', capacity: 63, fragmentation: 12, size_bytes: 8e12, alloc_bytes: 5e12, free_bytes: 3e12 }, backup: { health: 'DEGRADED', capacity: 91, fragmentation: 40, size_bytes: 4e12, alloc_bytes: 3.6e12, free_bytes: 0.4e12 } } },
    system_info: { os: 'Debian GNU/Linux 12', kernel: '6.1.0-18-amd64', cpus: 8, uptime_seconds: 123456 },
  };
}
const alerts = [
  { hostname: hosts[0]?.name, metric_path: 'cpu_monitor.cpu_percent', level: 'CRITICAL', since: now() - 4000, last_value: 95.5, last_check: now() - 5, notification_count: 3 },
  { hostname: hosts[1]?.name, metric_path: 'memory_monitor.percent', level: 'WARNING', since: now() - 300, last_value: 88.2, last_check: now() - 5, notification_count: 1 },
  { hostname: hosts[3]?.name, metric_path: 'rtt.' + hosts[3]?.name, level: 'UNKNOWN', since: now() - 30, last_value: null, last_check: now() - 30, notification_count: 0 },
];
const users = [{ username: 'alice', full_name: 'Alice Smith', admin: true, notification_channels: ['mail'] }, { username: 'carol', full_name: 'Carol', admin: false }];
const config = {
  hb_port: 50003, hbd_port: 50004, ws_port: 50005, interval: 30, grace: 15,
  users: { alice: { full_name: 'Alice Smith', password: '***', admin: true } },
  notifiers: { mail: { type: 'email', smtp_host: 'localhost', password: '***', to: ['ops@example.org'] } },
  thresholds: { rtt: { [hosts[3]?.name]: { warning: 100, critical: 500 } }, cpu_monitor: { cpu_percent: { warning: 80, critical: 90, operator: '>', hysteresis: 0.02 } }, disk_monitor: { partitions: { '/': { percent: { warning: 80, critical: 90 } } } } },
  threshold_configs: { tight_cpu: { thresholds: { cpu_monitor: { cpu_percent: { warning: 60, critical: 75 } } } } },
  threshold_renotify_interval: 3600,
  maintenance: [{ hosts: [hosts[2]?.name], start: '2026-11-23T02:00:00Z', end: '2026-11-23T04:00:00Z', reason: 'kernel upgrade' }],
};

const sockets = new Set();
function wsSend(obj) {
  const payload = Buffer.from(JSON.stringify(obj));
  let header;
  if (payload.length < 126) header = Buffer.from([0x81, payload.length]);
  else if (payload.length < 65536) { header = Buffer.alloc(4); header[0] = 0x81; header[1] = 126; header.writeUInt16BE(payload.length, 2); }
  else { header = Buffer.alloc(10); header[0] = 0x81; header[1] = 127; header.writeBigUInt64BE(BigInt(payload.length), 2); }
  for (const s of sockets) s.write(Buffer.concat([header, payload]));
}

function json(res, code, body, headers = {}) {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// GET /api/0/hosts?q=&state=&role=&sort=&order=&limit=&offset= as hbd answers it (docs/API.md),
// simply: the whole list filtered and sorted per request.
const STATE_RANK = { DOWN: 0, LATE: 1, UNKNOWN: 2, STOPPED: 3, UP: 4 };
const SORT_KEYS = {
  name: () => 0,
  state: (x) => STATE_RANK[x.state] ?? 9,
  ipv4: (x) => { const c = x.connections.find((k) => k.family === 'ipv4'); return c ? STATE_RANK[c.state] : 10; },
  ipv6: (x) => { const c = x.connections.find((k) => k.family === 'ipv6'); return c ? STATE_RANK[c.state] : 10; },
  rtt: (x) => Math.min(...x.connections.map((c) => c.rtt)),
  loss: (x) => x.connections.reduce((a, c) => a + c.lost, 0) / x.connections.reduce((a, c) => a + c.seq, 0),
  last_seen: (x) => -x.last_seen,
};
function hostsPage(res, qp) {
  const key = SORT_KEYS[qp.get('sort') || 'name'];
  if (!key) return json(res, 400, { error: 'sort must be one of ' + Object.keys(SORT_KEYS).join(', ') });
  const q = (qp.get('q') || '').toLowerCase();
  const dir = qp.get('order') === 'desc' ? -1 : 1;
  const managed = qp.get('role') === 'manager' || qp.get('role') === 'owner';
  const counts = { UP: 0, LATE: 0, DOWN: 0, STOPPED: 0, UNKNOWN: 0 };
  const list = hosts.filter((x) => (!managed || x.role !== 'monitor') && x.name.toLowerCase().includes(q))
    .filter((x) => { counts[x.state]++; return !qp.get('state') || x.state === qp.get('state'); })
    .map((x) => [key(x), x.name, x])
    // Ties by name, ascending either way (sort=name: the key is the same for every host).
    .sort((a, b) => (a[0] < b[0] ? -dir : a[0] > b[0] ? dir : (a[1] < b[1] ? -1 : 1) * (key === SORT_KEYS.name ? dir : 1)))
    .map((k) => k[2]);
  const offset = Number(qp.get('offset') || 0);
  const limit = Number(qp.get('limit') || list.length);
  return json(res, 200, list.slice(offset, offset + limit), {
    'X-Total-Count': String(list.length),
    'X-State-Counts': Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(','),
  });
}

async function apiRoute(req, res, url) {
  const p = url.pathname.slice('/api/0'.length);
  const authed = !AUTH || (req.headers.cookie || '').includes('hb_session=ok');
  if (p === '/auth/login' && req.method === 'POST') {
    let body = '';
    for await (const c of req) body += c;
    const b = JSON.parse(body || '{}');
    if (b.username === 'alice' && b.password === 'secret') {
      res.setHeader('Set-Cookie', 'hb_session=ok; Path=/; HttpOnly; SameSite=Strict');
      return json(res, 200, { token: 'ok', username: 'alice' });
    }
    return json(res, 401, { error: 'invalid username or password' });
  }
  if (!authed) return json(res, 401, { error: 'login required' });
  if (p === '/auth/logout') { res.setHeader('Set-Cookie', 'hb_session=; Path=/; Max-Age=0'); return json(res, 200, {}); }
  if (p === '/me') return json(res, 200, AUTH ? { username: 'alice', full_name: 'Alice Smith', admin: true, auth_enabled: true } : { username: null, admin: true, auth_enabled: false });
  if (p === '/hosts') return url.search ? hostsPage(res, url.searchParams) : json(res, 200, hosts);
  if (p === '/messages') return json(res, 200, messages);
  if (p === '/alerts') {
    const active = alerts.filter((a) => a.level !== 'OK');
    const c = (l) => active.filter((a) => a.level === l).length;
    return json(res, 200, { alerts: active, summary: { critical: c('CRITICAL'), warning: c('WARNING'), unknown: c('UNKNOWN'), total: active.length }, host_count: hosts.length });
  }
  if (p === '/config') return json(res, 200, config);
  if (p === '/users') return json(res, 200, users);
  if (p === '/maintenance') return json(res, 200, { windows: config.maintenance.map((w) => ({ ...w, active: false })) });
  let m = p.match(/^\/hosts\/([^/]+)\/plugins$/);
  if (m) {
    const name = decodeURIComponent(m[1]);
    if (!hosts.find((x) => x.name === name)) return json(res, 404, { error: `Host '${name}' not found` });
    const t = now();
    const s = sample(t, 0);
    return json(res, 200, { hostname: name, plugins: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, { timestamp: t - 3, data: v, sample_count: 100 }])) });
  }
  m = p.match(/^\/hosts\/([^/]+)\/plugins\/([^/]+)$/);
  if (m) {
    const name = decodeURIComponent(m[1]);
    const plugin = decodeURIComponent(m[2]);
    const limit = Number(url.searchParams.get('limit') || 10);
    const since = Number(url.searchParams.get('since') || 0);
    const t = now();
    const samples = [];
    for (let i = 0; i < limit; i++) {
      const ts = t - i * 30;
      if (since && ts < since) break;
      samples.push({ timestamp: ts, data: sample(ts, 0)[plugin] || {} });
    }
    return json(res, 200, { hostname: name, plugin, samples, sample_count: samples.length });
  }
  m = p.match(/^\/hosts\/([^/]+)\/alerts$/);
  if (m) {
    const name = decodeURIComponent(m[1]);
    return json(res, 200, { hostname: name, alerts: alerts.filter((a) => a.hostname === name), summary: { ok: 3, warning: 0, critical: 0, unknown: 0 } });
  }
  m = p.match(/^\/hosts\/([^/]+)\/alerts\/ack$/);
  if (m && req.method === 'POST') return json(res, 200, { ok: true });
  m = p.match(/^\/hosts\/([^/]+)\/access$/);
  if (m) return json(res, 200, { owner: 'alice', managers: ['bob'], monitors: ['carol'] });
  return json(res, 404, { error: 'not found' });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname.startsWith('/api/0/')) return await apiRoute(req, res, url);
    if (url.pathname === '/') { res.writeHead(302, { Location: '/live' }); return res.end(); }
    let file = PAGES[url.pathname];
    if (!file && url.pathname.startsWith('/plugins/')) file = 'plugins.html';
    if (!file && url.pathname.startsWith('/static/')) file = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
    if (!file || file.includes('..')) { res.writeHead(404); return res.end('not found'); }
    let body = await readFile(join(web, file));
    if (extname(file) === '.html' && !file.includes('/')) body = await expandIncludes(body.toString('utf8'));
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(body);
  } catch (e) {
    res.writeHead(404); res.end(String(e.message));
  }
});
server.on('upgrade', (req, socket) => {
  if (!req.url.startsWith('/ws')) return socket.destroy();
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => sockets.delete(socket));
  socket.on('data', (d) => { if ((d[0] & 0x0f) === 8) socket.end(); });
});
let tick = 0;
setInterval(() => {
  tick++;
  const x = hosts[tick % hosts.length];
  if (!x) return;
  x.last_seen = now();
  x.connections[0].rtt = 0.5 + Math.random() * 20;
  wsSend({ type: 'host', data: x });
  wsSend({ type: 'plugin', data: { host: hosts[0].name, plugin: 'cpu_monitor', data: sample(now(), 0).cpu_monitor, timestamp: now() } });
  if (tick % 5 === 0) {
    const m = { time: now(), host: x.name, msg: `message ${tick}` };
    messages.unshift(m); messages.length = Math.min(messages.length, 30);
    wsSend({ type: 'message', data: m });
  }
}, 2000);
server.listen(port, '127.0.0.1', () => console.log(`dev server on http://127.0.0.1:${port}/live (${nHosts} hosts${AUTH ? ', auth: alice/secret' : ''})`));
