//! The list cache changes how fast lists come, never what they say: two
//! instances over one database, one with the cache and one without, give
//! the same answers after every kind of write.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{TestApp, server_config};

backend_tests!(lists_are_the_same_with_and_without_the_cache);

/// Lists that filter, search, sort and page.
const QUERIES: [&str; 6] = [
    "",
    "?completed=true",
    "?completed=false&sort=priority",
    "?q=milk",
    "?sort=due&limit=2",
    "?sort=created&limit=2&offset=2",
];

async fn lists_are_the_same_with_and_without_the_cache(app: TestApp) {
    let mut uncached_config = server_config();
    uncached_config.list_cache = false;
    let (uncached, _server) = app.second_instance(uncached_config).await;
    // The same list from both instances: the cached one asked twice, so the
    // second answer comes from memory.
    let compare = async |step: &str| {
        for query in QUERIES {
            let mut answers = Vec::new();
            for address in [&app.address, &app.address, &uncached] {
                let response = app
                    .client
                    .get(format!("{address}/api/todos{query}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{step}: {query}");
                let link = response
                    .headers()
                    .get("link")
                    .map(|l| l.to_str().unwrap().replace(address.as_str(), "BASE"));
                let body = response
                    .text()
                    .await
                    .unwrap()
                    .replace(address.as_str(), "BASE");
                answers.push((link, body));
            }
            assert_eq!(answers[0], answers[1], "{step}: {query} from the cache");
            assert_eq!(answers[0], answers[2], "{step}: {query} without the cache");
        }
    };
    compare("empty").await;
    let mut ids = Vec::new();
    for (title, priority, due) in [
        ("milk", 2, "2030-01-02"),
        ("bread", 5, "2030-01-01"),
        ("more milk", 3, "2031-01-01"),
        ("eggs", 1, "2029-12-31"),
    ] {
        let task = app
            .create(json!({"title": title, "priority": priority, "due": due}))
            .await;
        ids.push(task["id"].as_i64().unwrap());
        compare(&format!("after creating {title}")).await;
    }
    let patch = async |path: String, body| {
        let response = app.patch_json(&path, &body).await;
        assert_eq!(response.status(), 200, "PATCH {path} {body}");
    };
    patch(format!("/api/todos/{}", ids[0]), json!({"completed": true})).await;
    compare("after completing one").await;
    patch(
        format!("/api/todos/{}", ids[2]),
        json!({"title": "oat milk", "order": -1}),
    )
    .await;
    compare("after renaming and moving one").await;
    patch("/api/todos".to_owned(), json!({"completed": true})).await;
    compare("after completing all").await;
    let response = app.delete(&format!("/api/todos/{}", ids[1])).await;
    assert_eq!(response.status(), 204);
    compare("after deleting one").await;
}
