// The web UI in a real headless Chromium: the TodoMVC behaviours, with and
// without JavaScript. (In-place updates, Undo, moving and other tabs are in
// live.test.js; accessibility, phones and screenshots in look.test.js.)
//
// Each test starts from an empty list, sets up what it needs through the JSON
// API, then works the page as a person would: typing, clicking, double-
// clicking, pressing Escape and Back. Assertions poll (`eventually`), because
// in-place updates land a moment after the event that caused them.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_URL,
  add,
  api,
  assertNoReload,
  countIs,
  countText,
  create,
  deleteTask,
  eventually,
  item,
  listIs,
  markDocument,
  open,
  showCompleted,
  titles,
  useBrowser,
} from './helpers.js';

useBrowser();

// ---- With JavaScript -------------------------------------------------------------

describe('with JavaScript', () => {
  test('Enter adds a trimmed task at the bottom, clears and keeps focus, no reload', async () => {
    const page = await open('/');
    try {
      await markDocument(page);
      assert.ok(await page.locator('.new-todo').evaluate((el) => el === document.activeElement), 'autofocus');
      assert.equal(await page.locator('.main').isVisible(), false, '.main hidden with no tasks');
      assert.equal(await page.locator('.footer').isVisible(), false, '.footer hidden with no tasks');

      await add(page, '   buy milk   ');
      await add(page, 'walk the dog');
      await add(page, 'call mum');
      await listIs(page, ['buy milk', 'walk the dog', 'call mum']);
      assert.equal(await page.locator('.new-todo').inputValue(), '');
      assert.ok(await page.locator('.new-todo').evaluate((el) => el === document.activeElement), 'focus kept');
      assert.ok(await page.locator('.main').isVisible());
      assert.ok(await page.locator('.footer').isVisible());
      await countIs(page, '3 items left');

      // Enter on blanks adds nothing.
      await add(page, '    ');
      await page.waitForTimeout(200);
      assert.equal((await titles(page)).length, 3);
      assert.equal((await api('GET', '/api/todos')).length, 3);
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('toggling marks completed, counts "1 item left", toggle-all stays in step', async () => {
    await create('one');
    await create('two');
    const page = await open('/');
    try {
      await markDocument(page);
      await countIs(page, '2 items left');
      await item(page, 'one').locator('.toggle').check();
      await eventually(async () => assert.match(await item(page, 'one').getAttribute('class'), /\bcompleted\b/));
      await countIs(page, '1 item left');
      assert.equal(await page.locator('.toggle-all').isChecked(), false);

      await item(page, 'two').locator('.toggle').check();
      await countIs(page, '0 items left');
      await eventually(async () => assert.equal(await page.locator('.toggle-all').isChecked(), true));

      // The toggle-all checkbox takes the click itself (TodoMVC tools click
      // it, not its label): it un-completes everything, then completes it again.
      await page.locator('.toggle-all').click();
      await countIs(page, '2 items left');
      assert.equal(await page.locator('.todo-list li.completed').count(), 0);
      assert.equal(await page.locator('.toggle-all').isChecked(), false);
      await page.locator('.toggle-all').click();
      await countIs(page, '0 items left');
      assert.equal(await page.locator('.todo-list li.completed').count(), 2);

      // Completed tasks sit in their own section under the open ones,
      // collapsed. One back to active: toggle-all follows.
      assert.equal(await page.locator('details.completed-group summary').textContent(), 'Show 2 completedHide 2 completed');
      await showCompleted(page);
      await item(page, 'one').locator('.toggle').uncheck();
      await countIs(page, '1 item left');
      await eventually(async () => assert.equal(await page.locator('.toggle-all').isChecked(), false));
      const stored = await api('GET', '/api/todos');
      assert.deepEqual(stored.map((t) => [t.title, t.completed]), [['one', false], ['two', true]]);
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('double-click edits: Enter saves trimmed, blur saves, Escape cancels, empty deletes', async () => {
    for (const title of ['alpha', 'beta', 'gamma', 'delta']) await create(title);
    const page = await open('/');
    try {
      await markDocument(page);
      const edit = (title) => item(page, title).locator('.edit');

      // Enter saves, trimmed.
      await item(page, 'alpha').locator('label').dblclick();
      await eventually(async () => assert.match(await item(page, 'alpha').getAttribute('class'), /\bediting\b/));
      assert.ok(await edit('alpha').evaluate((el) => el === document.activeElement), 'the edit field has focus');
      assert.equal(await item(page, 'alpha').locator('.toggle').isVisible(), false, 'the view is hidden');
      await edit('alpha').fill('  alpha two  ');
      await edit('alpha').press('Enter');
      await listIs(page, ['alpha two', 'beta', 'gamma', 'delta']);
      assert.equal(await page.locator('.todo-list li.editing').count(), 0);

      // Blur saves.
      await item(page, 'beta').locator('label').dblclick();
      await edit('beta').fill('beta two');
      await page.locator('h1').click();
      await listIs(page, ['alpha two', 'beta two', 'gamma', 'delta']);

      // Escape cancels.
      await item(page, 'gamma').locator('label').dblclick();
      await edit('gamma').fill('never saved');
      await edit('gamma').press('Escape');
      await eventually(async () => assert.equal(await page.locator('.todo-list li.editing').count(), 0));
      await page.waitForTimeout(200);
      await listIs(page, ['alpha two', 'beta two', 'gamma', 'delta']);
      assert.equal(await item(page, 'gamma').locator('.edit').count(), 0, 'the edit form went');

      // Emptied: deleted.
      await item(page, 'delta').locator('label').dblclick();
      await edit('delta').fill('   ');
      await edit('delta').press('Enter');
      await listIs(page, ['alpha two', 'beta two', 'gamma']);

      // The row goes at once; the server's delete lands a moment later.
      await eventually(async () => {
        const stored = await api('GET', '/api/todos');
        assert.deepEqual(stored.map((t) => t.title), ['alpha two', 'beta two', 'gamma']);
      });
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('the Edit button edits priority and due date from the keyboard', async () => {
    await create('report');
    const page = await open('/');
    try {
      await markDocument(page);
      const li = item(page, 'report');
      await li.hover();
      await li.locator('.edit-link').click();
      await eventually(async () => assert.match(await li.getAttribute('class'), /\bediting\b/));
      await li.locator('.edit-form .priority-select').selectOption({ label: 'Urgent' });
      await li.locator('.edit-form .due-input').fill('2031-05-04');
      await li.locator('.edit').focus();
      await li.locator('.edit').press('Enter');
      await eventually(async () => assert.equal(await li.locator('.priority-tag').textContent(), 'Priority: Urgent'));
      assert.equal(await li.locator('.due').textContent(), 'Due 4 May 2031');
      const [stored] = await api('GET', '/api/todos');
      assert.equal(stored.priority, 4);
      assert.equal(stored.due, '2031-05-04');
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('the no-JavaScript edit URL still edits in place with JavaScript', async () => {
    const task = await create('from a link');
    const page = await open(`/active?edit=${task.id}`);
    try {
      await markDocument(page);
      const li = item(page, 'from a link');
      assert.match(await li.getAttribute('class'), /\bediting\b/);
      assert.ok(await li.locator('.edit').evaluate((el) => el === document.activeElement), 'autofocus');
      assert.equal(new URL(page.url()).search, '', 'edit= left the URL');
      await li.locator('.edit').fill('edited');
      await li.locator('.edit').press('Enter');
      await listIs(page, ['edited']);
      await page.waitForTimeout(200);
      assert.equal(await page.locator('.todo-list li.editing').count(), 0);
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('destroy removes a task; clear-completed is shown only when something is done', async () => {
    await create('keep');
    await create('drop');
    await create('finish');
    const page = await open('/');
    try {
      await markDocument(page);
      assert.equal(await page.locator('.clear-completed').isVisible(), false);

      await deleteTask(page, 'drop');
      await listIs(page, ['keep', 'finish']);

      await item(page, 'finish').locator('.toggle').check();
      await eventually(async () => assert.ok(await page.locator('.clear-completed').isVisible()));
      await page.locator('.clear-completed').click();
      await listIs(page, ['keep']);
      await eventually(async () => assert.equal(await page.locator('.clear-completed').isVisible(), false));
      await countIs(page, '1 item left');

      // The last one gone: .main and .footer hide again.
      await deleteTask(page, 'keep');
      await eventually(async () => assert.equal(await page.locator('.main').isVisible(), false));
      assert.equal(await page.locator('.footer').isVisible(), false);
      assert.deepEqual(await api('GET', '/api/todos'), []);
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('filters: the current one is selected, the URL follows, Back works', async () => {
    await create('to do');
    await create('done', { completed: true });
    const page = await open('/');
    try {
      await markDocument(page);
      const selected = () => page.locator('.filters a.selected').textContent();
      assert.equal(await selected(), 'All');

      await page.locator('.filters a', { hasText: 'Active' }).click();
      await listIs(page, ['to do']);
      assert.equal(new URL(page.url()).pathname, '/active');
      assert.equal(await selected(), 'Active');

      await page.locator('.filters a', { hasText: 'Completed' }).click();
      await listIs(page, ['done']);
      assert.equal(new URL(page.url()).pathname, '/completed');
      assert.equal(await selected(), 'Completed');

      await page.goBack();
      await listIs(page, ['to do']);
      assert.equal(new URL(page.url()).pathname, '/active');
      await eventually(async () => assert.equal(await selected(), 'Active'));

      await page.goBack();
      await listIs(page, ['to do', 'done']);
      assert.equal(new URL(page.url()).pathname, '/');
      await eventually(async () => assert.equal(await selected(), 'All'));

      await page.goForward();
      await listIs(page, ['to do']);

      // In the Active view a task completed in place leaves the list. (A click,
      // not check(): the checkbox is gone before check() could verify it.)
      await item(page, 'to do').locator('.toggle').click();
      await eventually(async () => assert.equal(await page.locator('.list-empty').textContent(), 'Nothing left to do.'));
      await assertNoReload(page);

      // The URL is addressable: opening it directly gives the same view.
      const direct = await open('/completed');
      try {
        await listIs(direct, ['to do', 'done']);
        assert.equal(await direct.locator('.filters a.selected').textContent(), 'Completed');
      } finally {
        await direct.context().close();
      }
    } finally {
      await page.context().close();
    }
  });

  test('priority picker, visible priority marks and sorting', async () => {
    const page = await open('/');
    try {
      await markDocument(page);
      const form = page.locator('.new-todo-form');
      await page.locator('.new-todo').fill('someday');
      await form.locator('.priority-select').selectOption({ label: 'Low' });
      await form.locator('.due-input').fill('2031-03-01');
      await page.locator('.new-todo').press('Enter');
      await listIs(page, ['someday']);
      await page.locator('.new-todo').fill('fire');
      await form.locator('.priority-select').selectOption({ label: 'Do now' });
      await form.locator('.due-input').fill('2031-06-01');
      await page.locator('.new-todo').press('Enter');
      await page.locator('.new-todo').fill('soonish');
      await form.locator('.priority-select').selectOption({ label: 'High' });
      await page.locator('.new-todo').press('Enter');
      await listIs(page, ['someday', 'fire', 'soonish']);
      // The picker goes back to Low after each task.
      assert.equal(await form.locator('.priority-select').inputValue(), '1');

      // Only what says something: a plain (low) task has no priority mark.
      const marks = await page.locator('.todo-list li .priority-tag').allTextContents();
      assert.deepEqual(marks, ['Priority: Do now', 'Priority: High']);
      assert.equal(await item(page, 'soonish').locator('.tags').count(), 1);
      assert.equal(await item(page, 'fire').getAttribute('data-priority'), 'do-now');

      await page.locator('.sort-select').selectOption('priority');
      await listIs(page, ['fire', 'soonish', 'someday']);
      assert.equal(new URL(page.url()).search, '?sort=priority');

      await page.locator('.sort-select').selectOption('due');
      await listIs(page, ['someday', 'fire', 'soonish']);

      await page.locator('.sort-select').selectOption('created');
      await listIs(page, ['soonish', 'fire', 'someday']);

      // The sort is kept across filters and actions, and Back restores the select.
      await page.locator('.filters a', { hasText: 'Active' }).click();
      await eventually(async () => assert.equal(new URL(page.url()).search, '?sort=created'));
      await page.goBack();
      await page.goBack();
      await listIs(page, ['someday', 'fire', 'soonish']);
      await eventually(async () => assert.equal(await page.locator('.sort-select').inputValue(), 'due'));
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('search narrows the list as you type and shows when nothing matches', async () => {
    for (const title of ['Buy milk', 'Buy bread', 'Call the bank']) await create(title);
    const page = await open('/');
    try {
      await markDocument(page);
      await page.locator('.search').fill('buy');
      await listIs(page, ['Buy milk', 'Buy bread']);
      await eventually(async () => assert.equal(new URL(page.url()).searchParams.get('q'), 'buy'));
      await page.locator('.search').fill('zebra');
      await eventually(async () => assert.equal(await page.locator('.list-empty').textContent(), 'No tasks match “zebra”.'));
      assert.equal((await titles(page)).length, 0);
      await page.locator('.search').fill('');
      await listIs(page, ['Buy milk', 'Buy bread', 'Call the bank']);
      await eventually(async () => assert.equal(new URL(page.url()).search, ''));
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });

  test('a rejected task shows the error next to the form and keeps the input', async () => {
    const page = await open('/');
    try {
      await markDocument(page);
      const tooLong = 'x'.repeat(300);
      await add(page, tooLong);
      const error = page.locator('#new-todo-error');
      await eventually(async () => assert.ok(await error.isVisible()));
      assert.equal(await error.getAttribute('role'), 'alert');
      assert.equal(await error.textContent(), 'Title is 300 characters long; the maximum is 255.');
      assert.equal(await page.locator('.new-todo').inputValue(), tooLong);
      assert.equal(await page.locator('.new-todo').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('.new-todo').getAttribute('aria-describedby'), 'new-todo-error');
      assert.deepEqual(await api('GET', '/api/todos'), []);

      // Fixing it clears the error.
      await add(page, 'short enough');
      await listIs(page, ['short enough']);
      assert.equal(await error.isVisible(), false);
      assert.equal(await page.locator('.new-todo').getAttribute('aria-invalid'), null);
      await assertNoReload(page);
    } finally {
      await page.context().close();
    }
  });
});

// ---- Without JavaScript ----------------------------------------------------------

describe('without JavaScript', () => {
  const openPlain = (path) => open(path, { javaScriptEnabled: false });

  test('adds, completes, edits and deletes through plain forms', async () => {
    const page = await openPlain('/');
    try {
      assert.equal(await page.locator('html.js').count(), 0, 'app.js did not run');
      await page.locator('.new-todo').fill('  plain form  ');
      await Promise.all([page.waitForURL(`${BASE_URL}/`), page.locator('.new-todo').press('Enter')]);
      await page.waitForLoadState();
      assert.deepEqual(await titles(page), ['plain form']);
      assert.equal(await countText(page), '1 item left');

      // The checkbox needs JavaScript; its button stands in for it.
      await page.locator('.toggle-button').click();
      await page.waitForLoadState();
      assert.match(await item(page, 'plain form').getAttribute('class'), /\bcompleted\b/);
      assert.equal(await countText(page), '0 items left');
      assert.ok(await page.locator('.clear-completed').isVisible());

      // Done tasks are under the open ones, collapsed: a <details>, which
      // opens without a script.
      assert.equal(await item(page, 'plain form').isVisible(), false);
      await showCompleted(page);
      // Edit: a link to the edit view, a form, Save.
      await item(page, 'plain form').hover();
      await item(page, 'plain form').locator('.edit-link').click();
      await page.waitForLoadState();
      assert.match(new URL(page.url()).search, /edit=/);
      await item(page, 'plain form').locator('.edit').fill('renamed');
      await item(page, 'plain form').locator('.edit-form .priority-select').selectOption({ label: 'High' });
      await item(page, 'plain form').locator('.save-button').click();
      await page.waitForLoadState();
      assert.equal(new URL(page.url()).search, '');
      assert.deepEqual(await titles(page), ['renamed']);
      assert.equal(await item(page, 'renamed').locator('.priority-tag').textContent(), 'Priority: High');
      assert.equal(await page.locator('.edit').count(), 0, 'no edit form but in edit mode');

      // Filters are plain links.
      await page.locator('.filters a', { hasText: 'Active' }).click();
      await page.waitForLoadState();
      assert.equal(new URL(page.url()).pathname, '/active');
      assert.deepEqual(await titles(page), []);
      await page.goBack();
      await page.waitForLoadState();
      assert.deepEqual(await titles(page), ['renamed']);

      // No Undo without JavaScript: deleting asks first, and Keep goes back.
      await page.locator('.clear-completed').click();
      await page.waitForLoadState();
      assert.equal(await page.locator('h2').textContent(), 'Delete 1 completed task?');
      assert.deepEqual(await page.locator('.confirm-list li').allTextContents(), ['renamed']);
      await page.locator('.cancel-link').click();
      await page.waitForLoadState();
      assert.deepEqual(await titles(page), ['renamed']);
      await page.locator('.clear-completed').click();
      await page.waitForLoadState();
      await page.locator('.confirm-button').click();
      await page.waitForLoadState();
      assert.deepEqual(await titles(page), []);
      assert.equal(await page.locator('.main').isVisible(), false);

      // One task deleted from its edit form, confirmed the same way.
      await page.locator('.new-todo').fill('short lived');
      await page.locator('.new-todo').press('Enter');
      await page.waitForLoadState();
      await page.locator('.edit-link').click();
      await page.waitForLoadState();
      await page.locator('.edit-form .destroy').click();
      await page.waitForLoadState();
      assert.equal(await page.locator('h2').textContent(), 'Delete “short lived”?');
      await page.locator('.confirm-button').click();
      await page.waitForLoadState();
      assert.deepEqual(await titles(page), []);
      assert.deepEqual(await api('GET', '/api/todos'), []);
    } finally {
      await page.context().close();
    }
  });

  test('a rejected form comes back with the error and the input', async () => {
    const page = await openPlain('/active');
    try {
      const tooLong = 'y'.repeat(256);
      await page.locator('.new-todo').fill(tooLong);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/todos')),
        page.locator('.add-button').click(),
      ]);
      assert.equal(response.status(), 422);
      await page.waitForLoadState();
      assert.match(await page.locator('#new-todo-error').textContent(), /256 characters long/);
      assert.equal(await page.locator('.new-todo').inputValue(), tooLong);
      // Still the Active view's form: the next post returns there.
      assert.equal(await page.locator('.new-todo-form input[name="return"]').inputValue(), '/active');
    } finally {
      await page.context().close();
    }
  });
});
