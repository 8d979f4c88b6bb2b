// The live view with a few hundred hosts against a real hbd (open mode): it reads only the page it
// shows from GET /api/0/hosts (limit=, offset=, sort=, order=, q=, state=), never the whole list;
// typing a filter, sorting, paging and the state filter each show what the server selected.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hbd, launchBrowser, newPage, screenshot, sleep, stopAll, waitFor } from './lib/harness.mjs';

const N = 300;
const name = (i) => `page-${String(i).padStart(3, '0')}`;

describe('live view paged by the server', { timeout: 120000 }, () => {
  let hbd;
  let browser;
  let page;
  const reads = [];   // every /api/0/hosts URL the page asked for

  before(async () => {
    hbd = new Hbd({ max_new_hosts_per_minute: 0 });
    await hbd.start();
    for (let i = 0; i < N; i++) {
      await hbd.htb(name(i), { rtt: (i * 7) % 50 + 0.5 });
      if (i % 100 === 99) await sleep(20);
    }
    await waitFor(async () => (await hbd.api('/hosts')).data.length >= N, 10000, `${N} hosts registered`);
    browser = await launchBrowser();
  });

  after(() => stopAll(browser, hbd));

  const rowNames = () => page.$$eval('#hosts-body tr[data-host]', (trs) => trs.map((t) => t.dataset.host));
  const shown = (fragment) => waitFor(async () => {
    const q = await page.getAttribute('#hosts-table', 'data-query');
    return q !== null && q.includes(fragment) ? q : null;
  }, 5000, `a page read with ${fragment}`);

  test('the first page is one page: limit=, the total from the server', async () => {
    page = await newPage(browser);
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/0/hosts') reads.push(r.url()); });
    await page.goto(`${hbd.base}/live`);
    await waitFor(async () => (await page.textContent('#pager-info')).includes(`of ${N} hosts`), 10000, 'the total');
    assert.equal((await rowNames()).length, 100);
    assert.deepEqual((await rowNames()).slice(0, 2), [name(0), name(1)]);
    assert.ok(reads.length > 0);
    for (const u of reads) {
      const q = new URL(u).searchParams;
      assert.equal(q.get('limit'), '100', u);
      assert.equal(q.get('offset'), '0', u);
    }
    assert.match(await page.textContent('#state-counts'), new RegExp(`UP ${N}`));
    assert.deepEqual(page.errors, []);
  });

  test('typing a filter shows the matching hosts', async () => {
    await page.fill('#host-filter', 'PAGE-12');
    await shown('q=PAGE-12');
    assert.deepEqual(await rowNames(), Array.from({ length: 10 }, (_, i) => name(120 + i)));
    assert.match(await page.textContent('#pager-info'), /of 10 hosts/);
    assert.match(await page.textContent('#state-counts'), /UP 10(?!\d)/);
    assert.ok(reads.some((u) => new URL(u).searchParams.get('q') === 'PAGE-12'));
    await page.fill('#host-filter', 'no-such-host');
    await shown('q=no-such-host');
    assert.match(await page.textContent('#hosts-body'), /No host matches the filter/);
    await page.fill('#host-filter', '');
    await waitFor(async () => !(await page.getAttribute('#hosts-table', 'data-query')).includes('q='), 5000, 'unfiltered');
  });

  test('sorting and paging read the page the server ordered', async () => {
    await page.click('th[data-col="rtt"] button');
    await shown('sort=rtt&order=asc');
    const all = (await hbd.api('/hosts')).data;
    const byRtt = all.map((x) => [x.connections[0].rtt, x.name]).sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    assert.deepEqual(await rowNames(), byRtt.slice(0, 100).map((k) => k[1]));
    await page.click('th[data-col="rtt"] button');
    await shown('sort=rtt&order=desc');
    const desc = all.map((x) => [x.connections[0].rtt, x.name]).sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1));
    assert.deepEqual(await rowNames(), desc.slice(0, 100).map((k) => k[1]));
    await page.click('#next-page');
    await shown('offset=100');
    assert.deepEqual(await rowNames(), desc.slice(100, 200).map((k) => k[1]));
    assert.match(await page.textContent('#pager-info'), /101–200 of 300 hosts · page 2 of 3/);
    await page.click('th[data-col="name"] button');
    await shown('sort=name&order=asc');
    assert.equal((await rowNames())[0], name(0));
    await screenshot(page, 'live-paged');
  });

  test('the state filter and a state change arriving over the stream', async () => {
    await page.waitForSelector('.stream-dot[data-state="open"]');
    await hbd.msg(name(5), 'planned stop', 'shutdown');
    await waitFor(async () => (await page.getAttribute(`tr[data-host="${name(5)}"]`, 'data-state')) === 'STOPPED', 3000, 'STOPPED');
    await waitFor(async () => (await page.textContent('#state-counts')).includes('STOPPED 1'), 3000, 'counts re-read');
    await page.selectOption('#state-filter', 'STOPPED');
    await shown('state=STOPPED');
    assert.deepEqual(await rowNames(), [name(5)]);
    // A host on another page changing state reaches the filtered page through a re-read.
    await hbd.msg(name(250), 'planned stop', 'shutdown');
    await waitFor(async () => (await rowNames()).includes(name(250)), 3000, 'a host from another page');
    assert.deepEqual(page.errors, []);
    const all = reads.filter((u) => !new URL(u).searchParams.has('limit'));
    assert.deepEqual(all, [], 'the whole list is never read');
  });
});
