// The views people plan with, in a real headless Chromium: completed
// tasks collapsed under the open ones in every sort, the filters and
// Clear completed over the list, and Today and Upcoming across every list,
// with and without JavaScript, at desktop and phone size, light and dark,
// checked with axe-core (screenshots in SCREENSHOT_DIR).

import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE_URL,
  PHONE,
  SCREENSHOTS,
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
  titles,
  useBrowser,
} from './helpers.js';

useBrowser();

mkdirSync(SCREENSHOTS, { recursive: true });
const shoot = (page, name) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** A day relative to today in UTC, as YYYY-MM-DD. */
const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);

/** Lists other than the default one, left by earlier tests, go. */
async function deleteOtherLists() {
  for (const list of await api('GET', '/api/lists')) {
    if (!list.default) await api('DELETE', `/api/lists/${list.id}`);
  }
}

beforeEach(deleteOtherLists);
after(deleteOtherLists);

/** What a page shows, part by part: heading, then the titles under it. */
const parts = (page) =>
  page.locator('#list-body > [data-group]').evaluateAll((groups) =>
    groups
      .filter((g) => g.querySelector('li'))
      .map((g) => {
        const heading = g.querySelector('.group-heading, .group-summary .when-closed');
        return [heading ? heading.textContent : '', [...g.querySelectorAll('li label')].map((l) => l.textContent)];
      }),
  );

describe('completed tasks under the open ones', () => {
  for (const javaScriptEnabled of [true, false]) {
    test(`in every sort, collapsed, with the bar over the list (script ${javaScriptEnabled})`, async () => {
      await create('done first', { completed: true, priority: 5, due: '2031-01-01' });
      await create('open low');
      await create('done second', { completed: true });
      await create('open high', { priority: 4, due: '2031-02-01' });
      const page = await open('/', { javaScriptEnabled });
      try {
        for (const sort of ['order', 'priority', 'due', 'created']) {
          await page.goto(sort === 'order' ? '/' : `/?sort=${sort}`);
          const open = await page.locator('ul[data-rows="open"] li label').allTextContents();
          const done = await page.locator('details.completed-group li label').allTextContents();
          assert.deepEqual(open.sort(), ['open high', 'open low'], sort);
          assert.deepEqual(done.sort(), ['done first', 'done second'], sort);
          // Collapsed, and says how many.
          const section = page.locator('details.completed-group');
          assert.equal(await section.getAttribute('open'), null, sort);
          assert.equal(await section.locator('summary').innerText(), 'Show 2 completed', sort);
          assert.equal(await page.locator('details.completed-group li').first().isVisible(), false);
        }
        // The filters and Clear completed are over the first row.
        const bar = await page.locator('.footer').boundingBox();
        const first = await page.locator('#list-body li').first().boundingBox();
        assert.ok(bar.y + bar.height <= first.y, `the bar (${bar.y}) is not above the list (${first.y})`);
        for (const control of ['.filters', '.clear-completed']) {
          const box = await page.locator(control).boundingBox();
          assert.ok(box.y < first.y, `${control} is below the first row`);
        }
        // It opens without a script, and says so.
        await showCompleted(page);
        assert.equal(await page.locator('details.completed-group summary').innerText(), 'Hide 2 completed');
        assert.ok(await item(page, 'done second').isVisible());
        // The Completed filter shows them as the list itself.
        await page.goto('/completed');
        assert.deepEqual(await titles(page), ['done first', 'done second']);
        assert.equal(await page.locator('details.completed-group').count(), 0);
        await page.goto('/active');
        assert.equal(await page.locator('details.completed-group').count(), 0);
      } finally {
        await page.context().close();
      }
    });
  }

  test('a ticked task moves into the section and back, and the count follows', async () => {
    await create('one');
    await create('two');
    const page = await open('/');
    try {
      await item(page, 'one').locator('.toggle').check();
      await eventually(async () => assert.equal(await page.locator('details.completed-group summary').innerText(), 'Show 1 completed'));
      await eventually(async () => assert.deepEqual(await parts(page), [['', ['two']], ['Show 1 completed', ['one']]]));
      await countIs(page, '1 item left');
      // Open, the section stays open through the changes that follow.
      await showCompleted(page);
      await item(page, 'two').locator('.toggle').check();
      await eventually(async () => assert.equal(await page.locator('details.completed-group summary').innerText(), 'Hide 2 completed'));
      await item(page, 'one').locator('.toggle').uncheck();
      await eventually(async () => assert.deepEqual(await parts(page), [['', ['one']], ['Show 1 completed', ['two']]]));
      assert.notEqual(await page.locator('details.completed-group').getAttribute('open'), null);
      assert.deepEqual(page.errors, []);
    } finally {
      await page.context().close();
    }
  });
});

