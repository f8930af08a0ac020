//! The native SQLite read path for bulk reads (an evaluation's million people, the importer's
//! person index): a read-only `rusqlite` connection to the store's file, opened per use on a
//! blocking thread, reading in one transaction so that every query sees one snapshot.
//!
//! Why: sqlx's generic `Any` driver costs about 6 µs per result row on SQLite (each value is
//! copied into an `AnyValue` and each row sent across a channel); reading rows directly costs a
//! few hundred nanoseconds. Both drivers link the same SQLite library (libsqlite3-sys 0.30).
//!
//! It must never write: the connection is opened read-only, and every change still goes
//! through [`crate::Store::write`] (one writer, audited, durable).

use crate::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::time::Duration;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Native(e.to_string())
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Opens read-only connections to one SQLite database file.
#[derive(Debug, Clone)]
pub struct NativeReader {
    path: PathBuf,
}

impl NativeReader {
    /// The reader for the file named by a `sqlite://` URL, or `None` for an in-memory database
    /// (which another connection cannot open).
    pub fn for_url(url: &str) -> Option<NativeReader> {
        use std::str::FromStr;
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
        let path = opts.get_filename();
        let text = path.to_string_lossy();
        if text.is_empty() || text == ":memory:" || url.contains("mode=memory") {
            return None;
        }
        Some(NativeReader {
            path: path.to_path_buf(),
        })
    }

    /// Runs `f` on a fresh read-only connection inside one read transaction, on a blocking
    /// thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let c = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(Duration::from_secs(10))?;
            c.execute_batch("BEGIN")?;
            let out = f(&c);
            // A read transaction: ending it cannot lose anything.
            let _ = c.execute_batch("COMMIT");
            out
        })
        .await
        .map_err(|e| StoreError::Native(format!("reader thread: {e}")))?
    }
}
