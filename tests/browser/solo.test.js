// Lists on an instance without accounts (AUTH_MODE=none, a private
// single-user instance): lists are made, renamed and deleted through the
// pages, with and without JavaScript, and nothing offers sharing, since
// there is nobody to share with. Phone and desktop, light and dark, axe.

import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_URL, PHONE, SCREENSHOTS, add, api, axeProblems, listIs, open, useBrowser } from './helpers.js';

useBrowser();

mkdirSync(SCREENSHOTS, { recursive: true });

async function deleteOtherLists() {
  for (const list of await api('GET', '/api/lists')) {
    if (!list.default) await api('DELETE', `/api/lists/${list.id}`);
  }
}

beforeEach(deleteOtherLists);
after(deleteOtherLists);

const SIZES = [
  ['desktop', {}],
  ['phone', PHONE],
];

describe('lists without accounts', () => {
  for (const javaScriptEnabled of [true, false]) {
    test(`made, used, renamed and deleted through the pages, with no sharing (script ${javaScriptEnabled})`, async () => {
      const page = await open('/', { javaScriptEnabled });
      try {
        // The default list's page offers editing, not sharing.
        assert.equal(await page.locator('.list-settings').textContent(), 'Edit list');
        await page.locator('.list-settings').click();
        await page.waitForURL(/\/lists\/\d+$/);
        assert.equal(await page.getByText('Shared with').count(), 0);
        assert.equal(await page.locator('.share-form, #share-username').count(), 0);
        await page.goBack();

        // Desktop: the navigation is a column; a new list opens at once.
        await page.getByLabel('New list').fill('Garden');
        await Promise.all([page.waitForURL(/\/\?list=\d+$/), page.getByRole('button', { name: 'Add list' }).click()]);
        assert.equal(await page.locator('.list-name').textContent(), 'Garden');
        if (javaScriptEnabled) {
          await add(page, 'Mow the lawn');
        } else {
          await page.locator('.new-todo').fill('Mow the lawn');
          await Promise.all([page.waitForURL(/added=/), page.locator('.new-todo').press('Enter')]);
        }
        await listIs(page, ['Mow the lawn']);
        const garden = (await api('GET', '/api/lists')).find((l) => l.name === 'Garden');
        assert.equal(garden.active, 1);
        assert.equal(await page.locator('.list-note').count(), 0, 'no "shared" note');

        // Its own page: rename and delete, no sharing.
        await page.locator('.list-settings').click();
        await page.waitForURL(`${BASE_URL}/lists/${garden.id}`);
        assert.equal(await page.locator('#share-username').count(), 0);
        await page.locator('#list-name').fill('Allotment');
        await Promise.all([page.waitForURL(`${BASE_URL}/lists/${garden.id}`), page.getByRole('button', { name: 'Rename' }).click()]);
        assert.equal(await page.locator('h2').textContent(), 'Allotment');
        await page.getByRole('button', { name: 'Delete this list' }).click();
        await page.waitForLoadState();
        await page.locator('.confirm-button').click();
        await page.waitForURL(`${BASE_URL}/`);
        assert.deepEqual((await api('GET', '/api/lists')).map((l) => l.name), ['Tasks']);
        assert.deepEqual(page.errors, []);
      } finally {
        await page.context().close();
      }
    });
  }

  for (const [size, options] of SIZES) {
    for (const colorScheme of ['light', 'dark']) {
      test(`the list's own page reads well: ${size}, ${colorScheme}`, async () => {
        const list = await api('POST', '/api/lists', { name: 'Groceries' });
        const page = await open(`/lists/${list.id}`, { ...options, colorScheme, bypassCSP: true });
        try {
          assert.deepEqual(await axeProblems(page), []);
          await page.screenshot({ path: join(SCREENSHOTS, `solo-${size}-${colorScheme}-list-settings.png`), fullPage: true });
          await page.goto(`/?list=${list.id}`);
          assert.deepEqual(await axeProblems(page), []);
        } finally {
          await page.context().close();
        }
      });
    }
  }
});
