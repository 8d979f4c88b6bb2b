// Web UI end to end: a real hbd (users, roles, thresholds) fed over UDP, pages driven in
// Debian's Chromium. Covers login, the live view updating without reload, the host
// page's history chart, an alert reaching /alerts and the nav pie, role filtering,
// and saves a screenshot of every page under tests/artifacts/browser/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hbd, hashPassword, launchBrowser, newPage, login, screenshot, stopAll, waitFor, BUILD_DIR } from './lib/harness.mjs';
import { join } from 'node:path';

const ALICE_PW = 'alice-secret-1';
const MONA_PW = 'mona-secret-1';

describe('web UI against a real hbd', { timeout: 120000 }, () => {
  let hbd;
  let browser;
  let alice;   // alice's (admin) page, logged in once

  before(async () => {
    const bin = join(BUILD_DIR, 'hbd');
    hbd = new Hbd({
      users: {
        alice: { full_name: 'Alice Admin', password: hashPassword(bin, 'alice', ALICE_PW), admin: true },
        mona: { full_name: 'Mona Monitor', password: hashPassword(bin, 'mona', MONA_PW) },
      },
      default_owner: 'alice',
      hosts: { 'mon-host': { owner: 'alice', monitors: ['mona'] }, 'keyed-host': { key: 'host-key-not-shown-1234567890' } },
      thresholds: { cpu_monitor: { cpu_percent: { warning: 80, critical: 90, operator: '>' } } },
      maintenance: [{ name: 'patch-window', hosts: ['keyed-*'], start: Math.floor(Date.now() / 1000) - 60, duration: '2h' }],
    });
    await hbd.start();
    browser = await launchBrowser();
  });

  after(() => stopAll(browser, hbd));

  test('login: wrong password is refused with a message, the right one opens /live', async () => {
    alice = await newPage(browser);
    await alice.goto(`${hbd.base}/live`);
    await alice.waitForURL(/\/login\?next=/);
    await screenshot(alice, 'login');
    await alice.fill('#username', 'alice');
    await alice.fill('#password', 'wrong-password');
    await alice.click('#login-submit');
    await alice.waitForSelector('#login-error:not([hidden])');
    assert.match(await alice.textContent('#login-error'), /invalid/i);
    await alice.fill('#password', ALICE_PW);
    await Promise.all([alice.waitForURL((u) => u.pathname === '/live'), alice.click('#login-submit')]);
    await alice.waitForSelector('#hosts-body');
    assert.match(await alice.textContent('.user-box'), /Alice Admin/);
  });

  test('/live shows a new host within a second of its first heartbeat, without reload', async () => {
    // The stream must be connected before the heartbeat is sent.
    await alice.waitForSelector('.stream-dot[data-state="open"]');
    let navigations = 0;
    alice.on('framenavigated', () => navigations++);
    const t0 = Date.now();
    await hbd.htb('web-new');
    await alice.waitForSelector('tr[data-host="web-new"]', { timeout: 3000 });
    const ms = Date.now() - t0;
    console.log(`# /live showed web-new ${ms} ms after its first HTB`);
    assert.ok(ms < 1000, `host appeared after ${ms} ms`);
    assert.equal(navigations, 0, 'the page must not reload');
    await waitFor(async () => (await alice.textContent('tr[data-host="web-new"] td:nth-child(2)')).includes('UP'), 3000, 'web-new UP');
    // A second host and a message, so the screenshot shows something.
    await hbd.htb('db-01', { rtt: 2.4 });
    await hbd.msg('db-01', 'maintenance finished');
    await alice.waitForSelector('tr[data-host="db-01"]');
    await waitFor(async () => (await alice.textContent('#messages')).includes('maintenance finished'), 3000, 'message in list');
    await screenshot(alice, 'live');
    // Keyboard: a column header is a button; Enter sorts by it.
    await alice.focus('th[data-col="state"] button');
    await alice.keyboard.press('Enter');
    assert.equal(await alice.getAttribute('th[data-col="state"]', 'aria-sort'), 'ascending');
    await alice.keyboard.press('Enter');
    assert.equal(await alice.getAttribute('th[data-col="state"]', 'aria-sort'), 'descending');
    assert.deepEqual(alice.errors, []);
  });

  test('host page draws a history chart with the points of the PLG samples sent', async () => {
    const values = [11, 22, 33, 44, 55];
    const now = Date.now() / 1000;
    await hbd.htb('chart-host');
    for (let i = 0; i < values.length; i++) {
      await hbd.plg('chart-host', 'cpu_monitor', { cpu_percent: values[i], load_1min: 0.5 + i / 10 }, now - (values.length - i) * 10);
    }
    await waitFor(async () => {
      const r = await hbd.api('/hosts/chart-host/plugins/cpu_monitor?limit=50', { token: await token() });
      return r.status === 200 && r.data.samples.length >= values.length;
    }, 5000, 'samples stored');
    await alice.goto(`${hbd.base}/plugins/chart-host`);
    const fig = await alice.waitForSelector('figure.chart[data-metric="cpu_percent"]');
    await alice.waitForSelector('figure.chart[data-metric="cpu_percent"] canvas');
    const pts = Number(await fig.getAttribute('data-points'));
    assert.ok(pts >= values.length, `chart has ${pts} points`);
    const drawn = (await fig.getAttribute('data-values')).split(',').map(Number);
    for (const v of values) assert.ok(drawn.includes(v), `value ${v} drawn (${drawn})`);
    // The latest-data card shows the last value with its unit.
    assert.match(await alice.textContent('article[data-plugin="cpu_monitor"] .metric[data-key="cpu_percent"]'), /55\s*%/);
    // A live sample is appended to the chart without reload.
    await hbd.plg('chart-host', 'cpu_monitor', { cpu_percent: 66, load_1min: 1 });
    await waitFor(async () => (await fig.getAttribute('data-values')).split(',').includes('66'), 3000, 'live point 66');
    await screenshot(alice, 'host');
    // The owner's management forms talk to the API (CSRF header included).
    await alice.click('#manage > summary');
    await alice.fill('#acc-managers', '');
    await alice.click('form[aria-label="Access"] button[type="submit"]');
    await waitFor(async () => /Access saved/.test(await alice.textContent('form[aria-label="Access"] [role="status"]')), 5000, 'access saved');
    assert.deepEqual(alice.errors, []);
  });

  test('an alert appears on /alerts and the nav pie updates', async () => {
    await alice.goto(`${hbd.base}/alerts`);
    await alice.waitForSelector('#alerts-body');
    await waitFor(async () => (await alice.getAttribute('#alert-pie', 'data-critical')) === '0', 5000, 'pie at 0');
    await hbd.htb('hot-host');
    await hbd.plg('hot-host', 'cpu_monitor', { cpu_percent: 97.5 });
    await alice.waitForSelector('tr[data-host="hot-host"][data-metric="cpu_monitor.cpu_percent"][data-level="CRITICAL"]', { timeout: 5000 });
    await waitFor(async () => (await alice.getAttribute('#alert-pie', 'data-critical')) === '1', 3000, 'pie critical 1');
    assert.equal(await alice.textContent('#alert-pie .pie-count'), '1');
    assert.equal((await alice.textContent('[data-card="critical"] .value')).trim(), '1');
    // The severity filter hides it under "Warning".
    await alice.click('button[data-level-filter="WARNING"]');
    assert.equal(await alice.$('tr[data-host="hot-host"]'), null);
    await alice.click('button[data-level-filter=""]');
    await alice.waitForSelector('tr[data-host="hot-host"]');
    await screenshot(alice, 'alerts');
    // Any page shows the pie with the count.
    await alice.goto(`${hbd.base}/live`);
    await waitFor(async () => (await alice.getAttribute('#alert-pie', 'data-critical')) === '1', 5000, 'pie on /live');
    assert.deepEqual(alice.errors, []);
  });

  test('an owner acknowledges the alert from /alerts', async () => {
    await alice.goto(`${hbd.base}/alerts`);
    const row = 'tr[data-host="hot-host"][data-metric="cpu_monitor.cpu_percent"]';
    await alice.click(`${row} button.ack`);
    await waitFor(async () => /acknowledged/.test(await alice.textContent(row)), 5000, 'acknowledged shown');
    await alice.reload();
    await waitFor(async () => /acknowledged/.test(await alice.textContent(row)), 5000, 'acknowledged after reload');
    assert.equal(await alice.$(`${row} button.ack`), null);
    await screenshot(alice, 'alerts-acknowledged');
    assert.deepEqual(alice.errors, []);
  });

  test('settings: admin sees users and the server configuration', async () => {
    await alice.goto(`${hbd.base}/settings`);
    await alice.waitForSelector('#users-body tr[data-user="mona"]');
    assert.ok(await alice.$('#server-config'));
    // GET /api/0/config: the tree shows the configuration with secrets masked by the server.
    const cfgText = await alice.textContent('#server-config');
    assert.ok(cfgText.includes('keyed-host') && cfgText.includes('hidden'), 'masked host key shown as hidden');
    assert.ok(!cfgText.includes('host-key-not-shown') && !cfgText.includes('pbkdf2'), 'no secret on the page');
    // GET /api/0/maintenance: the window and that it is active now.
    await alice.waitForSelector('#maintenance td');
    const maint = await alice.textContent('#maintenance');
    assert.ok(maint.includes('patch-window') && maint.includes('keyed-*') && maint.includes('active'), maint);
    // GET /api/0/cluster: a single node is its own leader.
    await alice.waitForSelector('#cluster-table tr[data-node]');
    assert.ok((await alice.textContent('#cluster')).includes('leader'));
    await screenshot(alice, 'settings');
    await alice.emulateMedia({ colorScheme: 'dark' });
    await alice.goto(`${hbd.base}/live`);
    await alice.waitForSelector('tr[data-host="web-new"]');
    await screenshot(alice, 'live-dark');
    await alice.setViewportSize({ width: 390, height: 844 });
    await alice.goto(`${hbd.base}/plugins/chart-host`);
    await alice.waitForSelector('figure.chart canvas');
    const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `phone layout overflows by ${overflow} px`);
    await screenshot(alice, 'host-phone-dark');
    await alice.setViewportSize({ width: 1280, height: 860 });
    await alice.emulateMedia({ colorScheme: 'light' });
    await alice.goto(`${hbd.base}/plugins`);
    await alice.waitForSelector('#host-list a');
    await screenshot(alice, 'plugins-picker');
    assert.deepEqual(alice.errors, []);
  });

  test('a host deleted through the API leaves /live at once (WebSocket "dropped")', async () => {
    await hbd.htb('drop-me');
    await alice.goto(`${hbd.base}/live`);
    await alice.waitForSelector('tr[data-host="drop-me"]');
    const status = await alice.evaluate(async () => {
      const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )hb_csrf=([^;]*)/) || [])[1] || '');
      const r = await fetch('/api/0/hosts/drop-me', { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } });
      return r.status;
    });
    assert.equal(status, 200);
    // Well before the page's 60 s re-read: only the stream can have removed it.
    await waitFor(async () => (await alice.$('tr[data-host="drop-me"]')) === null, 3000, 'row removed');
    assert.deepEqual(alice.errors, []);
  });

  test('a monitor-role user sees neither other hosts nor admin controls', async () => {
    await hbd.htb('mon-host');
    const mona = await newPage(browser);
    await login(mona, hbd.base, 'mona', MONA_PW);
    await mona.waitForSelector('#hosts-body');
    // Monitored hosts are behind the "include" switch (owner/manager hosts by default).
    const toggle = await mona.$('#include-monitored');
    if (toggle && await toggle.isVisible()) await toggle.check();
    await mona.waitForSelector('tr[data-host="mon-host"]');
    const rows = await mona.$$eval('#hosts-body tr[data-host]', (trs) => trs.map((t) => t.dataset.host));
    assert.deepEqual(rows, ['mon-host']);
    assert.equal(await mona.$('.role-badge:text("admin")'), null);
    await screenshot(mona, 'live-monitor');

    await mona.goto(`${hbd.base}/plugins/mon-host`);
    await mona.waitForSelector('#plugin-cards');
    assert.equal(await mona.isVisible('#manage'), false, 'no management controls for a monitor');
    await mona.goto(`${hbd.base}/plugins/web-new`);
    await mona.waitForSelector('.notice.error');
    await mona.goto(`${hbd.base}/settings`);
    await mona.waitForSelector('#account');
    assert.equal(await mona.$('#users'), null, 'no user management for a non-admin');
    // /api/0/config is admin-only (403): the thresholds still show, from /api/0/settings.
    await mona.waitForSelector('#thresholds');
    assert.ok((await mona.textContent('#server-config')).includes('Only administrators'));
    await screenshot(mona, 'settings-monitor');
    await mona.goto(`${hbd.base}/alerts`);
    await mona.waitForSelector('#alerts-body');
    // The nav's first /api/0/alerts answer sets the pie's counts, and the table renders from the same answer.
    await mona.waitForSelector('#alert-pie[data-critical]', { state: 'attached' });
    assert.equal(await mona.$('tr[data-host="hot-host"]'), null, 'alerts of other hosts are hidden');
    assert.deepEqual(mona.errors, []);
    await Promise.all([mona.waitForURL((u) => u.pathname === '/login'), mona.click('#logout')]);
    const r = await mona.evaluate(async () => (await fetch('/api/0/me')).status);
    assert.equal(r, 401, 'the session is gone after logging out');
    await mona.context().close();
  });

  test('login rate limit: the form shows the server\'s message and waits out Retry-After', async () => {
    const page = await newPage(browser);
    await page.goto(`${hbd.base}/login`);
    let text = '';
    for (let i = 0; i < 12 && !/too many/i.test(text); i++) {
      await page.fill('#username', 'mallory');
      await page.fill('#password', `guess-${i}`);
      await page.click('#login-submit');
      await waitFor(async () => !(await page.isDisabled('#login-submit')) || /too many/i.test(await page.textContent('#login-error')), 10000, 'an answer');
      text = await page.textContent('#login-error');
    }
    assert.match(text, /too many/i);
    assert.equal(await page.isDisabled('#login-submit'), true, 'button disabled while rate limited');
    assert.match(await page.textContent('#login-submit'), /Try again in \d+ s/);
    await screenshot(page, 'login-rate-limited');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  let cachedToken = null;
  async function token() {
    if (!cachedToken) {
      const r = await hbd.api('/auth/login', { method: 'POST', body: { username: 'alice', password: ALICE_PW } });
      assert.equal(r.status, 200, JSON.stringify(r.data));
      cachedToken = r.data.token;
    }
    return cachedToken;
  }
});
