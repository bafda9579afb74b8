//! The web UI without JavaScript: pages, plain form posts, 303 redirects,
//! re-rendered forms with their errors. (The JavaScript layer has its own
//! tests in a real browser: `tests/browser`, run by `ci/browser.sh`.)

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    page_has_todomvc_markup_and_security_headers,
    empty_list_hides_main_and_footer,
    user_text_is_escaped_everywhere,
    create_redirects_back_to_the_view_it_came_from,
    rejected_creates_rerender_with_422_error_and_input,
    toggle_edit_and_delete_through_forms,
    emptied_edit_deletes_the_task,
    rejected_edit_keeps_the_edit_form_open,
    toggle_all_and_clear_completed,
    views_filter_sort_and_search,
    return_values_never_redirect_off_site,
    assets_are_embedded_with_long_caching,
    unknown_tasks_and_pages_get_html_404s,
    counts_say_item_or_items,
    due_dates_and_priorities_are_visible,
);

// ---- Helpers -------------------------------------------------------------------

/// `application/x-www-form-urlencoded`, as a browser sends it.
fn encode(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(fields))
        .send()
        .await
        .unwrap()
}

/// Posts a form and checks it answers 303 to `to`.
async fn post_redirects(app: &TestApp, path: &str, fields: &[(&str, &str)], to: &str) {
    let response = post_form(app, path, fields).await;
    assert_eq!(response.status(), 303, "POST {path} {fields:?}");
    assert_eq!(response.headers()["location"], to, "POST {path} {fields:?}");
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// The titles of the list items, in order, as rendered (still escaped).
fn titles(html: &str) -> Vec<&str> {
    html.split("<label id=\"title-")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</label>").unwrap();
            &rest[start..end]
        })
        .collect()
}

/// The `<li>` opening tag of the task with `id`.
fn li_tag(html: &str, id: &Value) -> String {
    let start = html
        .find(&format!("<li data-id=\"{id}\""))
        .unwrap_or_else(|| panic!("no item {id}"));
    let end = start + html[start..].find('>').unwrap();
    html[start..=end].to_owned()
}

/// The `<p>` with the error of the new-task form.
fn new_todo_error(html: &str) -> &str {
    let start = html.find("<p id=\"new-todo-error\"").unwrap();
    let end = start + html[start..].find("</p>").unwrap();
    &html[start..end]
}

/// ` onclick=`, ` onload=` and the like.
fn has_inline_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(i, _)| {
        let name: String = html[i + 3..]
            .chars()
            .take_while(char::is_ascii_lowercase)
            .collect();
        !name.is_empty() && html[i + 3 + name.len()..].starts_with('=')
    })
}

async fn stored(app: &TestApp) -> Vec<Value> {
    app.list("").await
}

// ---- Tests ---------------------------------------------------------------------

async fn page_has_todomvc_markup_and_security_headers(app: TestApp) {
    app.create_titled("one").await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-cache");

    let html = response.text().await.unwrap();
    for needle in [
        "<h1>todos</h1>",
        "class=\"new-todo\"",
        " autofocus",
        "placeholder=\"What needs to be done?\"",
        "<section class=\"main\" aria-label=\"Tasks\">",
        "class=\"toggle-all\"",
        "<label for=\"toggle-all\"",
        "<ul class=\"todo-list\">",
        "class=\"toggle\"",
        "class=\"destroy\"",
        "class=\"edit\"",
        "<footer class=\"footer\">",
        "<span class=\"todo-count\"><strong>1</strong> item left</span>",
        "<ul class=\"filters\">",
        "class=\"clear-completed\"",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    // No inline script or style anywhere; every script comes from our asset.
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<style"));
    assert!(!html.contains(" style="));
    assert!(!has_inline_handler(&html), "inline event handler");
    // Exactly one label per item: TodoMVC tooling relies on it.
    let item = &html[html.find("<li data-id").unwrap()..html.find("</li>").unwrap()];
    assert_eq!(item.matches("<label").count(), 1, "{item}");
}

async fn empty_list_hides_main_and_footer(app: TestApp) {
    let html = page(&app, "/").await;
    assert!(html.contains("<section class=\"main\" hidden"));
    assert!(html.contains("<footer class=\"footer\" hidden>"));
    // Nothing completed: no clear-completed button to see.
    assert!(html.contains(
        "class=\"clear-completed-form\" method=\"post\" action=\"/todos/clear-completed\" hidden"
    ));
}

async fn user_text_is_escaped_everywhere(app: TestApp) {
    let nasty = "<script>alert('x')</script> & \"quotes\"";
    app.create_titled(nasty).await;
    let html = page(&app, "/").await;
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(
        "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;quotes&#34;</label>"
    ));
    // Inside attributes too: the edit field and the buttons' names.
    assert!(html.contains("value=\"&#60;script&#62;alert(&#39;x&#39;)"));
    assert!(html.contains("aria-label=\"Delete: &#60;script&#62;"));
    // And what the user searched for, in the box and in the links.
    let html = page(&app, "/?q=%3Cb%3E%22").await;
    assert!(!html.contains("<b>\""));
    assert!(html.contains("name=\"q\" value=\"&#60;b&#62;&#34;\""));
    assert!(html.contains("No tasks match “&#60;b&#62;&#34;”."));
}

