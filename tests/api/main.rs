//! Black-box tests: the real server on a free port, over real SQLite and
//! (with `TEST_DATABASE_URL`) real PostgreSQL. Each test module runs its
//! whole suite on both backends via `backend_tests!`.

mod helpers;

mod accounts;
mod api_errors;
mod api_todos;
mod cli;
mod concurrent_writes;
mod openapi;
mod ops;
mod rotation;
mod shutdown;
mod table_growth;
mod ui;
