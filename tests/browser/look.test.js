// How the page looks and reads: axe-core with no serious or critical
// violations in each state, phones with and without JavaScript (no
// overlap, 44 px targets), dark mode, the first-run hint, dates in the
// reader's zone and language, the counter under a search, and screenshots
// of each state at both sizes (SCREENSHOT_DIR).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE_URL,
  PHONE,
  SCREENSHOTS,
  SMALL_PHONE,
  add,
  api,
  axeProblems,
  countIs,
  create,
  deleteTask,
  eventually,
  item,
  listIs,
  open,
  showCompleted,
  useBrowser,
} from './helpers.js';

useBrowser();

mkdirSync(SCREENSHOTS, { recursive: true });
const shoot = (page, name) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

async function sampleList() {
  await create('Water the plants', { priority: 3, due: '2020-01-01' });
  await create('Call the bank about the mortgage renewal before Friday', { priority: 5 });
  await create('Buy milk', { completed: true });
  await create('Book a dentist appointment', { priority: 2, due: '2031-12-10' });
  await create('Read a book');
}

/** Boxes of the visible elements matching `selector`. */
const boxes = (page, selector) =>
  page.locator(selector).evaluateAll((els) =>
    els
      .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
      .map((el) => {
        const r = el.getBoundingClientRect();
        return { what: `${el.tagName.toLowerCase()}.${el.className}`, x: r.x, y: r.y, w: r.width, h: r.height };
      }),
  );

function overlap(a, b) {
  return a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
}

