//! Fresh databases for tests: a temporary SQLite file, or a uniquely named PostgreSQL
//! database on the server named by `ALONGSIDE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). PostgreSQL being unreachable is an error,
//! never a reason to skip.

use crate::Backend;
use sqlx::{Connection, Executor};

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

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("alongside-test-{tag}.db"));
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    backend,
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let admin_url = postgres_admin_url();
                let name = format!("alongside_test_{tag}");
                let mut conn = sqlx::AnyConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the tests and is not reachable at {admin_url}: {e}. Run the project's test script (scripts/test), which starts it, or set ALONGSIDE_TEST_POSTGRES_URL.")
                });
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or(admin_url.clone());
                TestDatabase {
                    url: format!("{base}/{name}"),
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
