//! The store: migrations and queries for both backends, SQLite (embedded default) and
//! PostgreSQL (deployment).
//!
//! One code path: every query is written once, in the SQL both engines accept (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING`, text UUIDs, `BIGINT` microsecond timestamps), and
//! runs through sqlx's `Any` driver. What differs per backend is only how writes are committed:
//!
//! * SQLite: one writer task owns the only writing connection and groups concurrent write jobs
//!   into one transaction (each job in its own savepoint), answering every job only after the
//!   shared `COMMIT` has returned — with `synchronous=FULL` no acknowledged write can be lost,
//!   and throughput is not capped at one fsync per request.
//! * PostgreSQL: the same group commit on a pooled connection (one WAL flush per group instead
//!   of one per request while the audit chain's head row is locked); a job that fails with a
//!   serialization failure or deadlock (SQLSTATE 40001, 40P01) is retried with backoff.
//!
//! The store must never know about HTTP. Access decisions come from `alongside_core::access`;
//! the store supplies the relationship facts and writes the audit entry in the same transaction
//! as the data it protects.

pub mod activation;
pub mod activities;
pub mod audit;
pub mod careplan;
pub mod clock;
pub mod coaching;
pub mod course_runs;
pub mod directory;
pub mod door;
pub mod education;
pub mod event_sets;
pub mod fhir_events;
pub mod groups;
mod inputs;
pub mod native;
pub mod outcomes;
pub mod peer_report;
pub mod people;
pub mod reach;
pub mod rota;
pub mod synthetic;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod users;

use futures::future::BoxFuture;
use futures::FutureExt;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub use sqlx::AnyConnection as Conn;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors from the store, classified by kind (never by constraint name).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("refused: {0}")]
    Refused(&'static str),
    /// The request broke a rule; each error names the form field it belongs to.
    #[error("{0}")]
    Invalid(alongside_core::ValidationErrors),
    #[error("the record was changed by someone else since it was opened")]
    StaleVersion,
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database writer has stopped")]
    WriterGone,
    /// The job panicked; its work was rolled back and the writer went on.
    #[error("the write failed unexpectedly and was not saved")]
    JobPanicked,
    /// An error of the native SQLite read path ([`native`]).
    #[error("database error: {0}")]
    Native(String),
}

impl StoreError {
    fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40001") | Some("40P01"))
            }
            _ => false,
        }
    }
    /// True for a unique-key violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

type Completion = Box<dyn FnOnce(Option<String>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Completion> + Send>;

/// The write path: a queue of jobs drained by one writer task per store, which runs each
/// group of waiting jobs in one transaction (SQLite: on its dedicated connection; PostgreSQL:
/// on a pooled connection per group).
struct Writer {
    tx: mpsc::Sender<Job>,
}

/// Where the writer task gets its connection.
enum WriterConn {
    Dedicated(AnyConnection),
    Pool(AnyPool),
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    writer: Arc<Writer>,
    backend: Backend,
    /// SQLite files only: the native read path for bulk reads.
    native: Option<native::NativeReader>,
    /// The one clock: every row the store stamps takes its time from here.
    clock: clock::Clock,
}

/// What [`Store::health`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// A read on the pool answered.
    pub database: bool,
    /// The writer took a job and committed it.
    pub writer: bool,
}

/// Most write jobs grouped into one SQLite transaction.
const MAX_GROUP: usize = 512;

/// How long the SQLite writer waits for the database's write lock, held by another process,
/// before its group fails (as `busy_timeout` did).
const LOCK_WAIT: Duration = Duration::from_secs(10);

impl Store {
    /// Connects to `url` (`sqlite://path` — created if missing — or `postgres://…`) and applies
    /// the embedded migrations.
    pub async fn open(url: &str) -> Result<Store> {
        Self::connect_inner(url, true).await
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_inner(url, false).await
    }

