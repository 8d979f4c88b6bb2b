// A first run as a new user sees it: the host page shows times as dates, charts only the series
// that vary, and a single sample on a time axis around its own time; and where the chart library
// is missing (web/ without static/vendor, given as templates_dir) every page (the host page, the
// Services page, a public status page, ...) still renders its data, the charts' place holds a
// note, and hbd warns once at start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hbd, SOURCE_DIR, launchBrowser, newPage, screenshot, waitFor } from './lib/harness.mjs';

const BOOT = 1796353029;

async function sendSamples(hbd, host, n) {
  await hbd.htb(host);
  const now = Date.now() / 1000;
  for (let i = 0; i < n; i++) {
    await hbd.plg(host, 'cpu_monitor',
      { cpu_percent: 10 + 7 * i, cpu_count: 4, boot_time: BOOT, load_1min: 0.25 + i / 10 }, now - (n - i) * 10);
  }
  await waitFor(async () => {
    const r = await hbd.api(`/hosts/${host}/plugins/cpu_monitor?limit=50`);
    return r.status === 200 && r.data.samples.length >= n;
  }, 5000, `${n} samples of ${host}`);
}

describe('first run', { timeout: 120000 }, () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { if (browser) await browser.close().catch(() => {}); });

  describe('with the chart library', () => {
    let hbd;
    before(async () => { hbd = new Hbd(); await hbd.start(); });
    after(async () => { if (hbd) await hbd.stop(); });

    test('dates, charts only for what varies, one sample on its own time axis', async () => {
      await sendSamples(hbd, 'many', 4);
      const page = await newPage(browser);
      await page.goto(`${hbd.base}/plugins/many`);
      await page.waitForSelector('figure.chart[data-metric="cpu_percent"] canvas');
      const boot = await page.textContent('article[data-plugin="cpu_monitor"] .metric[data-key="boot_time"] .v');
      assert.ok(!boot.includes('1,796') && !boot.includes('1796353029'), `boot_time shown as ${boot}`);
      const expected = await page.evaluate((t) => new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' })
        .format(new Date(t * 1000)), BOOT);
      assert.equal(boot.trim(), expected);
      const charted = await page.$$eval('figure.chart', (fs) => fs.map((f) => f.dataset.metric));
      assert.deepEqual(charted.sort(), ['cpu_percent', 'load_1min']);
      assert.match(await page.textContent('#charts-status'), /2 metrics without change not charted/);
      await screenshot(page, 'first-run-host');

      await sendSamples(hbd, 'single', 1);
      await page.goto(`${hbd.base}/plugins/single`);
      const fig = await page.waitForSelector('figure.chart[data-metric="cpu_percent"][data-x-min]');
      const [xMin, xMax] = [Number(await fig.getAttribute('data-x-min')), Number(await fig.getAttribute('data-x-max'))];
      const r = await hbd.api('/hosts/single/plugins/cpu_monitor?limit=5');
      const t = r.data.samples[0].timestamp;
      assert.ok(xMin < t && t < xMax && xMax - xMin <= 3600, `x axis ${xMin}..${xMax} around the sample at ${t}`);
      assert.equal(await page.$('figure.chart[data-metric="boot_time"]'), null, 'a time is not charted');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  });

  describe('without the chart library', () => {
    let hbd;
    let web;
    before(async () => {
      web = mkdtempSync(join(tmpdir(), 'hb-web-'));
      cpSync(join(SOURCE_DIR, 'web'), web, {
        recursive: true,
        filter: (src) => !src.includes('node_modules') && !src.endsWith(join('static', 'vendor')),
      });
      // A check against a closed port: its history gives the Services page a chart to draw.
      const probe = createServer();
      await new Promise((r) => probe.listen(0, '127.0.0.1', r));
      const closedPort = probe.address().port;
      await new Promise((r) => probe.close(r));
      hbd = new Hbd({
        web_dir: '',
        templates_dir: web,
        checks: { db: { type: 'tcp', address: '127.0.0.1', port: closedPort, interval: 1 } },
        services: { shop: { checks: ['db'], status_page: true } },
      });
      await hbd.start();
    });
    after(async () => {
      if (hbd) await hbd.stop();
      if (web) rmSync(web, { recursive: true, force: true });
    });

    test('every page renders its data; charts become a note; one warning at start', async () => {
      await sendSamples(hbd, 'plain', 3);
      const page = await newPage(browser);
      await page.goto(`${hbd.base}/plugins/plain`);
      await page.waitForSelector('#charts-unavailable');
      assert.match(await page.textContent('#charts-unavailable'), /chart library/);
      assert.match(await page.textContent('article[data-plugin="cpu_monitor"] .metric[data-key="cpu_percent"]'), /24\s*%/);
      assert.equal(await page.$('figure.chart'), null);
      await screenshot(page, 'host-without-charts');
      await page.goto(`${hbd.base}/live`);
      await page.waitForSelector('tr[data-host="plain"]');
      await page.goto(`${hbd.base}/alerts`);
      await page.waitForSelector('#alerts-body');
      await page.goto(`${hbd.base}/settings`);
      await page.waitForSelector('#server-config');
      assert.match(await page.textContent('#server-config'), /templates_dir|web_dir/);
      await page.goto(`${hbd.base}/services`);
      await page.waitForSelector('section[data-service="shop"] tr[data-check="db"]');
      await page.waitForSelector('section[data-service="shop"] figure[data-check="db"] .chart-unavailable');
      assert.equal(await page.$('figure[data-check="db"] canvas'), null);
      await page.goto(`${hbd.base}/status/shop`);
      await page.waitForSelector('li[data-check="db"][data-status="failing"]');
      assert.deepEqual(page.errors, []);
      await page.context().close();
      const warnings = readFileSync(join(hbd.dir, 'hbd.log'), 'utf8').split('\n').filter((l) => /chart library/.test(l));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /warn/);
    });
  });
});
