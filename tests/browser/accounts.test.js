// Accounts in a real headless Chromium, against a server started with
// AUTH_MODE=accounts: signing up, logging out and in again, a second
// account in its own browser context, what password managers look for,
// form posts from other origins, and the account pages' accessibility and
// looks at desktop and phone sizes (screenshots in SCREENSHOT_DIR).
//
// Each test makes its own accounts. Sign-ups from one address are rate
// limited (five are free), so the file makes five in all.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  BASE_URL,
  PHONE,
  SCREENSHOTS,
  add,
  axeProblems,
  deleteTask,
  eventually,
  item,
  listIs,
  open,
  titles,
  useBrowser,
} from './helpers.js';

useBrowser({ emptyList: false });

mkdirSync(SCREENSHOTS, { recursive: true });
const shoot = (page, name) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

const PASSWORD = 'correct horse battery staple';
// Unique per run, so the file can run twice against one server.
const RUN = Date.now().toString(36).slice(-5);
const newName = (base) => `${base}-${RUN}`;

const SIZES = [
  ['desktop', {}],
  ['phone', PHONE],
];

/** Fills and sends the sign-up form; lands on the (empty) list. */
async function signUp(page, username, password = PASSWORD) {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL(`${BASE_URL}/`), page.getByRole('button', { name: 'Create account' }).click()]);
  assert.equal(await page.locator('.user-bar strong').textContent(), username);
}

