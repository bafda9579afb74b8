// What every browser test file shares: the browser, a clean list before
// each test, the JSON API for setting things up, and polling assertions.
//
// Tests run against the real binary that ci/browser.sh starts at BASE_URL,
// in Debian's headless Chromium (never a downloaded one).

import { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.BASE_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || join(tmpdir(), 'todo-ui-screenshots');

if (!BASE_URL) throw new Error('BASE_URL is not set; run the tests through ci/browser.sh');

let browser;

/** Starts the browser for the file's tests and, unless `emptyList` is false
 *  (with accounts there is no shared list to empty), empties the list
 *  before each. */
export function useBrowser({ emptyList = true } = {}) {
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  after(async () => {
    await browser?.close();
  });

  // Every test starts from an empty list.
  if (emptyList) {
    beforeEach(async () => {
      const response = await fetch(`${BASE_URL}/api/todos`, { method: 'DELETE' });
      assert.equal(response.status, 204);
    });
  }
}

export async function api(method, path, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(response.ok, `${method} ${path} answered ${response.status}`);
  return response.status === 204 ? null : response.json();
}

export const create = (title, extra = {}) => api('POST', '/api/todos', { title, ...extra });

export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const SMALL_PHONE = { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** A fresh browser context and page; closed by the caller via `page.context().close()`. */
export async function open(path = '/', options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    baseURL: BASE_URL,
    // Dates read "4 May" in British English, "May 4" in American.
    locale: 'en-GB',
    timezoneId: 'UTC',
    ...options,
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  page.errors = errors;
  await page.goto(path);
  return page;
}

/** Marks the document; in-place actions must leave the mark where it is. */
export async function markDocument(page) {
  await page.evaluate(() => {
    window.__marker = 'still here';
  });
}

export async function assertNoReload(page) {
  assert.equal(await page.evaluate(() => window.__marker), 'still here', 'the page was reloaded');
  assert.deepEqual(page.errors, [], 'the page threw');
}

/** Retries `check` until it passes or `timeout` ms have gone by. */
export async function eventually(check, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export const titles = (page) => page.locator('.todo-list li label').allTextContents();
export const item = (page, title) =>
  page.locator('.todo-list li').filter({ has: page.locator('label', { hasText: title }) });
export const countText = async (page) => (await page.locator('.todo-count').textContent()).replace(/\s+/g, ' ').trim();

/** The list shows `expected`, and no row is still waiting for the server. */
export async function listIs(page, expected) {
  await eventually(async () => {
    assert.deepEqual(await titles(page), expected);
    assert.equal(await page.locator('.todo-list li.saving').count(), 0, 'still saving');
  });
}

export async function countIs(page, expected) {
  await eventually(async () => assert.equal(await countText(page), expected));
}

/** Opens the collapsed "Show N completed" section, if the view has one. */
export async function showCompleted(page) {
  const section = page.locator('details.completed-group');
  if ((await section.count()) === 1 && (await section.getAttribute('open')) === null) {
    await section.locator('summary').click();
  }
}

/** Deletes a task as a person does: Edit, then Delete in the edit form
 *  (a row has no delete button of its own). */
export async function deleteTask(page, title) {
  const row = item(page, title);
  await row.hover();
  await row.locator('.edit-link').click();
  await row.locator('.edit-form .destroy').click();
}

export async function add(page, title) {
  await page.locator('.new-todo').fill(title);
  await page.locator('.new-todo').press('Enter');
}

/** The class and id of the element that has focus. */
export const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { cls: el.className, id: el.id, row: el.closest('li') && el.closest('li').dataset.id };
  });

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now.
 *  The page's context needs `bypassCSP: true` to let axe in. */
export async function axeProblems(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
