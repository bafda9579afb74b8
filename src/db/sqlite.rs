//! What SQLite does its own way: connection settings, one writer at a
//! time, a data version read from the file system, point reads on the
//! caller's thread, and a file lock around migrations.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use sqlx::ConnectOptions;
use sqlx::SqlitePool;
use sqlx::pool::PoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::DataVersion;

/// The pool, and what this process knows about its own writes.
#[derive(Clone)]
pub(crate) struct Db {
    pool: SqlitePool,
    writes: Arc<Writes>,
    /// `None`: switched off (or an in-memory database, which another
    /// connection would not see); every read goes through `pool`.
    direct: Option<Arc<DirectReads>>,
}

/// Connections for point reads on the calling thread.
///
/// SQLx runs each SQLite connection on a thread of its own and hands the
/// statement there and every row back through channels: for a read of one
/// row that costs a few microseconds, the thread hand-offs were two thirds
/// of the request's CPU. A read here takes an idle connection, runs its
/// prepared statement right away and puts the connection back. Each
/// statement is its own read transaction in WAL mode, so it sees every
/// write committed before it, as the pool's connections do, and never
/// waits for the writer. Anything that goes wrong (a busy database, a
/// missing file) makes the caller run the plain query on the pool instead:
/// this path may only ever be faster, never answer differently.
struct DirectReads {
    file: PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// More idle connections than threads that read at once would only hold
/// memory (the runtime has one worker thread per core).
const MAX_IDLE_DIRECT: usize = 8;

struct Writes {
    /// SQLite has one writer at a time. Queueing writers here, in order,
    /// beats letting them collide in SQLite, whose busy handler retries
    /// with sleeps of up to 100 ms (which showed as a 400 ms p99 on creates).
    writer: tokio::sync::Mutex<()>,
    /// Bumped after every write through this process.
    generation: AtomicU64,
    /// The database file and its write-ahead log.
    files: [PathBuf; 2],
}

/// This process's turn to write; on drop (after the commit) counts the write.
pub(crate) struct WriteTurn<'a> {
    _writer: tokio::sync::MutexGuard<'a, ()>,
    generation: &'a AtomicU64,
}

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        // Counted before the turn is released (fields drop after this).
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// Opens the pool lazily, with the settings every connection gets.
pub(super) fn connect(options: &SqliteConnectOptions, pool: PoolOptions<sqlx::Sqlite>) -> Db {
    let options = options
        .clone()
        .create_if_missing(true)
        // WAL lets readers run while one connection writes; the busy
        // timeout makes concurrent writers (other processes) wait their turn.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .log_statements(tracing::log::LevelFilter::Trace);
    Db::new(pool.connect_lazy_with(options))
}

impl Db {
    pub(super) fn new(pool: SqlitePool) -> Self {
        let file = pool.connect_options().get_filename().to_owned();
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        // SQLx names an in-memory database `file:sqlx-in-memory-N`.
        let in_memory = file.as_os_str().is_empty()
            || file.as_os_str() == ":memory:"
            || file.to_string_lossy().starts_with("file:");
        Self {
            pool,
            direct: (!in_memory).then(|| {
                Arc::new(DirectReads {
                    file: file.clone(),
                    idle: Default::default(),
                })
            }),
            writes: Arc::new(Writes {
                writer: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                files: [file, wal.into()],
            }),
        }
    }

    /// With `false`, every read goes through the pool (the plain path).
    pub(super) fn with_direct_reads(mut self, enabled: bool) -> Self {
        if !enabled {
            self.direct = None;
        }
        self
    }