async fn create_redirects_back_to_the_view_it_came_from(app: TestApp) {
    post_redirects(
        &app,
        "/todos",
        &[
            ("title", "  buy milk  "),
            ("priority", "3"),
            ("due", "2030-01-31"),
            ("return", "/active?sort=due&q=milk"),
        ],
        "/active?sort=due&q=milk",
    )
    .await;
    post_redirects(
        &app,
        "/todos",
        &[
            ("title", "second"),
            ("priority", ""),
            ("due", ""),
            ("return", "/"),
        ],
        "/",
    )
    .await;
    let tasks = stored(&app).await;
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "buy milk");
    assert_eq!(tasks[0]["priority"], 3);
    assert_eq!(tasks[0]["due"], "2030-01-31");
    assert_eq!(tasks[1]["priority"], 1);
    assert_eq!(tasks[1]["due"], Value::Null);
    // New tasks go to the bottom.
    assert_eq!(titles(&page(&app, "/").await), ["buy milk", "second"]);
}

/// The fields posted, the message shown, the field marked invalid, the input kept.
type RejectedCase<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str, &'a str);

async fn rejected_creates_rerender_with_422_error_and_input(app: TestApp) {
    let long = "x".repeat(256);
    let cases: Vec<RejectedCase> = vec![
        (
            vec![("title", &long)],
            "Title is 256 characters long; the maximum is 255.",
            "title",
            &long,
        ),
        (
            vec![("title", "   ")],
            "Title must not be empty.",
            "title",
            "   ",
        ),
        (
            vec![("title", "ok"), ("priority", "9")],
            "Priority &#34;9&#34; is not valid",
            "priority",
            "ok",
        ),
        (
            vec![("title", "ok"), ("due", "2030-02-30")],
            "Due date &#34;2030-02-30&#34; is not a valid date; use YYYY-MM-DD.",
            "due",
            "2030-02-30",
        ),
    ];
    for (mut fields, message, field, kept) in cases {
        fields.push(("return", "/completed?sort=priority"));
        let response = post_form(&app, "/todos", &fields).await;
        assert_eq!(response.status(), 422, "{fields:?}");
        assert!(response.headers().contains_key("content-security-policy"));
        let html = response.text().await.unwrap();
        let error = new_todo_error(&html);
        assert!(error.contains("role=\"alert\""), "{error}");
        assert!(!error.contains(" hidden"), "{error}");
        assert!(error.contains(message), "{fields:?}: {error}");
        assert!(
            html.contains(&format!("value=\"{kept}\"")),
            "{fields:?}: input not kept"
        );
        // The bad field is marked and points at the message.
        let name = format!("name=\"{field}\"");
        let tag_start = html.find(&name).unwrap();
        let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
        assert!(
            tag.contains("aria-invalid=\"true\"")
                && tag.contains("aria-describedby=\"new-todo-error\""),
            "{field}: {tag}"
        );
        // Still the view the user was on.
        assert!(html.contains(
            "<a id=\"filter-completed\" href=\"/completed?sort=priority\" class=\"selected\""
        ));
    }
    // A bad priority keeps the rest of the form: the title is still there.
    assert!(
        stored(&app).await.is_empty(),
        "a rejected form stored something"
    );
}

