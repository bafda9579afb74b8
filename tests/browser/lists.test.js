// Lists and sharing in a real headless Chromium, against a server started
// with AUTH_MODE=accounts over a database of its own: the list navigation
// as a side column on a desktop and behind a "Lists" link on a phone, a
// list created and shared through the pages, what the member and a viewer
// see, with the pages' accessibility checked (screenshots in SCREENSHOT_DIR).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_URL, PHONE, SCREENSHOTS, add, axeProblems, eventually, listIs, open, useBrowser } from './helpers.js';

useBrowser({ emptyList: false });

mkdirSync(SCREENSHOTS, { recursive: true });
const shoot = (page, name) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

const PASSWORD = 'correct horse battery staple';
// Unique per run, so the file can run twice against one server.
const RUN = Date.now().toString(36).slice(-5);

async function signUp(options, username) {
  const page = await open('/signup', { bypassCSP: true, ...options });
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/`), page.getByRole('button', { name: 'Create account' }).click()]);
  return page;
}

/** The navigation's entries as "name (count)", current one starred. */
const nav = (page) =>
  page.locator('.list-links:not(.view-links) a').evaluateAll((links) =>
    links.map((a) => {
      const text = (cls) => a.querySelector(`.${cls}`)?.textContent.trim();
      const owner = text('list-link-owner');
      return `${text('list-link-name')} (${text('list-link-count')})${owner ? ` ${owner}` : ''}${
        a.getAttribute('aria-current') ? ' *' : ''
      }`;
    }),
  );

describe('lists', () => {
  test('a list is made, filled and shared through the pages; the member finds it at desktop and phone size', async () => {
    const ada = `ada-${RUN}`;
    const bob = `bob-${RUN}`;
    const cyd = `cyd-${RUN}`;
    const owner = await signUp({}, ada);
    const member = await signUp(PHONE, bob);
    const viewer = await signUp(PHONE, cyd);
    try {
      // Desktop: the lists are a column beside the list; no "Lists" link.
      assert.ok(await owner.locator('.lists').isVisible());
      assert.equal(await owner.locator('.list-switch').isVisible(), false);
      await owner.getByLabel('New list').fill('Groceries');
      await Promise.all([owner.waitForURL(/\/\?list=\d+$/), owner.getByRole('button', { name: 'Add list' }).click()]);
      assert.equal(await owner.locator('.list-name').textContent(), 'Groceries');
      await add(owner, 'Milk');
      await add(owner, 'Eggs');
      await listIs(owner, ['Milk', 'Eggs']);
      // The navigation's count follows without a reload.
      await eventually(async () => assert.deepEqual(await nav(owner), ['Tasks (0)', 'Groceries (2) *']));

      // Sharing, on the list's own page.
      await owner.getByRole('link', { name: 'Share & edit' }).click();
      for (const [name, role] of [
        [bob, 'Can edit'],
        [cyd, 'Can view'],
      ]) {
        await owner.locator('#share-username').fill(name);
        await owner.locator('#share-role').selectOption({ label: role });
        await Promise.all([owner.waitForURL(/\/lists\/\d+$/), owner.getByRole('button', { name: 'Share' }).click()]);
      }
      assert.deepEqual(await owner.locator('.member-name').allTextContents(), [bob, cyd]);
      assert.deepEqual(await axeProblems(owner), []);
      await shoot(owner, 'desktop-list-settings');
      await owner.getByRole('link', { name: 'Back to Groceries' }).click();
      await shoot(owner, 'desktop-lists');

      // Phone: one line names the list; "Lists" opens the navigation.
      await member.reload();
      assert.equal(await member.locator('.lists').isVisible(), false);
      assert.ok(await member.locator('.list-switch').isVisible());
      await shoot(member, 'phone-list-closed');
      await member.getByRole('link', { name: 'Lists', exact: true }).click();
      assert.ok(await member.locator('.lists').isVisible());
      assert.deepEqual(await nav(member), ['Tasks (0) *', `Groceries (2) shared by ${ada}`]);
      assert.deepEqual(await axeProblems(member), []);
      await shoot(member, 'phone-lists-open');
      await member.locator('.list-links a', { hasText: 'Groceries' }).click();
      await member.waitForURL(/\/\?list=\d+$/);
      assert.equal(await member.locator('.lists').isVisible(), false);
      await listIs(member, ['Milk', 'Eggs']);
      assert.equal(await member.locator('.list-note').textContent(), `Shared by ${ada}`);
      assert.deepEqual(await member.locator('.byline').allTextContents(), [`Added by ${ada}`, `Added by ${ada}`]);
      // The editor works in it with the script, as in their own list.
      await member.locator('.todo-list li', { hasText: 'Milk' }).locator('.toggle').check();
      await eventually(async () =>
        assert.equal(
          await member.locator('.todo-list li', { hasText: 'Milk' }).locator('.byline').textContent(),
          `Added by ${ada} · done by ${bob}`,
        ),
      );
      await add(member, 'Bread');
      // Milk is done: under the open ones.
      await listIs(member, ['Eggs', 'Bread', 'Milk']);
      await shoot(member, 'phone-shared-list');

      // The viewer reads it, with nothing to change.
      await viewer.goto(member.url());
      await listIs(viewer, ['Eggs', 'Bread', 'Milk']);
      assert.equal(await viewer.locator('.new-todo').count(), 0);
      assert.equal(await viewer.locator('.destroy, .edit-link, .toggle-all, .clear-completed').count(), 0);
      assert.ok(await viewer.locator('.todo-list .toggle').first().isDisabled());
      assert.deepEqual(await axeProblems(viewer), []);
      await shoot(viewer, 'phone-viewer');
      for (const page of [owner, member, viewer]) assert.deepEqual(page.errors, [], 'the page threw');
    } finally {
      for (const page of [owner, member, viewer]) await page.context().close();
    }
  });
});