    async fn connect_inner(url: &str, migrate: bool) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        match backend {
            Backend::Sqlite => {
                // The writer connection first, so WAL mode is set before readers open.
                let mut conn = AnyConnection::connect_with(&opts).await?;
                sqlite_pragmas(&mut conn).await?;
                if migrate {
                    sqlx::migrate!("./migrations/sqlite")
                        .run_direct(&mut conn)
                        .await?;
                }
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlite_pragmas(conn).await.map_err(|e| match e {
                                StoreError::Database(d) => d,
                                other => sqlx::Error::Protocol(other.to_string()),
                            })
                        })
                    })
                    .connect_with(opts)
                    .await?;
                // From here the writer waits for the write lock itself (`begin_group`).
                conn.execute("PRAGMA busy_timeout = 0").await?;
                let (tx, rx) = mpsc::channel::<Job>(4096);
                tokio::spawn(group_writer(
                    WriterConn::Dedicated(conn),
                    rx,
                    "BEGIN IMMEDIATE",
                ));
                let store = Store {
                    pool,
                    writer: Arc::new(Writer { tx }),
                    backend,
                    native: native::NativeReader::for_url(&url),
                    clock: clock::Clock::default(),
                };
                if migrate {
                    store.convert_legacy_events().await?;
                    store.clean_abandoned_imports().await?;
                }
                Ok(store)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(32)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                if migrate {
                    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                }
                let (tx, rx) = mpsc::channel::<Job>(4096);
                tokio::spawn(group_writer(WriterConn::Pool(pool.clone()), rx, "BEGIN"));
                let store = Store {
                    pool,
                    writer: Arc::new(Writer { tx }),
                    backend,
                    native: None,
                    clock: clock::Clock::default(),
                };
                if migrate {
                    store.convert_legacy_events().await?;
                    store.clean_abandoned_imports().await?;
                }
                Ok(store)
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The same store, taking its time from `clock` (the application's one clock).
    pub fn with_clock(mut self, clock: clock::Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The store's clock.
    pub fn clock(&self) -> &clock::Clock {
        &self.clock
    }

    /// Now, by the store's clock (microseconds since the Unix epoch, UTC).
    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// Whether the database answers and the writer takes and commits a job, each within
    /// `timeout`: what `/health` reports.
    pub async fn health(&self, timeout: Duration) -> Health {
        let database = matches!(
            tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(&self.pool)).await,
            Ok(Ok(_))
        );
        let writer = matches!(
            tokio::time::timeout(
                timeout,
                self.write(|c| Box::pin(async move {
                    c.execute("SELECT 1").await?;
                    Ok(())
                }))
            )
            .await,
            Ok(Ok(()))
        );
        Health { database, writer }
    }

    /// The native read path, on SQLite files (bulk reads only; see [`native`]).
    pub fn native_reader(&self) -> Option<&native::NativeReader> {
        self.native.as_ref()
    }

    /// The pool for plain reads that need no audit entry (sessions, reference data).
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `job` inside a write transaction and returns once that transaction is durably
    /// committed. The job may run more than once (on PostgreSQL serialization failures), so it
    /// must not have side effects outside the connection.
    pub async fn write<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let job = Arc::new(job);
        let mut attempt = 0u32;
        loop {
            let (done_tx, done_rx) = oneshot::channel::<Result<T>>();
            let this = job.clone();
            let boxed: Job = Box::new(move |conn: &mut AnyConnection| {
                Box::pin(async move {
                    // A panicking job fails alone: its savepoint is rolled back and the
                    // writer goes on with the next job.
                    let result = match AssertUnwindSafe(run_in_savepoint(conn, &*this))
                        .catch_unwind()
                        .await
                    {
                        Ok(r) => r,
                        Err(panic) => {
                            let what = panic
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            tracing::error!(panic = %what, "a write job panicked; its work is rolled back");
                            let _ = conn.execute("ROLLBACK TO job").await;
                            let _ = conn.execute("RELEASE job").await;
                            Err(StoreError::JobPanicked)
                        }
                    };
                    let completion: Completion = Box::new(move |commit_error: Option<String>| {
                        let _ = done_tx.send(match commit_error {
                            None => result,
                            Some(e) => Err(StoreError::Database(sqlx::Error::Protocol(format!(
                                "commit failed: {e}"
                            )))),
                        });
                    });
                    completion
                })
            });
            self.writer
                .tx
                .send(boxed)
                .await
                .map_err(|_| StoreError::WriterGone)?;
            match done_rx.await.map_err(|_| StoreError::WriterGone)? {
                // Serialization failures and deadlocks (PostgreSQL, e.g. against another
                // instance's writer) are retried with jittered exponential backoff.
                Err(e) if e.is_retryable() && attempt < 8 => {
                    attempt += 1;
                    let backoff = 5u64 * (1 << attempt.min(6)) + rand::random::<u64>() % 10;
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                other => return other,
            }
        }
    }

    /// Closes every connection (the writer finishes its queued jobs first).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn sqlite_pragmas(conn: &mut AnyConnection) -> Result<()> {
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA busy_timeout = 10000",
    ] {
        conn.execute(pragma).await?;
    }
    Ok(())
}

