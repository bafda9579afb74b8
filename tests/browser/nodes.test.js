// Every DOM node that still shows the same task is kept, as TodoMVC's
// reference implementations do, so scripts and assistive technology that
// hold a row do not lose it: a new task's "Saving…" row becomes the task
// (however its answer and a poll interleave), a row that leaves the view
// comes back as the same node when Back shows it again, and Back from
// another page keeps the page itself. Checked by holding node references
// in the page and comparing identity.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BASE_URL, add, api, create, eventually, listIs, open, useBrowser } from './helpers.js';

useBrowser();

/** Holds every row's node, by title, in the page. */
const holdRows = (page) =>
  page.evaluate(() => {
    window.__held = new Map([...document.querySelectorAll('#list-body li')].map((li) => [li.querySelector('label').textContent, li]));
  });

/** Titles of the rows on the page that are not the node held for them. */
const replacedRows = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('#list-body li')]
      .map((li) => [li.querySelector('label').textContent, li])
      .filter(([title, li]) => window.__held.has(title) && window.__held.get(title) !== li)
      .map(([title]) => title),
  );

describe('nodes are kept', () => {
  test('three quick adds: each "Saving…" row becomes its task in place, whatever the answers\' timing', async () => {
    // Three tries, each with the answers held for different times, and a
    // poll from the page asked in between.
    for (const delays of [
      [600, 50, 300],
      [50, 600, 0],
      [300, 300, 600],
    ]) {
      await api('DELETE', '/api/todos');
      await create('already there');
      const page = await open('/');
      try {
        let n = 0;
        await page.route('**/todos', async (route) => {
          if (route.request().method() === 'POST') await new Promise((r) => setTimeout(r, delays[n++ % 3]));
          await route.continue();
        });
        // Every "Saving…" row, held the moment it is shown.
        await page.evaluate(() => {
          window.__placeholders = [];
          new MutationObserver((changes) => {
            for (const change of changes) {
              for (const node of change.addedNodes) {
                if (node.matches && node.matches('li.saving:not([data-id])')) window.__placeholders.push(node);
              }
            }
          }).observe(document.getElementById('list-body'), { childList: true, subtree: true });
        });
        await add(page, 'first');
        await add(page, 'second');
        await page.evaluate(() => window.dispatchEvent(new Event('focus')));
        await add(page, 'third');
        await eventually(async () => assert.equal(await page.evaluate(() => window.__placeholders.length), 3));
        await listIs(page, ['already there', 'first', 'second', 'third']);
        const kept = await page.evaluate(() =>
          window.__placeholders.map((li) => [li.isConnected, li.dataset.id !== undefined, li.querySelector('label').textContent]),
        );
        assert.deepEqual(kept, [
          [true, true, 'first'],
          [true, true, 'second'],
          [true, true, 'third'],
        ], `delays ${delays}`);
        assert.deepEqual(page.errors, []);
      } finally {
        await page.context().close();
      }
    }
  });

  test('Back and Forward through the filters keep every row\'s node', async () => {
    for (const [title, completed] of [
      ['open one', false],
      ['done one', true],
      ['open two', false],
      ['done two', true],
    ]) {
      await create(title, { completed });
    }
    const page = await open('/');
    try {
      await holdRows(page);
      await page.locator('.filters a', { hasText: 'Active' }).click();
      await listIs(page, ['open one', 'open two']);
      await page.locator('.filters a', { hasText: 'Completed' }).click();
      await listIs(page, ['done one', 'done two']);
      await page.goBack();
      await listIs(page, ['open one', 'open two']);
      await page.goBack();
      await listIs(page, ['open one', 'open two', 'done one', 'done two']);
      assert.deepEqual(await replacedRows(page), []);
      await page.goForward();
      await listIs(page, ['open one', 'open two']);
      assert.deepEqual(await replacedRows(page), []);
      // A search and back again.
      await page.goBack();
      await page.locator('.search').fill('two');
      await listIs(page, ['open two', 'done two']);
      await page.locator('.search').fill('');
      await listIs(page, ['open one', 'open two', 'done one', 'done two']);
      assert.deepEqual(await replacedRows(page), []);
      assert.deepEqual(page.errors, []);
    } finally {
      await page.context().close();
    }
  });

  test('Back from another page keeps the page and its rows, and catches up', async () => {
    // Playwright turns the back-forward cache off by default; a browser
    // of our own keeps it, as people's browsers do.
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
      ignoreDefaultArgs: ['--disable-back-forward-cache'],
    });
    try {
      for (const title of ['one', 'two', 'three']) await create(title);
      const context = await browser.newContext({ baseURL: BASE_URL });
      const page = await context.newPage();
      await page.goto('/');
      await holdRows(page);
      await page.locator('.list-settings').click();
      await page.waitForURL(/\/lists\/\d+$/);
      // Changed meanwhile, elsewhere.
      await create('four');
      await page.goBack({ waitUntil: 'commit' });
      await eventually(async () => assert.deepEqual(await page.locator('#list-body li label').allTextContents(), ['one', 'two', 'three', 'four']));
      assert.ok(await page.evaluate(() => window.__held instanceof Map), 'the page was loaded again');
      assert.deepEqual(await replacedRows(page), []);
    } finally {
      await browser.close();
    }
  });
});
