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
    the_script_gets_only_what_changed,
    state_is_cheap_when_nothing_changed,
    deletes_offer_an_exact_undo,
    tasks_move_up_down_and_before_others,
    due_dates_follow_the_readers_zone_and_language,
    due_years_out_of_range_are_refused,
    the_counter_follows_the_search,
    icon_and_manifest_are_served,
    completed_tasks_follow_the_open_ones_collapsed,
    a_long_list_shows_a_page_and_keeps_a_new_task_in_view,
    today_and_upcoming_span_every_list,
    without_accounts_lists_offer_no_sharing,
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
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(view_of(path, location), to, "POST {path} {fields:?}");
}

/// The view a redirect goes back to. A new task's goes there with the
/// task kept in view and scrolled to (`?added=ID#task-ID`), checked here.
fn view_of(path: &str, location: &str) -> String {
    if path != "/todos" {
        return location.to_owned();
    }
    let (url, anchor) = location
        .split_once("#task-")
        .unwrap_or_else(|| panic!("{location} scrolls to no task"));
    let (view, id) = url
        .rsplit_once("added=")
        .unwrap_or_else(|| panic!("{location} names no task added"));
    assert_eq!(id, anchor, "{location}");
    view.strip_suffix(['?', '&']).unwrap_or(view).to_owned()
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
        .find(&format!("<li id=\"task-{id}\" data-id=\"{id}\""))
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

/// Posts a form as the script does: asking for JSON.
async fn post_script(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(encode(fields))
        .send()
        .await
        .unwrap()
}

async fn answer(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Value {
    let response = post_script(app, path, fields).await;
    assert_eq!(response.status(), 200, "POST {path} {fields:?}");
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// The `[id, version]` pairs of an answer, as ids.
fn view_ids(answer: &Value) -> Vec<i64> {
    answer["view"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[0].as_i64().unwrap())
        .collect()
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
    assert!(csp.contains("manifest-src 'self'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-cache");

    let html = response.text().await.unwrap();
    for needle in [
        "<h1>todos</h1>",
        "class=\"new-todo\"",
        " autofocus",
        "placeholder=\"What needs to be done?\"",
        "<section class=\"main\" id=\"main\" aria-label=\"Tasks\">",
        "id=\"toggle-all\" class=\"toggle-all\"",
        "<label for=\"toggle-all\"",
        "<ul class=\"todo-list movable\" id=\"todo-list\" data-rows=\"open\">",
        "class=\"toggle\"",
        "class=\"destroy\"",
        "class=\"edit\"",
        "<div class=\"footer\" id=\"footer\" data-open=\"1\">",
        "<span class=\"todo-count\" id=\"todo-count\"><strong>1</strong> item left</span>",
        "<ul class=\"filters\" id=\"filters\">",
        // TodoMVC tools pick class selectors when the new-todo input's id
        // is not its class name.
        "id=\"new-task\" class=\"new-todo\"",
        "<link rel=\"manifest\" href=\"/manifest.webmanifest\">",
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
    let start = html.find("<li id=\"task-").unwrap();
    let item = &html[start..start + html[start..].find("</li>").unwrap()];
    assert_eq!(item.matches("<label").count(), 1, "{item}");
}

async fn empty_list_hides_main_and_footer(app: TestApp) {
    let html = page(&app, "/").await;
    assert!(html.contains("<section class=\"main\" id=\"main\" hidden"));
    assert!(html.contains("<div class=\"footer\" id=\"footer\" data-open=\"0\" hidden>"));
    // The first-run hint, in words for each kind of device.
    assert!(html.contains("<div class=\"first-run\">"));
    assert!(html.contains("class=\"hint-nojs\""));
    assert!(html.contains("class=\"hint-touch\""));
    // Nothing completed: no clear-completed button to see.
    assert!(html.contains(
        "class=\"clear-completed-form\" method=\"post\" action=\"/todos/clear-completed\" hidden"
    ));
}

async fn user_text_is_escaped_everywhere(app: TestApp) {
    let nasty = "<script>alert('x')</script> & \"quotes\"";
    let task = app.create_titled(nasty).await;
    let html = page(&app, "/").await;
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(
        "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;quotes&#34;</label>"
    ));
    // Inside attributes too: the buttons' names, the edit field.
    assert!(html.contains("aria-label=\"Edit: &#60;script&#62;"));
    let html = page(&app, &format!("/?edit={}", task["id"])).await;
    assert!(!html.contains("<script>alert"));
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

    // Without JavaScript there is no Undo: a delete asks first.
    let response = post_form(
        &app,
        &format!("/todos/{id}/delete"),
        &[("return", "/active")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Delete “walk the cat”?"), "{html}");
    assert!(html.contains(&format!("action=\"/todos/{id}/delete\"")));
    assert!(html.contains("name=\"confirm\" value=\"yes\""));
    assert!(html.contains("<input type=\"hidden\" name=\"return\" value=\"/active\">"));
    assert_eq!(stored(&app).await.len(), 1, "asking deleted nothing");
    post_redirects(
        &app,
        &format!("/todos/{id}/delete"),
        &[("return", "/"), ("confirm", "yes")],
        "/",
    )
    .await;
    assert!(stored(&app).await.is_empty());
    // Deleting again (a double submit) is not an error.
    post_redirects(
        &app,
        &format!("/todos/{id}/delete"),
        &[("confirm", "yes")],
        "/",
    )
    .await;
    post_redirects(&app, &format!("/todos/{id}/delete"), &[], "/").await;
}

async fn emptied_edit_deletes_the_task(app: TestApp) {
    let task = app.create_titled("temporary").await;
    // Emptied, it asks to delete (there is no Undo without JavaScript).
    let response = post_form(
        &app,
        &format!("/todos/{}/edit", task["id"]),
        &[("title", "   "), ("return", "/completed")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Delete “temporary”?"), "{html}");
    assert_eq!(stored(&app).await.len(), 1);
    post_redirects(
        &app,
        &format!("/todos/{}/edit", task["id"]),
        &[
            ("title", "   "),
            ("return", "/completed"),
            ("confirm", "yes"),
        ],
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
    let response = post_form(&app, "/todos/clear-completed", &[("return", "/completed")]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Delete 1 completed task?"), "{html}");
    assert!(html.contains("<li>a</li>"), "{html}");
    assert_eq!(stored(&app).await.len(), 3);
    post_redirects(
        &app,
        "/todos/clear-completed",
        &[("return", "/completed"), ("confirm", "yes")],
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

    // Completed tasks come after the open ones, in every sort.
    assert_eq!(
        titles(&page(&app, "/").await),
        ["Buy milk", "Buy bread", "Pay rent"]
    );
    assert_eq!(
        titles(&page(&app, "/active").await),
        ["Buy milk", "Buy bread"]
    );
    assert_eq!(titles(&page(&app, "/completed").await), ["Pay rent"]);
    assert_eq!(
        titles(&page(&app, "/?sort=priority").await),
        ["Buy bread", "Buy milk", "Pay rent"]
    );
    assert_eq!(
        titles(&page(&app, "/?sort=due").await),
        ["Buy bread", "Buy milk", "Pay rent"]
    );
    assert_eq!(
        titles(&page(&app, "/?sort=created").await),
        ["Buy bread", "Buy milk", "Pay rent"]
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
    assert!(html.contains(
        "<span class=\"priority-tag\"><span class=\"visually-hidden\">Priority: </span>Do now</span>"
    ));
    assert!(html.contains(
        "<time class=\"due overdue\" datetime=\"2001-02-03\">Overdue, 3 Feb 2001</time>"
    ));
    // Done tasks are not overdue.
    assert!(li_tag(&html, &done["id"]).contains("data-priority=\"low\""));
    // A plain (low priority) task shows no priority mark at all.
    assert_eq!(html.matches("class=\"priority-tag\"").count(), 1);
    assert!(html.contains("<time class=\"due\" datetime=\"2001-02-03\">Due 3 Feb 2001</time>"));
    // The picker offers every priority, low selected for a new task.
    for label in ["Low", "Medium", "High", "Urgent", "Do now"] {
        assert!(html.contains(&format!(">{label}</option>")), "{label}");
    }
    assert!(html.contains("<option value=\"1\" selected>Low</option>"));
}

async fn the_script_gets_only_what_changed(app: TestApp) {
    for n in 0..20 {
        app.create_titled(&format!("task {n}")).await;
    }
    let added = answer(
        &app,
        "/todos",
        &[("title", "new one"), ("priority", "2"), ("return", "/")],
    )
    .await;
    let id = added["created"].as_i64().unwrap();
    assert_eq!(view_ids(&added).len(), 21);
    assert_eq!(*view_ids(&added).last().unwrap(), id);
    // One row, not the page.
    let rows = added["rows"].as_object().unwrap();
    assert_eq!(rows.len(), 1);
    let row = rows[&id.to_string()].as_str().unwrap();
    assert!(
        row.trim_start()
            .starts_with(&format!("<li id=\"task-{id}\" data-id=\"{id}\"")),
        "{row}"
    );
    assert!(row.contains("new one"));
    assert!(!added.to_string().contains("<html"));
    let summary = added["summary"].as_str().unwrap();
    assert!(
        summary.contains("<strong>21</strong> items left"),
        "{summary}"
    );
    assert!(summary.contains("class=\"toggle-all-form\""));
    assert_eq!(added["message"], "Added “new one”.");

    // A toggle in the Active view: the task leaves the view, no row is sent.
    let toggled = answer(
        &app,
        &format!("/todos/{id}/toggle"),
        &[("completed", "true"), ("return", "/active")],
    )
    .await;
    assert!(!view_ids(&toggled).contains(&id));
    assert_eq!(toggled["rows"].as_object().unwrap().len(), 0);
    // Rows the script lacks come from /todos/rows, rendered for its view.
    let rows: Value = app
        .client
        .get(app.url(&format!("/todos/rows?view=%2Fcompleted&ids={id},999")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = rows["rows"].as_object().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[&id.to_string()]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"/completed?edit={id}\""))
    );

    // Refused input is the API's JSON error, not a page.
    let refused = post_script(&app, "/todos", &[("title", "  "), ("due", "soon")]).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["field"], "title");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Title must not be empty."),
        "{body}"
    );
    // So is a task that is gone.
    let gone = post_script(&app, "/todos/999/toggle", &[("completed", "true")]).await;
    assert_eq!(gone.status(), 404);
    assert!(
        gone.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

async fn state_is_cheap_when_nothing_changed(app: TestApp) {
    app.create_titled("one").await;
    let state = |tag: Option<String>| {
        let mut request = app
            .client
            .get(app.url("/todos/state?view=%2Factive"))
            .header("accept", "application/json");
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let first = state(None).await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["state"], tag.as_str());
    assert_eq!(view_ids(&body).len(), 1);
    let again = state(Some(tag.clone())).await.unwrap();
    assert_eq!(again.status(), 304);
    // Any change, by anyone, changes the state.
    app.create_titled("two").await;
    let changed = state(Some(tag.clone())).await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
    // And an action's answer names the state it leaves.
    let added = answer(&app, "/todos", &[("title", "three"), ("return", "/active")]).await;
    let now = state(Some(added["state"].as_str().unwrap().to_owned()))
        .await
        .unwrap();
    assert_eq!(now.status(), 304);
}

async fn deletes_offer_an_exact_undo(app: TestApp) {
    app.create_titled("first").await;
    let task = app
        .create(json!({"title": "precious", "priority": 4, "due": "2031-07-08"}))
        .await;
    app.create_titled("last").await;
    let id = task["id"].to_string();
    let deleted = answer(&app, &format!("/todos/{id}/delete"), &[("return", "/")]).await;
    assert_eq!(deleted["undo"]["message"], "Deleted “precious”.");
    assert_eq!(stored(&app).await.len(), 2);
    // Undo holds the task's id: the store kept the task itself.
    assert_eq!(deleted["undo"]["tasks"], json!([task["id"]]));
    let tasks = deleted["undo"]["tasks"].to_string();
    let restored = answer(
        &app,
        "/todos/restore",
        &[("tasks", &tasks), ("return", "/")],
    )
    .await;
    assert_eq!(restored["message"], "Restored 1 task.");
    assert_eq!(view_ids(&restored)[1], task["id"].as_i64().unwrap());
    let all = stored(&app).await;
    let titles: Vec<&str> = all.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["first", "precious", "last"], "back in its place");
    // The same task, not a copy: its id and creation time.
    assert_eq!(all[1]["id"], task["id"]);
    assert_eq!(all[1]["created_at"], task["created_at"]);
    assert_eq!(all[1]["priority"], 4);
    assert_eq!(all[1]["due"], "2031-07-08");
    assert_eq!(all[1]["order"], task["order"]);
    assert_eq!(all[1]["completed"], false);

    // Clearing completed tasks: every one comes back, still completed.
    for t in &all[..2] {
        app.patch_json(
            &format!("/api/todos/{}", t["id"]),
            &json!({"completed": true}),
        )
        .await;
    }
    let cleared = answer(&app, "/todos/clear-completed", &[("return", "/active")]).await;
    assert_eq!(cleared["undo"]["message"], "Cleared 2 completed tasks.");
    let mut cleared_ids: Vec<i64> = cleared["undo"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect();
    cleared_ids.sort_unstable();
    let mut done_ids: Vec<i64> = all[..2].iter().map(|t| t["id"].as_i64().unwrap()).collect();
    done_ids.sort_unstable();
    assert_eq!(cleared_ids, done_ids);
    assert_eq!(stored(&app).await.len(), 1);
    let tasks = cleared["undo"]["tasks"].to_string();
    answer(
        &app,
        "/todos/restore",
        &[("tasks", &tasks), ("return", "/")],
    )
    .await;
    let all = stored(&app).await;
    let state: Vec<(&str, bool)> = all
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap(),
                t["completed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        state,
        [("first", true), ("precious", true), ("last", false)]
    );

    // An emptied title deletes with Undo too.
    let emptied = answer(
        &app,
        &format!("/todos/{}/edit", all[2]["id"]),
        &[("title", " ")],
    )
    .await;
    assert_eq!(emptied["undo"]["message"], "Deleted “last”.");

    // Bad undo data is refused in words: the old shape (whole tasks),
    // nonsense, or no ids.
    for tasks in ["[{\"title\": \"\"}]", "nonsense", "[0]"] {
        let bad = post_script(&app, "/todos/restore", &[("tasks", tasks)]).await;
        assert_eq!(bad.status(), 422, "{tasks}");
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["field"], "tasks");
    }
    // Undo twice: the second is refused, and changes nothing.
    let id = emptied["undo"]["tasks"].to_string();
    answer(&app, "/todos/restore", &[("tasks", &id), ("return", "/")]).await;
    let twice = post_script(&app, "/todos/restore", &[("tasks", &id), ("return", "/")]).await;
    assert_eq!(twice.status(), 409);
    assert_eq!(stored(&app).await.len(), 3);
}

async fn tasks_move_up_down_and_before_others(app: TestApp) {
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        ids.push(app.create_titled(title).await["id"].to_string());
    }
    // Without JavaScript: back to the task's edit form, to move it again.
    post_redirects(
        &app,
        &format!("/todos/{}/move", ids[2]),
        &[("direction", "up"), ("return", "/")],
        &format!("/?edit={}", ids[2]),
    )
    .await;
    assert_eq!(app.titles("").await, ["a", "c", "b", "d"]);
    let moved = answer(
        &app,
        &format!("/todos/{}/move", ids[0]),
        &[("direction", "down"), ("return", "/")],
    )
    .await;
    assert_eq!(app.titles("").await, ["c", "a", "b", "d"]);
    assert_eq!(
        moved["rows"].as_object().unwrap().len(),
        2,
        "only the two that swapped"
    );
    // Drag and drop: before another task, or to the end.
    answer(
        &app,
        &format!("/todos/{}/move", ids[3]),
        &[("before", &ids[2]), ("return", "/")],
    )
    .await;
    assert_eq!(app.titles("").await, ["d", "c", "a", "b"]);
    answer(
        &app,
        &format!("/todos/{}/move", ids[3]),
        &[("before", ""), ("return", "/")],
    )
    .await;
    assert_eq!(app.titles("").await, ["c", "a", "b", "d"]);
    // Moving needs the user's own order.
    let refused = post_script(
        &app,
        &format!("/todos/{}/move", ids[3]),
        &[("direction", "up"), ("return", "/?sort=priority")],
    )
    .await;
    assert_eq!(refused.status(), 422);
    // The edit page offers the buttons (in the user's order only).
    let html = page(&app, &format!("/?edit={}", ids[0])).await;
    assert!(html.contains("name=\"direction\" value=\"up\">Move up</button>"));
    let html = page(&app, "/?sort=due").await;
    assert!(!html.contains("Move up"));
}

async fn due_dates_follow_the_readers_zone_and_language(app: TestApp) {
    // Today in the easternmost zone (UTC+14) is tomorrow or today in UTC.
    let east = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(14 * 3600).unwrap())
        .date_naive();
    app.create(json!({"title": "soon", "due": east.to_string()}))
        .await;
    app.create(json!({"title": "later", "due": "2031-05-04"}))
        .await;
    let get = |cookie: &'static str, language: &'static str| {
        app.client
            .get(app.url("/"))
            .header("cookie", cookie)
            .header("accept-language", language)
            .send()
    };
    let html = get("tz=840", "en-GB,en;q=0.8")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(">Due today</time>"), "{html}");
    assert!(html.contains(">Due 4 May 2031</time>"));
    assert!(html.contains("data-utc-offset=\"840\""));
    let html = get("tz=-600", "en-US").await.unwrap().text().await.unwrap();
    assert!(!html.contains(">Due today</time>"));
    assert!(html.contains(">Due May 4, 2031</time>"));
    // Month names in the reader's language too.
    let html = get("tz=0", "de-DE,de;q=0.9")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(">Due 4. Mai 2031</time>"), "{html}");
    let html = get("tz=0", "ja").await.unwrap().text().await.unwrap();
    assert!(html.contains(">Due 2031年5月4日</time>"), "{html}");
}

async fn due_years_out_of_range_are_refused(app: TestApp) {
    for due in ["0201-05-04", "1899-12-31"] {
        let response = post_form(&app, "/todos", &[("title", "old"), ("due", due)]).await;
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(
            new_todo_error(&html).contains(&format!(
                "The due date {due} is out of range; use a year from 1900 to 9999."
            )),
            "{html}"
        );
    }
    post_redirects(
        &app,
        "/todos",
        &[("title", "ok"), ("due", "1900-01-01")],
        "/",
    )
    .await;
    assert_eq!(stored(&app).await.len(), 1);
    // The date inputs offer the same range (the new task's and the edit
    // form's), from the domain's constants.
    let id = stored(&app).await[0]["id"].clone();
    let html = page(&app, &format!("/?edit={id}")).await;
    let range = "min=\"1900-01-01\" max=\"9999-12-31\"";
    // The new task's, the edit form's, and the script's copy of it.
    assert_eq!(html.matches(range).count(), 3, "{html}");
}

async fn the_counter_follows_the_search(app: TestApp) {
    app.create_titled("Buy milk").await;
    app.create_titled("Buy bread").await;
    app.create_titled("Call the bank").await;
    let html = page(&app, "/?q=buy").await;
    assert!(
        html.contains("<strong>2</strong> matching items left"),
        "{html}"
    );
    let html = page(&app, "/").await;
    assert!(html.contains("<strong>3</strong> items left"));
}

async fn icon_and_manifest_are_served(app: TestApp) {
    let manifest = app.get("/manifest.webmanifest").await;
    assert_eq!(manifest.status(), 200);
    assert_eq!(
        manifest.headers()["content-type"],
        "application/manifest+json"
    );
    let body: Value = manifest.json().await.unwrap();
    assert_eq!(body["name"], "todos");
    let icon = body["icons"][0]["src"].as_str().unwrap().to_owned();
    let response = app.get(&icon).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.unwrap().starts_with("<svg"));
    let html = page(&app, "/").await;
    assert!(html.contains(&format!("<link rel=\"icon\" href=\"{icon}\"")));
    // Where browsers look on pages that name no icon: the same picture.
    let favicon = app.get("/favicon.ico").await;
    assert_eq!(favicon.status(), 200);
    assert_eq!(favicon.headers()["content-type"], "image/svg+xml");
    assert!(favicon.text().await.unwrap().starts_with("<svg"));
}

/// The rows of one `<ul data-rows="PLACE">` of a page, as titles.
fn rows_in(html: &str, place: &str) -> Vec<String> {
    let marker = format!("data-rows=\"{place}\"");
    let Some(start) = html.find(&marker) else {
        return Vec::new();
    };
    let end = start + html[start..].find("</ul>").unwrap();
    titles(&html[start..end])
        .into_iter()
        .map(str::to_owned)
        .collect()
}

async fn completed_tasks_follow_the_open_ones_collapsed(app: TestApp) {
    app.create(json!({"title": "done, urgent", "priority": 5, "completed": true}))
        .await;
    app.create_titled("open").await;
    app.create(json!({"title": "done, plain", "completed": true}))
        .await;
    for sort in ["", "?sort=priority", "?sort=due", "?sort=created"] {
        let html = page(&app, &format!("/{sort}")).await;
        assert_eq!(rows_in(&html, "open"), ["open"], "{sort}");
        let mut done = rows_in(&html, "done");
        done.sort();
        assert_eq!(done, ["done, plain", "done, urgent"], "{sort}");
        // Collapsed, saying how many; the bar with the filters and Clear
        // completed comes before the rows.
        assert!(
            html.contains("<details class=\"group completed-group\" data-group=\"done\">"),
            "{sort}"
        );
        assert!(html.contains("<span class=\"when-closed\">Show 2 completed</span>"));
        let bar = html.find("class=\"filters\"").unwrap();
        let clear = html.find("class=\"clear-completed\"").unwrap();
        let rows = html.find("data-rows=\"open\"").unwrap();
        assert!(
            bar < rows && clear < rows,
            "{sort}: the bar is under the list"
        );
    }
    // The Completed filter shows them as the list; Active not at all.
    let html = page(&app, "/completed").await;
    assert_eq!(rows_in(&html, "done").len(), 2);
    assert!(!html.contains("<details"));
    assert!(!page(&app, "/active").await.contains("data-rows=\"done\""));
    // Editing a completed task without the script opens the section.
    let done = &app.list("?completed=true").await[0];
    let html = page(&app, &format!("/?edit={}", done["id"])).await;
    assert!(html.contains("data-group=\"done\" open>"));
}

async fn a_long_list_shows_a_page_and_keeps_a_new_task_in_view(app: TestApp) {
    for n in 1..=120 {
        app.create(json!({"title": format!("task {n}"), "completed": n > 110}))
            .await;
    }
    let html = page(&app, "/").await;
    let open = rows_in(&html, "open");
    assert_eq!(open.len(), 50);
    assert_eq!(open[49], "task 50");
    let last = &app.list("").await[49]["id"];
    assert!(html.contains(&format!(
        "<a class=\"more-link\" href=\"/?shown=100#task-{last}\">Show 50 more</a> <span class=\"more-count\">60 not shown</span>"
    )));
    assert_eq!(rows_in(&page(&app, "/?shown=100").await, "open").len(), 100);
    assert_eq!(rows_in(&page(&app, "/?shown=150").await, "open").len(), 110);

    // A new task, beyond the rows shown: after them, marked, scrolled to.
    let response = post_form(&app, "/todos", &[("title", "newest"), ("return", "/")]).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = app.list("").await[120]["id"].clone();
    assert_eq!(location, format!("/?added={id}#task-{id}"));
    let html = page(&app, &location).await;
    assert_eq!(rows_in(&html, "open").len(), 50);
    assert_eq!(rows_in(&html, "open-pinned"), ["newest"]);
    assert!(li_tag(&html, &id).contains("class=\"added\""));
    // The forms on that page go back to the plain view.
    assert!(html.contains("name=\"return\" value=\"/\""));

    // The script's answers keep the tasks it added in view the same way.
    let added = answer(
        &app,
        "/todos",
        &[
            ("title", "newer"),
            ("return", "/"),
            ("pinned", &id.to_string()),
        ],
    )
    .await;
    let places: Vec<(i64, String)> = added["view"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t[0].as_i64().unwrap(), t[2].as_str().unwrap().to_owned()))
        .filter(|(_, place)| place != "open" && place != "done")
        .collect();
    let newer = added["created"].as_i64().unwrap();
    assert_eq!(
        places,
        [
            (id.as_i64().unwrap(), "open-pinned".to_owned()),
            (newer, "open-pinned".to_owned())
        ]
    );
    assert!(
        added["rows"][newer.to_string()]
            .as_str()
            .unwrap()
            .contains("class=\"added\"")
    );
    // A few hundred rows, and still a page: the token is not in them.
    let html = page(&app, "/?shown=1000").await;
    assert_eq!(rows_in(&html, "open").len(), 112);
    assert!(html.matches("<li id=").count() >= 112);
    assert!(!html.contains("name=\"return\" value=\"/?shown=1000\">\n</li>"));
    assert_eq!(html.matches("id=\"row-actions\"").count(), 1);
}

async fn today_and_upcoming_span_every_list(app: TestApp) {
    let today = chrono::Utc::now().date_naive();
    let day = |offset: i64| (today + chrono::Duration::days(offset)).to_string();
    let work: Value = app
        .post_json("/api/lists", &json!({"name": "Work"}))
        .await
        .json()
        .await
        .unwrap();
    let in_work = format!("/api/lists/{}/todos", work["id"]);
    app.create(json!({"title": "late", "due": day(-2)})).await;
    app.post_json(&in_work, &json!({"title": "report", "due": day(0)}))
        .await;
    app.create(json!({"title": "done today", "due": day(0), "completed": true}))
        .await;
    app.post_json(&in_work, &json!({"title": "slides", "due": day(1)}))
        .await;
    app.create(json!({"title": "dentist", "due": day(3)})).await;
    app.create(json!({"title": "far", "due": day(9)})).await;
    app.create_titled("undated").await;

    // The reader's day: UTC here (the zone cookie, as the script sets it).
    async fn get(app: &TestApp, path: &str) -> String {
        let response = app
            .client
            .get(app.url(path))
            .header("cookie", "tz=0")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }
    let html = get(&app, "/today").await;
    assert!(html.contains("<h2 class=\"list-name\">Today</h2>"));
    assert!(html.contains("<a href=\"/today\" aria-current=\"page\">"));
    assert_eq!(rows_in(&html, "overdue"), ["late"]);
    assert_eq!(rows_in(&html, &format!("day-{}", day(0))), ["report"]);
    assert_eq!(rows_in(&html, "done"), ["done today"]);
    assert!(
        html.contains("<h3 class=\"group-heading overdue\" id=\"heading-overdue\">Overdue</h3>")
    );
    // Each row names its list; the new task goes to the default one, today.
    assert!(html.contains(
        "<span class=\"list-tag\"><span class=\"visually-hidden\">List: </span>Work</span>"
    ));
    assert!(html.contains(&format!("class=\"due-input\" value=\"{}\"", day(0))));
    assert!(html.contains("<strong>2</strong> tasks due"));
    // No filters, sort or toggle-all: they are a list's.
    assert!(!html.contains("class=\"filters\"") && !html.contains("toggle-all"));

    let html = get(&app, "/upcoming").await;
    assert_eq!(rows_in(&html, &format!("day-{}", day(1))), ["slides"]);
    assert_eq!(rows_in(&html, &format!("day-{}", day(3))), ["dentist"]);
    assert!(!html.contains(">far</label>") && !html.contains(">late</label>"));
    assert!(html.contains(">Tomorrow · "));

    // Forms in a planning view come back to it, and act on the task's list.
    let report: Vec<Value> = app
        .get(&format!("/api/lists/{}/todos", work["id"]))
        .await
        .json()
        .await
        .unwrap();
    let report_id = report[0]["id"].to_string();
    post_redirects(
        &app,
        &format!("/todos/{report_id}/toggle"),
        &[("completed", "true"), ("return", "/today")],
        "/today",
    )
    .await;
    let after: Value = app
        .get(&format!("/api/todos/{report_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["completed"], true);
    assert_eq!(after["list_id"], work["id"]);
    // Undo from a planning view puts a task back in the list it was in.
    let deleted = answer(
        &app,
        &format!("/todos/{report_id}/delete"),
        &[("return", "/today")],
    )
    .await;
    let tasks = deleted["undo"]["tasks"].to_string();
    answer(
        &app,
        "/todos/restore",
        &[("tasks", &tasks), ("return", "/today")],
    )
    .await;
    let back: Vec<Value> = app
        .get(&format!("/api/lists/{}/todos", work["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert!(back.iter().any(|t| t["title"] == "report"), "{back:?}");
}

async fn without_accounts_lists_offer_no_sharing(app: TestApp) {
    let html = page(&app, "/").await;
    assert!(html.contains(">Edit list</a>"));
    assert!(!html.contains("Share &#38; edit") && !html.contains("Share &amp; edit"));
    let response = post_form(&app, "/lists", &[("name", "Garden")]).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.strip_prefix("/?list=").unwrap().to_owned();
    let settings = page(&app, &format!("/lists/{id}")).await;
    assert!(settings.contains("Rename"));
    assert!(settings.contains("Delete this list"));
    assert!(!settings.contains("share-username") && !settings.contains("Shared with"));
    post_redirects(
        &app,
        &format!("/lists/{id}/rename"),
        &[("name", "Allotment")],
        &format!("/lists/{id}"),
    )
    .await;
    assert!(
        page(&app, &location)
            .await
            .contains("<h2 class=\"list-name\">Allotment</h2>")
    );
}

/// Lists and sharing in the pages (issue 15), with accounts on: every
/// action through the forms a browser without JavaScript submits.
mod lists {
    use super::titles;
    use crate::account_tests;
    use crate::helpers::{Browser, TestApp};

    account_tests!(
        lists_are_switched_created_renamed_and_deleted_through_forms,
        sharing_through_forms_shows_the_list_to_its_members,
        a_viewer_sees_no_edit_forms_and_forged_posts_change_nothing,
        a_stranger_gets_404_for_a_list_as_for_an_unknown_task,
        the_csrf_token_is_on_a_page_once_not_in_every_row,
    );

    async fn the_csrf_token_is_on_a_page_once_not_in_every_row(app: TestApp) {
        let ada = app.sign_up("ada", "ada's passphrase").await;
        let count = |html: &str| html.matches(&ada.csrf).count();
        ada.post_form("/todos", &[("title", "one"), ("return", "/")])
            .await;
        let one = html(&ada, "/").await;
        for n in 0..60 {
            ada.post_form(
                "/todos",
                &[("title", &format!("task {n}")), ("return", "/")],
            )
            .await;
        }
        let many = html(&ada, "/").await;
        assert_eq!(super::titles(&many).len(), 50, "a page of rows");
        assert_eq!(count(&one), count(&many));
        // The meta tag, and one per form that is not a row's.
        assert!(count(&many) <= 8, "{} tokens", count(&many));
        // Rows carry none: their buttons belong to the one row form.
        let row_start = many.find("<li id=\"task-").unwrap();
        let row = &many[row_start..row_start + many[row_start..].find("</li>").unwrap()];
        assert!(!row.contains("csrf_token"), "{row}");
        assert!(row.contains("form=\"row-actions\""), "{row}");
        // And they work, token and all, without the script.
        let id = row
            .split("data-id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        redirects(
            &ada,
            &format!("/todos/{id}/toggle"),
            &[("completed", "true"), ("return", "/")],
            "/",
        )
        .await;
    }

    async fn get(browser: &Browser, path: &str) -> reqwest::Response {
        browser.client.get(browser.url(path)).send().await.unwrap()
    }

    async fn html(browser: &Browser, path: &str) -> String {
        let response = get(browser, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form and checks it answers 303 to `to`.
    async fn redirects(browser: &Browser, path: &str, fields: &[(&str, &str)], to: &str) {
        let response = browser.post_form(path, fields).await;
        assert_eq!(response.status(), 303, "POST {path} {fields:?}");
        let location = response.headers()["location"].to_str().unwrap();
        assert_eq!(super::view_of(path, location), to, "POST {path} {fields:?}");
    }

    /// Creates a list through the navigation's form; its id.
    async fn new_list(browser: &Browser, name: &str) -> i64 {
        let response = browser.post_form("/lists", &[("name", name)]).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location
            .strip_prefix("/?list=")
            .unwrap_or_else(|| panic!("{location}"))
            .parse()
            .unwrap()
    }

    /// The list's heading on a page.
    fn list_name(html: &str) -> &str {
        let start =
            html.find("<h2 class=\"list-name\">").unwrap() + "<h2 class=\"list-name\">".len();
        &html[start..start + html[start..].find("</h2>").unwrap()]
    }

    /// The navigation's entries: name, "shared by" note, count, current.
    fn nav(html: &str) -> Vec<String> {
        let start = html.find("<ul class=\"list-links\">").unwrap();
        let end = start + html[start..].find("</ul>").unwrap();
        html[start..end]
            .split("<li>")
            .skip(1)
            .map(|entry| {
                let text = |class: &str| {
                    let marker = format!("<span class=\"{class}\"");
                    entry.find(&marker).map(|at| {
                        let rest = &entry[at..];
                        let open = rest.find('>').unwrap() + 1;
                        rest[open..open + rest[open..].find("</span>").unwrap()].to_owned()
                    })
                };
                let mut line = format!(
                    "{} ({})",
                    text("list-link-name").unwrap(),
                    text("list-link-count").unwrap()
                );
                if let Some(owner) = text("list-link-owner") {
                    line.push_str(&format!(" {owner}"));
                }
                if entry.contains("aria-current=\"page\"") {
                    line.push_str(" *");
                }
                line
            })
            .collect()
    }

    async fn lists_are_switched_created_renamed_and_deleted_through_forms(app: TestApp) {
        let ada = app.sign_up("ada", "ada's passphrase").await;
        redirects(
            &ada,
            "/todos",
            &[("title", "Call mum"), ("return", "/")],
            "/",
        )
        .await;
        let page = html(&ada, "/").await;
        assert_eq!(list_name(&page), "Tasks");
        assert_eq!(nav(&page), ["Tasks (1) *"]);

        let id = new_list(&ada, "Groceries").await;
        let here = format!("/?list={id}");
        let page = html(&ada, &here).await;
        assert_eq!(list_name(&page), "Groceries");
        assert_eq!(nav(&page), ["Tasks (1)", "Groceries (0) *"]);
        assert!(titles(&page).is_empty());

        // Every form on the list's page brings the user back to it, and
        // acts on it: adding, toggling, the filters, search.
        redirects(
            &ada,
            "/todos",
            &[("title", "Milk"), ("return", &here)],
            &here,
        )
        .await;
        redirects(
            &ada,
            "/todos",
            &[("title", "Eggs"), ("return", &here)],
            &here,
        )
        .await;
        let page = html(&ada, &here).await;
        assert_eq!(titles(&page), ["Milk", "Eggs"]);
        assert!(page.contains(&format!("name=\"return\" value=\"/?list={id}\"")));
        assert!(page.contains(&format!("href=\"/active?list={id}\"")));
        assert!(page.contains(&format!(
            "<input type=\"hidden\" name=\"list\" value=\"{id}\">"
        )));
        assert_eq!(nav(&page), ["Tasks (1)", "Groceries (2) *"]);
        assert_eq!(titles(&html(&ada, "/").await), ["Call mum"]);
        let milk = page
            .split(" data-id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let active = format!("/active?list={id}");
        redirects(
            &ada,
            &format!("/todos/{milk}/toggle"),
            &[("completed", "true"), ("return", &active)],
            &active,
        )
        .await;
        assert_eq!(titles(&html(&ada, &active).await), ["Eggs"]);
        assert_eq!(
            titles(&html(&ada, &format!("/?list={id}&q=mil")).await),
            ["Milk"]
        );
        // Clear completed clears this list's, after asking.
        redirects(
            &ada,
            "/todos/clear-completed",
            &[("return", &here), ("confirm", "yes")],
            &here,
        )
        .await;
        assert_eq!(titles(&html(&ada, &here).await), ["Eggs"]);
        // The script's live updates follow the list too.
        let state: serde_json::Value = ada
            .client
            .get(ada.url(&format!("/todos/state?view=%2F%3Flist%3D{id}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(state["view"].as_array().unwrap().len(), 1, "{state}");

        // Rename: a bad name is refused and changes nothing.
        let settings = format!("/lists/{id}");
        let response = ada
            .post_form(&format!("{settings}/rename"), &[("name", "  ")])
            .await;
        assert_eq!(response.status(), 422);
        assert!(response.text().await.unwrap().contains("Name"));
        redirects(
            &ada,
            &format!("{settings}/rename"),
            &[("name", "Food")],
            &settings,
        )
        .await;
        assert_eq!(list_name(&html(&ada, &here).await), "Food");
        assert!(html(&ada, &settings).await.contains("value=\"Food\""));

        // Delete asks first; "Keep it" goes back to the list's page.
        let response = ada.post_form(&format!("{settings}/delete"), &[]).await;
        assert_eq!(response.status(), 200);
        let confirm = response.text().await.unwrap();
        assert!(
            confirm.contains("Delete the list “Food” and its task?"),
            "{confirm}"
        );
        assert!(confirm.contains("name=\"confirm\" value=\"yes\""));
        assert_eq!(list_name(&html(&ada, &here).await), "Food");
        redirects(
            &ada,
            &format!("{settings}/delete"),
            &[("confirm", "yes")],
            "/",
        )
        .await;
        assert_eq!(get(&ada, &here).await.status(), 404);
        assert_eq!(nav(&html(&ada, "/").await), ["Tasks (1) *"]);

        // The default list offers no delete, and a forged one is refused.
        let default_id = html(&ada, "/").await;
        let default_id = default_id
            .split("href=\"/lists/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let settings = html(&ada, &format!("/lists/{default_id}")).await;
        assert!(!settings.contains("delete-list-form"));
        assert!(settings.contains("rename-list-form"));
        let response = ada
            .post_form(
                &format!("/lists/{default_id}/delete"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(response.status(), 409);
        assert_eq!(titles(&html(&ada, "/").await), ["Call mum"]);
    }

    /// Ada's list "Home" with one task, shared through the forms with Bob
    /// (editor) and Cyd (viewer).
    async fn shared_home(app: &TestApp) -> (Browser, Browser, Browser, i64) {
        let ada = app.sign_up("ada", "ada's passphrase").await;
        let bob = app.sign_up("bob", "bob's passphrase").await;
        let cyd = app.sign_up("cyd", "cyd's passphrase").await;
        let id = new_list(&ada, "Home").await;
        let here = format!("/?list={id}");
        redirects(
            &ada,
            "/todos",
            &[("title", "Fix the tap"), ("return", &here)],
            &here,
        )
        .await;
        let settings = format!("/lists/{id}");
        for (name, role) in [("bob", "editor"), ("cyd", "viewer")] {
            redirects(
                &ada,
                &format!("{settings}/members"),
                &[("username", name), ("role", role)],
                &settings,
            )
            .await;
        }
        (ada, bob, cyd, id)
    }

    async fn sharing_through_forms_shows_the_list_to_its_members(app: TestApp) {
        let (ada, bob, cyd, id) = shared_home(&app).await;
        let here = format!("/?list={id}");
        let settings = format!("/lists/{id}");
        let page = html(&ada, &settings).await;
        assert!(page.contains("<span class=\"member-name\">bob</span>"));
        assert!(page.contains("<span class=\"member-name\">cyd</span>"));

        // Sharing with nobody says so and adds no one.
        let response = ada
            .post_form(
                &format!("{settings}/members"),
                &[("username", "zed"), ("role", "editor")],
            )
            .await;
        assert_eq!(response.status(), 422);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("No account is named")
        );
        let response = ada
            .post_form(
                &format!("{settings}/members"),
                &[("username", "bob"), ("role", "owner")],
            )
            .await;
        assert_eq!(response.status(), 422);

        // Bob sees it at once, marked as shared by Ada, and works in it.
        let page = html(&bob, "/").await;
        assert_eq!(nav(&page), ["Tasks (0) *", "Home (1) shared by ada"]);
        let page = html(&bob, &here).await;
        assert_eq!(titles(&page), ["Fix the tap"]);
        assert!(page.contains("Shared by ada"));
        assert!(page.contains("<span class=\"byline\">Added by ada</span>"));
        assert!(page.contains("class=\"new-todo-form\""));
        let tap = page
            .split(" data-id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        redirects(
            &bob,
            "/todos",
            &[("title", "Buy bulbs"), ("return", &here)],
            &here,
        )
        .await;
        redirects(
            &bob,
            &format!("/todos/{tap}/toggle"),
            &[("completed", "true"), ("return", &here)],
            &here,
        )
        .await;
        // Ada sees who did what.
        let page = html(&ada, &here).await;
        // Done, "Fix the tap" is under the open ones.
        assert_eq!(titles(&page), ["Buy bulbs", "Fix the tap"]);
        assert!(
            page.contains("<span class=\"byline\">Added by ada · done by bob</span>"),
            "{page}"
        );
        assert!(page.contains("<span class=\"byline\">Added by bob</span>"));
        assert!(page.contains("Shared with 2 people"));
        // Ada's private default list carries no bylines.
        redirects(&ada, "/todos", &[("title", "Mine"), ("return", "/")], "/").await;
        assert!(!html(&ada, "/").await.contains("class=\"byline\""));

        // A member's page of the list offers leaving, not sharing.
        let page = html(&bob, &settings).await;
        assert!(page.contains("leave-list-form"));
        assert!(!page.contains("share-form") && !page.contains("rename-list-form"));
        // Only the owner shares, renames or deletes.
        for (path, fields) in [
            (
                format!("{settings}/members"),
                vec![("username", "cyd"), ("role", "editor")],
            ),
            (format!("{settings}/rename"), vec![("name", "Mine now")]),
            (format!("{settings}/delete"), vec![("confirm", "yes")]),
            (
                format!("{settings}/members/remove"),
                vec![("username", "cyd")],
            ),
        ] {
            let response = bob.post_form(&path, &fields).await;
            assert_eq!(response.status(), 403, "{path}");
            assert!(
                response
                    .text()
                    .await
                    .unwrap()
                    .contains("only its owner may")
            );
        }
        assert_eq!(list_name(&html(&ada, &here).await), "Home");

        // Changing a role through the form: Cyd may now add.
        redirects(
            &ada,
            &format!("{settings}/members/role"),
            &[("username", "cyd"), ("role", "editor")],
            &settings,
        )
        .await;
        assert!(html(&cyd, &here).await.contains("class=\"new-todo-form\""));
        // Removing Bob takes the list away from him at once.
        redirects(
            &ada,
            &format!("{settings}/members/remove"),
            &[("username", "bob")],
            &settings,
        )
        .await;
        assert_eq!(get(&bob, &here).await.status(), 404);
        assert_eq!(nav(&html(&bob, "/").await), ["Tasks (0) *"]);
        // Cyd leaves on her own.
        redirects(&cyd, &format!("{settings}/leave"), &[], "/").await;
        assert_eq!(get(&cyd, &here).await.status(), 404);
        let page = html(&ada, &settings).await;
        assert!(!page.contains("member-name"), "{page}");
        assert!(page.contains("Only you can see this list."));
    }

    async fn a_viewer_sees_no_edit_forms_and_forged_posts_change_nothing(app: TestApp) {
        let (ada, _bob, cyd, id) = shared_home(&app).await;
        let here = format!("/?list={id}");
        redirects(
            &ada,
            "/todos",
            &[
                ("title", "Done one"),
                ("completed", "true"),
                ("return", &here),
            ],
            &here,
        )
        .await;
        let page = html(&ada, &here).await;
        let ids: Vec<String> = page
            .split(" data-id=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect();
        redirects(
            &ada,
            &format!("/todos/{}/toggle", ids[1]),
            &[("completed", "true"), ("return", &here)],
            &here,
        )
        .await;
        let before = html(&ada, &here).await;

        let page = html(&cyd, &here).await;
        assert_eq!(titles(&page), ["Fix the tap", "Done one"]);
        assert!(page.contains("You can view this list"));
        assert!(page.contains("Shared by ada · view only"));
        for form in [
            "new-todo-form",
            "toggle-all-form",
            "clear-completed-form",
            "class=\"toggle-form\"",
            "destroy",
            "edit-form",
            "row-actions",
            "edit-link",
            "move-handle",
            "action=\"/todos",
        ] {
            assert!(!page.contains(form), "a viewer's page has {form}");
        }
        assert!(page.contains("type=\"checkbox\" disabled"));
        // The edit page without JavaScript opens nothing for a viewer.
        let page = html(&cyd, &format!("{here}&edit={}", ids[0])).await;
        assert!(!page.contains("edit-form"));

        // Every write a viewer forges is refused with a page that says why.
        let forged = [
            ("/todos".to_owned(), vec![("title", "Sneaky")]),
            (
                format!("/todos/{}/toggle", ids[0]),
                vec![("completed", "true")],
            ),
            (
                format!("/todos/{}/edit", ids[0]),
                vec![("title", "Renamed")],
            ),
            (format!("/todos/{}/edit", ids[0]), vec![("title", "")]),
            (format!("/todos/{}/delete", ids[0]), vec![]),
            (
                format!("/todos/{}/delete", ids[0]),
                vec![("confirm", "yes")],
            ),
            (format!("/todos/{}/move", ids[1]), vec![("direction", "up")]),
            ("/todos/toggle-all".to_owned(), vec![("completed", "true")]),
            (
                "/todos/clear-completed".to_owned(),
                vec![("confirm", "yes")],
            ),
            ("/todos/restore".to_owned(), vec![("tasks", "[1]")]),
        ];
        for (path, mut fields) in forged {
            fields.push(("return", &here));
            let response = cyd.post_form(&path, &fields).await;
            assert_eq!(response.status(), 403, "{path} {fields:?}");
            assert_eq!(
                response.headers()["content-type"],
                "text/html; charset=utf-8"
            );
            let text = response.text().await.unwrap();
            assert!(
                text.contains("you may read its tasks but not change them"),
                "{path}: {text}"
            );
        }
        // The script gets the API's refusal.
        let response = cyd
            .client
            .post(cyd.url("/todos"))
            .header("accept", "application/json")
            .header("x-csrf-token", &cyd.csrf)
            .form(&[("title", "Sneaky"), ("return", here.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(html(&ada, &here).await, before);
    }

    async fn a_stranger_gets_404_for_a_list_as_for_an_unknown_task(app: TestApp) {
        let (ada, _bob, _cyd, id) = shared_home(&app).await;
        let eve = app.sign_up("eve", "eve's passphrase").await;
        let here = format!("/?list={id}");
        let task = html(&ada, &here).await;
        let task = task
            .split(" data-id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let unknown = eve
            .post_form("/todos/999999/toggle", &[("return", "/")])
            .await;
        assert_eq!(unknown.status(), 404);
        let unknown = unknown.text().await.unwrap();
        for path in [
            here.clone(),
            format!("/active?list={id}"),
            format!("/lists/{id}"),
            "/?list=abc".to_owned(),
            "/?list=999999".to_owned(),
        ] {
            let response = get(&eve, &path).await;
            assert_eq!(response.status(), 404, "{path}");
            let page = response.text().await.unwrap();
            assert!(
                page.contains("<h2>Not Found</h2>") && unknown.contains("<h2>Not Found</h2>"),
                "{path}: {page}"
            );
            assert!(
                !page.contains("Home") && !page.contains("Fix the tap"),
                "{path}"
            );
        }
        for (path, fields) in [
            ("/todos".to_owned(), vec![("title", "Mine")]),
            (format!("/todos/{task}/toggle"), vec![("completed", "true")]),
            (format!("/todos/{task}/delete"), vec![("confirm", "yes")]),
            (
                "/todos/clear-completed".to_owned(),
                vec![("confirm", "yes")],
            ),
            (format!("/lists/{id}/rename"), vec![("name", "Eve's")]),
            (format!("/lists/{id}/delete"), vec![("confirm", "yes")]),
            (
                format!("/lists/{id}/members"),
                vec![("username", "eve"), ("role", "editor")],
            ),
            (format!("/lists/{id}/leave"), vec![]),
        ] {
            let mut fields = fields;
            fields.push(("return", &here));
            let response = eve.post_form(&path, &fields).await;
            assert_eq!(response.status(), 404, "{path}");
        }
        let response = eve
            .client
            .get(eve.url(&format!("/todos/state?view=%2F%3Flist%3D{id}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        let page = html(&ada, &here).await;
        assert_eq!(titles(&page), ["Fix the tap"]);
        assert_eq!(list_name(&page), "Home");
        assert_eq!(nav(&html(&eve, "/").await), ["Tasks (0) *"]);
    }
}
