// Measures the live view with many hosts against a real hbd: N hosts heartbeat over
// UDP, then Chromium opens /live. Prints each figure beside its target.
//   HB_BUILD_DIR=build-web node web/scripts/bench-live.mjs [hosts=10000]
import { Hbd, launchBrowser, newPage, sleep, waitFor } from '../../tests/browser/lib/harness.mjs';

const N = Number(process.argv[2] || 10000);
const hbd = new Hbd({ interval: 300, grace: 300, max_new_hosts_per_minute: 0 });  // the hosts register at once
let browser;
try {
  await hbd.start();
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    await hbd.htb(`bench-${String(i).padStart(6, '0')}`, { interval: 300 });
    if (i % 500 === 499) await sleep(20); // stay under the receive buffer
  }
  await waitFor(async () => (await hbd.api('/hosts')).data.length >= N, 30000, `${N} hosts registered`);
  console.log(`fed ${N} hosts in ${Date.now() - t0} ms`);
  const r0 = Date.now();
  const res = await fetch(`${hbd.base}/api/0/hosts`);
  const body = await res.text();
  console.log(`GET /api/0/hosts: ${body.length} bytes in ${Date.now() - r0} ms`);

  browser = await launchBrowser();
  const page = await newPage(browser);
  const l0 = Date.now();
  await page.goto(`${hbd.base}/live`);
  await page.waitForSelector('tr[data-host]');
  await waitFor(async () => (await page.textContent('#pager-info')).includes(`of ${N} hosts`), 20000, 'all hosts listed');
  const load = Date.now() - l0;
  console.log(`/live first page with ${N} hosts: ${load} ms (target ≤ 3000 ms)`);
  const sorts = [];
  for (const col of ['rtt', 'state', 'last_seen', 'name', 'name']) {
    sorts.push(await page.evaluate((c) => {
      const t = performance.now();
      document.querySelector(`th[data-col="${c}"] button`).click();
      return performance.now() - t;
    }, col));
  }
  sorts.sort((a, b) => a - b);
  console.log(`/live re-sort + redraw of ${N} hosts: median ${sorts[2].toFixed(0)} ms (target ≤ 200 ms)`);
  await page.waitForSelector('.stream-dot[data-state="open"]');
  const n0 = Date.now();
  await hbd.htb('aaa-new-host');
  await page.fill('#host-filter', 'aaa-new');
  await page.waitForSelector('tr[data-host="aaa-new-host"]', { timeout: 5000 });
  console.log(`/live new host visible after its first HTB: ${Date.now() - n0} ms (target ≤ 1000 ms)`);
} finally {
  if (browser) await browser.close();
  await hbd.stop();
}
