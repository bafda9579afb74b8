// Figures for the UI: bytes transferred and time to a visible change for
// add, toggle, edit and delete on a list of 200 tasks, in headless Chromium
// against a running server. Not a test: it prints a table.
//
//   BASE_URL=http://127.0.0.1:3000 node measure.js [--latency=800]
//
// --latency holds every request of the page that long before it goes out,
// as a slow network would. Times are taken inside the page: from the
// event's timestamp to the first frame in which the change shows
// ("visible"), and until the last request it caused has finished
// ("settled").
// Bytes are what the network layer counted for every response (headers and
// body) plus the request bodies, from the action until settled. The page's
// check for other tabs' changes (/todos/state) is left out of "settled".

import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const latency = Number((process.argv.find((a) => a.startsWith('--latency=')) || '--latency=0').split('=')[1]);
const TASKS = 200;
const ROUNDS = Number(process.env.ROUNDS || 5);

if (!BASE_URL) throw new Error('BASE_URL is not set');

async function api(method, path, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return response.status === 204 ? null : response.json();
}

async function seed() {
  await api('DELETE', '/api/todos');
  for (let i = 0; i < TASKS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, k) =>
        api('POST', '/api/todos', {
          title: `Task number ${i + k + 1} with a title of ordinary length`,
          priority: ((i + k) % 5) + 1,
          due: (i + k) % 3 === 0 ? '2031-06-15' : null,
        }),
      ),
    );
  }
}

// Waits (in the page) until `condition` holds; returns ms since the last
// user event, taken from that event's own timestamp.
function visibleAfter(page, condition, arg) {
  return page.evaluate(
    async ([source, arg]) => {
      const test = new Function('arg', `return (${source})(arg);`);
      for (;;) {
        if (test(arg)) return performance.now() - window.__lastEvent;
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
    },
    [condition.toString(), arg],
  );
}

// Settled: no request in flight, and none sent, for 300 ms; the time is
// when the last one finished, from just before the action (node's clock:
// the page's event timestamp is not comparable, but the two differ by the
// few ms Playwright takes to dispatch the event).
async function settled(page, bytes, started) {
  for (;;) {
    const before = bytes.count;
    await page.waitForTimeout(300);
    if (bytes.inflight === 0 && bytes.count === before) break;
  }
  return Math.max(bytes.lastDone, started) - started;
}

// The other-tab check runs on its own clock, not because of the action.
const counted = (request) => !request.url().includes('/todos/state');

async function measure() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const results = {};
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await seed();
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: BASE_URL });
      const page = await context.newPage();
      page.on('crash', () => console.error('the page crashed'));
      page.on('close', () => process.env.VERBOSE && console.error('page closed'));
      // Requests in flight from the page's point of view; bytes as the
      // network layer saw them.
      const bytes = { total: 0, count: 0, inflight: 0, lastDone: 0 };
      if (latency > 0) {
        // Held requests count as in flight: the 'request' event comes
        // when the page sends, before the hold.
        await page.route('**/*', async (route) => {
          if (route.request().resourceType() !== 'document' || route.request().method() !== 'GET') {
            await new Promise((resolve) => setTimeout(resolve, latency));
          }
          // A request held past the end of a round finds its page closed.
          await route.continue().catch(() => {});
        });
      }
      await page.goto('/');
      await page.evaluate(() => {
        for (const type of ['keydown', 'click', 'dblclick']) {
          addEventListener(type, (e) => (window.__lastEvent = e.timeStamp), true);
        }
      });
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      // Only requests sent after the page loaded (its icon may still be
      // held when the first action starts).
      const sent = new Set();
      page.on('request', (r) => {
        if (!counted(r)) return;
        sent.add(r);
        bytes.inflight++;
        bytes.count++;
      });
      const done = (r) => {
        if (!sent.delete(r)) return;
        bytes.inflight--;
        bytes.lastDone = Date.now();
      };
      page.on('requestfinished', done);
      page.on('requestfailed', done);
      cdp.on('Network.requestWillBeSent', (e) => {
        if (e.request.postData) bytes.total += Buffer.byteLength(e.request.postData);
      });
      cdp.on('Network.loadingFinished', (e) => {
        bytes.total += e.encodedDataLength;
      });

      const run = async (name, act, condition, arg) => {
        bytes.total = 0;
        const started = Date.now();
        await act();
        const visible = await visibleAfter(page, condition, arg);
        const done = await settled(page, bytes, started);
        (results[name] ||= []).push({ visible, settled: done, bytes: bytes.total });
        if (process.env.VERBOSE) console.error(name, visible, done, bytes.total);
      };

      const row = (n) => page.locator('.todo-list li').nth(n);
      await run(
        'add',
        async () => {
          await page.locator('.new-todo').fill('A new task to measure');
          await page.locator('.new-todo').press('Enter');
        },
        () => [...document.querySelectorAll('.todo-list li label')].some((l) => l.textContent === 'A new task to measure'),
      );
      await run(
        'toggle',
        () => row(100).locator('.toggle').click(),
        () => document.querySelectorAll('.todo-list li')[100].classList.contains('completed'),
      );
      await row(50).locator('label').dblclick();
      await row(50).locator('.edit').fill('An edited title');
      await run(
        'edit',
        () => row(50).locator('.edit').press('Enter'),
        () => [...document.querySelectorAll('.todo-list li:not(.editing) label')].some((l) => l.textContent === 'An edited title'),
      );
      const victim = await row(10).getAttribute('data-id');
      await row(10).hover();
      await run(
        'delete',
        () => row(10).locator('.destroy').click(),
        (id) => {
          const li = document.querySelector(`.todo-list li[data-id="${id}"]`);
          return !li || li.hidden || li.offsetParent === null;
        },
        victim,
      );
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${TASKS} tasks, ${latency} ms added latency, median of ${ROUNDS} runs`);
  console.log('action   bytes     visible ms  settled ms');
  for (const [name, runs] of Object.entries(results)) {
    const b = median(runs.map((r) => r.bytes));
    const v = median(runs.map((r) => r.visible));
    const s = median(runs.map((r) => r.settled));
    console.log(`${name.padEnd(8)} ${String(b).padStart(8)}  ${v.toFixed(0).padStart(10)}  ${s.toFixed(0).padStart(10)}`);
  }
}

await measure();
