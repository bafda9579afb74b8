//! Issue 16: CalDAV, at the protocol's edges, against the real server on
//! both databases: signing in with an app password (never the account
//! password), discovery, one collection per visible list, resources with
//! strong ETags and preconditions, bad objects refused without a change,
//! roles held as in the API, and sync-collection with tombstones. Real
//! clients (Python's `caldav`, vdirsyncer with todoman) run in
//! `ci/caldav.sh`.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, server_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    discovery_leads_to_every_list_the_caller_can_see,
    only_an_app_password_signs_in,
    objects_round_trip_with_strong_etags_and_preconditions,
    edits_in_the_api_keep_every_other_line_of_each_clients_object,
    bad_objects_are_refused_and_change_nothing,
    roles_hold_over_caldav,
    sync_collection_reports_changes_and_tombstones,
    calendars_are_made_changed_and_deleted,
    calendar_queries_filter_tasks,
    a_change_through_one_instance_shows_in_a_sync_through_another,
    without_accounts_the_shared_list_is_served_as_the_pages_are,
    a_change_that_commits_late_is_neither_skipped_nor_repeated,
    one_name_holds_one_task_whatever_races_or_arrives,
    hostile_requests_get_nothing,
);

const APPLE: &str = include_str!("../fixtures/caldav/apple-reminders.ics");
const THUNDERBIRD: &str = include_str!("../fixtures/caldav/thunderbird.ics");
const TASKS_ORG: &str = include_str!("../fixtures/caldav/tasks-org.ics");

/// Someone with an account, an API token, and the id of their default list.
struct Person {
    name: String,
    token: String,
    api: Client,
    default_list: i64,
}

