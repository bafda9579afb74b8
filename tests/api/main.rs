//! The API's tests, in one binary (each extra test binary relinks the
//! crate). Two tiers: `in_process` drives the router with no socket, for
//! handler cases by the dozen; the other modules are black-box, the real
//! server on a free port. Both run over real SQLite and (with
//! `TEST_DATABASE_URL`) real PostgreSQL, each test on both backends via
//! `backend_tests!` and its kin in `helpers`.

mod helpers;

mod abuse;
mod account_abuse;
mod accounts;
mod agenda;
mod api_errors;
mod api_todos;
mod caldav;
mod cli;
mod compression;
mod concurrent_writes;
mod direct_reads;
mod due_time;
mod export_lists;
mod headers;
mod import_staging;
mod in_process;
mod list_cache;
mod list_limits;
mod list_restore;
mod moves;
mod openapi;
mod ops;
mod refusals;
mod restore;
mod rotation;
mod sharing;
mod shutdown;
mod table_growth;
mod task_limit;
mod ui;
mod upgrade;
