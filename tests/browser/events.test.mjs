// The /events page against a real hbd (open mode): an alert on /alerts links to its events, the
// timeline shows the transition and what became of its notification with the reasons, the
// filters narrow it (and live in the URL), and the nav bar links the page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hbd, launchBrowser, newPage, screenshot, waitFor } from './lib/harness.mjs';

describe('events timeline', { timeout: 90000 }, () => {
  let hbd;
  let browser;

  before(async () => {
    hbd = new Hbd({
      thresholds: { cpu_monitor: { cpu_percent: { warning: 80, critical: 90 } } },
      maintenance: [{ name: 'db-upgrade', hosts: ['maint-host'], start: Math.floor(Date.now() / 1000) - 60, duration: '2h' }],
    });
    await hbd.start();
    browser = await launchBrowser();
    for (const name of ['hot-host', 'maint-host']) await hbd.htb(name);
    await hbd.plg('hot-host', 'cpu_monitor', { cpu_percent: 95 });
    await hbd.plg('maint-host', 'cpu_monitor', { cpu_percent: 85 });
    await waitFor(async () => {
      const r = await hbd.api('/events?limit=50');
      return r.status === 200 && r.data.events.some((e) => e.host === 'maint-host') && r.data.events.some((e) => e.host === 'hot-host' && e.source === 'notifier');
    }, 10000, 'both alerts in the event log');
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (hbd) {
      await hbd.stop();
      if (process.exitCode) console.error(`--- hbd log ---\n${hbd.log.slice(-8000)}`);
    }
  });

  test('an alert on /alerts links to its events, which say why', async () => {
    const page = await newPage(browser);
    await page.goto(`${hbd.base}/alerts`);
    const row = 'tr[data-host="hot-host"][data-metric="cpu_monitor.cpu_percent"]';
    await page.waitForSelector(row);
    await Promise.all([page.waitForURL((u) => u.pathname === '/events'), page.click(`${row} a.events-link`)]);
    assert.equal(new URL(page.url()).searchParams.get('host'), 'hot-host');
    assert.equal(await page.inputValue('#ev-host'), 'hot-host');
    assert.equal(await page.inputValue('#ev-metric'), 'cpu_monitor.cpu_percent');
    const transition = '#timeline li[data-kind="alert"][data-result="notify"][data-host="hot-host"]';
    await page.waitForSelector(transition);
    assert.match(await page.textContent(transition), /CRITICAL: hot-host - cpu_monitor\.cpu_percent = 95\.0/);
    assert.match(await page.textContent(transition), /raised: 95\.0 > 90\.0/);
    // No notifier is configured: the notification was suppressed for want of a recipient.
    const outcome = '#timeline li[data-kind="alert"][data-result="suppressed"][data-host="hot-host"]';
    await page.waitForSelector(outcome);
    assert.match(await page.textContent(`${outcome} .why`), /no recipient/);
    assert.equal(await page.$('#timeline li[data-host="maint-host"]'), null);
    assert.equal(await page.getAttribute('.nav-links a[href="/events"]', 'aria-current'), 'page');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('filters narrow the timeline and stay in the URL', async () => {
    const page = await newPage(browser);
    await page.goto(`${hbd.base}/events`);
    await page.waitForSelector('#timeline li[data-host="hot-host"]');
    await page.waitForSelector('#timeline li[data-host="maint-host"]');
    await page.fill('#ev-host', 'maint-host');
    await page.selectOption('#ev-result', 'suppressed');
    await waitFor(async () => (await page.$$('#timeline li[data-host="hot-host"]')).length === 0, 5000, 'hot-host filtered out');
    const li = '#timeline li[data-host="maint-host"][data-result="suppressed"]';
    await page.waitForSelector(li);
    assert.match(await page.textContent(`${li} .why`), /suppressed: maintenance db-upgrade/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('host'), 'maint-host');
    assert.equal(url.searchParams.get('result'), 'suppressed');
    await screenshot(page, 'events');
    // A reload keeps the filters.
    await page.reload();
    await page.waitForSelector(li);
    assert.equal(await page.inputValue('#ev-result'), 'suppressed');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