    /// Runs `sql` for at most one row on the calling thread (see
    /// [`DirectReads`]). `None` when that is switched off or failed: the
    /// caller then runs the same query on the pool.
    pub(super) fn read_here<T>(
        &self,
        sql: &'static str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        let direct = self.direct.as_ref()?;
        match direct.query_row(sql, params, row) {
            Ok(found) => Some(found),
            Err(err) => {
                tracing::debug!(error = %err, "a direct read failed; using the pool");
                None
            }
        }
    }

    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) async fn write_turn(&self) -> WriteTurn<'_> {
        WriteTurn {
            _writer: self.writes.writer.lock().await,
            generation: &self.writes.generation,
        }
    }

    /// This process's writes, plus the modification time and length of
    /// the database file and its WAL, so that a write by another process
    /// (say `todo-app import`) is noticed too. Costs two `stat`s.
    pub(super) fn data_version(&self) -> DataVersion {
        let stat = |path: &Path| {
            std::fs::metadata(path).map_or((None, 0), |m| (m.modified().ok(), m.len()))
        };
        let [file, wal] = &self.writes.files;
        DataVersion::Local {
            generation: self.writes.generation.load(Ordering::Acquire),
            files: [stat(file), stat(wal)],
        }
    }

    /// SQLx takes no lock on SQLite, so two processes starting on one file
    /// would both try to apply the same migration. An OS file lock next to
    /// the database serializes them.
    pub(super) async fn migrate(&self) -> anyhow::Result<()> {
        let _lock = lock_for_migration(&self.pool).await?;
        sqlx::migrate!("migrations/sqlite")
            .run(&self.pool)
            .await
            .context("failed to apply SQLite migrations")
    }
}

impl DirectReads {
    fn query_row<T>(
        &self,
        sql: &'static str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Option<T>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let found = {
            let mut statement = connection.prepare_cached(sql)?;
            let mut rows = statement.query(params)?;
            rows.next()?.map(row).transpose()?
        };
        // A connection that failed is dropped above (by `?`), not reused.
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_DIRECT {
            idle.push(connection);
        }
        Ok(found)
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        // Never creates the file: until the pool has made and migrated it
        // there is nothing to read here.
        let connection = rusqlite::Connection::open_with_flags(
            &self.file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Only reads, and no waiting: a busy database is the pool's to wait for.
        connection.pragma_update(None, "query_only", true)?;
        connection.busy_timeout(Duration::ZERO)?;
        Ok(connection)
    }
}

/// An exclusive lock on `<database file>.migrate-lock`, held while
/// migrating. Dropping it removes the file, then lets go of the lock.
struct MigrationLock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        // Still locked here, so nobody else holds the lock on this file:
        // whoever waits for it finds it gone once they get it, and retries
        // on a fresh one (see `lock_for_migration`).
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes the migration lock of a SQLite file (none for an in-memory one).
async fn lock_for_migration(pool: &SqlitePool) -> anyhow::Result<Option<MigrationLock>> {
    let options = pool.connect_options();
    let db_file = options.get_filename();
    if db_file.as_os_str().is_empty() || db_file.as_os_str() == ":memory:" {
        return Ok(None);
    }
    let mut lock_path = db_file.as_os_str().to_owned();
    lock_path.push(".migrate-lock");
    let lock_path = PathBuf::from(lock_path);
    tokio::task::spawn_blocking(move || {
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .with_context(|| format!("failed to open {}", lock_path.display()))?;
            file.lock()
                .with_context(|| format!("failed to lock {}", lock_path.display()))?;
            // The previous holder removes the file as it lets go. A lock on
            // a removed file guards nothing: unless the path still names the
            // file we locked, start again.
            let locked = file.metadata()?;
            if let Ok(current) = std::fs::metadata(&lock_path)
                && same_file(&current, &locked)
            {
                return Ok(Some(MigrationLock {
                    path: lock_path,
                    _file: file,
                }));
            }
        }
    })
    .await?
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Elsewhere a file that is open cannot be removed, so the path always
/// names the locked file.
#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

/// One writer at a time, and the counter moves in its transaction: every
/// change still to commit takes a number past the committed counter, and
/// none is running below it.
pub(super) const SYNC_WATERMARK_SQL: &str =
    "SELECT value + 1, CAST(NULL AS TEXT) FROM change_counter";
