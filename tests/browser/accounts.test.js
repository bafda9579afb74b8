// With accounts (AUTH_MODE=accounts; ci/browser.sh starts a server of its
// own for this file): the sign-in pages pass axe-core, and the script's
// in-place changes pass the CSRF check, with the token from the page's
// meta tag in a header and in every form it posts.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PHONE, SCREENSHOTS, add, axeProblems, countIs, eventually, item, listIs, open, useBrowser } from './helpers.js';

// No list to empty before each test: the list belongs to the account.
useBrowser({ shared: false });

describe('accounts', () => {
  for (const [size, options] of [
    ['desktop', {}],
    ['phone', PHONE],
  ]) {
    test(`axe finds nothing serious on the sign-in pages: ${size}`, async () => {
      const page = await open('/login', { ...options, bypassCSP: true });
      try {
        assert.deepEqual(await axeProblems(page), [], 'login');
        await page.screenshot({ path: join(SCREENSHOTS, `${size}-login.png`), fullPage: true });
        await page.locator('input[name="username"]').fill('nobody');
        await page.locator('input[name="password"]').fill('wrong password');
        await page.locator('button[type="submit"]').click();
        await page.waitForLoadState();
        await eventually(async () => assert.ok(await page.locator('#account-error').isVisible()));
        assert.deepEqual(await axeProblems(page), [], 'login with an error');
        await page.goto('/signup');
        assert.deepEqual(await axeProblems(page), [], 'signup');
      } finally {
        await page.context().close();
      }
    });
  }

  test('a new account changes its list in place, through the CSRF check', async () => {
    const page = await open('/signup', { bypassCSP: true });
    try {
      const name = `user${Date.now() % 1e9}`;
      await page.locator('input[name="username"]').fill(name);
      await page.locator('input[name="password"]').fill('a long enough password');
      await page.locator('button[type="submit"]').click();
      await page.waitForURL('**/');
      assert.ok(await page.locator('meta[name="csrf-token"]').count(), 'the page carries its token');
      const sent = [];
      page.on('request', (r) => r.method() === 'POST' && sent.push(r.headers()['x-csrf-token']));
      await add(page, 'mine');
      await listIs(page, ['mine']);
      await item(page, 'mine').locator('.toggle').check();
      await countIs(page, '0 items left');
      await page.locator('.clear-completed').click();
      await listIs(page, []);
      await eventually(async () => assert.ok(await page.locator('.toast-undo').isVisible()));
      await page.locator('.toast-undo').click();
      await listIs(page, ['mine']);
      assert.ok(sent.length >= 4 && sent.every(Boolean), `every post had the header: ${JSON.stringify(sent)}`);
      assert.deepEqual(await page.locator('.toast.problem').count(), 0, 'nothing was refused');
      assert.deepEqual(await axeProblems(page), [], 'the list, signed in');
      await page.reload();
      await listIs(page, ['mine']);
    } finally {
      await page.context().close();
    }
  });
});