async fn toggle_edit_and_delete_through_forms(app: TestApp) {
    let task = app.create_titled("walk the dog").await;
    let id = task["id"].to_string();

    post_redirects(
        &app,
        &format!("/todos/{id}/toggle"),
        &[("completed", "true"), ("return", "/active")],
        "/active",
    )
    .await;
    assert_eq!(stored(&app).await[0]["completed"], true);
    assert!(li_tag(&page(&app, "/").await, &task["id"]).contains("class=\"completed\""));
    // Without a value, a toggle flips.
    post_redirects(&app, &format!("/todos/{id}/toggle"), &[], "/").await;
    assert_eq!(stored(&app).await[0]["completed"], false);

    // The no-JavaScript edit view: the item in edit mode, its field focused.
    let html = page(&app, &format!("/?edit={id}")).await;
    assert!(li_tag(&html, &task["id"]).contains("class=\"editing\""));
    assert!(html.contains(&format!(
        "id=\"edit-{id}\" name=\"title\" value=\"walk the dog\""
    )));
    assert_eq!(html.matches(" autofocus").count(), 1);
    assert!(!html.contains("class=\"new-todo\" name=\"title\" value=\"\"\n        placeholder=\"What needs to be done?\" autocomplete=\"off\" enterkeyhint=\"done\" autofocus"));

    post_redirects(
        &app,
        &format!("/todos/{id}/edit"),
        &[
            ("title", "  walk the cat "),
            ("priority", "urgent"),
            ("due", "2031-01-02"),
            ("return", "/?sort=priority"),
        ],
        "/?sort=priority",
    )
    .await;
    let saved = &stored(&app).await[0];
    assert_eq!(saved["title"], "walk the cat");
    assert_eq!(saved["priority"], 4);
    assert_eq!(saved["due"], "2031-01-02");
    // An empty due date clears it.
    post_redirects(
        &app,
        &format!("/todos/{id}/edit"),
        &[("title", "walk the cat"), ("due", "")],
        "/",
    )
    .await;
    assert_eq!(stored(&app).await[0]["due"], Value::Null);
    assert_eq!(
        stored(&app).await[0]["priority"],
        4,
        "absent priority is kept"
    );

    post_redirects(
        &app,
        &format!("/todos/{id}/delete"),
        &[("return", "/")],
        "/",
    )
    .await;
    assert!(stored(&app).await.is_empty());
    // Deleting again (a double submit) is not an error.
    post_redirects(&app, &format!("/todos/{id}/delete"), &[], "/").await;
}

async fn emptied_edit_deletes_the_task(app: TestApp) {
    let task = app.create_titled("temporary").await;
    post_redirects(
        &app,
        &format!("/todos/{}/edit", task["id"]),
        &[("title", "   "), ("return", "/completed")],
        "/completed",
    )
    .await;
    assert!(stored(&app).await.is_empty());
}

