//! Fresh databases for tests: a temporary SQLite file, or a uniquely named PostgreSQL
//! database on the server named by `ALONGSIDE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). PostgreSQL being unreachable is an error,
//! never a reason to skip.
//!
//! Each backend's schema is migrated **once** into a template keyed by a hash of the embedded
//! migrations, and every test database is a copy of it: `CREATE DATABASE … TEMPLATE` on
//! PostgreSQL, a file copy on SQLite. The template outlives the run (the next run with the same
//! migrations reuses it); a changed migration makes a new key. `Store::open` on a copy finds
//! every migration applied and only checks their checksums.
//!
//! Test databases favour speed over durability, which the tests never exercise: SQLite files
//! live on `/dev/shm` where it exists (an fsync there costs nothing), and PostgreSQL test
//! databases have `synchronous_commit = off` (a crash of the test *server* could lose the last
//! commits; a killed application, as in the crash-safety tests, loses nothing).

use crate::Backend;
use sqlx::{Connection, Executor};
use std::path::PathBuf;
use tokio::sync::OnceCell;

/// A database that is removed again when dropped.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

pub fn postgres_admin_url() -> String {
    std::env::var("ALONGSIDE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A short hash of one backend's embedded migrations (versions and checksums).
fn migrations_key(backend: Backend) -> String {
    use sha2::{Digest, Sha256};
    let migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let mut h = Sha256::new();
    for m in migrator.iter() {
        h.update(m.version.to_le_bytes());
        h.update(&*m.checksum);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where test SQLite files go: `/dev/shm` when there is one, else the temporary directory.
fn sqlite_dir() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

static SQLITE_TEMPLATE: OnceCell<PathBuf> = OnceCell::const_new();
static POSTGRES_TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The migrated SQLite template file, made once (atomically renamed into place, so concurrent
/// test processes never see half of one).
async fn sqlite_template() -> &'static PathBuf {
    SQLITE_TEMPLATE
        .get_or_init(|| async {
            let path = sqlite_dir().join(format!(
                "alongside-template-{}.db",
                migrations_key(Backend::Sqlite)
            ));
            if path.exists() {
                return path;
            }
            let tag = uuid::Uuid::new_v4().simple().to_string();
            let building = sqlite_dir().join(format!("alongside-template-building-{tag}.db"));
            let store = crate::Store::open(&format!("sqlite://{}", building.display()))
                .await
                .expect("migrate the SQLite test template");
            // One self-contained file (no -wal beside it) to copy from.
            let into = sqlite_dir().join(format!("alongside-template-vacuumed-{tag}.db"));
            sqlx::query(&format!("VACUUM INTO '{}'", into.display()))
                .execute(store.reader())
                .await
                .expect("write the SQLite test template");
            store.close().await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
            }
            std::fs::rename(&into, &path).expect("move the SQLite test template into place");
            path
        })
        .await
}

/// The name of the migrated PostgreSQL template database, made once per set of migrations
/// under an advisory lock (test processes may run at the same time).
async fn postgres_template(admin_url: &str) -> &'static str {
    POSTGRES_TEMPLATE
        .get_or_init(|| async {
            let name = format!("alongside_template_{}", migrations_key(Backend::Postgres));
            let mut conn = admin_connection(admin_url).await;
            conn.execute("SELECT pg_advisory_lock(727274)")
                .await
                .expect("lock for the test template");
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_optional(&mut conn)
                    .await
                    .expect("look for the test template");
            if exists.is_none() {
                let building = format!("{name}_building");
                conn.execute(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)").as_str())
                    .await
                    .expect("drop a half-built test template");
                conn.execute(format!("CREATE DATABASE {building}").as_str())
                    .await
                    .expect("create the test template");
                let store = crate::Store::open(&database_url(admin_url, &building))
                    .await
                    .expect("migrate the PostgreSQL test template");
                store.close().await;
                // Only a fully migrated template gets the name copies are made from.
                conn.execute(format!("ALTER DATABASE {building} RENAME TO {name}").as_str())
                    .await
                    .expect("name the test template");
            }
            conn.execute("SELECT pg_advisory_unlock(727274)")
                .await
                .expect("unlock the test template");
            name
        })
        .await
}

async fn admin_connection(admin_url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for the tests and is not reachable at {admin_url}: {e}. Run the project's test script (scripts/test), which starts it, or set ALONGSIDE_TEST_POSTGRES_URL.")
    })
}

fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin_url.to_string());
    format!("{base}/{name}")
}

impl TestDatabase {
    /// A fresh, migrated database (a copy of the backend's template).
    pub async fn new(backend: Backend) -> TestDatabase {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let template = sqlite_template().await;
                let path = sqlite_dir().join(format!("alongside-test-{tag}.db"));
                std::fs::copy(template, &path).expect("copy the SQLite test template");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    backend,
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let template = postgres_template(&admin_url).await;
                let name = format!("alongside_test_{tag}");
                let mut conn = admin_connection(&admin_url).await;
                conn.execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
                    .await
                    .expect("create test database");
                conn.execute(
                    format!("ALTER DATABASE {name} SET synchronous_commit = off").as_str(),
                )
                .await
                .expect("test database settings");
                TestDatabase {
                    url: database_url(&admin_url, &name),
                    backend,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async context; a short-lived runtime on its own thread.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let mut conn = sqlx::AnyConnection::connect(&admin_url).await.ok()?;
                        conn.execute(
                            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                        )
                        .await
                        .ok()
                    })
                })
                .join();
            }
        }
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL, each on a fresh database:
/// `both_backends!(name);` given `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Reads for tests that check what was stored, without an actor and unaudited. Never called by
/// the product: `crates/store/tests/store/tidy.rs` fails if anything outside tests uses them.
impl crate::Store {
    /// Creates an account with an optional audit entry written as given (tests only; the
    /// product uses `create_user_as` or `create_user_by_system`).
    pub async fn create_user(
        &self,
        new: crate::users::NewUser,
        audit_event: Option<alongside_core::audit::AuditEvent>,
    ) -> crate::Result<alongside_core::UserId> {
        let id = alongside_core::UserId::new();
        let now = self.now();
        self.write(move |c| {
            let (new, audit_event) = (new.clone(), audit_event.clone());
            Box::pin(async move {
                crate::users::insert_user(c, &new, id, now).await?;
                if let Some(mut ev) = audit_event {
                    ev.resource_id = Some(id.as_text());
                    crate::audit::append(c, &ev).await?;
                }
                Ok(id)
            })
        })
        .await
    }

    /// Every assessment of a person, oldest first (unaudited; tests only).
    pub async fn person_assessments(
        &self,
        org: alongside_core::OrgId,
        person: alongside_core::PersonId,
    ) -> crate::Result<Vec<crate::activation::AssessmentRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM assessments WHERE org_id = $1 AND person_id = $2 ORDER BY started_at, id",
            crate::activation::A_COLUMNS
        ))
        .bind(org.as_text())
        .bind(person.as_text())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(crate::activation::assessment_from_row)
            .collect()
    }
}
