//! Issue 15: a database made by the release before lists (every migration
//! up to then, with accounts and tasks in it) migrates with every task in
//! its owner's default list, "Tasks", and the shared list's tasks in the
//! shared default list.

use std::borrow::Cow;

use sqlx::migrate::Migrator;
use todo_app::domain::{ListName, Owner, Role, TaskFilter, UserId};

use crate::helpers::{Backend, TestDatabase};
use crate::per_backend_tests;

per_backend_tests!(tasks_of_the_release_before_lists_land_in_default_lists);

/// The first migration of lists: everything before it is the old release.
const LISTS_MIGRATION: i64 = 20261208000001;

async fn old_release_schema(database: &TestDatabase) {
    let dir = match database.backend() {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut migrator = Migrator::new(std::path::Path::new(dir)).await.unwrap();
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version < LISTS_MIGRATION)
            .cloned()
            .collect(),
    );
    match database.backend() {
        Backend::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = database
                .url()
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
            migrator.run(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

async fn tasks_of_the_release_before_lists_land_in_default_lists(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        panic!("{}", crate::helpers::NO_POSTGRES);
    };
    old_release_schema(&database).await;
    let now = "2026-12-01T10:00:00Z";
    database
        .execute(&format!(
            "INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at) VALUES \
                (1, 'Ada', 'ada', 'x', '{now}', '{now}'), (2, 'bob', 'bob', 'x', '{now}', '{now}'); \
             INSERT INTO tasks (id, title, priority, completed, position, due, version, created_at, updated_at, owner) VALUES \
                (1, 'shared one', 1, FALSE, 1, NULL, 1, '{now}', '{now}', 0), \
                (2, 'ada one', 2, TRUE, 1, '2026-12-24', 3, '{now}', '{now}', 1), \
                (3, 'ada two', 1, FALSE, 2, NULL, 1, '{now}', '{now}', 1), \
                (4, 'bob one', 5, FALSE, 1, NULL, 1, '{now}', '{now}', 2);"
        ))
        .await;
    if backend == Backend::Postgres {
        // Ids given by hand do not move PostgreSQL's sequences; the old
        // release's own inserts would have.
        database
            .execute("SELECT setval('tasks_id_seq', 4); SELECT setval('users_id_seq', 2);")
            .await;
    }

    let store = database.store();
    store.migrate().await.unwrap();

    let titles = |tasks: Vec<todo_app::domain::Task>| {
        tasks
            .into_iter()
            .map(|t| t.title.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    for (owner, name, expected) in [
        (
            Owner::user(UserId(1)),
            Some("Ada"),
            vec!["ada one", "ada two"],
        ),
        (Owner::user(UserId(2)), Some("bob"), vec!["bob one"]),
        (Owner::SHARED, None, vec!["shared one"]),
    ] {
        let lists = store.lists(owner).await.unwrap();
        assert_eq!(lists.len(), 1, "{owner:?} has one list");
        let list = &lists[0];
        assert_eq!(list.name.as_str(), ListName::DEFAULT);
        assert!(list.is_default);
        assert_eq!(list.role, Role::Owner);
        assert_eq!(list.owner.as_deref(), name);
        assert_eq!(list.total as usize, expected.len());
        assert_eq!(store.default_list(owner).await.unwrap(), list.id);
        let (tasks, more) = store
            .list_tasks(list.id, &TaskFilter::default())
            .await
            .unwrap();
        assert!(!more);
        // Ids, versions and fields are kept; the owner counts as creator.
        if owner == Owner::user(UserId(1)) {
            assert_eq!(tasks[0].id, 2);
            assert_eq!(tasks[0].version, 3);
            assert!(tasks[0].completed);
            assert_eq!(tasks[0].created_by.as_deref(), Some("Ada"));
        }
        assert_eq!(titles(tasks), expected);
    }
    // The migrated database keeps working: a new task goes to the end of
    // the default list, and a second list starts empty.
    let ada = Owner::user(UserId(1));
    let default = store.default_list(ada).await.unwrap();
    let made = store
        .create_task(
            default,
            ada,
            todo_app::domain::NewTask::new(todo_app::domain::Title::parse("after").unwrap()),
        )
        .await
        .unwrap();
    assert!(made.id > 4, "ids are not reused");
    assert_eq!(made.order, 3);
    let work = store
        .create_list(ada, &ListName::parse("Work").unwrap())
        .await
        .unwrap();
    assert_eq!(work.total, 0);
    store.close().await;
}
