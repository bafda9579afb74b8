// todos: the same page, without full reloads.
//
// Every action on the page is a plain form that works without this file.
// Here those forms are taken over: a change goes to the JSON API, then the
// current view is fetched again and its list, toggle-all and footer are
// swapped in. The server stays the one place that renders a task, sorts and
// filters; this file only decides when to ask. Filter, sort and search
// change the URL with history.pushState/replaceState, and popstate renders
// the URL again, so Back and Forward work and every view can be bookmarked.
'use strict';

// Loaded in <head> without defer, so this runs before the body is painted:
// the CSS hides the no-JavaScript buttons under `.js` with no flash.
document.documentElement.classList.add('js');

(() => {
  let app, newForm, newInput, controls, search, sort, statusLine;
  // Changes run one after the other, so tasks land in the order typed.
  let queue = Promise.resolve();
  // Only the newest render is applied when several are in flight.
  let renderCount = 0;
  let searchTimer = 0;

  document.addEventListener('DOMContentLoaded', () => {
    app = document.getElementById('todoapp');
    if (!app || !app.querySelector('.todo-list')) return; // an error page
    newForm = app.querySelector('.new-todo-form');
    newInput = newForm.querySelector('.new-todo');
    controls = app.querySelector('.view-controls');
    search = controls.querySelector('.search');
    sort = controls.querySelector('.sort-select');
    statusLine = document.getElementById('status');
    // `?edit=ID` is the no-JavaScript edit page. Here the item is already in
    // edit mode; keep it out of the URL so later renders do not reopen it.
    if (new URLSearchParams(location.search).has('edit')) history.replaceState(null, '', here());

    app.addEventListener('submit', onSubmit);
    app.addEventListener('change', onChange);
    app.addEventListener('input', onInput);
    app.addEventListener('click', onClick);
    app.addEventListener('dblclick', onDoubleClick);
    app.addEventListener('keydown', onKeyDown);
    app.addEventListener('focusout', onFocusOut);
    window.addEventListener('popstate', () => {
      showControls();
      render().catch(showProblem);
    });
  });

  // ---- Events ---------------------------------------------------------------

  function onSubmit(event) {
    const form = event.target;
    const li = form.closest('.todo-list li');
    event.preventDefault();
    if (form === newForm) addTask();
    else if (form.matches('.edit-form')) saveEdit(li);
    else if (form.matches('.toggle-form')) setCompleted(li, !li.classList.contains('completed'));
    else if (form.matches('.destroy-form')) destroy(li);
    else if (form.matches('.toggle-all-form')) setAllCompleted(form.elements.completed.value === 'true');
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
    if (event.target !== search) return;
    clearTimeout(searchTimer);
    // Each keystroke replaces the URL rather than adding to history.
    searchTimer = setTimeout(() => navigate(controlsUrl(), 'replace'), 200);
  }

  function onClick(event) {
    const link = event.target.closest('a');
    const plain = event.button === 0 && !(event.metaKey || event.ctrlKey || event.shiftKey || event.altKey);
    if (!link || !plain) return;
    if (link.closest('.filters')) {
      event.preventDefault();
      navigate(link.getAttribute('href'), 'push');
    } else if (link.matches('.edit-link')) {
      event.preventDefault();
      startEdit(link.closest('li'));
    } else if (link.matches('.cancel-link')) {
      event.preventDefault();
      cancelEdit(link.closest('li'));
    }
  }

  function onDoubleClick(event) {
    const label = event.target.closest('.todo-list .view label');
    if (label) startEdit(label.closest('li'));
  }

  function onKeyDown(event) {
    if (event.key !== 'Escape' || event.target.tagName === 'SELECT') return;
    const form = event.target.closest('.edit-form');
    if (form) {
      event.preventDefault();
      cancelEdit(form.closest('li'), true);
    }
  }

  // Leaving the edit form saves it (TodoMVC's "blur saves"); moving between
  // its own fields (title, priority, due date) does not.
  function onFocusOut(event) {
    const form = event.target.closest('.edit-form');
    if (form && !(event.relatedTarget && form.contains(event.relatedTarget))) {
      saveEdit(form.closest('li'));
    }
  }

  // ---- Actions --------------------------------------------------------------

  function addTask() {
    const fields = newForm.elements;
    if (!newInput.value.trim()) return; // TodoMVC: Enter on nothing adds nothing
    const sent = { title: newInput.value, priority: fields.priority.value, due: fields.due.value };
    const body = { title: sent.title, priority: Number(sent.priority) };
    if (sent.due) body.due = sent.due;
    // Clear at once so the next task can be typed; put it back on an error.
    newInput.value = '';
    fields.priority.value = '1';
    fields.due.value = '';
    clearError(newForm);
    change(
      () => api('POST', '/api/todos', body).then((task) => announce(`Added “${task.title}”.`)),
      (problem) => {
        if (!newInput.value) {
          newInput.value = sent.title;
          fields.priority.value = sent.priority;
          fields.due.value = sent.due;
        }
        showError(newForm, problem);
      },
    );
  }

  function setCompleted(li, completed) {
    li.classList.toggle('completed', completed);
    change(() => api('PATCH', `/api/todos/${li.dataset.id}`, { completed }));
  }

  function setAllCompleted(completed) {
    for (const li of app.querySelectorAll('.todo-list li')) li.classList.toggle('completed', completed);
    change(() => api('PATCH', '/api/todos', { completed }));
  }

  function destroy(li) {
    li.hidden = true;
    change(() => api('DELETE', `/api/todos/${li.dataset.id}`).then(() => announce('Task deleted.')));
  }

  function clearCompleted() {
    for (const li of app.querySelectorAll('.todo-list li.completed')) li.hidden = true;
    change(() => api('DELETE', '/api/todos?completed=true').then(() => announce('Completed tasks cleared.')));
  }

  function startEdit(li) {
    if (!li || li.classList.contains('editing')) return;
    li.classList.add('editing');
    const input = li.querySelector('.edit');
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  // Escape: the form goes back to what the server rendered.
  function cancelEdit(li, keepFocus) {
    if (!li.classList.contains('editing')) return;
    // Leave edit mode first, so the blur that follows does not save.
    li.classList.remove('editing');
    const form = li.querySelector('.edit-form');
    form.reset();
    clearError(form);
    if (keepFocus) li.querySelector('.toggle').focus();
  }

  function saveEdit(li) {
    if (!li || !li.classList.contains('editing')) return; // saved or cancelled already
    const form = li.querySelector('.edit-form');
    const fields = form.elements;
    const input = fields.namedItem('title');
    const title = input.value.trim();
    li.classList.remove('editing');
    if (!title) {
      destroy(li); // TodoMVC: an emptied title deletes the task
      return;
    }
    const unchanged =
      title === input.defaultValue.trim() &&
      fields.priority.value === defaultOption(fields.priority) &&
      fields.due.value === fields.due.defaultValue;
    if (unchanged) {
      input.value = title;
      return;
    }
    const body = { title, priority: Number(fields.priority.value), due: fields.due.value || null };
    input.value = title;
    li.querySelector('.view label').textContent = title;
    change(
      () => api('PATCH', `/api/todos/${li.dataset.id}`, body),
      (problem) => {
        if (problem.status !== 422) return failed(problem);
        li.classList.add('editing');
        showError(form, problem);
      },
    );
  }

  function defaultOption(select) {
    const option = [...select.options].find((o) => o.defaultSelected) || select.options[0];
    return option.value;
  }

  // ---- Talking to the server ------------------------------------------------

  // Queues `work`; then renders the view again. A rejected change goes to
  // `onError` (by default: say so, and render what the server has).
  function change(work, onError = failed) {
    const done = queue.then(work);
    queue = done.then(render, onError).catch(showProblem);
    return done;
  }

  function failed(problem) {
    showProblem(problem);
    return render();
  }

  async function api(method, path, body) {
    const init = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.ok) return response.status === 204 ? null : response.json();
    let problem = { message: `the server answered ${response.status}` };
    try {
      problem = await response.json();
    } catch {
      // not JSON: keep the status line
    }
    throw Object.assign(new Error(problem.message), { field: problem.field, status: response.status });
  }

  function navigate(url, how) {
    if (url !== here()) {
      if (how === 'push') history.pushState(null, '', url);
      else history.replaceState(null, '', url);
    }
    return render().catch(showProblem);
  }

  // Fetches the current URL and swaps in the parts that show tasks. The
  // new-task form and the search box are left alone: they may be mid-typing.
  async function render() {
    const ticket = ++renderCount;
    const response = await fetch(here(), { headers: { accept: 'text/html' } });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const html = await response.text();
    if (ticket !== renderCount) return; // a newer render is on its way
    const next = new DOMParser().parseFromString(html, 'text/html');
    const focusedId = document.activeElement && document.activeElement.id;
    const focusLost = app.contains(document.activeElement) && document.activeElement !== newInput &&
      document.activeElement !== search && document.activeElement !== sort;

    for (const selector of ['.toggle-all-form', '.footer']) {
      app.querySelector(selector).replaceWith(document.adoptNode(next.querySelector(selector)));
    }
    swapList(app.querySelector('.list'), document.adoptNode(next.querySelector('.list')));
    app.querySelector('.main').hidden = next.querySelector('.main').hidden;
    for (const input of app.querySelectorAll('input[name="return"]')) input.value = here();
    controls.action = location.pathname;

    if (focusLost && focusedId) {
      const again = document.getElementById(focusedId);
      if (again && again.offsetParent !== null) again.focus();
      else newInput.focus();
    }
  }

  // Replaces the list, except a task being edited: a render that lands while
  // the user types (say, the answer to the previous save) must not take
  // their text, caret or focus. Its fresh siblings are put around it instead.
  function swapList(list, fresh) {
    const editing = list.querySelector('.todo-list li.editing');
    if (!editing) {
      list.replaceWith(fresh);
      return;
    }
    for (const child of [...list.children]) if (!child.contains(editing)) child.remove();
    for (const child of [...fresh.children]) if (!child.matches('.todo-list')) list.append(child);
    for (const li of [...editing.parentNode.children]) if (li !== editing) li.remove();
    const items = [...fresh.querySelector('.todo-list').children];
    const at = items.findIndex((li) => li.dataset.id === editing.dataset.id);
    if (at < 0) {
      editing.before(...items); // gone on the server; saving will say so
    } else {
      editing.before(...items.slice(0, at));
      editing.after(...items.slice(at + 1));
    }
  }

  // The current view's URL (path, sort, search).
  function here() {
    const url = new URL(location.href);
    url.searchParams.delete('edit');
    return url.pathname + url.search;
  }

  // After Back or Forward: the search box and sort select follow the URL.
  function showControls() {
    const params = new URLSearchParams(location.search);
    search.value = params.get('q') || '';
    sort.value = params.get('sort') || 'order';
  }

  function controlsUrl() {
    const params = new URLSearchParams();
    if (sort.value !== 'order') params.set('sort', sort.value);
    if (search.value.trim()) params.set('q', search.value.trim());
    const query = params.toString();
    return query ? `${location.pathname}?${query}` : location.pathname;
  }

  // ---- Messages -------------------------------------------------------------

  function showError(form, problem) {
    const line = form.querySelector('.form-error');
    // The API says "title: title is too long"; the form already shows which field.
    const prefix = `${problem.field}: `;
    const message = String(problem.message || '');
    line.textContent = sentence(message.startsWith(prefix) ? message.slice(prefix.length) : message);
    line.hidden = false;
    const field = form.elements.namedItem(problem.field) || form.querySelector('.new-todo, .edit');
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', line.id);
    field.focus();
  }

  function clearError(form) {
    const line = form.querySelector('.form-error');
    line.hidden = true;
    line.textContent = '';
    for (const field of form.querySelectorAll('[aria-invalid]')) {
      field.removeAttribute('aria-invalid');
      field.removeAttribute('aria-describedby');
    }
  }

  // Problems with no form of their own (a lost connection, a task deleted
  // in another tab) are shown under the new-task form.
  function showProblem(problem) {
    const line = newForm.querySelector('.form-error');
    line.textContent = `Something went wrong: ${problem.message}. Reload the page to see the current list.`;
    line.hidden = false;
  }

  function announce(message) {
    statusLine.textContent = message;
  }

  function sentence(message) {
    const text = String(message || 'something went wrong');
    const first = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(first) ? first : `${first}.`;
  }
})();