async fn person(app: &TestApp, name: &str) -> Person {
    let token = app
        .sign_up_with_token(name, &format!("{name}'s passphrase"))
        .await;
    let api = token_client(&token);
    let lists: Value = api
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Person {
        name: name.to_owned(),
        token,
        api,
        default_list: lists[0]["id"].as_i64().unwrap(),
    }
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

/// One CalDAV request as `who`, with Basic and their app password.
async fn dav(
    app: &TestApp,
    who: &Person,
    verb: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = app
        .client
        .request(method(verb), app.url(path))
        .basic_auth(&who.name, Some(&who.token))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn calendar(who: &Person, list: i64) -> String {
    format!("/dav/calendars/{}/{list}/", who.name)
}

async fn tasks_of(app: &TestApp, who: &Person, list: i64) -> Value {
    who.api
        .get(app.url(&format!("/api/lists/{list}/todos")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const PROPFIND_ALL: &str = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><d:displayname/><d:current-user-principal/><c:calendar-home-set/><c:supported-calendar-component-set/><cs:getctag/><d:sync-token/><d:current-user-privilege-set/><d:getetag/></d:prop></d:propfind>"#;

async fn discovery_leads_to_every_list_the_caller_can_see(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let bob = person(&app, "bob").await;
    // Bob shares his list "Groceries" with Ada as a viewer.
    let list: Value = bob
        .api
        .post(app.url("/api/lists"))
        .json(&json!({"name": "Groceries & more"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shared = list["id"].as_i64().unwrap();
    let added = bob
        .api
        .post(app.url(&format!("/api/lists/{shared}/members")))
        .json(&json!({"username": "ada", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);

    let redirect = app
        .client
        .get(app.url("/.well-known/caldav"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/dav/");

    // A client given only the app's address asks its root; the page is
    // still the page.
    for root in ["/", "/dav/"] {
        let (status, _, body) = dav(
            &app,
            &ada,
            "PROPFIND",
            root,
            &[("depth", "0")],
            PROPFIND_ALL,
        )
        .await;
        assert_eq!(status, 207, "{root}: {body}");
        assert!(
            body.contains("<d:current-user-principal><d:href>/dav/principals/ada/</d:href>"),
            "{body}"
        );
    }
    let page = ada.api.get(app.url("/")).send().await.unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let (status, _, body) = dav(
        &app,
        &ada,
        "PROPFIND",
        "/dav/principals/ada/",
        &[("depth", "0")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert!(
        body.contains("<c:calendar-home-set><d:href>/dav/calendars/ada/</d:href>"),
        "{body}"
    );

    let (status, _, body) = dav(
        &app,
        &ada,
        "PROPFIND",
        "/dav/calendars/ada/",
        &[("depth", "1")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(status, 207, "{body}");
    let own = format!("<d:href>/dav/calendars/ada/{}/</d:href>", ada.default_list);
    let theirs = format!("<d:href>/dav/calendars/ada/{shared}/</d:href>");
    assert!(body.contains(&own) && body.contains(&theirs), "{body}");
    assert!(
        body.contains("<d:displayname>Groceries &amp; more</d:displayname>"),
        "{body}"
    );
    assert!(body.contains("<c:comp name=\"VTODO\"/>"), "{body}");
    assert!(body.contains("<cs:getctag>urn:x-todo-app:sync:"), "{body}");
    // The viewer's privileges on the shared list: read only.
    let shared_part = &body[body.find(&theirs).unwrap()..];
    let shared_part = &shared_part[..shared_part.find("</d:response>").unwrap()];
    assert!(
        shared_part.contains("<d:privilege><d:read/></d:privilege>"),
        "{shared_part}"
    );
    assert!(!shared_part.contains("<d:write"), "{shared_part}");
    let own_part = &body[body.find(&own).unwrap()..];
    assert!(
        own_part.contains("<d:privilege><d:write-content/></d:privilege>"),
        "{own_part}"
    );

    // Another person's space is not there for Ada.
    let (status, _, _) = dav(
        &app,
        &ada,
        "PROPFIND",
        "/dav/calendars/bob/",
        &[("depth", "1")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(status, 404);
}

async fn only_an_app_password_signs_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let propfind = |user: &str, secret: Option<&str>| {
        let mut request = app
            .client
            .request(method("PROPFIND"), app.url("/dav/"))
            .header("depth", "0");
        if let Some(secret) = secret {
            request = request.basic_auth(user, Some(secret));
        }
        request.send()
    };
    for (user, secret) in [
        ("ada", None),
        ("ada", Some("ada's passphrase")),
        ("ada", Some("todo_pat_not-a-real-token")),
        ("bob", Some(ada.token.as_str())),
    ] {
        let response = propfind(user, secret).await.unwrap();
        assert_eq!(response.status(), 401, "{user} {secret:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"todo-app\", charset=\"UTF-8\""
        );
        let text = response.text().await.unwrap();
        assert!(text.contains("app password"), "{text}");
    }
    let response = propfind("ADA", Some(&ada.token)).await.unwrap();
    assert_eq!(response.status(), 207);
    // A second token, to revoke the first with once the throttle is shut.
    let other = app.token_for("ada", "ada's passphrase").await;
    // Wrong secrets count against the login throttle: a burst is refused.
    let mut throttled = false;
    for _ in 0..10 {
        let response = propfind("ada", Some("wrong")).await.unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            throttled = true;
            break;
        }
        assert_eq!(response.status(), 401);
    }
    assert!(throttled, "ten wrong app passwords were never throttled");
    // A revoked token stops working.
    let tokens: Value = ada
        .api
        .get(app.url("/api/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .min()
        .unwrap();
    let revoked = token_client(&other)
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = app
        .client
        .request(method("PROPFIND"), app.url("/dav/"))
        .basic_auth("ada", Some(&ada.token))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 401 | 429),
        "{}",
        response.status()
    );
}

async fn objects_round_trip_with_strong_etags_and_preconditions(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let href = format!("{}reminder.ics", calendar(&ada, ada.default_list));
    let (status, headers, body) = dav(
        &app,
        &ada,
        "PUT",
        &href,
        &[("if-none-match", "*"), ("content-type", "text/calendar")],
        APPLE,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");

    let (status, headers, body) = dav(&app, &ada, "GET", &href, &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(body, APPLE, "GET gives back exactly what was PUT");
    assert_eq!(headers["etag"], etag.as_str());
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );

    // The task is there for the API, with the mapped fields.
    let tasks = tasks_of(&app, &ada, ada.default_list).await;
    let task = &tasks["items"]
        .as_array()
        .unwrap_or_else(|| tasks.as_array().unwrap())[0];
    assert_eq!(task["title"], "Water the plants");
    assert_eq!(task["priority"], 5);
    assert_eq!(task["due"], "2026-12-10");
    assert_eq!(task["due_time"], "09:00");

    // Create-only on an existing resource, a stale If-Match: 412, no change.
    let other = APPLE.replace("Water the plants", "Something else");
    let (status, _, _) = dav(&app, &ada, "PUT", &href, &[("if-none-match", "*")], &other).await;
    assert_eq!(status, 412);
    let (status, _, _) = dav(&app, &ada, "PUT", &href, &[("if-match", "\"999\"")], &other).await;
    assert_eq!(status, 412);
    let (_, _, body) = dav(&app, &ada, "GET", &href, &[], "").await;
    assert_eq!(body, APPLE);

    // A replace with the right ETag changes it, and the ETag.
    let (status, headers, _) = dav(&app, &ada, "PUT", &href, &[("if-match", &etag)], &other).await;
    assert_eq!(status, 204);
    let new_etag = headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    // A change from the API changes the ETag too.
    let id = tasks_of(&app, &ada, ada.default_list).await;
    let id = id["items"]
        .as_array()
        .unwrap_or_else(|| id.as_array().unwrap())[0]["id"]
        .as_i64()
        .unwrap();
    let patched = ada
        .api
        .patch(app.url(&format!("/api/todos/{id}")))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let (_, headers, body) = dav(&app, &ada, "GET", &href, &[], "").await;
    assert_ne!(headers["etag"], new_etag.as_str());
    assert!(body.contains("STATUS:COMPLETED\r\n"), "{body}");
    // DELETE with a stale ETag is refused; with the right one it goes.
    let (status, _, _) = dav(&app, &ada, "DELETE", &href, &[("if-match", &new_etag)], "").await;
    assert_eq!(status, 412);
    let current = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = dav(&app, &ada, "DELETE", &href, &[("if-match", &current)], "").await;
    assert_eq!(status, 204);
    let (status, _, _) = dav(&app, &ada, "GET", &href, &[], "").await;
    assert_eq!(status, 404);
    // And the API's Undo brings it back under the same name.
    let restored = ada
        .api
        .post(app.url(&format!("/api/todos/{id}/restore")))
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 200);
    let (status, _, body) = dav(&app, &ada, "GET", &href, &[], "").await;
    assert_eq!(status, 200);
    assert!(body.contains("SUMMARY:Something else\r\n"), "{body}");
}

async fn edits_in_the_api_keep_every_other_line_of_each_clients_object(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    for (client, object) in [
        ("apple", APPLE),
        ("thunderbird", THUNDERBIRD),
        ("tasks-org", TASKS_ORG),
    ] {
        let href = format!("{}{client}.ics", calendar(&ada, ada.default_list));
        let (status, _, body) = dav(&app, &ada, "PUT", &href, &[], object).await;
        assert_eq!(status, 201, "{client}: {body}");
        let tasks = tasks_of(&app, &ada, ada.default_list).await;
        let items = tasks["items"]
            .as_array()
            .unwrap_or_else(|| tasks.as_array().unwrap());
        let summary = object
            .lines()
            .find_map(|l| l.strip_prefix("SUMMARY:"))
            .unwrap()
            .trim_end();
        let task = items.iter().find(|t| t["title"] == summary).unwrap();
        let edited = ada
            .api
            .patch(app.url(&format!("/api/todos/{}", task["id"])))
            .json(&json!({"title": "Renamed in the page"}))
            .send()
            .await
            .unwrap();
        assert_eq!(edited.status(), 200);
        let (_, _, body) = dav(&app, &ada, "GET", &href, &[], "").await;
        assert!(
            body.contains("\r\nSUMMARY:Renamed in the page\r\n"),
            "{client}: {body}"
        );
        // Every line but SUMMARY and the stamps is as the client wrote it,
        // in its order.
        let changed = |line: &str| {
            ["SUMMARY:", "DTSTAMP:", "LAST-MODIFIED:"]
                .iter()
                .any(|p| line.starts_with(p))
        };
        let before: Vec<&str> = object.split("\r\n").filter(|l| !changed(l)).collect();
        let after: Vec<&str> = body.split("\r\n").filter(|l| !changed(l)).collect();
        assert_eq!(before, after, "{client}");
        // The alarm keeps its own SUMMARY/DESCRIPTION.
        assert!(body.contains("BEGIN:VALARM"), "{client}");
    }
}

async fn bad_objects_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let base = calendar(&ada, ada.default_list);
    let (status, _, _) = dav(&app, &ada, "PUT", &format!("{base}a.ics"), &[], TASKS_ORG).await;
    assert_eq!(status, 201);
    let before = tasks_of(&app, &ada, ada.default_list).await;
    let uid_elsewhere = TASKS_ORG.replace("Call the dentist", "Same UID, other name");
    let event = TASKS_ORG.replace("VTODO", "VEVENT");
    let two = TASKS_ORG.replace(
        "END:VCALENDAR",
        "BEGIN:VTODO\r\nUID:second\r\nSUMMARY:Second\r\nDTSTAMP:20261201T110000Z\r\nEND:VTODO\r\nEND:VCALENDAR",
    );
    let long_title = TASKS_ORG.replace("Call the dentist", &"x".repeat(256));
    let no_title = TASKS_ORG.replace("SUMMARY:Call the dentist\r\n", "");
    let huge = TASKS_ORG.replace("Call the dentist", &"y".repeat(70 * 1024));
    let cases: [(&str, &str, u16, &str); 7] = [
        (
            "b.ics",
            "this is not a calendar",
            403,
            "valid-calendar-data",
        ),
        ("b.ics", &event, 403, "supported-calendar-component"),
        ("b.ics", &two, 403, "supported-calendar-component"),
        ("b.ics", &uid_elsewhere, 409, "no-uid-conflict"),
        ("b.ics", &long_title, 403, "256 characters"),
        ("b.ics", &no_title, 403, "SUMMARY"),
        ("b.ics", &huge, 413, "too large"),
    ];
    for (name, object, expected, words) in cases {
        let (status, _, body) = dav(&app, &ada, "PUT", &format!("{base}{name}"), &[], object).await;
        assert_eq!(status.as_u16(), expected, "{words}: {body}");
        assert!(body.contains(words), "{words}: {body}");
        assert_eq!(
            tasks_of(&app, &ada, ada.default_list).await,
            before,
            "{words}"
        );
    }
    // The UID of a resource cannot change either.
    let other_uid = TASKS_ORG.replace("UID:7462846384716284736", "UID:another");
    let (status, _, body) = dav(&app, &ada, "PUT", &format!("{base}a.ics"), &[], &other_uid).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(tasks_of(&app, &ada, ada.default_list).await, before);
}

async fn roles_hold_over_caldav(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let cyd = person(&app, "cyd").await;
    let dee = person(&app, "dee").await;
    let eve = person(&app, "eve").await;
    let list = ada.default_list;
    for (name, role) in [("cyd", "viewer"), ("dee", "editor")] {
        let added = ada
            .api
            .post(app.url(&format!("/api/lists/{list}/members")))
            .json(&json!({"username": name, "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 201);
    }
    let (status, _, _) = dav(
        &app,
        &ada,
        "PUT",
        &format!("{}t.ics", calendar(&ada, list)),
        &[],
        TASKS_ORG,
    )
    .await;
    assert_eq!(status, 201);
    let before = tasks_of(&app, &ada, list).await;

    // The viewer reads but cannot write; nothing changes.
    let cyd_href = format!("{}t.ics", calendar(&cyd, list));
    let (status, _, _) = dav(&app, &cyd, "GET", &cyd_href, &[], "").await;
    assert_eq!(status, 200);
    let changed = TASKS_ORG.replace("Call the dentist", "Viewer was here");
    let (status, _, body) = dav(&app, &cyd, "PUT", &cyd_href, &[], &changed).await;
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = dav(
        &app,
        &cyd,
        "PUT",
        &format!("{}new.ics", calendar(&cyd, list)),
        &[],
        &changed.replace("UID:7462846384716284736", "UID:new"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = dav(&app, &cyd, "DELETE", &cyd_href, &[], "").await;
    assert_eq!(status, 403);
    assert_eq!(tasks_of(&app, &ada, list).await, before);

    // The editor may change tasks.
    let (status, _, body) = dav(
        &app,
        &dee,
        "PUT",
        &format!("{}t.ics", calendar(&dee, list)),
        &[],
        &changed,
    )
    .await;
    assert_eq!(status, 204, "{body}");

    // Neither member may rename or recolour the list: each property says
    // 403 in the multistatus, and the list stays as it was.
    let lists_before = ada
        .api
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let patch = r#"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Mine now</d:displayname><a:calendar-color>#000000</a:calendar-color></d:prop></d:set></d:propertyupdate>"#;
    for member in [&cyd, &dee] {
        let (status, _, body) = dav(
            &app,
            member,
            "PROPPATCH",
            &calendar(member, list),
            &[],
            patch,
        )
        .await;
        assert_eq!(status, 207, "{body}");
        assert!(
            body.contains("403 Forbidden")
                && !body.contains("200 OK")
                && body.contains("displayname"),
            "{body}"
        );
    }
    let lists_after = ada
        .api
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(lists_after, lists_before);

    // A stranger cannot tell the list exists.
    let (status, _, _) = dav(
        &app,
        &eve,
        "GET",
        &format!("{}t.ics", calendar(&eve, list)),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = dav(
        &app,
        &eve,
        "PROPFIND",
        &calendar(&eve, list),
        &[("depth", "1")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(status, 404);

    // A removed member's sync fails at once.
    let removed = ada
        .api
        .delete(app.url(&format!("/api/lists/{list}/members/dee")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let sync = r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#;
    let (status, _, _) = dav(&app, &dee, "REPORT", &calendar(&dee, list), &[], sync).await;
    assert_eq!(status, 404);
}

fn hrefs_with_status(body: &str, status: &str) -> Vec<String> {
    body.split("<d:response>")
        .skip(1)
        .filter(|r| r.contains(status))
        .filter_map(|r| {
            let start = r.find("<d:href>")? + 8;
            let end = r.find("</d:href>")?;
            Some(r[start..end].to_owned())
        })
        .collect()
}

fn token_of(body: &str) -> String {
    let start = body.rfind("<d:sync-token>").unwrap() + 14;
    let end = body.rfind("</d:sync-token>").unwrap();
    body[start..end].to_owned()
}

async fn sync_collection_reports_changes_and_tombstones(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let list = ada.default_list;
    let cal = calendar(&ada, list);
    let sync = |token: &str, limit: Option<u32>| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>{}<d:prop><d:getetag/></d:prop></d:sync-collection>"#,
            limit
                .map(|n| format!("<d:limit><d:nresults>{n}</d:nresults></d:limit>"))
                .unwrap_or_default()
        )
    };
    let mut ids = Vec::new();
    for n in 0..5 {
        let created: Value = ada
            .api
            .post(app.url("/api/todos"))
            .json(&json!({"title": format!("Task {n}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_i64().unwrap());
    }
    let (status, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync("", None)).await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(hrefs_with_status(&body, "200 OK").len(), 5, "{body}");
    let first = token_of(&body);
    // Nothing changed: nothing reported, and the same token.
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&first, None)).await;
    assert!(hrefs_with_status(&body, "HTTP/1.1").is_empty(), "{body}");

    // One edited, one deleted, one made through CalDAV.
    ada.api
        .patch(app.url(&format!("/api/todos/{}", ids[1])))
        .json(&json!({"title": "Edited"}))
        .send()
        .await
        .unwrap();
    let (_, _, listing) = dav(
        &app,
        &ada,
        "PROPFIND",
        &cal,
        &[("depth", "1")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(hrefs_with_status(&listing, "200 OK").len(), 6, "{listing}");
    let deleted = ada
        .api
        .delete(app.url(&format!("/api/todos/{}", ids[2])))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, _, _) = dav(&app, &ada, "PUT", &format!("{cal}new.ics"), &[], TASKS_ORG).await;
    assert_eq!(status, 201);
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&first, None)).await;
    let changed = hrefs_with_status(&body, "200 OK");
    let gone = hrefs_with_status(&body, "404 Not Found");
    assert_eq!(changed.len(), 2, "{body}");
    assert!(changed.contains(&format!("{cal}new.ics")), "{body}");
    assert_eq!(gone.len(), 1, "{body}");
    let second = token_of(&body);
    assert_ne!(second, first);

    // Paging: two at a time, each page says more follow (507), until done.
    let mut token = String::new();
    let mut seen = 0;
    for _ in 0..10 {
        let (status, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&token, Some(2))).await;
        assert_eq!(status, 207, "{body}");
        seen += hrefs_with_status(&body, "200 OK").len();
        token = token_of(&body);
        if !body.contains("507 Insufficient Storage") {
            break;
        }
    }
    assert_eq!(seen, 5, "every live task once across the pages");

    // A token that is not ours: valid-sync-token, the client starts over.
    let (status, _, body) = dav(
        &app,
        &ada,
        "REPORT",
        &cal,
        &[],
        &sync("urn:x-todo-app:sync:nope", None),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("valid-sync-token"), "{body}");
    // A token older than the purged departures: the same.
    app.database
        .execute("UPDATE lists SET sync_floor = 9223372036854775000")
        .await;
    let (status, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&second, None)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("valid-sync-token"), "{body}");
}

async fn calendars_are_made_changed_and_deleted(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let made = r#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Errands</d:displayname><a:calendar-color>#FF2968FF</a:calendar-color><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>"#;
    let path = "/dav/calendars/ada/6F1B2C3E-errands/";
    let (status, _, body) = dav(&app, &ada, "MKCALENDAR", path, &[], made).await;
    assert_eq!(status, 201, "{body}");
    let (status, _, _) = dav(&app, &ada, "MKCALENDAR", path, &[], made).await;
    assert_eq!(status, 405);
    let lists: Value = ada
        .api
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        lists
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "Errands"),
        "{lists}"
    );

    let patch = r#"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Errands today</d:displayname><a:calendar-order>3</a:calendar-order></d:prop></d:set></d:propertyupdate>"#;
    let (status, _, body) = dav(&app, &ada, "PROPPATCH", path, &[], patch).await;
    assert_eq!(status, 207, "{body}");
    assert!(body.contains("200 OK"), "{body}");
    let (_, _, body) = dav(&app, &ada, "PROPFIND", path, &[("depth", "0")], r#"<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:prop><d:displayname/><a:calendar-color/><a:calendar-order/></d:prop></d:propfind>"#).await;
    assert!(
        body.contains("<d:displayname>Errands today</d:displayname>"),
        "{body}"
    );
    assert!(
        body.contains("#FF2968FF") && body.contains(">3</ical:calendar-order>"),
        "{body}"
    );
    // A property we do not keep: 403 for it, 424 for the rest, no change.
    let mixed = r#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Nope</d:displayname><x:mine xmlns:x="urn:x">1</x:mine></d:prop></d:set></d:propertyupdate>"#;
    let (status, _, body) = dav(&app, &ada, "PROPPATCH", path, &[], mixed).await;
    assert_eq!(status, 207);
    assert!(
        body.contains("403 Forbidden") && body.contains("424 Failed Dependency"),
        "{body}"
    );
    let (_, _, body) = dav(
        &app,
        &ada,
        "PROPFIND",
        path,
        &[("depth", "0")],
        PROPFIND_ALL,
    )
    .await;
    assert!(body.contains("Errands today"), "{body}");

    let (status, _, _) = dav(&app, &ada, "DELETE", path, &[], "").await;
    assert_eq!(status, 204);
    let (status, _, _) = dav(
        &app,
        &ada,
        "PROPFIND",
        path,
        &[("depth", "0")],
        PROPFIND_ALL,
    )
    .await;
    assert_eq!(status, 404);
    // The default list is never deleted, here as in the API.
    let (status, _, _) = dav(
        &app,
        &ada,
        "DELETE",
        &calendar(&ada, ada.default_list),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 409);
}

async fn calendar_queries_filter_tasks(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let cal = calendar(&ada, ada.default_list);
    for (name, object) in [
        ("a.ics", APPLE),
        ("t.ics", THUNDERBIRD),
        ("o.ics", TASKS_ORG),
    ] {
        let (status, _, _) = dav(&app, &ada, "PUT", &format!("{cal}{name}"), &[], object).await;
        assert_eq!(status, 201);
    }
    let query = |inner: &str| {
        format!(
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO">{inner}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
        )
    };
    let (status, _, body) = dav(&app, &ada, "REPORT", &cal, &[("depth", "1")], &query("")).await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(hrefs_with_status(&body, "200 OK").len(), 3);
    assert!(body.contains("BEGIN:VCALENDAR"), "{body}");
    let (_, _, body) = dav(
        &app,
        &ada,
        "REPORT",
        &cal,
        &[],
        &query(
            r#"<c:prop-filter name="SUMMARY"><c:text-match>DENTIST</c:text-match></c:prop-filter>"#,
        ),
    )
    .await;
    assert_eq!(
        hrefs_with_status(&body, "200 OK"),
        vec![format!("{cal}o.ics")]
    );
    // Due in the week of 7-13 December 2026 (UTC): all three.
    let (_, _, body) = dav(
        &app,
        &ada,
        "REPORT",
        &cal,
        &[],
        &query(r#"<c:time-range start="20261207T000000Z" end="20261214T000000Z"/>"#),
    )
    .await;
    assert_eq!(hrefs_with_status(&body, "200 OK").len(), 3, "{body}");
    let (_, _, body) = dav(
        &app,
        &ada,
        "REPORT",
        &cal,
        &[],
        &query(r#"<c:time-range start="20261211T000000Z" end="20261214T000000Z"/>"#),
    )
    .await;
    let found = hrefs_with_status(&body, "200 OK");
    assert!(
        found.contains(&format!("{cal}o.ics")) && !found.contains(&format!("{cal}a.ics")),
        "{body}"
    );
    let (status, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &query(r#"<c:bogus/>"#)).await;
    assert_eq!(status, 403);
    assert!(body.contains("valid-filter"), "{body}");
    // multiget: the found, and a 404 for the missing.
    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><d:href>{cal}a.ics</d:href><d:href>{cal}missing.ics</d:href></c:calendar-multiget>"#
    );
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &multiget).await;
    assert_eq!(
        hrefs_with_status(&body, "200 OK"),
        vec![format!("{cal}a.ics")]
    );
    assert_eq!(
        hrefs_with_status(&body, "404 Not Found"),
        vec![format!("{cal}missing.ics")]
    );
}

async fn a_change_through_one_instance_shows_in_a_sync_through_another(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let (other, _server) = app.second_instance(accounts_config()).await;
    let cal = calendar(&ada, ada.default_list);
    let sync = |token: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let report = |base: String, body: String| {
        let request = app
            .client
            .request(method("REPORT"), format!("{base}{cal}"))
            .basic_auth(&ada.name, Some(&ada.token))
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 207);
            response.text().await.unwrap()
        }
    };
    let first = token_of(&report(app.address.clone(), sync("")).await);
    // A task made through the second instance, over CalDAV…
    let put = app
        .client
        .put(format!("{other}{cal}from-b.ics"))
        .basic_auth(&ada.name, Some(&ada.token))
        .body(TASKS_ORG)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    // …and one deleted through the first one's API.
    let made: Value = ada
        .api
        .post(app.url("/api/todos"))
        .json(&json!({"title": "Short-lived"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = token_of(&report(other.clone(), sync(&first)).await);
    ada.api
        .delete(app.url(&format!("/api/todos/{}", made["id"])))
        .send()
        .await
        .unwrap();
    let body = report(other.clone(), sync(&first)).await;
    assert_eq!(
        hrefs_with_status(&body, "200 OK"),
        vec![format!("{cal}from-b.ics")],
        "{body}"
    );
    assert_eq!(hrefs_with_status(&body, "404 Not Found").len(), 1, "{body}");
    let body = report(app.address.clone(), sync(&second)).await;
    assert_eq!(hrefs_with_status(&body, "404 Not Found").len(), 1, "{body}");
}

async fn without_accounts_the_shared_list_is_served_as_the_pages_are(backend: Backend) {
    let app = TestApp::spawn_with(backend, server_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let propfind = |path: &str| {
        app.client
            .request(method("PROPFIND"), app.url(path))
            .header("depth", "1")
            .body(PROPFIND_ALL)
            .send()
    };
    // No credentials asked for, and any sent are not needed.
    let response = propfind("/").await.unwrap();
    assert_eq!(response.status(), 207);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<d:href>/dav/principals/shared/</d:href>"),
        "{body}"
    );
    let response = propfind("/dav/calendars/shared/").await.unwrap();
    let body = response.text().await.unwrap();
    let lists: Value = app
        .client
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = lists[0]["id"].as_i64().unwrap();
    assert!(
        body.contains(&format!("<d:href>/dav/calendars/shared/{list}/</d:href>")),
        "{body}"
    );
    let put = app
        .client
        .put(app.url(&format!("/dav/calendars/shared/{list}/t.ics")))
        .body(TASKS_ORG)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let tasks: Value = app
        .client
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tasks.to_string().contains("Call the dentist"), "{tasks}");
    // Another name than the shared one is no one's.
    let response = propfind("/dav/calendars/ada/").await.unwrap();
    assert_eq!(response.status(), 404);
}

/// A writer of the database outside the app, holding its transaction open.
enum OpenWrite {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl OpenWrite {
    async fn begin(app: &TestApp, sql: &str) -> Self {
        use sqlx::Connection;
        let url = app.database.url();
        let mut write = match app.backend() {
            Backend::Sqlite => Self::Sqlite(sqlx::SqliteConnection::connect(url).await.unwrap()),
            Backend::Postgres => Self::Postgres(sqlx::PgConnection::connect(url).await.unwrap()),
        };
        write.run("BEGIN").await;
        write.run(sql).await;
        write
    }

    async fn run(&mut self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Self::Sqlite(c) => sqlx::query(sql).execute(c).await.map(|_| ()),
            Self::Postgres(c) => sqlx::query(sql).execute(c).await.map(|_| ()),
        }
        .unwrap();
    }
}

async fn a_change_that_commits_late_is_neither_skipped_nor_repeated(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let cal = calendar(&ada, ada.default_list);
    let sync = |token: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let mut ids = Vec::new();
    for title in ["early", "late"] {
        let made: Value = ada
            .api
            .post(app.url("/api/todos"))
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(made["id"].as_i64().unwrap());
    }
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync("")).await;
    let first = token_of(&body);
    // A change that started before the next sync and commits after it.
    let mut late = OpenWrite::begin(
        &app,
        &format!(
            "UPDATE tasks SET title = 'committed late', version = version + 1 WHERE id = {}",
            ids[1]
        ),
    )
    .await;
    // On PostgreSQL writers do not wait for each other: a change that
    // commits while the late one runs is reported once, not again with
    // every sync until the late one ends.
    let meanwhile = usize::from(backend == Backend::Postgres);
    if meanwhile == 1 {
        let made = ada
            .api
            .post(app.url("/api/todos"))
            .json(&json!({"title": "meanwhile"}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
    }
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&first)).await;
    assert_eq!(
        hrefs_with_status(&body, "HTTP/1.1").len(),
        meanwhile,
        "{body}"
    );
    let during = token_of(&body);
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&during)).await;
    assert!(
        hrefs_with_status(&body, "HTTP/1.1").is_empty(),
        "nothing is repeated: {body}"
    );
    late.run("COMMIT").await;
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&during)).await;
    assert_eq!(
        hrefs_with_status(&body, "200 OK").len(),
        1,
        "the late change is not skipped: {body}"
    );
    let after = token_of(&body);
    let (_, _, body) = dav(&app, &ada, "REPORT", &cal, &[], &sync(&after)).await;
    assert!(hrefs_with_status(&body, "HTTP/1.1").is_empty(), "{body}");
}

/// The tasks of a list's page of tasks.
fn items(tasks: &Value) -> Vec<Value> {
    tasks["items"]
        .as_array()
        .or(tasks.as_array())
        .expect("a list of tasks")
        .clone()
}

/// The hrefs of a collection's resources (PROPFIND, depth 1).
async fn resources_of(app: &TestApp, who: &Person, list: i64) -> Vec<String> {
    let (status, _, body) = dav(
        app,
        who,
        "PROPFIND",
        &calendar(who, list),
        &[("depth", "1")],
        r#"<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>"#,
    )
    .await;
    assert_eq!(status, 207, "{body}");
    let mut hrefs = hrefs_with_status(&body, "200 OK");
    hrefs.retain(|href| href.ends_with(".ics"));
    hrefs.sort();
    hrefs
}

/// A resource name addresses one task: PUTs racing to make one name, a
/// task moved into a list where its name is taken, and a deleted task
/// restored after its name was taken again all leave one task per name,
/// and every task reachable.
async fn one_name_holds_one_task_whatever_races_or_arrives(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let home = ada.default_list;
    let other: Value = ada
        .api
        .post(app.url("/api/lists"))
        .json(&json!({"name": "Other"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = other["id"].as_i64().unwrap();
    let object = |uid: &str, summary: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261201T100000Z\r\nSUMMARY:{summary}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
        )
    };

    // Eight PUTs of one new name at once: with If-None-Match: * exactly
    // one makes it; without, the rest replace it. One task either way.
    for (round, condition) in [("a", Some("*")), ("b", None)] {
        let href = format!("{}race-{round}.ics", calendar(&ada, home));
        let mut puts = tokio::task::JoinSet::new();
        for n in 0..8 {
            let mut request = app
                .client
                .put(app.url(&href))
                .basic_auth(&ada.name, Some(&ada.token))
                .body(object(&format!("race-{round}"), &format!("Racer {n}")));
            if let Some(condition) = condition {
                request = request.header("if-none-match", condition);
            }
            puts.spawn(async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            });
        }
        let answers = puts.join_all().await;
        let made = answers.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(made, 1, "round {round}: {answers:?}");
        for (status, body) in &answers {
            let expected: &[u16] = if condition.is_some() {
                &[201, 412]
            } else {
                &[201, 204]
            };
            assert!(
                expected.contains(&status.as_u16()),
                "round {round}: {status} {body}"
            );
        }
    }
    let titles = tasks_of(&app, &ada, home).await;
    assert_eq!(items(&titles).len(), 2, "{titles}");
    assert_eq!(
        resources_of(&app, &ada, home).await,
        [
            format!("{}race-a.ics", calendar(&ada, home)),
            format!("{}race-b.ics", calendar(&ada, home))
        ]
    );

    // Both lists have a task at same.ics; the one in Other moves home.
    for (list, summary) in [(home, "Stays"), (other, "Moves")] {
        let href = format!("{}same.ics", calendar(&ada, list));
        let (status, _, body) = dav(&app, &ada, "PUT", &href, &[], &object(summary, summary)).await;
        assert_eq!(status, 201, "{body}");
    }
    let moving = items(&tasks_of(&app, &ada, other).await)[0]["id"]
        .as_i64()
        .unwrap();
    let moved = ada
        .api
        .patch(app.url(&format!("/api/todos/{moving}")))
        .json(&json!({"list_id": home}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200, "{}", moved.text().await.unwrap());
    let here = resources_of(&app, &ada, home).await;
    assert_eq!(here.len(), 4, "{here:?}");
    let (_, _, body) = dav(
        &app,
        &ada,
        "GET",
        &format!("{}same.ics", calendar(&ada, home)),
        &[],
        "",
    )
    .await;
    assert!(
        body.contains("SUMMARY:Stays\r\n"),
        "the task that was there keeps its name: {body}"
    );
    let renamed = format!("{}{moving}-same.ics", calendar(&ada, home));
    assert!(here.contains(&renamed), "{here:?}");
    let (status, _, body) = dav(&app, &ada, "GET", &renamed, &[], "").await;
    assert_eq!(status, 200);
    assert!(body.contains("SUMMARY:Moves\r\n"), "{body}");

    // A deleted task comes back while another holds its name.
    let href = format!("{}undo.ics", calendar(&ada, home));
    let (status, _, _) = dav(&app, &ada, "PUT", &href, &[], &object("first", "First")).await;
    assert_eq!(status, 201);
    let first = items(&tasks_of(&app, &ada, home).await)
        .iter()
        .find(|t| t["title"] == "First")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, _, _) = dav(&app, &ada, "DELETE", &href, &[], "").await;
    assert_eq!(status, 204);
    let (status, _, _) = dav(&app, &ada, "PUT", &href, &[], &object("second", "Second")).await;
    assert_eq!(status, 201);
    let restored = ada
        .api
        .post(app.url(&format!("/api/todos/{first}/restore")))
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 200, "{}", restored.text().await.unwrap());
    let (_, _, body) = dav(&app, &ada, "GET", &href, &[], "").await;
    assert!(body.contains("SUMMARY:Second\r\n"), "{body}");
    let back = format!("{}{first}-undo.ics", calendar(&ada, home));
    let (status, _, body) = dav(&app, &ada, "GET", &back, &[], "").await;
    assert_eq!(status, 200, "the restored task is reachable: {body}");
    assert!(body.contains("SUMMARY:First\r\n"), "{body}");
    assert_eq!(resources_of(&app, &ada, home).await.len(), 6);
}

/// What an attacker might try over CalDAV: a web page's cross-origin
/// request, a body built to exhaust the parser, and a multiget naming
/// another person's task. Each gets nothing.
async fn hostile_requests_get_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = person(&app, "ada").await;
    let bob = person(&app, "bob").await;
    let secret = format!("{}secret.ics", calendar(&bob, bob.default_list));
    let object = TASKS_ORG.replace("Call the dentist", "Bob's secret");
    let (status, _, _) = dav(&app, &bob, "PUT", &secret, &[], &object).await;
    assert_eq!(status, 201);

    // A hostile page's preflight for a write is not granted.
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url(&calendar(&ada, ada.default_list)))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        preflight.headers()
    );

    // Nesting past the parser's depth is refused, not followed.
    let deep = format!(
        r#"<d:propfind xmlns:d="DAV:">{}{}</d:propfind>"#,
        "<d:prop>".repeat(2000),
        "</d:prop>".repeat(2000)
    );
    let (status, _, body) = dav(
        &app,
        &ada,
        "PROPFIND",
        &calendar(&ada, ada.default_list),
        &[("depth", "1")],
        &deep,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("too deeply nested"), "{body}");

    // Ada's multiget of Bob's task, by his path or as if it were hers.
    let mine = format!("{}secret.ics", calendar(&ada, ada.default_list));
    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{secret}</d:href><d:href>{mine}</d:href><d:href>{}</d:href></c:calendar-multiget>"#,
        app.url(&secret)
    );
    let (status, _, body) = dav(
        &app,
        &ada,
        "REPORT",
        &calendar(&ada, ada.default_list),
        &[],
        &multiget,
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert!(!body.contains("Bob's secret"), "{body}");
    assert_eq!(hrefs_with_status(&body, "404 Not Found").len(), 3, "{body}");
    // And his calendar is not hers to ask.
    let (status, _, body) = dav(
        &app,
        &ada,
        "REPORT",
        &calendar(&bob, bob.default_list),
        &[],
        &multiget,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("Bob's secret"), "{body}");
}