/** Fills and sends the login form. */
async function logIn(page, username, password = PASSWORD) {
  if (!page.url().endsWith('/login')) await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function logOut(page) {
  await Promise.all([
    page.waitForURL(`${BASE_URL}/login`),
    page.locator('.user-bar').getByRole('button', { name: 'Log out' }).click(),
  ]);
}

/** A personal API token, made with the password as a script would. */
async function apiToken(username, password = PASSWORD) {
  const response = await fetch(`${BASE_URL}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, name: 'browser tests' }),
  });
  assert.equal(response.status, 201, `POST /api/tokens answered ${response.status}`);
  const { token } = await response.json();
  assert.match(token, /^todo_pat_/);
  return token;
}

/** The JSON API as the token's owner: [status, body]. */
async function apiAs(token, method, path) {
  const response = await fetch(`${BASE_URL}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return [response.status, text ? JSON.parse(text) : null];
}

async function tasksOf(token) {
  const [status, tasks] = await apiAs(token, 'GET', '/api/todos');
  assert.equal(status, 200);
  return tasks.map((t) => ({ title: t.title, completed: t.completed })).sort((a, b) => a.title.localeCompare(b.title));
}

const sessionCookie = async (page) =>
  (await page.context().cookies()).find((c) => c.name === 'todo_session' || c.name === '__Host-todo_session');

describe('accounts', () => {
  test('sign up, add tasks, log out, log in: the same tasks are there', async () => {
    const name = newName('alice');
    const page = await open('/');
    try {
      // Signed out, the list is not shown: the login page is.
      assert.equal(page.url(), `${BASE_URL}/login`);
      assert.equal(await page.locator('.todo-list').count(), 0);
      await page.getByRole('link', { name: 'Create one' }).click();
      await page.waitForURL(`${BASE_URL}/signup`);

      await signUp(page, name);
      const cookie = await sessionCookie(page);
      assert.ok(cookie, 'a session cookie is set');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      assert.equal(await page.locator('.todo-list li').count(), 0, 'a new account starts empty');

      await add(page, 'Buy milk');
      await add(page, 'Water the plants');
      await listIs(page, ['Buy milk', 'Water the plants']);
      await item(page, 'Buy milk').locator('.toggle').check();
      await eventually(async () => assert.match(await item(page, 'Buy milk').getAttribute('class'), /\bcompleted\b/));
      await eventually(async () =>
        assert.equal(await page.locator('.todo-list li.saving').count(), 0, 'the toggle reached the server'),
      );
      await page.reload();
      // Done, "Buy milk" is under the open tasks.
      await listIs(page, ['Water the plants', 'Buy milk']);

      await logOut(page);
      assert.equal(await sessionCookie(page), undefined, 'logging out removes the cookie');
      await page.goto('/');
      assert.equal(page.url(), `${BASE_URL}/login`, 'signed out, / sends to the login page');
      assert.equal(await page.locator('.todo-list').count(), 0);

      // A wrong password: the form comes back with the name and a message.
      await logIn(page, name, 'not the password');
      await eventually(async () => assert.equal(await page.locator('#account-error').isVisible(), true));
      assert.equal((await page.locator('#account-error').textContent()).trim(), 'The username or password is wrong.');
      assert.equal(await page.getByLabel('Username').inputValue(), name);
      assert.equal(await page.locator('.todo-list').count(), 0);
      assert.equal(await sessionCookie(page), undefined);

      await Promise.all([page.waitForURL(`${BASE_URL}/`), logIn(page, name)]);
      assert.equal(await page.locator('.user-bar strong').textContent(), name);
      await listIs(page, ['Water the plants', 'Buy milk']);
      assert.match(await item(page, 'Buy milk').getAttribute('class'), /\bcompleted\b/);
      assert.doesNotMatch((await item(page, 'Water the plants').getAttribute('class')) ?? '', /\bcompleted\b/);

      // What the page showed is what the server keeps for this account.
      assert.deepEqual(await tasksOf(await apiToken(name)), [
        { title: 'Buy milk', completed: true },
        { title: 'Water the plants', completed: false },
      ]);
      assert.deepEqual(page.errors, [], 'the page threw');
    } finally {
      await page.context().close();
    }
  });

  test('a second account, in a new browser context, sees none of the first one’s tasks', async () => {
    const first = newName('carol');
    const second = newName('dave');
    const one = await open('/login');
    const two = await open('/login');
    try {
      await signUp(one, first);
      await add(one, 'Carol’s surprise party');
      await add(one, 'Carol’s tax return');
      await listIs(one, ['Carol’s surprise party', 'Carol’s tax return']);
      const id = await item(one, 'Carol’s tax return').getAttribute('data-id');
      assert.match(id, /^\d+$/);

      // The second context shares no cookies with the first.
      assert.equal(await sessionCookie(two), undefined);
      await signUp(two, second);
      assert.deepEqual(await titles(two), []);
      assert.equal(await two.locator('.main').isVisible(), false, 'no tasks: the list is hidden');
      await two.goto('/?q=Carol');
      assert.deepEqual(await titles(two), [], 'a search finds nothing of the other account');
      await two.goto('/completed');
      assert.deepEqual(await titles(two), []);
      await two.goto('/');
      await add(two, 'Dave’s dentist');
      await listIs(two, ['Dave’s dentist']);

      // The other account's task id: not found, and nothing changes.
      const secondToken = await apiToken(second);
      const [status] = await apiAs(secondToken, 'GET', `/api/todos/${id}`);
      assert.equal(status, 404);
      const [deleted] = await apiAs(secondToken, 'DELETE', `/api/todos/${id}`);
      assert.equal(deleted, 404);
      assert.deepEqual(await tasksOf(secondToken), [{ title: 'Dave’s dentist', completed: false }]);

      await one.reload();
      await listIs(one, ['Carol’s surprise party', 'Carol’s tax return']);
      assert.deepEqual(await tasksOf(await apiToken(first)), [
        { title: 'Carol’s surprise party', completed: false },
        { title: 'Carol’s tax return', completed: false },
      ]);
      assert.deepEqual(one.errors, []);
      assert.deepEqual(two.errors, []);
    } finally {
      await one.context().close();
      await two.context().close();
    }
  });

  test('password managers find username and current-password on login, new-password on sign-up', async () => {
    for (const [path, passwordAutocomplete] of [
      ['/login', 'current-password'],
      ['/signup', 'new-password'],
    ]) {
      const page = await open(path);
      try {
        // One form, posted to the page itself, with both fields inside it.
        const form = page.locator('form.account-form');
        assert.equal(await form.count(), 1, path);
        assert.equal(await form.getAttribute('method'), 'post');
        assert.equal(await form.getAttribute('action'), path);

        const username = page.getByLabel('Username');
        assert.equal(await username.getAttribute('name'), 'username');
        assert.equal(await username.getAttribute('autocomplete'), 'username');
        assert.equal(await username.evaluate((el) => el.type), 'text');
        assert.equal(await username.evaluate((el) => el.form.getAttribute('action')), path);

        const password = page.getByLabel('Password');
        assert.equal(await password.getAttribute('name'), 'password');
        assert.equal(await password.evaluate((el) => el.type), 'password');
        assert.equal(await password.getAttribute('autocomplete'), passwordAutocomplete, path);
        assert.equal(await password.evaluate((el) => el.form.getAttribute('action')), path);

        // The hidden token is bound to the form cookie this page set.
        const token = await form.locator('input[type=hidden][name=csrf_token]').getAttribute('value');
        assert.ok(token && token.length >= 32, `${path}: a CSRF token`);
        const cookie = (await page.context().cookies()).find((c) => /todo_form$/.test(c.name));
        assert.ok(cookie, `${path}: the form cookie`);
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Lax');
      } finally {
        await page.context().close();
      }
    }
  });

  describe('form posts from another origin', () => {
    let hostile;
    let hostilePort;

    // A page of another origin that posts one of the list's forms as soon
    // as it opens, with the fields the real form would send.
    before(async () => {
      const pages = {
        '/toggle-all': ['/todos/toggle-all', { completed: 'true' }],
        '/clear-completed': ['/todos/clear-completed', { confirm: 'yes', return: '/' }],
      };
      hostile = createServer((request, response) => {
        const page = pages[new URL(request.url, 'http://x').pathname];
        if (!page) {
          response.writeHead(404).end();
          return;
        }
        const [action, fields] = page;
        const inputs = Object.entries(fields)
          .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
          .join('');
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(
          `<!doctype html><title>You have won a prize</title>` +
            `<form method="post" action="${BASE_URL}${action}">${inputs}</form>` +
            `<script>document.forms[0].submit()</script>`,
        );
      });
      await new Promise((resolve) => hostile.listen(0, '127.0.0.1', resolve));
      hostilePort = hostile.address().port;
    });

    after(() => new Promise((resolve) => hostile.close(resolve)));

    test('are refused with 403 and change nothing; the app’s own forms still work', async () => {
      const name = newName('erin');
      const page = await open('/login');
      try {
        await signUp(page, name);
        await add(page, 'Keep me');
        await add(page, 'Done already');
        await listIs(page, ['Keep me', 'Done already']);
        await item(page, 'Done already').locator('.toggle').check();
        await eventually(async () => assert.equal(await page.locator('.todo-list li.completed').count(), 1));
        await eventually(async () => assert.equal(await page.locator('.todo-list li.saving').count(), 0));
        const token = await apiToken(name);
        const before = await tasksOf(token);
        assert.deepEqual(before, [
          { title: 'Done already', completed: true },
          { title: 'Keep me', completed: false },
        ]);

        // 127.0.0.1 on another port is another origin of the same site, so
        // the session cookie goes along; localhost is another site.
        for (const origin of [`http://127.0.0.1:${hostilePort}`, `http://localhost:${hostilePort}`]) {
          for (const path of ['/toggle-all', '/clear-completed']) {
            const attack = await page.context().newPage();
            try {
              const [response] = await Promise.all([
                attack.waitForResponse((r) => r.url().startsWith(`${BASE_URL}/todos/`) && r.request().method() === 'POST'),
                attack.goto(`${origin}${path}`),
              ]);
              const what = `${origin}${path}`;
              assert.equal(response.status(), 403, what);
              const sent = await response.request().allHeaders();
              assert.equal(sent.origin, origin, `${what}: the browser said where it came from`);
              if (origin.includes('127.0.0.1')) {
                assert.equal(sent['sec-fetch-site'], 'same-site', what);
                assert.match(sent.cookie || '', /todo_session=/, `${what}: the session cookie went along`);
              } else {
                assert.equal(sent['sec-fetch-site'], 'cross-site', what);
              }
              await attack.waitForLoadState();
              assert.match(await attack.locator('body').textContent(), /another web site/, what);
              assert.deepEqual(await tasksOf(token), before, `${what} changed the tasks`);
            } finally {
              await attack.close();
            }
          }
        }

        // The same two actions from the app's own page go through.
        await page.reload();
        await listIs(page, ['Keep me', 'Done already']);
        await page.locator('.toggle-all').check();
        await eventually(async () => assert.equal(await page.locator('.todo-list li.completed').count(), 2));
        await eventually(async () => assert.deepEqual((await tasksOf(token)).map((t) => t.completed), [true, true]));
        await page.locator('.clear-completed').click();
        await listIs(page, []);
        await eventually(async () => assert.deepEqual(await tasksOf(token), []));
        assert.deepEqual(page.errors, [], 'the page threw');
      } finally {
        await page.context().close();
      }
    });
  });

  test('login, sign-up and settings: axe finds nothing serious, no sideways scroll; screenshots', async () => {
    const name = newName('frank');
    let signedUp = false;
    for (const [size, options] of SIZES) {
      for (const scheme of ['light', 'dark']) {
        const suffix = scheme === 'light' ? size : `${size}-dark`;
        const page = await open('/login', { ...options, colorScheme: scheme, bypassCSP: true });
        try {
          for (const path of ['/login', '/signup']) {
            await page.goto(path);
            assert.deepEqual(await axeProblems(page), [], `${suffix}: ${path}`);
            await noSidewaysScroll(page, `${suffix}: ${path}`);
            await shoot(page, `account-${suffix}-${path.slice(1)}`);
          }
          // A form sent back with an error. (Failed logins are rate
          // limited too: one per size.)
          if (scheme === 'light') {
            await logIn(page, 'nobody-here', 'wrong password');
            await eventually(async () => assert.equal(await page.locator('#account-error').isVisible(), true));
            assert.deepEqual(await axeProblems(page), [], `${suffix}: login with an error`);
            await shoot(page, `account-${suffix}-login-error`);
          }

          if (signedUp) {
            await Promise.all([page.waitForURL(`${BASE_URL}/`), logIn(page, name)]);
          } else {
            await signUp(page, name);
            signedUp = true;
          }
          // The list with the account bar.
          await add(page, 'Renew the passport');
          await listIs(page, ['Renew the passport']);
          assert.deepEqual(await axeProblems(page), [], `${suffix}: the list with the account bar`);
          await noSidewaysScroll(page, `${suffix}: the list`);
          await shoot(page, `account-${suffix}-list`);
          await deleteTask(page, 'Renew the passport');
          await listIs(page, []);

          // Settings with a token listed and a new one shown.
          await page.locator('.user-bar').getByRole('link', { name: 'Settings' }).click();
          await page.waitForURL(`${BASE_URL}/settings`);
          await page.getByLabel('Token name').fill(`backup ${suffix}`);
          await page.getByRole('button', { name: 'Create token' }).click();
          await eventually(async () => assert.match(await page.locator('.token-value').textContent(), /^todo_pat_/));
          assert.ok(
            (await page.locator('.tokens td').allTextContents()).includes(`backup ${suffix}`),
            'the new token is listed',
          );
          assert.deepEqual(await axeProblems(page), [], `${suffix}: settings`);
          await noSidewaysScroll(page, `${suffix}: settings`);
          await shoot(page, `account-${suffix}-settings`);
          await settingsFieldsForPasswordManagers(page, name);
          await page.getByRole('button', { name: 'Log out', exact: true }).click();
          await page.waitForURL(`${BASE_URL}/login`);
        } finally {
          await page.context().close();
        }
      }
    }
  });
});

/** Nothing sticks out past the screen's width. (On a phone the layout
 *  viewport grows to fit what is too wide, so compare with the size the
 *  context was given, not innerWidth.) */
async function noSidewaysScroll(page, what) {
  const width = page.viewportSize().width;
  const widest = await page.evaluate(() =>
    Math.max(
      document.documentElement.scrollWidth,
      ...[...document.querySelectorAll('body *')].map((el) => el.getBoundingClientRect().right),
    ),
  );
  assert.ok(widest <= width + 0.5, `${what}: the page is ${Math.ceil(widest - width)}px wider than the screen`);
}

/** Change password and delete account carry the username for password
 *  managers, and say which password is which. */
async function settingsFieldsForPasswordManagers(page, name) {
  for (const action of ['/settings/password', '/settings/delete-account']) {
    const form = page.locator(`form[action="${action}"]`);
    const user = form.locator('input[name=username]');
    assert.equal(await user.getAttribute('autocomplete'), 'username', action);
    assert.equal(await user.inputValue(), name, action);
  }
  const change = page.locator('form[action="/settings/password"]');
  assert.equal(await change.getByLabel('Current password').getAttribute('autocomplete'), 'current-password');
  assert.equal(await change.getByLabel('New password').getAttribute('autocomplete'), 'new-password');
  const remove = page.locator('form[action="/settings/delete-account"]');
  assert.equal(await remove.getByLabel('Password, to confirm').getAttribute('autocomplete'), 'current-password');
}
