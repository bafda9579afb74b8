// todos: the same page, changed in place.
//
// Every action on the page is a plain form that works without this file.
// Here those forms are taken over. The page changes the moment the user
// acts (a new row marked as saving, a ticked box, a row gone), the form is
// posted with fetch, and the server answers with only what changed: the
// view as [id, version, place] in order, the rows the change touched,
// rendered by the same templates as the page, the frame of groups the rows
// sit in (the open tasks, "Show 12 completed", Today's parts) and the
// summary (toggle-all, the notes, the bar over the list). Rows whose
// version is already shown keep their DOM nodes, so focus, a screen
// reader's place and a test's handle all survive; a row that leaves the
// view is kept aside, and the same node comes back when it returns (Back
// to a filter that showed it). A refused change is rolled back and
// explained.
//
// Filter, sort, search and "Show more" change the URL with
// history.pushState or replaceState, and popstate shows the URL again, so
// Back and Forward work and every view can be bookmarked. Another tab's
// changes arrive by asking /todos/state (a 304 while nothing changed) on
// focus and every few seconds.
'use strict';

// Loaded in <head> without defer, so this runs before the body is painted:
// the CSS hides the no-JavaScript buttons under `.js` with no flash.
document.documentElement.classList.add('js');

(() => {
  const POLL_MS = 5000;
  const TOAST_MS = 8000;
  // Rows that left the view kept for when they come back.
  const KEPT_ROWS = 500;
  // Tasks added on this page stay in view; the server caps them too.
  const MAX_PINNED = 50;

  let app, main, body, rowForm, editTemplate, newForm, newInput, controls, search, sort, statusLine, toast;
  // Changes go to the server one after the other, so tasks land in the
  // order typed and answers are applied in the order sent.
  let queue = Promise.resolve();
  // Changes sent and not yet answered, per row: their rows are not
  // overwritten by older answers in between.
  const busy = new WeakMap();
  let pending = 0;
  // True while a change's own request and answer are being handled.
  let changing = false;
  // Bumped by every change and navigation: a refresh that began before is stale.
  let epoch = 0;
  // The `state` of the answer the page shows, and for which view.
  let known = { state: null, url: null };
  // Rows that left the view, by id, to be shown again as the same nodes.
  const kept = new Map();
  // Collapsed groups the user opened: they stay open when they come back.
  const opened = new Set();
  // Tasks added on this page: the server keeps them in view after "Show more".
  let pinned = [];
  let searchTimer = 0;
  let polling = false;
  let toastTimer = 0;
  let undoable = null;
  let drag = null;
  // When a task was last added: its row is in sight, and more rows loading
  // in above it would push it out.
  let lastAdded = 0;
  let scrollTimer = 0;

  document.addEventListener('DOMContentLoaded', () => {
    app = document.getElementById('todoapp');
    body = app && app.querySelector('#list-body');
    if (!body) return; // a message page
    main = app.querySelector('.main');
    rowForm = document.getElementById('row-actions');
    editTemplate = document.getElementById('edit-template');
    // A viewer's page has no new-task form: nothing to add, nothing to undo.
    newForm = app.querySelector('.new-todo-form');
    newInput = newForm && newForm.querySelector('.new-todo');
    // The planning views have no search or sort.
    controls = app.querySelector('.view-controls');
    search = controls && controls.querySelector('.search');
    sort = controls && controls.querySelector('.sort-select');
    statusLine = document.getElementById('status');
    toast = app.querySelector('.toast');
    // `?edit=ID` is the no-JavaScript edit page, `?added=ID` the page after
    // adding a task without it. Here the item is already in edit mode, or
    // marked; keep them out of the URL so they do not happen again.
    const params = new URLSearchParams(location.search);
    if (params.has('edit') || params.has('added')) history.replaceState(null, '', here() + location.hash);
    markMovable();
    rememberZone();
    window.addEventListener('scroll', onScroll, { passive: true });

    app.addEventListener('submit', onSubmit);
    app.addEventListener('change', onChange);
    app.addEventListener('input', onInput);
    app.addEventListener('click', onClick);
    app.addEventListener('dblclick', onDoubleClick);
    app.addEventListener('keydown', onKeyDown);
    app.addEventListener('focusout', onFocusOut);
    app.addEventListener('pointerdown', onPointerDown);
    // `toggle` does not bubble: listen on the way down.
    body.addEventListener(
      'toggle',
      (event) => {
        const group = event.target;
        if (!group.matches('details[data-group]')) return;
        if (group.open) opened.add(group.dataset.group);
        else opened.delete(group.dataset.group);
      },
      true,
    );
    document.addEventListener('keydown', onDocumentKeyDown);
    toast.addEventListener('pointerenter', holdToast);
    toast.addEventListener('focusin', holdToast);
    toast.addEventListener('pointerleave', releaseToast);
    toast.addEventListener('focusout', releaseToast);
    window.addEventListener('popstate', () => {
      showControls();
      markMovable();
      clearProblems();
      later(() => refresh(true));
    });
    // Back to this page from another one (the back-forward cache keeps the
    // very page): catch up with what changed meanwhile.
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) later(() => refresh(true));
    });
    // Asked in turn with the changes: two answers are never put in at once.
    window.addEventListener('focus', () => poll());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) poll();
    });
    setInterval(() => {
      if (!document.hidden) poll();
    }, POLL_MS);
  });

  // ---- Events ---------------------------------------------------------------

  function onSubmit(event) {
    const form = event.target;
    const button = event.submitter;
    const li = (button || form).closest('#list-body li');
    if (form === rowForm) {
      // A row's no-JavaScript button, pressed anyway (it is hidden).
      event.preventDefault();
      return;
    }
    event.preventDefault();
    if (form === newForm) addTask();
    else if (form.matches('.edit-form')) {
      if (button && button.matches('.move-button')) moveBy(li, button.value === 'up' ? -1 : 1);
      else if (button && button.matches('.destroy')) destroy(li, true);
      else saveEdit(li, true);
    } else if (form.matches('.toggle-all-form')) setAllCompleted(form.elements.completed.value === 'true');
    else if (form.matches('.clear-completed-form')) clearCompleted();
    else if (form === controls) navigate(controlsUrl(), 'push');
    else form.submit(); // not ours to take over
  }

  function onChange(event) {
    const target = event.target;
    if (target.matches('.toggle')) setCompleted(target.closest('li'), target.checked);
    else if (target.matches('.toggle-all')) setAllCompleted(target.checked);
    else if (target === sort) navigate(controlsUrl(), 'push');
  }

  function onInput(event) {
    const target = event.target;
    // Typing again means the last problem has been read.
    if (target === newInput) {
      clearError(newForm);
      clearProblems();
    } else if (target === search) {
      clearTimeout(searchTimer);
      // Each keystroke replaces the URL rather than adding to history.
      searchTimer = setTimeout(() => navigate(controlsUrl(), 'replace'), 200);
    }
  }

  function onClick(event) {
    if (event.target.closest('.toast-undo')) return undo();
    if (event.target.closest('.toast-close')) return hideToast(true);
    const link = event.target.closest('a');
    const plain = event.button === 0 && !(event.metaKey || event.ctrlKey || event.shiftKey || event.altKey);
    if (!link || !plain) return;
    if (link.closest('.filters')) {
      event.preventDefault();
      navigate(link.getAttribute('href'), 'push');
    } else if (link.matches('.more-link')) {
      event.preventDefault();
      showMore(link);
    } else if (link.matches('.edit-link')) {
      event.preventDefault();
      startEdit(link.closest('li'));
    } else if (link.matches('.cancel-link')) {
      event.preventDefault();
      cancelEdit(link.closest('li'), true);
    }
  }

  function onDoubleClick(event) {
    const label = event.target.closest('#list-body .view label');
    if (label) startEdit(label.closest('li'));
  }

  function onKeyDown(event) {
    const target = event.target;
    const li = target.closest('#list-body li');
    if (event.key === 'Escape' && target.tagName !== 'SELECT') {
      const form = target.closest('.edit-form');
      if (form) {
        event.preventDefault();
        cancelEdit(form.closest('li'), true);
      }
      return;
    }
    if (!li || li.classList.contains('editing') || !li.dataset.id) return;
    const arrow = event.key === 'ArrowUp' ? -1 : event.key === 'ArrowDown' ? 1 : 0;
    // The handle moves with plain arrows; anywhere in a row, Alt + arrows.
    if (arrow && (event.altKey || target.matches('.move-handle'))) {
      event.preventDefault();
      moveBy(li, arrow);
    }
  }

  function onDocumentKeyDown(event) {
    const typing = event.target.closest && event.target.closest('input, textarea, select, [contenteditable]');
    if (undoable && !typing && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      undo();
    }
  }

  // Leaving the edit form saves it (TodoMVC's "blur saves"); moving between
  // its own fields (title, priority, due date and time) does not.
  function onFocusOut(event) {
    const form = event.target.closest('.edit-form');
    if (form && !(event.relatedTarget && form.contains(event.relatedTarget))) {
      saveEdit(form.closest('li'), false);
    }
  }

  // ---- Adding, completing, editing, deleting --------------------------------

  function addTask() {
    const title = newInput.value.trim();
    if (!title) return; // TodoMVC: Enter on nothing adds nothing
    const fields = formFields(newForm);
    const priority = newForm.elements.priority;
    const due = newForm.elements.due;
    const dueTime = newForm.elements.due_time;
    const sent = { title: newInput.value, priority: priority.value, due: due.value, dueTime: dueTime.value };
    // Cleared at once so the next task can be typed; put back on an error.
    newInput.value = '';
    priority.value = defaultOption(priority);
    due.value = due.defaultValue;
    dueTime.value = dueTime.defaultValue;
    clearError(newForm);
    clearProblems();
    const row = placeholder(title);
    lastAdded = Date.now();
    placeNew(row, sent.due);
    showList(true);
    // In sight, with the input: a list of thousands ends far below.
    row.scrollIntoView({ block: 'nearest' });
    change(newForm.action, fields, {
      placeholder: row,
      applied(answer) {
        // The server marks it as added; the mark goes after a moment.
        const li = answer.created && body.querySelector(`li[data-id="${answer.created}"]`);
        if (!li) return;
        lastAdded = Date.now();
        setTimeout(() => li.classList.remove('added'), 2000);
        if (!inSight(li)) li.scrollIntoView({ block: 'nearest' });
      },
      failed(problem) {
        row.remove();
        showList();
        if (!newInput.value) {
          newInput.value = sent.title;
          priority.value = sent.priority;
          due.value = sent.due;
          dueTime.value = sent.dueTime;
        }
        showError(newForm, problem.status === 422 ? problem : { message: inWords(problem, 'your new task') });
      },
    });
  }

  // The new task as it will look, until the server has it. The server's
  // row is then put into this very node.
  function placeholder(title) {
    const li = document.createElement('li');
    li.className = 'saving';
    li.setAttribute('aria-busy', 'true');
    li.innerHTML =
      '<div class="view"><input class="toggle" type="checkbox" disabled aria-label="Saving">' +
      '<div class="task-text"><label></label><span class="tags"><span class="saving-note">Saving…</span></span></div></div>';
    li.querySelector('label').textContent = title;
    return li;
  }

  // Where a new task shows until the server says: at the end of the open
  // rows, or after "Show more" when the list goes on beyond the page; in
  // a planning view, under its day.
  function placeNew(row, due) {
    const open = body.querySelector('ul[data-rows="open"]');
    const more = open && open.parentNode.querySelector('.more:not([hidden])');
    const target = open
      ? more
        ? body.querySelector('ul[data-rows="open-pinned"]')
        : open
      : body.querySelector(`ul[data-rows="day-${due}"]`) || body.querySelector('ul[data-rows]');
    if (target) target.append(row);
  }

  function inSight(el) {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
  }

  function setCompleted(li, completed) {
    if (!li.dataset.id) return;
    const box = li.querySelector('.toggle');
    li.classList.toggle('completed', completed);
    box.checked = completed;
    const fields = rowFields();
    fields.set('completed', String(completed));
    clearProblems();
    change(`/todos/${li.dataset.id}/toggle`, fields, {
      rows: [li],
      failed(problem) {
        li.classList.toggle('completed', !completed);
        box.checked = !completed;
        showProblem(problem, 'that change');
      },
    });
  }

  function setAllCompleted(completed) {
    const form = app.querySelector('.toggle-all-form');
    const rows = allRows();
    const before = rows.map((li) => li.classList.contains('completed'));
    for (const li of rows) {
      li.classList.toggle('completed', completed);
      li.querySelector('.toggle').checked = completed;
    }
    form.querySelector('.toggle-all').checked = completed;
    const fields = formFields(form);
    fields.set('completed', String(completed));
    clearProblems();
    change(form.action, fields, {
      rows,
      failed(problem) {
        rows.forEach((li, i) => {
          li.classList.toggle('completed', before[i]);
          li.querySelector('.toggle').checked = before[i];
        });
        form.querySelector('.toggle-all').checked = !completed;
        showProblem(problem, 'that change');
      },
    });
  }

  function destroy(li, hadFocus = li.contains(document.activeElement)) {
    if (!li.dataset.id) return;
    const fields = rowFields();
    fields.set('confirm', 'yes'); // there is Undo
    const home = li.parentNode;
    const spot = li.nextElementSibling;
    const next = sibling(li, 1) || sibling(li, -1);
    li.classList.remove('editing');
    li.remove();
    if (hadFocus) focusRow(next, 'toggle');
    clearProblems();
    change(`/todos/${li.dataset.id}/delete`, fields, {
      applied(answer) {
        if (answer.undo) offerUndo(answer.undo);
      },
      failed(problem) {
        if (!li.isConnected) home.insertBefore(li, spot && spot.parentNode === home ? spot : null);
        showProblem(problem, 'the deletion');
      },
    });
  }

  function clearCompleted() {
    const form = app.querySelector('.clear-completed-form');
    const rows = allRows().filter((li) => li.classList.contains('completed'));
    const places = rows.map((li) => [li.parentNode, li.nextElementSibling]);
    const hadFocus = rows.some((li) => li.contains(document.activeElement));
    const fields = formFields(form);
    fields.set('confirm', 'yes');
    for (const li of rows) li.remove();
    if (hadFocus) focusRow(body.querySelector('li[data-id]'), 'toggle');
    clearProblems();
    change(form.action, fields, {
      applied(answer) {
        if (answer.undo) offerUndo(answer.undo);
      },
      failed(problem) {
        rows.forEach((li, i) => {
          const [home, spot] = places[i];
          home.insertBefore(li, spot && spot.parentNode === home ? spot : null);
        });
        showProblem(problem, 'clearing the completed tasks');
      },
    });
  }

  // The edit form comes from the page's template, filled in from the row.
  function startEdit(li) {
    if (!li || !li.dataset.id || li.classList.contains('editing')) return;
    if (!li.querySelector('.edit-link')) return; // a list the reader may only view
    let form = li.querySelector('.edit-form');
    if (!form) {
      form = editFormFor(li);
      li.append(form);
    }
    li.classList.add('editing');
    const input = form.querySelector('.edit');
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function editFormFor(li) {
    const id = li.dataset.id;
    const form = editTemplate.content.firstElementChild.cloneNode(true);
    const title = titleOf(li);
    form.setAttribute('action', `/todos/${id}/edit`);
    for (const button of form.querySelectorAll('[formaction]')) {
      button.setAttribute('formaction', button.getAttribute('formaction').replace('/todos/0/', `/todos/${id}/`));
    }
    const input = form.querySelector('.edit');
    input.id = `edit-${id}`;
    input.defaultValue = title;
    form.querySelector('.form-error').id = `edit-error-${id}`;
    const option = form.querySelector(`option[data-name="${li.dataset.priority}"]`);
    for (const o of form.elements.priority.options) o.defaultSelected = o === option;
    // The row's <time datetime> is the day, or the day and time (`…T09:30`).
    const due = li.querySelector('time.due');
    const [day, time] = due ? due.getAttribute('datetime').split('T') : ['', ''];
    form.elements.due.defaultValue = day;
    form.elements.due_time.defaultValue = time || '';
    form.querySelector('.destroy').setAttribute('aria-label', `Delete: ${title}`);
    const movable = li.closest('ul.movable') && !li.classList.contains('completed');
    if (!movable) form.querySelector('.move-buttons')?.remove();
    form.elements.return.value = here();
    form.reset();
    return form;
  }

  // Escape: the form goes, and the row shows what the server rendered.
  function cancelEdit(li, keepFocus) {
    if (!li.classList.contains('editing')) return;
    // Leave edit mode first, so the blur that follows does not save.
    li.classList.remove('editing');
    li.querySelector('.edit-form').remove();
    if (keepFocus) focusRow(li, 'edit-link');
  }

  // `byKey`: Enter or Save (focus goes back to the row); otherwise the user
  // left the form for somewhere else, and focus stays where they went.
  function saveEdit(li, byKey) {
    if (!li || !li.classList.contains('editing')) return; // saved or cancelled already
    const form = li.querySelector('.edit-form');
    const fields = form.elements;
    const input = fields.namedItem('title');
    const title = input.value.trim();
    if (!title) {
      destroy(li, byKey); // TodoMVC: an emptied title deletes the task
      return;
    }
    li.classList.remove('editing');
    const unchanged =
      title === input.defaultValue.trim() &&
      fields.priority.value === defaultOption(fields.priority) &&
      fields.due.value === fields.due.defaultValue &&
      (!fields.due_time || fields.due_time.value === fields.due_time.defaultValue);
    input.value = title;
    if (byKey) focusRow(li, 'edit-link');
    if (unchanged) {
      form.remove();
      return;
    }
    const label = li.querySelector('.view label');
    const shown = label.textContent;
    label.textContent = title;
    li.classList.add('saving');
    clearError(form);
    clearProblems();
    const sent = formFields(form);
    change(form.action, sent, {
      rows: [li],
      failed(problem) {
        li.classList.remove('saving');
        label.textContent = shown;
        if (problem.status === 422) {
          li.classList.add('editing');
          showError(form, problem);
        } else {
          form.remove();
          showProblem(problem, 'your change');
        }
      },
    });
  }

  function defaultOption(select) {
    const option = [...select.options].find((o) => o.defaultSelected) || select.options[0];
    return option.value;
  }

  // ---- Moving -----------------------------------------------------------------

  // The server can move tasks only in the user's own order.
  function markMovable() {
    const open = body.querySelector('ul[data-rows="open"]');
    if (!open) return;
    const order = !new URLSearchParams(location.search).get('sort');
    open.classList.toggle('movable', order && Boolean(newForm));
  }

  function moveBy(li, delta) {
    if (!newForm || !li) return; // a list the reader may only view
    if (!li.closest('ul.movable')) {
      showToast('Tasks can be moved only in your own order: choose “Your order” under Sort.');
      return;
    }
    const other = sibling(li, delta);
    if (!other) return;
    // The neighbour moves, not the row: the row keeps focus.
    if (delta < 0) li.after(other);
    else li.before(other);
    announce(`Moved “${titleOf(li)}” ${delta < 0 ? 'up' : 'down'}.`);
    commitMove(li, { direction: delta < 0 ? 'up' : 'down' });
  }

  function commitMove(li, where) {
    const fields = rowFields();
    for (const [name, value] of Object.entries(where)) fields.set(name, value);
    const ul = li.parentNode;
    const order = [...ul.children];
    clearProblems();
    change(`/todos/${li.dataset.id}/move`, fields, {
      rows: [li],
      failed(problem) {
        for (const row of order) ul.append(row);
        showProblem(problem, 'the move');
      },
    });
  }

  // Drag by the handle, with a mouse, pen or finger. Rows are moved past
  // the dragged one, which stays put in the DOM and keeps the pointer.
  function onPointerDown(event) {
    const handle = event.target.closest('.move-handle');
    if (!handle || event.button !== 0) return;
    const li = handle.closest('li');
    if (!li.dataset.id || !li.closest('ul.movable')) return;
    event.preventDefault();
    drag = { li, order: [...li.parentNode.children], moved: false };
    li.classList.add('dragging');
    document.addEventListener('pointermove', onPointerMove);
    document.addEventListener('pointerup', onPointerUp);
    document.addEventListener('pointercancel', onPointerUp);
  }

  function onPointerMove(event) {
    if (!drag) return;
    const { li } = drag;
    for (;;) {
      const next = sibling(li, 1);
      const prev = sibling(li, -1);
      if (next && event.clientY > middle(next)) {
        li.before(next);
      } else if (prev && event.clientY < middle(prev)) {
        li.after(prev);
      } else break;
      drag.moved = true;
    }
  }

  function onPointerUp() {
    if (!drag) return;
    const { li, order, moved } = drag;
    drag = null;
    li.classList.remove('dragging');
    document.removeEventListener('pointermove', onPointerMove);
    document.removeEventListener('pointerup', onPointerUp);
    document.removeEventListener('pointercancel', onPointerUp);
    const now = [...li.parentNode.children];
    if (!moved || now.every((row, i) => row === order[i])) return;
    announce(`Moved “${titleOf(li)}”.`);
    const next = sibling(li, 1);
    commitMove(li, { before: next ? next.dataset.id : '' });
  }

  function middle(el) {
    const box = el.getBoundingClientRect();
    return box.top + box.height / 2;
  }

  // ---- Undo -------------------------------------------------------------------

  function offerUndo(undo) {
    undoable = undo;
    showToast(undo.message, true);
  }

  function undo() {
    if (!undoable) return;
    const { tasks } = undoable;
    const hadFocus = toast.contains(document.activeElement);
    undoable = null;
    hideToast();
    const fields = rowFields();
    fields.set('tasks', JSON.stringify(tasks));
    change('/todos/restore', fields, {
      applied(answer) {
        const first = Object.keys(answer.rows || {})
          .map((id) => body.querySelector(`li[data-id="${id}"]`))
          .filter(Boolean)
          .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))[0];
        // Brought back into a closed section: open it, to show it is back.
        const section = first && first.closest('details');
        if (section && !section.open) section.open = true;
        const lost = document.activeElement === document.body || !document.activeElement;
        if (first && (hadFocus || lost)) focusRow(first, 'toggle');
      },
      failed(problem) {
        showProblem(problem, 'the undo');
      },
    });
  }

  function showToast(text, withUndo = false) {
    toast.querySelector('.toast-text').textContent = text;
    toast.querySelector('.toast-undo').hidden = !withUndo;
    toast.classList.toggle('problem', !withUndo);
    if (!withUndo) undoable = null;
    toast.hidden = false;
    announce(withUndo ? `${text} Press Undo at the bottom of the page to bring it back.` : text);
    releaseToast();
  }

  function hideToast(byUser) {
    const hadFocus = toast.contains(document.activeElement);
    clearTimeout(toastTimer);
    toast.hidden = true;
    undoable = null;
    if (hadFocus && byUser && newInput) newInput.focus();
  }

  function holdToast() {
    clearTimeout(toastTimer);
  }

  function releaseToast(event) {
    if (event && event.type === 'focusout' && toast.contains(event.relatedTarget)) return;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      if (!toast.contains(document.activeElement) && !toast.matches(':hover')) hideToast();
    }, TOAST_MS);
  }

  // ---- Many tasks ------------------------------------------------------------

  // "Show 50 more": the same view with more rows, in place. The line is
  // also followed on its own when it scrolls near the window's bottom, so
  // a long list scrolls on as if it were all there.
  function showMore(link) {
    const group = link.closest('.group');
    // The anchor is for the page that comes again without the script.
    const url = link.getAttribute('href').split('#')[0];
    if (group && group.dataset.group === 'open') navigate(url, 'replace');
    else navigate(url, 'push');
  }

  // Near the end of the rows shown, the next ones come by themselves, but
  // not right after adding a task: the rows would come in above it.
  function onScroll() {
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(loadMoreIfNear, 100);
  }

  function loadMoreIfNear() {
    const link = body.querySelector('[data-group="open"] .more:not([hidden]) .more-link');
    if (!link || pending > 0 || Date.now() - lastAdded < 3000) return;
    if (link.getBoundingClientRect().top < window.innerHeight + 600) showMore(link);
  }

  // ---- Talking to the server --------------------------------------------------

  // Queues a change; its answer is applied in turn. `rows`: the rows it
  // touches, kept from older answers meanwhile; `placeholder`: the row that
  // stands for a task being created.
  function change(action, fields, { rows = [], placeholder: stand, applied, failed } = {}) {
    epoch++;
    pending++;
    for (const li of rows) busy.set(li, (busy.get(li) || 0) + 1);
    const view = fields.get('return');
    const run = async () => {
      changing = true;
      let answer;
      fields.set('pinned', pinned.join(','));
      try {
        answer = await post(action, fields);
      } catch (problem) {
        release(rows);
        if (failed) failed(problem);
        else showProblem(problem, 'that change');
        // Whatever the server has now, show it.
        if (problem.status !== 422) await refresh(true);
        return;
      }
      release(rows);
      if (answer.created) pinned = [...pinned, answer.created].slice(-MAX_PINNED);
      if (view !== here()) {
        // The user has moved to another view meanwhile.
        if (stand) stand.remove();
        await refresh(true);
      } else {
        if (stand) {
          const html = answer.created && answer.rows[answer.created];
          // The placeholder becomes the task: the same node, now with its id.
          if (html) morph(stand, rowFrom(html));
          else stand.remove();
        }
        await apply(answer);
      }
      if (applied) applied(answer);
    };
    queue = queue
      .then(run)
      .catch(showProblem)
      .finally(() => {
        changing = false;
        pending--;
      });
    return queue;
  }

  function release(rows) {
    for (const li of rows) busy.set(li, (busy.get(li) || 1) - 1);
  }

  // Asks for the view unless a change or another question is on its way.
  function poll() {
    if (pending > 0 || polling) return;
    polling = true;
    queue = queue
      .then(() => refresh())
      .catch(() => {})
      .finally(() => {
        polling = false;
      });
  }

  // Runs `work` after the changes already queued.
  function later(work) {
    epoch++;
    queue = queue.then(work).catch(() => {});
    return queue;
  }

  function headers(extra) {
    const h = { accept: 'application/json', ...extra };
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token && token.content) h['x-csrf-token'] = token.content;
    return h;
  }

  async function post(action, fields) {
    let response;
    try {
      response = await fetch(action, { method: 'POST', headers: headers(), body: fields, credentials: 'same-origin' });
    } catch {
      throw Object.assign(new Error('offline'), { status: 0 });
    }
    return read(response);
  }

  async function read(response) {
    if (response.ok) return response.json();
    let body = {};
    try {
      body = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    throw Object.assign(new Error(body.message || `status ${response.status}`), {
      status: response.status,
      field: body.field,
    });
  }

  function viewQuery(url) {
    const query = new URLSearchParams({ view: url });
    if (pinned.length) query.set('pinned', pinned.join(','));
    return query.toString();
  }

  // Asks what the view looks like now. Unless `force`d, only when no change
  // is in flight, and with the last state seen (a 304 when nothing changed).
  async function refresh(force = false) {
    if (!body || (pending > 0 && !force)) return;
    const started = epoch;
    const url = here();
    const extra = {};
    if (!force && known.state && known.url === url) extra['if-none-match'] = known.state;
    let response;
    try {
      response = await fetch(`/todos/state?${viewQuery(url)}`, { headers: headers(extra), cache: 'no-store' });
    } catch {
      return; // offline: the next poll tries again
    }
    if (response.status === 304 || !response.ok) return;
    const answer = await response.json();
    if ((!force && (started !== epoch || pending > 0)) || url !== here()) return;
    await apply(answer);
  }

  async function apply(answer) {
    applySummary(answer.summary);
    await reconcile(answer.view, answer.rows || {}, answer.frame);
    known = { state: answer.state, url: here() };
    if (answer.message) announce(answer.message);
  }

  async function fetchRows(ids) {
    const rows = {};
    // A page of rows at a time: a long list after "Show more" asks for many.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const response = await fetch(`/todos/rows?${viewQuery(here())}&ids=${chunk.join(',')}`, { headers: headers(), cache: 'no-store' });
      Object.assign(rows, (await read(response)).rows);
    }
    return rows;
  }

  // Makes the page show `view` ([id, version, place] in order) in the
  // groups of `frame`: rows already shown at that version stay as they are
  // (moved if need be), changed ones are updated in place, rows that come
  // back take their old node again, missing ones are fetched. A row being
  // edited, or with a change of its own still on the way, is left alone.
  async function reconcile(view, rows, frame) {
    const shown = new Map();
    for (const li of body.querySelectorAll('li[data-id]')) shown.set(li.dataset.id, li);
    const mine = (li) => li && (li.classList.contains('editing') || busy.get(li) > 0);
    const current = (id) => shown.get(id) || kept.get(id);
    const missing = view
      .filter(([id, version]) => {
        const li = current(String(id));
        return !(id in rows) && !mine(li) && (!li || li.dataset.version !== String(version));
      })
      .map(([id]) => id);
    if (missing.length) {
      Object.assign(rows, await fetchRows(missing));
      // The page may have changed while the rows came.
      shown.clear();
      for (const li of body.querySelectorAll('li[data-id]')) shown.set(li.dataset.id, li);
    }

    const place = focusPlace();
    applyFrame(frame);
    const wanted = new Map();
    for (const [id, , where] of view) {
      const key = String(id);
      let li = current(key);
      const html = rows[id];
      if (html !== undefined && !mine(li)) {
        const fresh = rowFrom(html);
        if (li) morph(li, fresh);
        else li = fresh;
      }
      kept.delete(key);
      shown.delete(key);
      if (!li) continue;
      if (!wanted.has(where)) wanted.set(where, []);
      wanted.get(where).push(li);
    }
    for (const li of shown.values()) {
      if (li.classList.contains('editing')) continue;
      li.remove();
      keep(li);
    }

    // In order, moving only rows that are out of place; placeholders and
    // rows being edited keep their spot. While later changes wait to be
    // sent, the page already shows their effect (a move made meanwhile):
    // the server's order would undo it until their answers come, and a
    // move pressed in between would start from the wrong place. Then only
    // rows new to their place are placed; the last answer puts all in order.
    const keepOrder = pending - (changing ? 1 : 0) > 0;
    for (const [where, lis] of wanted) {
      const ul = body.querySelector(`ul[data-rows="${where}"]`);
      if (!ul) continue;
      const set = new Set(lis);
      let cursor = ul.firstElementChild;
      for (const li of lis) {
        while (cursor && cursor !== li && !set.has(cursor)) cursor = cursor.nextElementSibling;
        if (cursor === li || (keepOrder && li.parentNode === ul)) cursor = li.nextElementSibling;
        else ul.insertBefore(li, cursor);
      }
    }
    restoreFocus(place);
    retarget();
    showList();
  }

  // A row that left the view, kept to be shown again as the same node.
  function keep(li) {
    kept.set(li.dataset.id, li);
    if (kept.size > KEPT_ROWS) kept.delete(kept.keys().next().value);
  }

  function rowFrom(html) {
    const template = document.createElement('template');
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Puts the groups of the frame in place: each existing group is updated
  // (its heading, "Show 12 completed", "Show more") around the rows it
  // holds, new ones are added, gone ones removed (their rows are placed
  // again by `reconcile`).
  function applyFrame(html) {
    if (html === undefined) return;
    const template = document.createElement('template');
    template.innerHTML = html;
    const existing = new Map();
    for (const group of body.querySelectorAll(':scope > [data-group]')) existing.set(group.dataset.group, group);
    const wanted = [];
    for (const fresh of [...template.content.children]) {
      const group = existing.get(fresh.dataset.group);
      if (group && group.tagName === fresh.tagName) {
        morph(group, fresh);
        existing.delete(fresh.dataset.group);
        wanted.push(group);
      } else {
        if (fresh.tagName === 'DETAILS' && opened.has(fresh.dataset.group)) fresh.open = true;
        wanted.push(fresh);
      }
    }
    for (const group of existing.values()) group.remove();
    let cursor = body.firstElementChild;
    for (const group of wanted) {
      if (cursor === group) cursor = cursor.nextElementSibling;
      else body.insertBefore(group, cursor);
    }
  }

  // Puts each part of the summary (toggle-all, notes, the bar over the
  // list, first-run hint) over its counterpart on the page.
  function applySummary(html) {
    if (!html) return;
    const template = document.createElement('template');
    template.innerHTML = html;
    for (const part of [...template.content.children]) {
      const here = app.querySelector(`.${part.classList[0]}`);
      if (here) morph(here, part);
    }
    // The navigation's count of open tasks follows this list's.
    const count = document.querySelector('.list-links [aria-current="page"] .list-link-count');
    const open = app.querySelector('.footer').dataset.open;
    if (count && open !== undefined) {
      count.textContent = open;
      count.setAttribute('aria-label', `${open} open`);
    }
    showList();
  }

  // `.main` shows whenever the bar over the list does (there are tasks at
  // all); a placeholder row shows it too.
  function showList(force) {
    const footer = app.querySelector('.footer');
    const any = force || !footer.hidden || body.querySelector('li.saving:not([data-id])');
    main.hidden = !any;
    const firstRun = app.querySelector('.first-run');
    if (force && firstRun) firstRun.hidden = true;
  }

  // Makes `from` look like `to`, keeping `from` and every child node that
  // is still of the same kind: only what differs is touched. Rows inside
  // `from` are not its to change: `reconcile` places them; and a
  // `<details>` stays open or closed as the user left it.
  function morph(from, to) {
    if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) {
      from.replaceWith(to);
      return;
    }
    if (from.nodeType !== Node.ELEMENT_NODE) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    const mine = (name) => name === 'open' && from.tagName === 'DETAILS';
    for (const { name } of [...from.attributes]) if (!to.hasAttribute(name) && !mine(name)) from.removeAttribute(name);
    for (const { name, value } of [...to.attributes]) if (from.getAttribute(name) !== value && !mine(name)) from.setAttribute(name, value);
    if (from.tagName === 'INPUT') {
      if (from.type === 'checkbox') from.checked = to.hasAttribute('checked');
      else if (from !== document.activeElement) from.value = to.getAttribute('value') || '';
    }
    // A list of rows inside a group: its rows are placed by `reconcile`.
    if (from.tagName === 'UL' && from.hasAttribute('data-rows')) return;
    const a = [...from.childNodes];
    const b = [...to.childNodes];
    b.forEach((node, i) => {
      if (i < a.length) morph(a[i], node);
      else from.append(node);
    });
    for (const node of a.slice(b.length)) node.remove();
    if (from.tagName === 'SELECT') {
      const index = [...from.options].findIndex((o) => o.hasAttribute('selected'));
      from.selectedIndex = Math.max(index, 0);
    }
  }

  // Forms carry the view they were posted from; after a navigation the
  // kept rows point at the new one.
  function retarget() {
    const url = here();
    for (const input of app.querySelectorAll('input[name="return"]')) input.value = url;
    for (const link of body.querySelectorAll('.cancel-link')) link.setAttribute('href', url);
    for (const link of body.querySelectorAll('.edit-link')) {
      const to = new URL(url, location.href);
      to.searchParams.set('edit', link.closest('li').dataset.id);
      link.setAttribute('href', to.pathname + to.search);
    }
    if (controls) controls.action = location.pathname;
  }

  function navigate(url, how) {
    if (url !== here()) {
      if (how === 'push') history.pushState(null, '', url);
      else history.replaceState(null, '', url);
    }
    markMovable();
    clearProblems();
    clearError(newForm);
    return later(() => refresh(true));
  }

  // Dates are rendered for the zone in the `tz` cookie. Set it for the next
  // page, and if this one was rendered for another zone, fetch the page
  // again: its rows, and in a planning view which day they fall on.
  function rememberZone() {
    const offset = -new Date().getTimezoneOffset();
    document.cookie = `tz=${offset}; path=/; max-age=31536000; samesite=lax`;
    if (Number(app.dataset.utcOffset) === offset) return;
    app.dataset.utcOffset = String(offset);
    const dated = allRows().filter((li) => li.querySelector('time'));
    later(async () => {
      if (dated.length) {
        const rows = await fetchRows(dated.map((li) => li.dataset.id));
        for (const li of dated) {
          if (rows[li.dataset.id] && !li.classList.contains('editing')) morph(li, rowFrom(rows[li.dataset.id]));
        }
      }
      await refresh(true);
    });
  }

  // The current view's URL (path, sort, search, rows shown).
  function here() {
    const url = new URL(location.href);
    url.searchParams.delete('edit');
    url.searchParams.delete('added');
    return url.pathname + url.search;
  }

  // After Back or Forward: the search box and sort select follow the URL.
  function showControls() {
    if (!controls) return;
    const params = new URLSearchParams(location.search);
    search.value = params.get('q') || '';
    sort.value = params.get('sort') || 'order';
  }

  function controlsUrl() {
    const params = new URLSearchParams();
    // The list shown stays: the controls carry it as a hidden field.
    if (controls.elements.list) params.set('list', controls.elements.list.value);
    if (sort.value !== 'order') params.set('sort', sort.value);
    if (search.value.trim()) params.set('q', search.value.trim());
    const query = params.toString().replace(/\+/g, '%20');
    return query ? `${location.pathname}?${query}` : location.pathname;
  }

  // Every field of a form, hidden ones (the view, the CSRF token) included.
  function formFields(form) {
    return new URLSearchParams(new FormData(form));
  }

  // What every row's action sends: the page's token and view, once.
  function rowFields() {
    return formFields(rowForm);
  }

  function allRows() {
    return [...body.querySelectorAll('li[data-id]')];
  }

  // ---- Focus ------------------------------------------------------------------

  function sibling(li, direction) {
    let other = direction < 0 ? li.previousElementSibling : li.nextElementSibling;
    while (other && !other.dataset.id) other = direction < 0 ? other.previousElementSibling : other.nextElementSibling;
    return other;
  }

  function titleOf(li) {
    return li.querySelector('.view label').textContent;
  }

  // Which control of its row has focus: the same one is focused in the row
  // that takes its place.
  function focusKind(li) {
    const active = document.activeElement;
    if (!li.contains(active)) return 'toggle';
    for (const kind of ['edit-link', 'move-handle', 'toggle']) if (active.matches(`.${kind}`)) return kind;
    return 'toggle';
  }

  function focusRow(li, kind = 'toggle') {
    if (!li) {
      if (newInput) newInput.focus();
      return;
    }
    const target = li.querySelector(`.view .${kind}`) || li.querySelector('.view .toggle');
    if (target) target.focus();
  }

  function focusPlace() {
    const active = document.activeElement;
    const li = active && active.closest && active.closest('#list-body li');
    if (!li) return null;
    const rows = visibleRows();
    return { active, li, kind: focusKind(li), index: rows.indexOf(li) };
  }

  function visibleRows() {
    return allRows().filter(shows);
  }

  // Rendered, and not inside a closed section (whose content the browser
  // keeps laid out but hidden).
  function shows(el) {
    return el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
  }

  function restoreFocus(place) {
    if (!place) return;
    // Still in sight: keep it. (A control moved into a closed section
    // still has focus for a moment: the browser lets go of it later.)
    if (place.active.isConnected && shows(place.active)) {
      if (document.activeElement !== place.active) place.active.focus();
      return;
    }
    // The row left the view, or went into the collapsed completed part:
    // focus the row that took its place.
    const rows = visibleRows();
    focusRow(rows[Math.min(Math.max(place.index, 0), rows.length - 1)], place.kind);
  }

  // ---- Messages ---------------------------------------------------------------

  // A refused change, said as what it means for the user.
  function inWords(problem, what) {
    switch (problem.status) {
      case 0:
        return `Could not reach the server, so ${what} was not saved. Check your connection and try again.`;
      case 404:
        return `That task is no longer there (perhaps it was deleted in another tab), so ${what} was not saved. The list now shows what is saved.`;
      case 409:
      case 412:
        return `That task was changed somewhere else, so ${what} was not saved. The list now shows the latest version.`;
      case 401:
      case 403:
        return `You are signed out, or the page is too old, so ${what} was not saved. Reload the page and try again.`;
      case 422:
        return sentence(problem.message);
      case 429:
      case 503:
        return `The server is busy, so ${what} was not saved. Try again in a moment.`;
      default:
        return `Something went wrong on the server, so ${what} was not saved. Try again in a moment.`;
    }
  }

  function showProblem(problem, what = 'that change') {
    showToast(inWords(problem, what));
  }

  function clearProblems() {
    if (toast && toast.classList.contains('problem')) hideToast();
  }

  function showError(form, problem) {
    const line = form.querySelector('.form-error');
    // The API says "title: title is too long"; the form already shows which field.
    const prefix = `${problem.field}: `;
    const message = String(problem.message || '');
    line.textContent = sentence(message.startsWith(prefix) ? message.slice(prefix.length) : message);
    line.hidden = false;
    form.classList.add('has-error');
    const field = (problem.field && form.elements.namedItem(problem.field)) || form.querySelector('.new-todo, .edit');
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', line.id);
    field.focus();
  }

  function clearError(form) {
    if (!form) return;
    const line = form.querySelector('.form-error');
    line.hidden = true;
    line.textContent = '';
    form.classList.remove('has-error');
    for (const field of form.querySelectorAll('[aria-invalid]')) {
      field.removeAttribute('aria-invalid');
      field.removeAttribute('aria-describedby');
    }
  }

  function announce(message) {
    // Cleared first, so the same words twice are read twice.
    statusLine.textContent = '';
    requestAnimationFrame(() => {
      statusLine.textContent = message;
    });
  }

  function sentence(message) {
    const text = String(message || 'something went wrong');
    const first = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(first) ? first : `${first}.`;
  }
})();