async fn run_in_savepoint<T, F>(conn: &mut AnyConnection, job: &F) -> Result<T>
where
    F: for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>>,
{
    conn.execute("SAVEPOINT job").await?;
    match job(conn).await {
        Ok(v) => {
            conn.execute("RELEASE job").await?;
            Ok(v)
        }
        Err(e) => {
            conn.execute("ROLLBACK TO job").await?;
            conn.execute("RELEASE job").await?;
            Err(e)
        }
    }
}

/// The group-commit loop: take every job that is waiting (up to [`MAX_GROUP`]), run them in
/// one transaction, each inside its own savepoint so one job's failure does not undo the
/// others, commit once, then answer them all — so no job is acknowledged before its data is
/// durable, and throughput is not capped at one disk flush per request.
async fn group_writer(mut source: WriterConn, mut rx: mpsc::Receiver<Job>, begin: &'static str) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let sqlite = matches!(source, WriterConn::Dedicated(_));
        let mut pooled: Option<sqlx::pool::PoolConnection<sqlx::Any>> = None;
        let conn: &mut AnyConnection = match &mut source {
            WriterConn::Dedicated(c) => c,
            WriterConn::Pool(pool) => match pool.acquire().await {
                Ok(c) => pooled.insert(c),
                Err(e) => {
                    tracing::error!(error = %e, "no database connection for a write transaction");
                    batch.clear();
                    continue;
                }
            },
        };
        if let Err(e) = begin_group(conn, begin, sqlite).await {
            tracing::error!(error = %e, "could not begin a write transaction");
            batch.clear();
            continue;
        }
        let mut completions = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            completions.push(job(conn).await);
        }
        let commit_error = match conn.execute("COMMIT").await {
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let _ = conn.execute("ROLLBACK").await;
                Some(e.to_string())
            }
        };
        for c in completions {
            c(commit_error.clone());
        }
    }
}

/// Begins a group's transaction. On SQLite, when another process holds the write lock (a command-line
/// import writing its chunks, say), the writer tries again every millisecond for up to
/// [`LOCK_WAIT`] rather than sleep in SQLite's busy handler, which looks at growing intervals
/// (up to 100 ms) and so keeps missing the short gaps the other process leaves between its
/// transactions.
async fn begin_group(
    conn: &mut AnyConnection,
    begin: &str,
    sqlite: bool,
) -> std::result::Result<(), sqlx::Error> {
    let started = std::time::Instant::now();
    loop {
        match conn.execute(begin).await {
            // SQLITE_BUSY, and its extended codes.
            Err(sqlx::Error::Database(db))
                if sqlite
                    && db
                        .code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| c & 0xff == 5)
                    && started.elapsed() < LOCK_WAIT =>
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            other => return other.map(|_| ()),
        }
    }
}

/// Current time by the system clock (microseconds since the Unix epoch, UTC).
/// The wall clock (microseconds since the Unix epoch, UTC), for tests and tools. Product code
/// takes its time from the store's clock (`Store::now`, `Tx::now`); the tidy test
/// `no_system_clock_outside_the_clock_module` keeps it out of `crates/*/src`.
pub fn now_micros() -> i64 {
    clock::wall_micros()
}
