// What the page of a list costs in a real Chromium: bytes on the wire,
// elements in the document, time to the first render, time from Enter to
// the frame that shows a new task, and time for the next rows to arrive
// when the reader scrolls to the end of those shown. A benchmark, not a
// test: it prints figures (median of RUNS page loads), and
// rehearsal/page_bench.sh runs it against a server holding the list. (It
// reads the page by TodoMVC's class names, so it measures older releases
// too, which had no "Show more".)
//
//   BASE_URL=http://127.0.0.1:3000 node tests/browser/page_bench.js [RUNS]

import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL;
if (!BASE_URL) throw new Error('BASE_URL is not set');
const RUNS = Number(process.argv[2] || 5);
const ADDS = 5;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});

const runs = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: BASE_URL });
    const page = await context.newPage();
    await page.goto('/', { waitUntil: 'load' });
    const load = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        wire: nav.transferSize,
        body: nav.encodedBodySize,
        html: nav.decodedBodySize,
        encoding: null,
        elements: document.getElementsByTagName('*').length,
        rows: document.querySelectorAll('.todo-list li').length,
        firstRender: paint ? paint.startTime : NaN,
        // When the last byte of the page arrived: the server's share.
        responded: nav.responseEnd,
        contentLoaded: nav.domContentLoadedEventEnd,
      };
    });
    load.encoding = (await page.request.get('/', { headers: { 'accept-encoding': 'br, gzip' } })).headers()['content-encoding'] || 'none';

    // Scrolling to the end of the rows shown brings the next page.
    const before = await page.locator('ul[data-rows="open"] > li').count();
    const more = await page.locator('[data-group="open"] .more:not([hidden])').count();
    let nextRows = NaN;
    if (more) {
      const started = Date.now();
      await page.evaluate(() => document.querySelector('[data-group="open"] .more').scrollIntoView());
      await page.waitForFunction((n) => document.querySelectorAll('ul[data-rows="open"] > li').length > n, before);
      nextRows = Date.now() - started;
      await page.evaluate(() => window.scrollTo(0, 0));
    }
    // Adding: from the key press to the first frame showing the task, and
    // whether that frame shows it in the window.
    await page.evaluate(() => {
      window.__shown = {};
      window.__inSight = {};
      document.addEventListener('keydown', (e) => (window.__pressed = e.timeStamp), true);
      new MutationObserver(() => {
        for (const label of document.querySelectorAll('.todo-list li label')) {
          const title = label.textContent;
          if (!title.startsWith('bench ') || title in window.__shown) continue;
          window.__shown[title] = null;
          requestAnimationFrame(() => {
            window.__shown[title] = performance.now() - window.__pressed;
            const box = label.getBoundingClientRect();
            window.__inSight[title] = box.top >= 0 && box.bottom <= innerHeight;
          });
        }
      }).observe(document.querySelector('.todoapp'), { childList: true, subtree: true, characterData: true });
    });
    const adds = [];
    const inSight = [];
    for (let n = 0; n < ADDS; n++) {
      const title = `bench ${run}-${n}`;
      await page.locator('.new-todo').fill(title);
      await page.locator('.new-todo').press('Enter');
      await page.waitForFunction((t) => typeof window.__shown[t] === 'number', title);
      // Settled: the server's row has replaced the placeholder.
      await page.waitForFunction(() => !document.querySelector('.todo-list li.saving'));
      const shown = await page.evaluate((t) => [window.__shown[t], window.__inSight[t]], title);
      adds.push(shown[0]);
      inSight.push(shown[1]);
    }

    runs.push({ ...load, add: median(adds), addInSight: inSight.every(Boolean), nextRows });
    await context.close();
  }
} finally {
  await browser.close();
}

const pick = (key) => median(runs.map((r) => r[key]));
console.log(
  JSON.stringify({
    runs: RUNS,
    wire_bytes: pick('wire'),
    body_bytes: pick('body'),
    html_bytes: pick('html'),
    encoding: runs[0].encoding,
    elements: pick('elements'),
    rows_rendered: pick('rows'),
    first_render_ms: Math.round(pick('firstRender')),
    page_received_ms: Math.round(pick('responded')),
    dom_content_loaded_ms: Math.round(pick('contentLoaded')),
    add_shown_ms: Math.round(pick('add') * 10) / 10,
    add_in_sight: runs.every((r) => r.addInSight),
    next_rows_ms: pick('nextRows'),
  }),
);
