// Browser-test harness: starts a REAL hbd on free loopback ports with a generated
// config, feeds it heartbeat/plugin datagrams over UDP (node:dgram), and drives
// Debian's Chromium through playwright-core. Everything started here is stopped by
// stop() (the tests call it from `after`, also on failure).
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOURCE_DIR = process.env.HB_SOURCE_DIR || new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
// playwright-core lives in web/node_modules (ctest also sets NODE_PATH there, which ES
// imports ignore): resolve it as web/'s own dependency.
const { chromium } = createRequire(join(SOURCE_DIR, 'web', 'package.json'))('playwright-core');
export const BUILD_DIR = process.env.HB_BUILD_DIR || join(SOURCE_DIR, 'build');
export const ARTIFACTS = join(SOURCE_DIR, 'tests', 'artifacts', 'browser');
export const CHROMIUM = process.env.HB_CHROMIUM || '/usr/bin/chromium';

// Flags known to work here: no sandbox as root, and no background traffic (the
// machine's network is closed; Chromium would otherwise retry Google's hosts).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `hbd passwd USER` with the password on stdin -> the pbkdf2 hash line. */
export function hashPassword(hbd, user, password) {
  const r = spawnSync(hbd, ['passwd', user], { input: `${password}\n`, encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`hbd passwd failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop();
  if (!line.startsWith('pbkdf2:')) throw new Error(`unexpected hbd passwd output: ${r.stdout}`);
  return line;
}

export class Hbd {
  /** config: extra server config keys (users, hosts, thresholds...); ports and paths are filled in. */
  constructor(config = {}) {
    this.extra = config;
    this.proc = null;
    this.log = '';
    this.dir = mkdtempSync(join(tmpdir(), 'hb-browser-'));
    this.bin = join(BUILD_DIR, 'hbd');
  }

  async start() {
    if (!existsSync(this.bin)) throw new Error(`${this.bin} not found: build the hbd target first`);
    this.hbPort = await freeUdpPort();
    this.httpPort = await freeTcpPort();
    this.wsPort = await freeTcpPort();
    mkdirSync(join(this.dir, 'journal'), { recursive: true });
    const config = {
      hb_host: '127.0.0.1',
      hb_port: this.hbPort,
      hbd_host: '127.0.0.1',
      hbd_port: this.httpPort,
      ws_port: this.wsPort,
      interval: 30,
      grace: 30,
      web_dir: join(SOURCE_DIR, 'web'),
      state_db: join(this.dir, 'hbd.sqlite'),
      journal_enabled: true,
      journal_dir: join(this.dir, 'journal'),
      logfile: join(this.dir, 'hbd.log'),
      ...this.extra,
    };
    this.configPath = join(this.dir, 'hbd.yaml');
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
    this.proc = spawn(this.bin, ['-f', '-c', this.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, XDG_STATE_HOME: this.dir, HOME: this.dir },
    });
    const collect = (d) => { this.log += d.toString(); if (this.log.length > 200000) this.log = this.log.slice(-100000); };
    this.proc.stdout.on('data', collect);
    this.proc.stderr.on('data', collect);
    this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    this.base = `http://127.0.0.1:${this.httpPort}`;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`hbd exited with ${this.proc.exitCode}:\n${this.log}`);
      try {
        const r = await fetch(`${this.base}/healthz`);
        if (r.ok) { this.udp = createSocket('udp4'); return this; }
      } catch { /* not yet */ }
      await sleep(25);
    }
    throw new Error(`hbd did not answer /healthz within 15 s:\n${this.log}`);
  }

  /** Send one datagram (a protocol message object) to hbd's UDP port. */
  send(msg) {
    const buf = Buffer.from(JSON.stringify(msg));
    return new Promise((resolve, reject) => this.udp.send(buf, this.hbPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  /** A heartbeat from `name`; seq counts per host. */
  htb(name, extra = {}) {
    this.seqs = this.seqs || new Map();
    const seq = (this.seqs.get(name) || 0) + 1;
    this.seqs.set(name, seq);
    return this.send({ ID: 'HTB', name, ver: 1, seq, interval: 30, ts: Date.now() / 1000, agent: 'browser-test/1', ...extra });
  }

  plg(name, plugin, data, ts = Date.now() / 1000) {
    return this.send({ ID: 'PLG', name, plugin, kind: 'monitor', interval: 30, ts, data });
  }

  msg(name, text, event = 'message') {
    return this.send({ ID: 'MSG', name, msg: text, event, ts: Date.now() / 1000 });
  }

  /** GET/POST the API directly (no auth: open mode, or pass a bearer token). */
  async api(path, { method = 'GET', body, token } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(`${this.base}/api/0${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    return { status: r.status, data };
  }

  async stop() {
    if (this.udp) { try { this.udp.close(); } catch { /* closed */ } this.udp = null; }
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
      await this.exited;
      clearTimeout(t);
    }
    if (existsSync(join(this.dir, 'hbd.log'))) this.log += readFileSync(join(this.dir, 'hbd.log'), 'utf8');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll fn until it returns a truthy value or `ms` pass; returns the value or throws, naming `what`
 * and the last value (or error) seen. */
export async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() >= deadline) break;
    await sleep(20);
  }
  const seen = last instanceof Error ? last.message : JSON.stringify(last);
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last seen: ${String(seen).slice(0, 500)})`);
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30000 });
}

/** A suite's teardown: closes the browser and stops hbd (either may be missing if the setup
 * failed); after a failed test the end of hbd's log goes to stderr. */
export async function stopAll(browser, hbd) {
  if (browser) await browser.close().catch(() => {});
  if (hbd) {
    await hbd.stop();
    if (process.exitCode) console.error(`--- hbd log ---\n${hbd.log.slice(-8000)}`);
  }
}

/** A fresh browser context (own cookies) and page; page errors are collected in page.errors. */
export async function newPage(browser, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: opts.colorScheme || 'light' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.setDefaultTimeout(10000);
  return page;
}

export async function login(page, base, username, password) {
  await page.goto(`${base}/live`);
  await page.waitForURL((u) => u.pathname === '/login');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/live'), page.click('#login-submit')]);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
