// In place, instant and undoable: what the script adds to the plain forms.
// Rows keep their DOM nodes, a new task shows before the server answers, a
// refused change is rolled back in words, focus goes where the user expects,
// deletions can be undone, rows move by drag and by keyboard, and another
// tab converges without a reload.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add,
  api,
  assertNoReload,
  countIs,
  create,
  deleteTask,
  eventually,
  focused,
  item,
  listIs,
  markDocument,
  open,
  showCompleted,
  titles,
  useBrowser,
} from './helpers.js';

useBrowser();

/** Tags every row's DOM node, to tell later whether it is the same node. */
async function tagRows(page) {
  await page.evaluate(() => {
    for (const li of document.querySelectorAll('.todo-list li')) li.__tag = li.dataset.id;
  });
}

/** Ids of the rows that are still the very nodes `tagRows` tagged. */
const taggedRows = (page) =>
  page.evaluate(() => [...document.querySelectorAll('.todo-list li')].filter((li) => li.__tag === li.dataset.id).map((li) => li.dataset.id));

const ids = (page) => page.evaluate(() => [...document.querySelectorAll('.todo-list li')].map((li) => li.dataset.id));

/** Holds requests matching `test` for `ms` before they go to the server. */
async function delay(page, ms, test = (request) => request.method() === 'POST') {
  await page.route('**/*', async (route) => {
    if (test(route.request())) await new Promise((resolve) => setTimeout(resolve, ms));
    await route.continue();
  });
}