async function noSidewaysScroll(page, name) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than the screen`);
}

const SIZES = [
  ['desktop', {}],
  ['phone', PHONE],
];

describe('accessibility', () => {
  for (const [size, options] of SIZES) {
    for (const scheme of ['light', 'dark']) {
      test(`axe finds nothing serious: ${size}, ${scheme}, each state`, async () => {
        await sampleList();
        const name = `${size}-${scheme}`;
        const page = await open('/', { ...options, colorScheme: scheme, bypassCSP: true });
        try {
          assert.deepEqual(await axeProblems(page), [], 'the list');
          await shoot(page, `${name}-list`);

          await showCompleted(page);
          assert.deepEqual(await axeProblems(page), [], 'with the completed tasks shown');
          await shoot(page, `${name}-completed-open`);

          await item(page, 'Read a book').locator('label').dblclick();
          await eventually(async () => assert.match(await item(page, 'Read a book').getAttribute('class'), /editing/));
          assert.deepEqual(await axeProblems(page), [], 'while editing');
          await shoot(page, `${name}-editing`);
          await page.keyboard.press('Escape');

          await add(page, 'x'.repeat(300));
          await eventually(async () => assert.ok(await page.locator('#new-todo-error').isVisible()));
          assert.deepEqual(await axeProblems(page), [], 'with an error');
          await shoot(page, `${name}-error`);
          await page.locator('.new-todo').fill('');

          await deleteTask(page, 'Read a book');
          await eventually(async () => assert.ok(await page.locator('.toast-undo').isVisible()));
          assert.deepEqual(await axeProblems(page), [], 'with the Undo toast');
          await shoot(page, `${name}-undo`);
          await noSidewaysScroll(page, name);
        } finally {
          await page.context().close();
        }
      });
    }
  }

  test('axe finds nothing serious on the empty list, 404 and confirmation pages', async () => {
    for (const [size, options] of SIZES) {
      const page = await open('/', { ...options, bypassCSP: true });
      try {
        assert.deepEqual(await axeProblems(page), [], `${size}: empty list`);
        await shoot(page, `${size}-first-run`);
        await page.goto('/no/such/page');
        assert.deepEqual(await axeProblems(page), [], `${size}: 404`);
        await shoot(page, `${size}-not-found`);
      } finally {
        await page.context().close();
      }
      // The confirmation page (the no-JavaScript stand-in for Undo), reached
      // by a plain form post.
      const task = await create('Something to delete');
      const confirm = await open('/', { ...options, bypassCSP: true });
      try {
        await Promise.all([
          confirm.waitForURL(`**/todos/${task.id}/delete`),
          confirm.evaluate((id) => {
            const form = Object.assign(document.createElement('form'), { method: 'post', action: `/todos/${id}/delete` });
            document.body.append(form);
            form.submit();
          }, task.id),
        ]);
        assert.equal(await confirm.locator('h2').textContent(), 'Delete “Something to delete”?');
        assert.deepEqual(await axeProblems(confirm), [], `${size}: confirmation`);
        await shoot(confirm, `${size}-nojs-confirm`);
      } finally {
        await confirm.context().close();
      }
      await api('DELETE', '/api/todos');
    }
  });

  test('touch targets on a phone are at least 44 px', async () => {
    await sampleList();
    const page = await open('/', PHONE);
    try {
      const small = (await boxes(page, '.todoapp button, .todoapp a, .todoapp input:not([type=hidden]), .todoapp select'))
        .filter((b) => b.w < 44 || b.h < 44);
      assert.deepEqual(small, []);
    } finally {
      await page.context().close();
    }
  });
});

describe('phones', () => {
  for (const [name, options] of [
    ['phone-390', PHONE],
    ['phone-320', SMALL_PHONE],
  ]) {
    test(`${name} without JavaScript: no overlap, search and sort usable`, async () => {
      await sampleList();
      const page = await open('/', { ...options, javaScriptEnabled: false });
      try {
        assert.equal(await page.locator('html.js').count(), 0);
        await noSidewaysScroll(page, name);
        const tools = await boxes(page, '.toolbar .toggle-all-button, .toolbar .search, .toolbar .sort-select, .toolbar .apply-button');
        assert.equal(tools.length, 4, JSON.stringify(tools));
        for (const a of tools) {
          assert.ok(a.w >= 44 && a.h >= 44, `${a.what} is ${a.w}×${a.h}`);
          for (const b of tools) if (a !== b) assert.ok(!overlap(a, b), `${a.what} overlaps ${b.what}`);
        }
        await shoot(page, `${name}-nojs`);
        // And they work: search, then sort.
        await page.locator('.search').fill('book');
        await page.locator('.sort-select').selectOption('priority');
        await page.locator('.apply-button').click();
        await page.waitForLoadState();
        const params = new URL(page.url()).searchParams;
        assert.deepEqual([params.get('sort'), params.get('q')], ['priority', 'book']);
        assert.deepEqual(await page.locator('.todo-list li label').allTextContents(), ['Book a dentist appointment', 'Read a book']);
      } finally {
        await page.context().close();
      }
    });
  }

  test('phone with JavaScript: Edit shows without hover and works by touch; Delete is inside', async () => {
    await sampleList();
    const page = await open('/', PHONE);
    try {
      await noSidewaysScroll(page, 'phone');
      const row = item(page, 'Read a book');
      assert.equal(await row.locator('.edit-link').evaluate((el) => getComputedStyle(el).opacity), '1', 'Edit is hidden until hovered');
      // One tool per row: no drag handle (the edit form moves), no delete.
      assert.equal(await row.locator('.move-handle').isVisible(), false);
      assert.equal(await row.locator('.destroy').count(), 0);
      await row.locator('.edit-link').tap();
      await eventually(async () => assert.match(await row.getAttribute('class'), /editing/));
      for (const name of ['Save', 'Move up', 'Move down', 'Delete: Read a book']) {
        assert.ok(await row.getByRole('button', { name, exact: true }).isVisible(), name);
      }
      await shoot(page, 'phone-editing-by-touch');
      await row.getByRole('button', { name: 'Move up', exact: true }).tap();
      await listIs(page, ['Water the plants', 'Call the bank about the mortgage renewal before Friday', 'Read a book', 'Book a dentist appointment', 'Buy milk']);
    } finally {
      await page.context().close();
    }
  });
});

describe('looks', () => {
  test('dark mode follows the system setting', async () => {
    await sampleList();
    const light = await open('/', { colorScheme: 'light' });
    const dark = await open('/', { colorScheme: 'dark' });
    try {
      const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(await background(light), 'rgb(243, 241, 237)');
      assert.equal(await background(dark), 'rgb(22, 25, 29)');
      const ink = await dark.locator('.todo-list li label').first().evaluate((el) => getComputedStyle(el).color);
      assert.equal(ink, 'rgb(230, 232, 235)');
      await shoot(dark, 'desktop-dark');
    } finally {
      await light.context().close();
      await dark.context().close();
    }
  });

  test('the app has an icon and a manifest', async () => {
    const page = await open('/');
    try {
      const manifest = await page.locator('link[rel="manifest"]').getAttribute('href');
      const body = await (await page.request.get(manifest)).json();
      assert.equal(body.display, 'standalone');
      const icon = await page.locator('link[rel="icon"]').getAttribute('href');
      assert.equal(icon, body.icons[0].src);
      assert.equal((await page.request.get(icon)).headers()['content-type'], 'image/svg+xml');
      // The manifest is not blocked by the page's content security policy.
      const csp = (await page.request.get('/')).headers()['content-security-policy'];
      assert.match(csp, /manifest-src 'self'/);
    } finally {
      await page.context().close();
    }
  });

  test('the first-run hint matches the device', async () => {
    const cases = [
      ['keyboard', {}, /press Enter/],
      ['touch', PHONE, /tap Add/],
      ['no JavaScript', { javaScriptEnabled: false }, /press Add/],
    ];
    for (const [what, options, words] of cases) {
      const page = await open('/', options);
      try {
        const hint = page.locator('.first-run p:visible');
        assert.equal(await hint.count(), 1, what);
        assert.match(await hint.textContent(), words, what);
        if (options.javaScriptEnabled !== false) {
          await add(page, 'first task');
          await eventually(async () => assert.equal(await page.locator('.first-run').isVisible(), false));
          await listIs(page, ['first task']);
          await api('DELETE', '/api/todos');
        }
      } finally {
        await page.context().close();
      }
    }
  });

  test('the filter links stay put when "Clear completed" appears', async () => {
    await create('one');
    const page = await open('/');
    try {
      const where = () => page.locator('.filters').boundingBox();
      const before = await where();
      await item(page, 'one').locator('.toggle').check();
      await eventually(async () => assert.ok(await page.locator('.clear-completed').isVisible()));
      assert.deepEqual(await where(), before);
    } finally {
      await page.context().close();
    }
  });

  test('the counter counts what the search matches; errors clear on moving on', async () => {
    for (const title of ['Buy milk', 'Buy bread', 'Call the bank']) await create(title);
    const page = await open('/');
    try {
      await add(page, 'z'.repeat(256));
      await eventually(async () => assert.ok(await page.locator('#new-todo-error').isVisible()));
      await page.locator('.search').fill('buy');
      await countIs(page, '2 matching items left');
      await listIs(page, ['Buy milk', 'Buy bread']);
      assert.equal(await page.locator('#new-todo-error').isVisible(), false, 'the error cleared');
      await page.locator('.filters a', { hasText: 'Active' }).click();
      await countIs(page, '2 matching items left');
    } finally {
      await page.context().close();
    }
  });
});

describe('dates', () => {
  // Today where the day starts first (UTC+14) is tomorrow or today in UTC.
  const eastToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Kiritimati' }).format(new Date());

  test('"today" and the date format follow the browser, with JavaScript', async () => {
    await create('east', { due: eastToday() });
    await create('later', { due: '2031-05-04' });
    const page = await open('/', { timezoneId: 'Pacific/Kiritimati', locale: 'en-US' });
    try {
      // The first page was rendered for the server's zone; the script
      // notices and fetches the dated rows again.
      await eventually(async () => assert.equal(await item(page, 'east').locator('.due').textContent(), 'Due today'));
      assert.equal(await item(page, 'later').locator('.due').textContent(), 'Due May 4, 2031');
      // And sets the cookie, so the next page (even without the script) is right.
      await page.reload();
      assert.equal(await item(page, 'east').locator('.due').textContent(), 'Due today');
    } finally {
      await page.context().close();
    }
  });

  test('month names follow the browser\'s language, with and without JavaScript', async () => {
    await create('later', { due: '2031-05-04' });
    for (const [locale, text] of [
      ['de-DE', 'Due 4. Mai 2031'],
      ['fr-FR', 'Due 4 mai 2031'],
    ]) {
      for (const javaScriptEnabled of [true, false]) {
        const page = await open('/', { locale, javaScriptEnabled });
        try {
          assert.equal(await item(page, 'later').locator('.due').textContent(), text, `${locale}, script ${javaScriptEnabled}`);
        } finally {
          await page.context().close();
        }
      }
    }
  });

  test('"today" follows the zone cookie without JavaScript; odd years are refused', async () => {
    await create('east', { due: eastToday() });
    const page = await open('/', { javaScriptEnabled: false, locale: 'en-GB' });
    try {
      await page.context().addCookies([{ name: 'tz', value: '840', url: page.url() }]);
      await page.reload();
      assert.equal(await item(page, 'east').locator('.due').textContent(), 'Due today');
      await page.locator('.new-todo').fill('ancient');
      const due = page.locator('.new-todo-form .due-input');
      await due.fill('0201-05-04');
      // The input's min and max are the domain's range, so the browser
      // refuses the year before the server would (tests/api/ui.rs covers
      // the server's own refusal).
      assert.equal(await due.evaluate((input) => input.validity.rangeUnderflow), true);
      assert.equal(await due.getAttribute('min'), '1900-01-01');
      assert.equal(await due.getAttribute('max'), '9999-12-31');
    } finally {
      await page.context().close();
    }
  });
});

describe('phone layout, alignment and the keyboard', () => {
  test('a phone shows at least 10 one-line tasks, each with Edit in reach and no delete', async () => {
    for (let n = 1; n <= 14; n++) await create(`Task number ${n}`);
    for (const javaScriptEnabled of [true, false]) {
      const page = await open('/', { ...PHONE, javaScriptEnabled });
      try {
        const rows = await page.locator('#list-body li').evaluateAll((lis) =>
          lis.map((li) => {
            const box = li.getBoundingClientRect();
            const label = li.querySelector('label');
            const lines = Math.round(label.getBoundingClientRect().height / parseFloat(getComputedStyle(label).lineHeight));
            const edit = li.querySelector('.edit-link').getBoundingClientRect();
            return { top: box.top, bottom: box.bottom, lines, edit: edit.width >= 44 && edit.height >= 44 && edit.right <= innerWidth };
          }),
        );
        const seen = rows.filter((r) => r.top >= 0 && r.bottom <= 844);
        assert.ok(seen.length >= 10, `script ${javaScriptEnabled}: ${seen.length} rows in the first screen`);
        assert.ok(seen.every((r) => r.lines === 1), 'a title took two lines');
        assert.ok(seen.every((r) => r.edit), 'Edit is not a 44 px target in reach');
        assert.equal(await page.locator('#list-body .view .destroy, #list-body .view .destroy-form').count(), 0);
        await shoot(page, `phone-first-screen${javaScriptEnabled ? '' : '-nojs'}`);
      } finally {
        await page.context().close();
      }
    }
  });

  test('a title without marks is centred on its checkbox, with and without the script', async () => {
    await create('Plain');
    await create('Marked', { priority: 4, due: '2031-01-01' });
    for (const [size, options] of SIZES) {
      for (const javaScriptEnabled of [true, false]) {
        const page = await open('/', { ...options, javaScriptEnabled });
        try {
          const offsets = await page.locator('#list-body li').evaluateAll((lis) =>
            lis.map((li) => {
              const box = (el) => el.getBoundingClientRect();
              const control = [...li.querySelectorAll('.toggle, .toggle-button')].find((el) => el.offsetParent !== null);
              const label = box(li.querySelector('label'));
              const text = box(li.querySelector('.task-text'));
              const check = box(control);
              return {
                title: li.querySelector('label').textContent,
                label: label.top + label.height / 2 - (check.top + check.height / 2),
                text: text.top + text.height / 2 - (check.top + check.height / 2),
              };
            }),
          );
          const plain = offsets.find((o) => o.title === 'Plain');
          assert.ok(Math.abs(plain.label) <= 1.5, `${size}, script ${javaScriptEnabled}: the title is ${plain.label}px off the checkbox's centre`);
          const marked = offsets.find((o) => o.title === 'Marked');
          assert.ok(Math.abs(marked.text) <= 1.5, `${size}, script ${javaScriptEnabled}: title and marks are ${marked.text}px off`);
        } finally {
          await page.context().close();
        }
      }
    }
  });

  test('a skip link comes first, and each row is two Tab stops', async () => {
    for (const title of ['one', 'two', 'three']) await create(title);
    for (const javaScriptEnabled of [true, false]) {
      const page = await open('/', { javaScriptEnabled });
      try {
        // From the top of the page (a stand-in for the browser's own
        // controls, before the page's first element).
        await page.evaluate(() => {
          const start = Object.assign(document.createElement('button'), { id: 'test-start' });
          document.body.prepend(start);
          start.focus();
        });
        await page.keyboard.press('Tab');
        await page.evaluate(() => document.getElementById('test-start').remove());
        const skip = page.locator('.skip-link');
        assert.ok(await skip.evaluate((el) => el === document.activeElement), 'the skip link is not the first stop');
        assert.ok(await skip.isVisible(), 'the skip link does not show when focused');
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate(() => document.activeElement.id), 'todoapp');
        // From the first row's control, Tab through the rows.
        const first = javaScriptEnabled ? '.toggle' : '.toggle-button';
        await page.locator(`#list-body li >> nth=0 >> ${first}`).focus();
        const stops = [];
        for (let n = 0; n < 6; n++) {
          stops.push(await page.evaluate(() => [document.activeElement.closest('li')?.dataset.id, document.activeElement.className]));
          await page.keyboard.press('Tab');
        }
        const perRow = {};
        for (const [row] of stops) if (row) perRow[row] = (perRow[row] || 0) + 1;
        assert.deepEqual(Object.values(perRow), [2, 2, 2], `script ${javaScriptEnabled}: ${JSON.stringify(stops)}`);
      } finally {
        await page.context().close();
      }
    }
  });

  for (const scheme of ['light', 'dark']) {
    test(`the API reference: axe finds nothing, code scrolls by keyboard, the app's look and a way back (${scheme})`, async () => {
      for (const [size, options] of SIZES) {
        const page = await open('/api/docs', { ...options, colorScheme: scheme, bypassCSP: true });
        try {
          assert.deepEqual(await axeProblems(page), [], size);
          const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          assert.equal(background, scheme === 'light' ? 'rgb(243, 241, 237)' : 'rgb(22, 25, 29)');
          // A wide block takes focus, and the arrow keys scroll it.
          const block = page.locator('pre').first();
          await block.focus();
          const before = await block.evaluate((el) => el.scrollLeft);
          await page.keyboard.press('ArrowRight');
          await page.keyboard.press('ArrowRight');
          const wide = await block.evaluate((el) => el.scrollWidth > el.clientWidth);
          if (wide) assert.ok((await block.evaluate((el) => el.scrollLeft)) > before, 'the block did not scroll');
          await shoot(page, `${size}-${scheme}-api-docs`);
          await page.getByRole('link', { name: 'Back to your tasks' }).click();
          await page.waitForURL(`${BASE_URL}/`);
        } finally {
          await page.context().close();
        }
      }
    });
  }
});
