// The packaged hbd's web UI in Chromium (tests/package/test_debs.py runs this against
// /usr/bin/hbd on its default port): /live lists the host the packaged hbc reports, and its page
// /plugins/<host> renders the latest data and a history chart from the installed chart library.
// Usage: node debs_browser.mjs BASE_URL HOST; exit 0 when both pages look right.
import assert from 'node:assert/strict';
import { launchBrowser, newPage, screenshot, waitFor } from '../browser/lib/harness.mjs';

const [base, host] = process.argv.slice(2);
const browser = await launchBrowser();
try {
  const page = await newPage(browser);
  await page.goto(`${base}/live`);
  await page.waitForSelector(`tr[data-host="${host}"]`);
  await waitFor(async () => (await page.getAttribute(`tr[data-host="${host}"]`, 'data-state')) === 'UP', 10000, `${host} UP`);
  await screenshot(page, 'debs-live');
  await page.goto(`${base}/plugins/${encodeURIComponent(host)}`);
  await page.waitForSelector('article[data-plugin="cpu_monitor"] .metric[data-key="cpu_percent"]');
  await page.waitForSelector('figure.chart canvas', { timeout: 20000 });
  assert.equal(await page.$('#charts-unavailable'), null, 'the installed chart library is served');
  await screenshot(page, 'debs-host');
  assert.deepEqual(page.errors, []);
  console.log(`# /live and /plugins/${host} render with charts`);
} finally {
  await browser.close();
}