describe('in place', () => {
  test('a toggle, an edit and a delete keep every other row, and their own', async () => {
    for (const title of ['one', 'two', 'three', 'four', 'five']) await create(title);
    const page = await open('/');
    try {
      await markDocument(page);
      await tagRows(page);
      const all = await ids(page);

      await item(page, 'two').locator('.toggle').check();
      await eventually(async () => assert.equal((await api('GET', '/api/todos?completed=true')).length, 1));
      await countIs(page, '4 items left');
      // Done, it moves to the completed section: the same node.
      await listIs(page, ['one', 'three', 'four', 'five', 'two']);
      assert.deepEqual((await taggedRows(page)).sort(), [...all].sort(), 'a toggle replaced rows');

      await item(page, 'three').locator('label').dblclick();
      await item(page, 'three').locator('.edit').fill('three, edited');
      await item(page, 'three').locator('.edit').press('Enter');
      await eventually(async () => assert.equal((await api('GET', '/api/todos'))[2].title, 'three, edited'));
      await page.waitForTimeout(100);
      assert.deepEqual((await taggedRows(page)).sort(), [...all].sort(), 'an edit replaced rows');
      assert.equal(await item(page, 'three, edited').locator('label').textContent(), 'three, edited');

      await deleteTask(page, 'four');
      await listIs(page, ['one', 'three, edited', 'five', 'two']);
      await countIs(page, '3 items left');
      await eventually(async () => assert.equal((await api('GET', '/api/todos')).length, 4));
      assert.deepEqual((await taggedRows(page)).sort(), all.filter((_, i) => i !== 3).sort(), 'a delete replaced rows');
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('no action fetches the page: each answer is a few kilobytes', async () => {
    for (let n = 0; n < 50; n++) await create(`task ${n}`);
    const page = await open('/');
    try {
      const sizes = [];
      page.on('response', async (response) => {
        if (response.request().resourceType() === 'fetch') {
          const body = await response.body().catch(() => Buffer.alloc(0));
          sizes.push({ url: response.url(), bytes: body.length, type: response.headers()['content-type'] || '' });
        }
      });
      await add(page, 'one more');
      await listIs(page, [...Array.from({ length: 50 }, (_, n) => `task ${n}`), 'one more']);
      await item(page, 'task 7').locator('.toggle').check();
      await countIs(page, '50 items left');
      await page.waitForTimeout(200);
      assert.ok(sizes.length >= 2, JSON.stringify(sizes));
      for (const { url, bytes, type } of sizes) {
        assert.ok(!type.includes('text/html'), `${url} answered HTML`);
        assert.ok(bytes < 12000, `${url} answered ${bytes} bytes`);
      }
    } finally {
      await page.context().close();
    }
  });

  test('a new task shows at once while the server takes 800 ms, in the order typed', async () => {
    const page = await open('/');
    try {
      await delay(page, 800);
      await markDocument(page);
      // In the page: from the Enter key to the first frame showing the task.
      await page.evaluate(() => {
        window.__shown = {};
        document.addEventListener('keydown', (e) => (window.__pressed = e.timeStamp), true);
        new MutationObserver(() => {
          for (const label of document.querySelectorAll('.todo-list li label')) {
            window.__shown[label.textContent] ??= performance.now() - window.__pressed;
          }
        }).observe(document.querySelector('.todo-list'), { childList: true, subtree: true, characterData: true });
      });
      await add(page, 'first');
      await add(page, 'second');
      await add(page, 'third');
      await eventually(async () => assert.deepEqual(await titles(page), ['first', 'second', 'third']));
      const shown = await page.evaluate(() => window.__shown);
      assert.ok(shown.third < 100, `shown after ${shown.third} ms`);
      // Marked as saving until the server has it.
      assert.equal(await page.locator('.todo-list li.saving').count(), 3);
      assert.equal(await page.locator('.todo-list li[aria-busy="true"]').count(), 3);
      assert.equal((await api('GET', '/api/todos')).length, 0);
      await eventually(async () => assert.equal(await page.locator('.todo-list li.saving').count(), 0), 8000);
      assert.equal(await page.locator('.todo-list li[data-id]').count(), 3);
      assert.deepEqual((await api('GET', '/api/todos')).map((t) => t.title), ['first', 'second', 'third']);
      await listIs(page, ['first', 'second', 'third']);
      await countIs(page, '3 items left');
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('a refused change is rolled back and explained in plain words', async () => {
    const kept = await create('kept');
    const gone = await create('deleted elsewhere');
    const page = await open('/');
    try {
      await markDocument(page);
      // The server fails: the tick goes back, the message says what it means.
      await page.route(`**/todos/${kept.id}/toggle`, (route) =>
        route.fulfill({ status: 500, contentType: 'application/json', body: '{"code":"internal_error","message":"internal server error"}' }),
      );
      await item(page, 'kept').locator('.toggle').click();
      const toast = page.locator('.toast');
      await eventually(async () => assert.ok(await toast.isVisible()));
      assert.equal(await item(page, 'kept').locator('.toggle').isChecked(), false);
      assert.doesNotMatch(await item(page, 'kept').getAttribute('class') || '', /completed/);
      assert.equal(
        await toast.locator('.toast-text').textContent(),
        'Something went wrong on the server, so that change was not saved. Try again in a moment.',
      );
      assert.equal((await api('GET', `/api/todos/${kept.id}`)).completed, false);
      // Moving on clears it.
      await page.locator('.new-todo').pressSequentially('x');
      await eventually(async () => assert.equal(await toast.isVisible(), false));
      await page.locator('.new-todo').fill('');

      // The task was deleted in another tab: the row goes, and says why.
      await api('DELETE', `/api/todos/${gone.id}`);
      await item(page, 'deleted elsewhere').locator('.toggle').click();
      await eventually(async () =>
        assert.match(await toast.locator('.toast-text').textContent(), /^That task is no longer there \(perhaps it was deleted in another tab\)/),
      );
      assert.doesNotMatch(await toast.textContent(), /not found|reload/i);
      await listIs(page, ['kept']);

      // A refused title stays in the form with the reason next to it.
      await item(page, 'kept').locator('label').dblclick();
      await item(page, 'kept').locator('.edit').fill('y'.repeat(300));
      await item(page, 'kept').locator('.edit').press('Enter');
      const error = item(page, 'kept').locator('.form-error');
      await eventually(async () => assert.equal(await error.textContent(), 'Title is 300 characters long; the maximum is 255.'));
      assert.match(await item(page, 'kept').getAttribute('class'), /editing/);
      assert.equal(await item(page, 'kept').locator('label').textContent(), 'kept', 'the title rolled back');
      assert.equal((await api('GET', `/api/todos/${kept.id}`)).title, 'kept');
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('a new task refused by the server comes back into the input', async () => {
    const page = await open('/');
    try {
      await page.route('**/todos', (route) => route.abort('connectionrefused'));
      await add(page, 'offline task');
      const error = page.locator('#new-todo-error');
      await eventually(async () => assert.ok(await error.isVisible()));
      assert.match(await error.textContent(), /^Could not reach the server, so your new task was not saved/);
      assert.equal(await page.locator('.new-todo').inputValue(), 'offline task');
      assert.deepEqual(await titles(page), []);
      assert.equal(await page.locator('.main').isVisible(), false);
      // Typing again clears the message.
      await page.locator('.new-todo').press('End');
      await page.locator('.new-todo').pressSequentially('!');
      assert.equal(await error.isVisible(), false);
    } finally {
      await page.context().close();
    }
  });
});

describe('focus and announcements', () => {
  test('delete moves focus to the next row, the previous, then the input', async () => {
    for (const title of ['a', 'b', 'c']) await create(title);
    const page = await open('/');
    try {
      // By keyboard: Edit, then Delete in the edit form.
      const remove = async (title) => {
        await item(page, title).locator('.edit-link').focus();
        await page.keyboard.press('Enter');
        await item(page, title).locator('.edit-form .destroy').focus();
        await page.keyboard.press('Enter');
      };
      const [a, , c] = await api('GET', '/api/todos');
      await remove('b');
      await listIs(page, ['a', 'c']);
      let now = await focused(page);
      assert.equal(now.id, `toggle-${c.id}`, 'the next row');
      await remove('c');
      await listIs(page, ['a']);
      now = await focused(page);
      assert.match(now.cls, /toggle/);
      assert.equal(now.row, String(a.id), 'the previous row');
      await remove('a');
      await listIs(page, []);
      assert.match((await focused(page)).cls, /new-todo/);
      await eventually(async () => assert.match(await page.locator('#status').textContent(), /^Deleted “a”\. Press Undo/));
    } finally {
      await page.context().close();
    }
  });

  test('after an edit focus is back on the row; a toggle keeps it; changes are announced', async () => {
    const task = await create('report');
    const next = await create('next');
    const page = await open('/');
    try {
      const status = page.locator('#status');
      assert.equal(await status.getAttribute('role'), 'status');
      assert.equal(await status.getAttribute('aria-live'), 'polite');

      // Done, the row goes into the collapsed section: focus goes to the
      // row that took its place, as after a delete.
      await item(page, 'report').locator('.toggle').focus();
      await page.keyboard.press('Space');
      await eventually(async () => assert.equal(await status.textContent(), '“report” done.'));
      await eventually(async () => assert.equal((await focused(page)).id, `toggle-${next.id}`));
      // With the section open, the row stays in sight and keeps focus.
      await showCompleted(page);
      await item(page, 'report').locator('.toggle').focus();
      await page.keyboard.press('Space');
      await eventually(async () => assert.equal(await status.textContent(), '“report” not done.'));
      await listIs(page, ['report', 'next']);
      assert.equal((await focused(page)).id, `toggle-${task.id}`);

      await item(page, 'report').locator('label').dblclick();
      await item(page, 'report').locator('.edit').fill('report, sent');
      await item(page, 'report').locator('.edit').press('Enter');
      await eventually(async () => assert.equal(await status.textContent(), 'Saved “report, sent”.'));
      assert.equal((await focused(page)).id, `edit-link-${task.id}`);

      // Escape too.
      await page.keyboard.press('Enter');
      await eventually(async () => assert.match(await item(page, 'report, sent').getAttribute('class'), /editing/));
      await page.keyboard.press('Escape');
      assert.equal((await focused(page)).id, `edit-link-${task.id}`);

      await add(page, 'next one');
      await eventually(async () => assert.equal(await status.textContent(), 'Added “next one”.'));
      assert.match((await focused(page)).cls, /new-todo/);
    } finally {
      await page.context().close();
    }
  });
});

describe('undo', () => {
  test('Undo brings a deleted task back exactly, on the server', async () => {
    await create('first');
    const task = await create('precious', { priority: 4, due: '2031-07-08', completed: true });
    await create('last');
    const page = await open('/');
    try {
      await markDocument(page);
      await showCompleted(page);
      await deleteTask(page, 'precious');
      const toast = page.locator('.toast');
      await eventually(async () => assert.ok(await toast.locator('.toast-undo').isVisible()));
      assert.equal(await toast.locator('.toast-text').textContent(), 'Deleted “precious”.');
      assert.equal((await api('GET', '/api/todos')).length, 2);
      // A real button, reached from the keyboard.
      await toast.locator('.toast-undo').focus();
      await page.keyboard.press('Enter');
      await listIs(page, ['first', 'last', 'precious']);
      const back = (await api('GET', '/api/todos'))[1];
      assert.deepEqual(
        [back.title, back.priority, back.due, back.order, back.completed],
        [task.title, task.priority, task.due, task.order, task.completed],
      );
      assert.equal(await toast.isVisible(), false);
      assert.match((await focused(page)).id, /^toggle-/, 'focus on the restored row');
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('clear completed and an emptied title can be undone too (Ctrl+Z)', async () => {
    await create('done one', { completed: true });
    await create('open');
    await create('done two', { completed: true, priority: 5 });
    const page = await open('/');
    try {
      await page.locator('.clear-completed').click();
      await listIs(page, ['open']);
      await eventually(async () => assert.equal(await page.locator('.toast-text').textContent(), 'Cleared 2 completed tasks.'));
      await page.locator('h1').click();
      await page.keyboard.press('Control+z');
      await listIs(page, ['open', 'done one', 'done two']);
      const all = await api('GET', '/api/todos');
      assert.deepEqual(all.map((t) => [t.title, t.completed, t.priority]), [['done one', true, 1], ['open', false, 1], ['done two', true, 5]]);

      await item(page, 'open').locator('label').dblclick();
      await item(page, 'open').locator('.edit').fill('');
      await page.keyboard.press('Enter');
      await listIs(page, ['done one', 'done two']);
      await eventually(async () => assert.equal(await page.locator('.toast-text').textContent(), 'Deleted “open”.'));
      await page.locator('.toast-undo').click();
      await listIs(page, ['open', 'done one', 'done two']);
    } finally {
      await page.context().close();
    }
  });

  test('the toast goes after a while, and Dismiss closes it', async () => {
    await create('brief');
    const page = await open('/');
    try {
      await page.clock.install();
      await deleteTask(page, 'brief');
      await eventually(async () => assert.ok(await page.locator('.toast').isVisible()));
      await page.mouse.move(0, 0);
      await page.clock.runFor(9000);
      await eventually(async () => assert.equal(await page.locator('.toast').isVisible(), false));
    } finally {
      await page.context().close();
    }
  });
});

describe('moving', () => {
  test('by keyboard: Alt+arrows on a row, arrows on its handle', async () => {
    for (const title of ['a', 'b', 'c', 'd']) await create(title);
    const page = await open('/');
    try {
      await markDocument(page);
      await tagRows(page);
      await item(page, 'a').locator('.toggle').focus();
      await page.keyboard.press('Alt+ArrowDown');
      await listIs(page, ['b', 'a', 'c', 'd']);
      await page.keyboard.press('Alt+ArrowDown');
      await listIs(page, ['b', 'c', 'a', 'd']);
      assert.match((await focused(page)).id, /^toggle-/, 'focus stays on the moved row');
      await eventually(async () => assert.equal(await page.locator('#status').textContent(), 'Moved “a” down.'));
      await item(page, 'd').locator('.move-handle').focus();
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      await listIs(page, ['d', 'b', 'c', 'a']);
      await eventually(async () => assert.deepEqual((await api('GET', '/api/todos')).map((t) => t.title), ['d', 'b', 'c', 'a']));
      assert.equal((await taggedRows(page)).length, 4, 'moved rows are the same nodes');
      // Persisted: a fresh page shows the same order.
      await page.reload();
      await listIs(page, ['d', 'b', 'c', 'a']);
    } finally {
      await page.context().close();
    }
  });

  test('moves pressed while earlier ones are still answering all count', async () => {
    for (const title of ['a', 'b', 'c', 'd']) await create(title);
    const page = await open('/');
    try {
      // Each move's answer waits until the test lets it through.
      const held = [];
      await page.route('**/move', async (route) => {
        const response = await route.fetch();
        await new Promise((release) => held.push(release));
        await route.fulfill({ response });
      });
      const answered = (count) => eventually(async () => assert.equal(held.length, count));
      await item(page, 'd').locator('.move-handle').focus();
      await page.keyboard.press('ArrowUp');
      await answered(1);
      await page.keyboard.press('ArrowUp');
      await listIs(page, ['a', 'd', 'b', 'c']);
      // The first answer (the server's order after one move) comes while
      // the second move is still waiting to be sent: the page keeps it.
      held[0]();
      await answered(2);
      await listIs(page, ['a', 'd', 'b', 'c']);
      await page.keyboard.press('ArrowUp');
      await listIs(page, ['d', 'a', 'b', 'c']);
      held[1]();
      await answered(3);
      held[2]();
      await eventually(async () => assert.deepEqual((await api('GET', '/api/todos')).map((t) => t.title), ['d', 'a', 'b', 'c']));
      await listIs(page, ['d', 'a', 'b', 'c']);
    } finally {
      await page.context().close();
    }
  });

  test('by dragging the handle', async () => {
    for (const title of ['a', 'b', 'c', 'd']) await create(title);
    const page = await open('/');
    try {
      await item(page, 'a').hover();
      const handle = await item(page, 'a').locator('.move-handle').boundingBox();
      const target = await item(page, 'c').boundingBox();
      await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
      await page.mouse.down();
      await page.mouse.move(handle.x + 10, target.y + target.height * 0.75, { steps: 8 });
      await page.mouse.up();
      await listIs(page, ['b', 'c', 'a', 'd']);
      await eventually(async () => assert.deepEqual((await api('GET', '/api/todos')).map((t) => t.title), ['b', 'c', 'a', 'd']));
      // Moving needs the user's own order: sorted lists have no handle.
      await page.locator('.sort-select').selectOption('priority');
      await eventually(async () => assert.equal(await page.locator('.move-handle').first().isVisible(), false));
    } finally {
      await page.context().close();
    }
  });
});

describe('other tabs', () => {
  test('a list open in two tabs converges without a reload', async () => {
    await create('shared');
    const first = await open('/');
    const second = await first.context().newPage();
    await second.goto('/');
    try {
      await markDocument(first);
      await tagRows(first);
      await add(second, 'from the other tab');
      await item(second, 'shared').locator('.toggle').check();
      // On focus, or at the next poll.
      await first.bringToFront();
      await first.evaluate(() => window.dispatchEvent(new Event('focus')));
      await listIs(first, ['from the other tab', 'shared']);
      await eventually(async () => assert.match(await item(first, 'shared').getAttribute('class'), /completed/));
      await countIs(first, '1 item left');
      assert.equal((await taggedRows(first)).length, 1, 'the changed row was updated in place');
      await assertNoReload(first);

      // Nothing changed: the check is a 304.
      const statuses = [];
      first.on('response', (r) => r.url().includes('/todos/state') && statuses.push(r.status()));
      await first.evaluate(() => window.dispatchEvent(new Event('focus')));
      await eventually(async () => assert.deepEqual(statuses, [304]));
    } finally {
      await first.context().close();
    }
  });
});