describe('Today and Upcoming', () => {
  /** Tasks due around today in the default list and in "Work". */
  async function planned() {
    const work = await api('POST', '/api/lists', { name: 'Work' });
    const inWork = (title, extra) => api('POST', `/api/lists/${work.id}/todos`, { title, ...extra });
    await create('Pay the electricity bill', { due: day(-2), priority: 4 });
    await inWork('Send the report', { due: day(0), priority: 3 });
    await create('Buy bread', { due: day(0) });
    await create('Call the plumber', { due: day(0), completed: true });
    await create('Long done', { due: day(-3), completed: true });
    await inWork('Prepare the slides', { due: day(1) });
    await create('Dentist', { due: day(3), priority: 2 });
    await create('Far away', { due: day(10) });
    await create('No date');
    return work;
  }

  const SIZES = [
    ['desktop', {}],
    ['phone', PHONE],
  ];

  for (const javaScriptEnabled of [true, false]) {
    test(`Today: overdue and today from every list, each row naming its list (script ${javaScriptEnabled})`, async () => {
      await planned();
      const page = await open('/', { javaScriptEnabled, bypassCSP: true });
      try {
        // Without the script the zone comes from the cookie the script sets.
        await page.context().addCookies([{ name: 'tz', value: '0', url: BASE_URL }]);
        await page.getByRole('link', { name: 'Today', exact: true }).click();
        await page.waitForURL(`${BASE_URL}/today`);
        assert.equal(await page.locator('.list-name').textContent(), 'Today');
        assert.equal(await page.locator('.view-links [aria-current="page"]').textContent(), 'Today');
        const today = await page.locator('.group-heading').nth(1).textContent();
        assert.match(today, /^Today · /);
        assert.deepEqual(await parts(page), [
          ['Overdue', ['Pay the electricity bill']],
          [today, ['Send the report', 'Buy bread']],
          ['Show 1 completed', ['Call the plumber']],
        ]);
        assert.equal(await item(page, 'Send the report').locator('.list-tag').textContent(), 'List: Work');
        assert.equal(await item(page, 'Buy bread').locator('.list-tag').textContent(), 'List: Tasks');
        assert.match(await item(page, 'Pay the electricity bill').locator('.due').getAttribute('class'), /overdue/);
        assert.match(await item(page, 'Pay the electricity bill').locator('.due').textContent(), /^Overdue, /);
        assert.equal(await page.locator('.todo-count').innerText(), '3 tasks due');
        // (axe needs the script; the pages are the same but for buttons.)
        if (javaScriptEnabled) assert.deepEqual(await axeProblems(page), []);

        await page.getByRole('link', { name: 'Upcoming', exact: true }).click();
        await page.waitForURL(`${BASE_URL}/upcoming`);
        const headings = await page.locator('.group-heading').evaluateAll((hs) => hs.filter((h) => h.closest('.group').querySelector('li')).map((h) => h.textContent));
        assert.equal(headings.length, 2);
        assert.match(headings[0], /^Tomorrow · /);
        assert.deepEqual(await parts(page), [
          [headings[0], ['Prepare the slides']],
          [headings[1], ['Dentist']],
        ]);
        if (javaScriptEnabled) assert.deepEqual(await axeProblems(page), []);
        assert.deepEqual(page.errors, []);
      } finally {
        await page.context().close();
      }
    });
  }

  test('Today in the reader\'s zone: UTC+14 is a day ahead of UTC-10', async () => {
    // Kiritimati's date is always Honolulu's plus one (they are 24 hours
    // apart); UTC's is one of the two, depending on the hour.
    const dateIn = (timeZone) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
    const ahead = dateIn('Pacific/Kiritimati');
    const behind = dateIn('Pacific/Honolulu');
    assert.notEqual(ahead, behind);
    await create('early', { due: ahead }); // today there, tomorrow in Honolulu
    await create('late', { due: behind }); // today in Honolulu, overdue there
    for (const [timezoneId, shown, hidden] of [
      ['Pacific/Kiritimati', ['early', 'late'], []],
      ['Pacific/Honolulu', ['late'], ['early']],
    ]) {
      const page = await open('/today', { timezoneId });
      try {
        // The script notices the zone and shows its day.
        const labels = async () => page.locator('#list-body li:visible label').allTextContents();
        await eventually(async () => {
          const seen = await labels();
          assert.ok(
            shown.every((t) => seen.includes(t)) && !hidden.some((t) => seen.includes(t)),
            `${timezoneId} (${dateIn(timezoneId)}): ${JSON.stringify(seen)}`,
          );
        });
      } finally {
        await page.context().close();
      }
    }
  });

  test('in Today, ticking, adding and deleting work in place, each in its own list', async () => {
    const work = await planned();
    const page = await open('/today', { bypassCSP: true });
    try {
      await item(page, 'Send the report').locator('.toggle').check();
      await eventually(async () => assert.equal((await api('GET', `/api/lists/${work.id}/todos?completed=true`)).length, 1));
      await eventually(async () => assert.equal(await page.locator('details.completed-group summary').innerText(), 'Show 2 completed'));

      // A new task is due today, in the default list.
      await add(page, 'Water the plants');
      await eventually(async () =>
        assert.ok((await parts(page))[1][1].includes('Water the plants'), JSON.stringify(await parts(page))),
      );
      const added = (await api('GET', '/api/todos')).find((t) => t.title === 'Water the plants');
      assert.equal(added.due, day(0));
      assert.equal(await item(page, 'Water the plants').locator('.list-tag').textContent(), 'List: Tasks');

      // Deleted and brought back: into Work, where it was.
      await showCompleted(page);
      await deleteTask(page, 'Send the report');
      await eventually(async () => assert.ok(await page.locator('.toast-undo').isVisible()));
      await page.locator('.toast-undo').click();
      await eventually(async () => assert.equal((await api('GET', `/api/lists/${work.id}/todos`)).length, 2));
      await eventually(async () => assert.equal(await item(page, 'Send the report').locator('.list-tag').textContent(), 'List: Work'));
      assert.deepEqual(page.errors, []);
    } finally {
      await page.context().close();
    }
  });

  for (const [size, options] of SIZES) {
    for (const scheme of ['light', 'dark']) {
      test(`Today and Upcoming read well: ${size}, ${scheme}`, async () => {
        await planned();
        const page = await open('/today', { ...options, colorScheme: scheme, bypassCSP: true });
        try {
          await listIs(page, ['Pay the electricity bill', 'Send the report', 'Buy bread', 'Call the plumber']);
          assert.deepEqual(await axeProblems(page), [], 'Today');
          await shoot(page, `views-${size}-${scheme}-today`);
          await page.goto('/upcoming');
          assert.deepEqual(await axeProblems(page), [], 'Upcoming');
          await shoot(page, `views-${size}-${scheme}-upcoming`);
          await page.goto('/');
          await showCompleted(page);
          assert.deepEqual(await axeProblems(page), [], 'the list with its completed tasks');
          await shoot(page, `views-${size}-${scheme}-completed`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${overflow}px wider than the screen`);
        } finally {
          await page.context().close();
        }
      });
    }
  }
});
