//! Issue 15: a due date may carry a time of day (`due_time`, `HH:MM`, a
//! floating wall-clock time). A time needs a date, clearing the date
//! clears the time, sorting by due puts a day's untimed tasks before its
//! timed ones, Today says what is overdue at the reader's time, exports
//! carry the time, and the pages take and show it. Clients that never
//! send a time see `due_time: null` and nothing else changes for them.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    times_need_a_date_and_go_with_it,
    sorting_by_due_puts_untimed_tasks_first_each_day,
    today_says_what_is_overdue_at_the_readers_time,
    exports_carry_times_and_old_files_import,
    the_pages_take_and_show_a_time_in_the_readers_zone,
);

async fn patch(app: &TestApp, id: &Value, body: Value) -> (u16, Value) {
    let response = app.patch_json(&format!("/api/todos/{id}"), &body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn refused(response: reqwest::Response, field: &str) -> Value {
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], field, "{body}");
    body
}

async fn times_need_a_date_and_go_with_it(app: TestApp) {
    let call = app
        .create(json!({"title": "Call", "due": "2030-06-10", "due_time": "09:30"}))
        .await;
    assert_eq!(
        (call["due"].as_str(), call["due_time"].as_str()),
        (Some("2030-06-10"), Some("09:30"))
    );
    let id = &call["id"];
    let read: Value = app
        .get(&format!("/api/todos/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["due_time"], "09:30");

    // A time without a date is refused, whichever way it comes, and
    // nothing is written.
    let body = refused(
        app.post_json("/api/todos", &json!({"title": "x", "due_time": "09:00"}))
            .await,
        "due_time",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("needs a due date"),
        "{body}"
    );
    refused(
        app.post_json(
            "/api/todos",
            &json!({"title": "x", "due": null, "due_time": "09:00"}),
        )
        .await,
        "due_time",
    )
    .await;
    for bad in ["9:30", "24:00", "09:30:00", "half past nine"] {
        refused(
            app.post_json(
                "/api/todos",
                &json!({"title": "x", "due": "2030-06-10", "due_time": bad}),
            )
            .await,
            "due_time",
        )
        .await;
    }
    let undated = app.create_titled("someday").await;
    let refused_patch = app
        .patch_json(
            &format!("/api/todos/{}", undated["id"]),
            &json!({"due_time": "10:00"}),
        )
        .await;
    refused(refused_patch, "due_time").await;
    let (_, clearing) = patch(&app, id, json!({"due": null, "due_time": "10:00"})).await;
    assert_eq!(clearing["field"], "due_time");
    assert_eq!(app.list("").await.len(), 2, "no task was added");
    let (_, unchanged) = patch(&app, &undated["id"], json!({})).await;
    assert_eq!(
        unchanged["version"], undated["version"],
        "nothing was changed"
    );
    let (_, still) = patch(&app, id, json!({})).await;
    assert_eq!(still["version"], call["version"]);
    assert_eq!(still["due_time"], "09:30");

    // A time alone changes on a dated task; a new date keeps the time;
    // null takes the time off and keeps the date; clearing the date takes
    // both.
    let (status, moved) = patch(&app, id, json!({"due_time": "11:15"})).await;
    assert_eq!((status, moved["due_time"].as_str()), (200, Some("11:15")));
    let (_, later) = patch(&app, id, json!({"due": "2030-06-12"})).await;
    assert_eq!(
        (later["due"].as_str(), later["due_time"].as_str()),
        (Some("2030-06-12"), Some("11:15"))
    );
    let (_, untimed) = patch(&app, id, json!({"due_time": null})).await;
    assert_eq!(
        (untimed["due"].as_str(), untimed["due_time"].clone()),
        (Some("2030-06-12"), Value::Null)
    );
    let (_, timed) = patch(&app, id, json!({"due_time": "07:00"})).await;
    assert_eq!(timed["due_time"], "07:00");
    let (_, cleared) = patch(&app, id, json!({"due": null})).await;
    assert_eq!(
        (cleared["due"].clone(), cleared["due_time"].clone()),
        (Value::Null, Value::Null)
    );
    // A date and a time together on an undated task.
    let (_, both) = patch(
        &app,
        &undated["id"],
        json!({"due": "2030-01-01", "due_time": "23:59"}),
    )
    .await;
    assert_eq!(both["due_time"], "23:59");

    // Old clients: no time sent, none shown but as null, and a whole task
    // echoed back (with its `due_time`) is accepted.
    let plain = app
        .create(json!({"title": "plain", "due": "2030-06-10"}))
        .await;
    assert_eq!(plain["due_time"], Value::Null);
    let mut echoed = both.clone();
    echoed["title"] = json!("renamed");
    let (status, renamed) = patch(&app, &both["id"], echoed).await;
    assert_eq!((status, renamed["due_time"].as_str()), (200, Some("23:59")));

    // The same on a list's own route.
    let lists: Vec<Value> = app.get("/api/lists").await.json().await.unwrap();
    let in_list = app
        .post_json(
            &format!("/api/lists/{}/todos", lists[0]["id"]),
            &json!({"title": "in a list", "due": "2030-06-10", "due_time": "08:00"}),
        )
        .await;
    assert_eq!(in_list.status(), 201);
    assert_eq!(in_list.json::<Value>().await.unwrap()["due_time"], "08:00");
}

async fn sorting_by_due_puts_untimed_tasks_first_each_day(app: TestApp) {
    for (title, due, time) in [
        ("evening", Some("2030-06-10"), Some("18:00")),
        ("no date", None, None),
        ("that day", Some("2030-06-10"), None),
        ("morning", Some("2030-06-10"), Some("08:00")),
        ("day before, late", Some("2030-06-09"), Some("23:00")),
        ("noon", Some("2030-06-10"), Some("12:00")),
    ] {
        app.create(json!({"title": title, "due": due, "due_time": time}))
            .await;
    }
    assert_eq!(
        app.titles("?sort=due").await,
        [
            "day before, late",
            "that day",
            "morning",
            "noon",
            "evening",
            "no date"
        ]
    );
}

async fn today_says_what_is_overdue_at_the_readers_time(app: TestApp) {
    let ada = &app.client;
    let post = |body: Value| {
        let request = ada.post(app.url("/api/todos")).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 201);
        }
    };
    for (title, due, time, completed) in [
        ("at nine", "2030-06-10", Some("09:00"), false),
        ("at six", "2030-06-10", Some("18:00"), false),
        ("some time today", "2030-06-10", None, false),
        ("yesterday", "2030-06-09", None, false),
        ("done at eight", "2030-06-10", Some("08:00"), true),
        ("tomorrow at seven", "2030-06-11", Some("07:00"), false),
        ("tomorrow", "2030-06-11", None, false),
    ] {
        post(json!({"title": title, "due": due, "due_time": time, "completed": completed})).await;
    }
    let agenda = |query: &'static str| {
        let request = ada.get(app.url(query));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{query}");
            let tasks: Vec<Value> = response.json().await.unwrap();
            tasks
                .iter()
                .map(|t| {
                    (
                        t["title"].as_str().unwrap().to_owned(),
                        t["overdue"].as_bool().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let owned = |pairs: &[(&str, bool)]| {
        pairs
            .iter()
            .map(|(t, o)| ((*t).to_owned(), *o))
            .collect::<Vec<_>>()
    };
    // At ten in the morning the nine o'clock task is overdue; the untimed
    // one has the day left; done is never overdue.
    assert_eq!(
        agenda("/api/today?date=2030-06-10&time=10:00").await,
        owned(&[
            ("yesterday", true),
            ("some time today", false),
            ("at nine", true),
            ("at six", false),
            ("done at eight", false),
        ])
    );
    // Earlier that day, nothing of today is.
    assert_eq!(
        agenda("/api/today?date=2030-06-10&time=08:59").await[2],
        ("at nine".to_owned(), false)
    );
    // Without a time, the day's timed tasks are not overdue yet.
    assert_eq!(
        agenda("/api/today?date=2030-06-10").await[2],
        ("at nine".to_owned(), false)
    );
    assert_eq!(
        agenda("/api/upcoming?date=2030-06-10&time=10:00").await,
        owned(&[("tomorrow", false), ("tomorrow at seven", false)])
    );
    // A time needs the date it is on.
    for query in [
        "/api/today?time=10:00",
        "/api/today?date=2030-06-10&time=10",
    ] {
        let response = ada.get(app.url(query)).send().await.unwrap();
        refused(response, "time").await;
    }
    // The task routes say nothing of overdue: that is the reader's.
    let all: Vec<Value> = ada
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(all.iter().all(|t| t.get("overdue").is_none()), "{all:?}");
}

async fn exports_carry_times_and_old_files_import(app: TestApp) {
    app.create(json!({"title": "timed", "due": "2030-06-10", "due_time": "09:30"}))
        .await;
    app.create(json!({"title": "dated", "due": "2030-06-10"}))
        .await;
    let export: Value = app.get("/api/export").await.json().await.unwrap();
    assert_eq!(export["version"], 2);
    let tasks = export["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["due_time"], "09:30");
    assert!(
        tasks[1].get("due_time").is_none(),
        "left out when none: {}",
        tasks[1]
    );

    let imported = app
        .client
        .post(app.url("/api/import?replace=true"))
        .json(&export)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200, "{}", imported.text().await.unwrap());
    let back = app.list("").await;
    assert_eq!(back[0]["due_time"], "09:30");
    assert_eq!(back[1]["due_time"], Value::Null);

    // A file from before times (version 1, no `due_time`) imports as it did.
    let old = json!({
        "format": "todo-app-export", "version": 1, "exported_at": "2026-12-01T10:00:00Z",
        "tasks": [{"id": 7, "title": "old", "priority": 2, "completed": false, "order": 1,
                   "due": "2030-01-01", "created_at": "2026-12-01T09:00:00Z",
                   "updated_at": "2026-12-01T09:00:00Z"}]
    });
    let response = app
        .client
        .post(app.url("/api/import?replace=true"))
        .json(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let back = app.list("").await;
    assert_eq!(
        (back[0]["title"].as_str(), back[0]["due_time"].clone()),
        (Some("old"), Value::Null)
    );

    // A time without a date, or one that is no time, is named.
    let mut bad = old.clone();
    bad["tasks"][0]["due"] = Value::Null;
    bad["tasks"][0]["due_time"] = json!("09:00");
    let response = app
        .client
        .post(app.url("/api/import?replace=true"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    let body = refused(response, "due_time").await;
    assert!(
        body["message"].as_str().unwrap().starts_with("tasks[0]: "),
        "{body}"
    );
    bad["tasks"][0]["due"] = json!("2030-01-01");
    bad["tasks"][0]["due_time"] = json!("9 o'clock");
    let response = app
        .client
        .post(app.url("/api/import?replace=true"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    refused(response, "due_time").await;
    assert_eq!(
        app.titles("").await,
        ["old"],
        "refused imports change nothing"
    );
}

async fn the_pages_take_and_show_a_time_in_the_readers_zone(app: TestApp) {
    let form = |fields: &[(&str, &str)]| {
        let request = app.client.post(app.url("/todos")).form(fields);
        async move { request.send().await.unwrap() }
    };
    // The forms have a time input beside the date.
    let html = app.get("/").await.text().await.unwrap();
    assert!(
        html.contains(r#"<input type="time" name="due_time""#),
        "{html}"
    );

    // A task due an hour ago and one due in two hours, as floating times
    // in UTC's wall clock.
    let now = chrono::Utc::now().naive_utc();
    let past = now - chrono::Duration::hours(1);
    let future = now + chrono::Duration::hours(2);
    for (title, at) in [("missed", past), ("coming", future)] {
        let date = at.date().to_string();
        let time = at.format("%H:%M").to_string();
        let response = form(&[
            ("title", title),
            ("due", &date),
            ("due_time", &time),
            ("return", "/"),
        ])
        .await;
        assert_eq!(response.status(), 303);
    }
    let tasks = app.list("").await;
    assert_eq!(tasks[0]["due_time"], past.format("%H:%M").to_string());
    let row = |html: &str, id: &Value| {
        // The row's `<li`, whose attributes may run over several lines.
        let attribute = html.find(&format!(" data-id=\"{id}\"")).unwrap();
        let start = html[..attribute].rfind("<li").unwrap();
        html[start..start + html[start..].find("</li>").unwrap()].to_owned()
    };
    let page_in = |tz: &'static str| {
        let request = app.client.get(app.url("/")).header("cookie", tz);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    // For a reader on UTC the first is overdue, and the edit form holds its time.
    let utc = page_in("tz=0").await;
    let missed = row(&utc, &tasks[0]["id"]);
    assert!(missed.contains("class=\"due overdue"), "{missed}");
    assert!(
        missed.contains(&format!(
            "datetime=\"{}T{}\"",
            past.date(),
            past.format("%H:%M")
        )),
        "{missed}"
    );
    assert!(
        missed.contains(&format!(" at {}</time>", past.format("%H:%M"))),
        "{missed}"
    );
    // The edit form (one template, shown for `?edit=ID`) holds its time.
    let editing = app
        .client
        .get(app.url(&format!("/?edit={}", tasks[0]["id"])))
        .header("cookie", "tz=0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        editing.contains(&format!(
            r#"name="due_time" class="due-time-input" value="{}""#,
            past.format("%H:%M")
        )),
        "{editing}"
    );
    assert!(!row(&utc, &tasks[1]["id"]).contains("overdue"));
    // Five hours west, that wall-clock time has not come yet.
    let west = page_in("tz=-300").await;
    assert!(!row(&west, &tasks[0]["id"]).contains("overdue"), "{west}");

    // The edit form changes the time; an empty date with a time is refused
    // with the form shown again.
    let id = &tasks[1]["id"];
    let date = future.date().to_string();
    let response = app
        .client
        .post(app.url(&format!("/todos/{id}/edit")))
        .form(&[
            ("title", "coming"),
            ("due", date.as_str()),
            ("due_time", "06:45"),
            ("return", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(app.list("").await[1]["due_time"], "06:45");
    let response = form(&[
        ("title", "no day"),
        ("due", ""),
        ("due_time", "10:00"),
        ("return", "/"),
    ])
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("A due time needs a due date"), "{html}");
    assert!(
        html.contains(r#"value="10:00""#),
        "the time typed is kept: {html}"
    );
    assert_eq!(app.list("").await.len(), 2);
    // Clearing the date in the edit form clears the time.
    let response = app
        .client
        .post(app.url(&format!("/todos/{id}/edit")))
        .form(&[
            ("title", "coming"),
            ("due", ""),
            ("due_time", ""),
            ("return", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cleared = &app.list("").await[1];
    assert_eq!(
        (cleared["due"].clone(), cleared["due_time"].clone()),
        (Value::Null, Value::Null)
    );
}