async fn rejected_edit_keeps_the_edit_form_open(app: TestApp) {
    let task = app
        .create(json!({"title": "original", "priority": 2}))
        .await;
    let id = task["id"].to_string();
    let response = post_form(
        &app,
        &format!("/todos/{id}/edit"),
        &[
            ("title", "changed"),
            ("priority", "11"),
            ("due", "soon"),
            ("return", "/active"),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(li_tag(&html, &task["id"]).contains("class=\"editing\""));
    let error_start = html.find(&format!("<p id=\"edit-error-{id}\"")).unwrap();
    let error = &html[error_start..error_start + html[error_start..].find("</p>").unwrap()];
    assert!(error.contains("role=\"alert\""));
    assert!(
        error.contains("Priority &#34;11&#34; is not valid"),
        "{error}"
    );
    assert!(
        error.contains("Due date &#34;soon&#34; is not a valid date"),
        "{error}"
    );
    // The typed title and date are kept; the priority falls back to the stored one.
    assert!(html.contains(&format!(
        "id=\"edit-{id}\" name=\"title\" value=\"changed\""
    )));
    assert!(html.contains("value=\"soon\""));
    assert!(html.contains(&format!("aria-describedby=\"edit-error-{id}\"")));
    // Nothing was changed.
    assert_eq!(stored(&app).await[0]["title"], "original");
}

async fn toggle_all_and_clear_completed(app: TestApp) {
    for title in ["a", "b", "c"] {
        app.create_titled(title).await;
    }
    post_redirects(
        &app,
        "/todos/toggle-all",
        &[("completed", "true"), ("return", "/")],
        "/",
    )
    .await;
    assert!(stored(&app).await.iter().all(|t| t["completed"] == true));
    let html = page(&app, "/").await;
    assert!(html.contains("class=\"toggle-all\" type=\"checkbox\" checked"));
    assert!(html.contains("<strong>0</strong> items left"));
    assert!(
        html.contains("action=\"/todos/clear-completed\">"),
        "clear-completed shown"
    );

    // Without a value: everything is done, so it marks everything active.
    post_redirects(&app, "/todos/toggle-all", &[], "/").await;
    assert!(stored(&app).await.iter().all(|t| t["completed"] == false));

    let first = &stored(&app).await[0];
    post_redirects(
        &app,
        &format!("/todos/{}/toggle", first["id"]),
        &[("completed", "true")],
        "/",
    )
    .await;
    post_redirects(
        &app,
        "/todos/clear-completed",
        &[("return", "/completed")],
        "/completed",
    )
    .await;
    let left: Vec<Value> = stored(&app).await;
    assert_eq!(
        left.iter()
            .map(|t| t["title"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["b", "c"]
    );
}

async fn views_filter_sort_and_search(app: TestApp) {
    app.create(json!({"title": "Buy milk", "priority": 1, "due": "2031-03-01"}))
        .await;
    app.create(json!({"title": "Pay rent", "priority": 5, "completed": true}))
        .await;
    app.create(json!({"title": "Buy bread", "priority": 3, "due": "2031-01-01"}))
        .await;

    assert_eq!(
        titles(&page(&app, "/").await),
        ["Buy milk", "Pay rent", "Buy bread"]
    );
    assert_eq!(
        titles(&page(&app, "/active").await),
        ["Buy milk", "Buy bread"]
    );
    assert_eq!(titles(&page(&app, "/completed").await), ["Pay rent"]);
    assert_eq!(
        titles(&page(&app, "/?sort=priority").await),
        ["Pay rent", "Buy bread", "Buy milk"]
    );
    assert_eq!(
        titles(&page(&app, "/?sort=due").await),
        ["Buy bread", "Buy milk", "Pay rent"]
    );
    assert_eq!(
        titles(&page(&app, "/?sort=created").await),
        ["Buy bread", "Pay rent", "Buy milk"]
    );
    assert_eq!(
        titles(&page(&app, "/active?q=BUY&sort=due").await),
        ["Buy bread", "Buy milk"]
    );

    // The current filter is selected; the links keep sort and search.
    let html = page(&app, "/active?q=buy&sort=due").await;
    assert!(html.contains("<a id=\"filter-active\" href=\"/active?sort=due&#38;q=buy\" class=\"selected\" aria-current=\"page\">Active</a>"));
    assert!(html.contains("<a id=\"filter-all\" href=\"/?sort=due&#38;q=buy\">All</a>"));
    assert!(html.contains("<option value=\"due\" selected>"));
    assert!(html.contains("name=\"q\" value=\"buy\""));
    // Every form returns to this view.
    assert!(html.contains("name=\"return\" value=\"/active?sort=due&#38;q=buy\""));
    assert!(!html.contains("name=\"return\" value=\"/\""));

    // Nothing matches: the list says so.
    let html = page(&app, "/?q=zebra").await;
    assert!(titles(&html).is_empty());
    assert!(html.contains("No tasks match “zebra”."));

    // Bad values fall back to the defaults instead of failing the page.
    assert_eq!(
        titles(&page(&app, "/?sort=sideways&edit=abc").await).len(),
        3
    );
}

async fn return_values_never_redirect_off_site(app: TestApp) {
    for evil in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/api/todos",
        "javascript:alert(1)",
        "",
    ] {
        post_redirects(&app, "/todos", &[("title", "x"), ("return", evil)], "/").await;
        post_redirects(&app, "/todos/clear-completed", &[("return", evil)], "/").await;
    }
}

async fn assets_are_embedded_with_long_caching(app: TestApp) {
    let html = page(&app, "/").await;
    let asset = |ext: &str| {
        let end = html.find(&format!(".{ext}\"")).unwrap() + ext.len() + 1;
        let start = html[..end].rfind("/assets/").unwrap();
        html[start..end].to_owned()
    };
    for (path, content_type, sample) in [
        (asset("css"), "text/css; charset=utf-8", ".todo-list"),
        (
            asset("js"),
            "text/javascript; charset=utf-8",
            "history.pushState",
        ),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.text().await.unwrap().contains(sample));
    }
    // An old name (a page from the previous release): today's file, not cached.
    let stale = app.get("/assets/app.0000000000000000.css").await;
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.headers()["cache-control"], "no-cache");
    assert_eq!(app.get("/assets/other.txt").await.status(), 404);
}

async fn unknown_tasks_and_pages_get_html_404s(app: TestApp) {
    for (method, path) in [
        ("POST", "/todos/999999/toggle"),
        ("POST", "/todos/999999/edit"),
        ("POST", "/todos/abc/toggle"),
        ("GET", "/nowhere"),
    ] {
        let request = match method {
            "POST" => app
                .client
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("title=x"),
            _ => app.client.get(app.url(path)),
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("<a href=\"/\">Back to your list</a>"),
            "{path}"
        );
    }
    // A bad toggle value is the user's mistake, shown as a page.
    let task = app.create_titled("x").await;
    let response = post_form(
        &app,
        &format!("/todos/{}/toggle", task["id"]),
        &[("completed", "maybe")],
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Completed must be true or false")
    );
}

async fn counts_say_item_or_items(app: TestApp) {
    let first = app.create_titled("one").await;
    let html = page(&app, "/").await;
    assert!(html.contains("<strong>1</strong> item left"));
    app.create_titled("two").await;
    assert!(
        page(&app, "/")
            .await
            .contains("<strong>2</strong> items left")
    );
    app.patch_json(
        &format!("/api/todos/{}", first["id"]),
        &json!({"completed": true}),
    )
    .await;
    // The count is of active tasks, whatever the view shows.
    assert!(
        page(&app, "/completed")
            .await
            .contains("<strong>1</strong> item left")
    );
}

async fn due_dates_and_priorities_are_visible(app: TestApp) {
    let late = app
        .create(json!({"title": "late", "priority": "do-now", "due": "2001-02-03"}))
        .await;
    let done = app
        .create(json!({"title": "done late", "due": "2001-02-03", "completed": true}))
        .await;
    let html = page(&app, "/").await;
    assert!(li_tag(&html, &late["id"]).contains("data-priority=\"do-now\""));
    assert!(html.contains("<span class=\"priority-tag\" title=\"Priority\">Do now</span>"));
    assert!(html.contains(
        "<time class=\"due overdue\" datetime=\"2001-02-03\">Overdue, 3 Feb 2001</time>"
    ));
    // Done tasks are not overdue.
    assert!(li_tag(&html, &done["id"]).contains("data-priority=\"low\""));
    assert!(html.contains("<time class=\"due\" datetime=\"2001-02-03\">Due 3 Feb 2001</time>"));
    // The picker offers every priority, low selected for a new task.
    for label in ["Low", "Medium", "High", "Urgent", "Do now"] {
        assert!(html.contains(&format!(">{label}</option>")), "{label}");
    }
    assert!(html.contains("<option value=\"1\" selected>Low</option>"));
}
