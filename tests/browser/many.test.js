// A list of 5,000 tasks in a real headless Chromium: the page holds a
// page of rows, not the list; scrolling (with the script) or "Show 50
// more" (without) brings the rest; a new task is shown where the reader
// is looking, marked as added. (How fast, in figures, is
// rehearsal/page_bench.sh: timings are measured there, not asserted here.)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, PHONE, add, api, eventually, item, open, useBrowser } from './helpers.js';

useBrowser();

const TASKS = 5000;

/** The default list, replaced by `count` tasks in one import (a third done). */
async function longList(count = TASKS) {
  const tasks = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    title: `task ${i + 1}`,
    priority: (i % 5) + 1,
    completed: i % 3 === 2,
    order: i + 1,
    due: i % 4 === 0 ? '2031-03-01' : null,
    created_at: '2026-11-01T09:00:00Z',
    updated_at: '2026-11-01T09:00:00Z',
  }));
  const response = await fetch(`${BASE_URL}/api/import?replace=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 'todo-app-export', version: 1, exported_at: '2026-12-01T00:00:00Z', tasks }),
  });
  assert.equal(response.status, 200, await response.text());
}

const openRows = (page) => page.locator('ul[data-rows="open"] > li');

/** Whether the element is inside the window, not under the sticky header. */
const inSight = (locator) =>
  locator.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const header = document.querySelector('.header');
    const top = header ? header.getBoundingClientRect().bottom : 0;
    return box.top >= top - 1 && box.bottom <= window.innerHeight + 1;
  });

describe('a list of 5,000 tasks', () => {
  test('opens with a page of rows; scrolling brings the next in place', async () => {
    await longList();
    const page = await open('/');
    try {
      assert.equal(await openRows(page).count(), 50);
      const elements = await page.evaluate(() => document.getElementsByTagName('*').length);
      assert.ok(elements < 3000, `${elements} elements`);
      const more = page.locator('[data-group="open"] .more');
      assert.equal(await more.locator('.more-link').textContent(), 'Show 50 more');
      assert.equal(await more.locator('.more-count').textContent(), `${3334 - 50} not shown`);
      // The completed ones: collapsed, a page of them, and a way to the rest.
      assert.equal(await page.locator('details.completed-group summary').innerText(), 'Show 1666 completed');
      assert.equal(await page.locator('details.completed-group li').count(), 50);
      assert.equal(await page.locator('details.completed-group .more-link').textContent(), 'See all 1666 completed');

      // Scrolling to the end of the rows shown brings 50 more, after the
      // same nodes.
      const first = await page.evaluate(() => (window.__first = document.querySelector('ul[data-rows="open"] > li')).dataset.id);
      await more.scrollIntoViewIfNeeded();
      await eventually(async () => assert.equal(await openRows(page).count(), 100));
      assert.equal(new URL(page.url()).searchParams.get('shown'), '100');
      assert.ok(await page.evaluate(() => window.__first === document.querySelector('ul[data-rows="open"] > li')));
      assert.equal(await openRows(page).nth(50).locator('label').textContent(), 'task 76');
      assert.equal(await openRows(page).first().getAttribute('data-id'), first);
      // And again.
      await more.scrollIntoViewIfNeeded();
      await eventually(async () => assert.equal(await openRows(page).count(), 150));
      assert.deepEqual(page.errors, []);
    } finally {
      await page.context().close();
    }
  });

  for (const [size, options] of [
    ['desktop', {}],
    ['phone', PHONE],
  ]) {
    test(`a new task shows in sight at once, marked, and stays the same node (${size})`, async () => {
      await longList();
      const page = await open('/', options);
      try {
        await add(page, 'the newest task');
        // At once: the placeholder, in sight (not 5,000 rows down).
        const row = page.locator('#list-body li', { hasText: 'the newest task' });
        assert.ok(await inSight(row), 'the new row is out of sight');
        await page.evaluate(() => (window.__added = [...document.querySelectorAll('#list-body li')].find((li) => li.textContent.includes('the newest task'))));
        // Saved: the same node, now the task, after "Show more" where the
        // list ends, marked as just added.
        await eventually(async () => assert.ok(await row.getAttribute('data-id')));
        assert.ok(await page.evaluate(() => window.__added.isConnected && window.__added.dataset.id !== undefined));
        assert.equal(await row.evaluate((li) => li.closest('ul').dataset.rows), 'open-pinned');
        assert.match(await row.getAttribute('class'), /added/);
        assert.ok(await inSight(row));
        const stored = await api('GET', `/api/todos/${await row.getAttribute('data-id')}`);
        assert.equal(stored.order, TASKS + 1, 'at the end of the list');
        // The next one joins it.
        await add(page, 'and one more');
        await eventually(async () =>
          assert.deepEqual(await page.locator('ul[data-rows="open-pinned"] li label').allTextContents(), ['the newest task', 'and one more']),
        );
        // Another tab's poll keeps them.
        await page.evaluate(() => window.dispatchEvent(new Event('focus')));
        await page.waitForTimeout(300);
        assert.equal(await page.locator('ul[data-rows="open-pinned"] li').count(), 2);
        assert.deepEqual(page.errors, []);
      } finally {
        await page.context().close();
      }
    });
  }

  test('without JavaScript: Show 50 more opens at the last row read; a new task is shown where it landed', async () => {
    await longList();
    const page = await open('/', { javaScriptEnabled: false });
    try {
      assert.equal(await openRows(page).count(), 50);
      const last = await openRows(page).last().getAttribute('id');
      await page.locator('[data-group="open"] .more-link').click();
      await page.waitForURL(/shown=100/);
      assert.equal(new URL(page.url()).hash, `#${last}`);
      assert.equal(await openRows(page).count(), 100);
      assert.ok(await inSight(page.locator(`#${last}`)), 'the page did not open at the last row read');

      await page.locator('.new-todo').fill('added without a script');
      await Promise.all([page.waitForURL(/added=/), page.locator('.new-todo').press('Enter')]);
      const url = new URL(page.url());
      const id = url.searchParams.get('added');
      assert.equal(url.hash, `#task-${id}`);
      // The rows shown stay as they were; the new task is after them.
      assert.equal(url.searchParams.get('shown'), '100');
      const row = page.locator(`#task-${id}`);
      assert.equal(await row.locator('label').textContent(), 'added without a script');
      assert.equal(await row.evaluate((li) => li.closest('ul').dataset.rows), 'open-pinned');
      assert.match(await row.getAttribute('class'), /added/);
      assert.ok(await inSight(row), 'the new task is out of sight');
    } finally {
      await page.context().close();
    }
  });

  test('a short list shows every row, and a new task at its end in sight', async () => {
    await longList(60);
    const page = await open('/', { ...PHONE });
    try {
      assert.equal(await page.locator('[data-group="open"] .more:not([hidden])').count(), 0);
      assert.equal(await openRows(page).count(), 40);
      await add(page, 'at the end');
      const row = item(page, 'at the end');
      await eventually(async () => assert.ok(await row.getAttribute('data-id')));
      assert.equal(await row.evaluate((li) => li.closest('ul').dataset.rows), 'open');
      assert.equal(await openRows(page).last().locator('label').textContent(), 'at the end');
      assert.ok(await inSight(row), 'the new task is out of sight');
    } finally {
      await page.context().close();
    }
  });
});
