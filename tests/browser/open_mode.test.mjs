// Web UI with no users configured (the open mode of docs/USERS.md): no login step,
// everything visible, /login passes straight through; messages and host state changes
// reach the open pages over the stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hbd, launchBrowser, newPage, screenshot, stopAll, waitFor } from './lib/harness.mjs';

describe('web UI in open mode', { timeout: 90000 }, () => {
  let hbd;
  let browser;

  before(async () => {
    hbd = new Hbd({ hosts: { 'configured-01': {} } });
    await hbd.start();
    browser = await launchBrowser();
  });

  after(() => stopAll(browser, hbd));

  test('pages open without login; /login goes straight on', async () => {
    const page = await newPage(browser);
    await page.goto(`${hbd.base}/login?next=/alerts`);
    await page.waitForURL((u) => u.pathname === '/alerts');
    await page.waitForSelector('#alerts-body');
    await page.goto(`${hbd.base}/`);
    await page.waitForURL((u) => u.pathname === '/live');
    await page.waitForSelector('tr[data-host="configured-01"]');
    assert.match(await page.textContent('tr[data-host="configured-01"]'), /UNKNOWN/);
    assert.match(await page.textContent('.user-box'), /open mode/);
    assert.equal(await page.isVisible('#include-monitored'), false);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('a configured host turns UP and a shutdown message marks it STOPPED, live', async () => {
    const page = await newPage(browser);
    await page.goto(`${hbd.base}/live`);
    await page.waitForSelector('.stream-dot[data-state="open"]');
    await hbd.htb('configured-01', { rtt: 1.5 });
    await waitFor(async () => (await page.getAttribute('tr[data-host="configured-01"]', 'data-state')) === 'UP', 3000, 'UP');
    await hbd.msg('configured-01', 'planned reboot', 'shutdown');
    await waitFor(async () => (await page.getAttribute('tr[data-host="configured-01"]', 'data-state')) === 'STOPPED', 3000, 'STOPPED');
    await waitFor(async () => (await page.textContent('#messages')).includes('planned reboot'), 3000, 'message listed');
    // The state filter narrows the table.
    await page.selectOption('#state-filter', 'UP');
    assert.equal(await page.$('tr[data-host="configured-01"]'), null);
    await page.selectOption('#state-filter', 'STOPPED');
    await page.waitForSelector('tr[data-host="configured-01"]');
    await screenshot(page, 'live-open-mode');
    await page.goto(`${hbd.base}/settings`);
    await page.waitForSelector('#account');
    assert.match(await page.textContent('#account'), /No users are configured/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
