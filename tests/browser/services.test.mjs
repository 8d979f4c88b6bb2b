// Active checks in the web UI: the Services page (each service with its status, who is on duty,
// its checks with status, response-time chart and last error, Run now), the checks on their
// host's page, the rota on Settings, the check alert on the Alerts page, and the public status
// page without login. Real hbd, real HTTP target (node:http) and a closed port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Hbd, hashPassword, launchBrowser, login, newPage, screenshot, waitFor, BUILD_DIR } from './lib/harness.mjs';
import { join } from 'node:path';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

describe('services and checks', { timeout: 120000 }, () => {
  let hbd;
  let browser;
  let web;
  let status = 200;
  let closedPort;

  before(async () => {
    web = createServer((req, res) => { res.writeHead(status, { 'Content-Type': 'text/plain' }); res.end('ok'); });
    const port = await listen(web);
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((r) => probe.close(r));
    const hash = hashPassword(join(BUILD_DIR, 'hbd'), 'admin', 'browser-pass-1');
    hbd = new Hbd({
      users: { admin: { password: hash, admin: true }, alice: { password: hash }, bob: { password: hash } },
      hosts: { web01: { owner: 'admin' } },
      checks: {
        'shop-front': { type: 'http', url: `http://127.0.0.1:${port}/health`, interval: 1, host: 'web01' },
        'shop-db': { type: 'tcp', address: '127.0.0.1', port: closedPort, interval: 1 },
      },
      services: { shop: { checks: ['shop-front', 'shop-db'], hosts: ['web01'], users: ['alice'], rota: 'ops', status_page: true } },
      rotas: { ops: { users: ['bob', 'alice'], shift: '1d', start: '2026-01-01T00:00:00', timezone: 'UTC' } },
    });
    await hbd.start();
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (web) web.close();
    if (hbd) {
      await hbd.stop();
      if (process.exitCode) console.error(`--- hbd log ---\n${hbd.log.slice(-8000)}`);
    }
  });

  test('the Services page shows each service, who is on duty and its checks', async () => {
    const page = await newPage(browser);
    await login(page, hbd.base, 'admin', 'browser-pass-1');
    await page.click('nav a[href="/services"]');
    await page.waitForURL((u) => u.pathname === '/services');
    const card = 'section[data-service="shop"]';
    await waitFor(async () => (await page.getAttribute(card, 'data-status')) === 'failing', 10000, 'shop failing');
    const rota = await (await (await fetch(`${hbd.base}/api/0/rotas`, { headers: { Authorization: `Bearer ${await token(hbd)}` } })).json()).rotas[0];
    assert.equal((await page.textContent(`${card} .on-duty`)).startsWith(rota.on_duty), true);
    await waitFor(async () => (await page.getAttribute(`${card} tr[data-check="shop-front"]`, 'data-status')) === 'passing', 10000, 'shop-front passing');
    const db = `${card} tr[data-check="shop-db"]`;
    assert.equal(await page.getAttribute(db, 'data-status'), 'failing');
    assert.match(await page.textContent(`${db} .check-error`), new RegExp(`connect to 127\\.0\\.0\\.1:${closedPort}: connection refused`));
    // The response-time chart of a check with successful runs.
    await waitFor(async () => Number(await page.getAttribute(`${card} figure[data-check="shop-front"]`, 'data-points')) > 0, 10000, 'chart points');
    assert.ok(await page.$(`${card} figure[data-check="shop-front"] canvas`));
    // Run now.
    status = 503;
    await page.click(`${card} tr[data-check="shop-front"] button.run-check`);
    await waitFor(async () => /failed: HTTP 503/.test(await page.textContent(`${card} tr[data-check="shop-front"] .run-result`)), 10000, 'run result');
    await waitFor(async () => (await page.getAttribute(`${card} tr[data-check="shop-front"]`, 'data-status')) === 'failing', 20000, 'shop-front failing');
    await screenshot(page, 'services');
    // The alert of the check on the Alerts page.
    await page.goto(`${hbd.base}/alerts`);
    await page.waitForSelector('tr[data-metric="check.shop-db"]');
    assert.match(await page.textContent('tr[data-metric="check.shop-db"]'), /CRITICAL/);
    status = 200;
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('checks on their host page, the rota on Settings', async () => {
    const page = await newPage(browser);
    await login(page, hbd.base, 'admin', 'browser-pass-1');
    await page.goto(`${hbd.base}/plugins/web01`);
    await page.waitForSelector('#host-checks tr[data-check="shop-front"]');
    assert.equal(await page.$('#host-checks tr[data-check="shop-db"]'), null);  // not web01's
    await page.goto(`${hbd.base}/settings`);
    await page.waitForSelector('#rotas tr[data-rota="ops"]');
    assert.match(await page.textContent('#rotas tr[data-rota="ops"] .on-duty'), /^(bob|alice)$/);
    assert.match(await page.textContent('#rotas tr[data-rota="ops"]'), /bob → alice/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('alice (a user of the service) sees it; the status page needs no login', async () => {
    const page = await newPage(browser);
    await login(page, hbd.base, 'alice', 'browser-pass-1');
    await page.goto(`${hbd.base}/services`);
    await page.waitForSelector('section[data-service="shop"] tr[data-check="shop-db"]');
    await page.context().close();

    const anon = await newPage(browser);
    await anon.goto(`${hbd.base}/status/shop`);
    await anon.waitForSelector('li[data-check="shop-db"][data-status="failing"]');
    const text = await anon.textContent('main');
    assert.match(text, /shop/);
    assert.doesNotMatch(text, /127\.0\.0\.1|refused/);
    assert.equal(anon.url().endsWith('/status/shop'), true);
    await screenshot(anon, 'status-page');
    assert.deepEqual(anon.errors, []);
    await anon.context().close();
  });
});

async function token(hbd) {
  const r = await fetch(`${hbd.base}/api/0/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'browser-pass-1' }),
  });
  return (await r.json()).token;
}
