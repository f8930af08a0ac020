//! Crash safety: every registration the server acknowledged survives the server being killed
//! with SIGKILL in the middle of a stream of writes, and the audit chain still verifies.
//!
//! Several clients, each signed in with its own session, POST the "Register a person" form in
//! a loop. Each `303 See Other` to `/people/{id}` is an acknowledgement. After some hundreds of
//! them the server is killed (no clean shutdown), restarted on the same database, and every
//! acknowledged person must open with their name. Runs on SQLite and on PostgreSQL.

use crate::support::{add_user, audit_verify, get_ok, location, person_form, sign_in, Server};
use alongside_store::testing::TestDatabase;
use alongside_store::Backend;
use reqwest::StatusCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 6;
/// Acknowledged registrations to wait for before the kill.
const ACKNOWLEDGED_BEFORE_KILL: usize = 800;
const TIME_LIMIT: Duration = Duration::from_secs(240);

#[derive(Default)]
struct Shared {
    next: AtomicU64,
    killed: AtomicBool,
    /// (person id, full name) of every acknowledged registration.
    acknowledged: Mutex<Vec<(String, String)>>,
    /// Anything other than an acknowledgement or (after the kill) a dropped connection.
    failures: Mutex<Vec<String>>,
}

async fn client_loop(base: String, username: String, shared: Arc<Shared>) {
    let (client, csrf) = sign_in(&base, &username).await;
    let started = Instant::now();
    while !shared.killed.load(Ordering::SeqCst) && started.elapsed() < TIME_LIMIT {
        let n = shared.next.fetch_add(1, Ordering::SeqCst);
        let (given, family, form) = person_form(n, &csrf);
        let sent = client
            .post(format!("{base}/people"))
            .form(&form)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                if !shared.killed.load(Ordering::SeqCst) {
                    shared
                        .failures
                        .lock()
                        .unwrap()
                        .push(format!("request {n} failed before the kill: {e}"));
                }
                return;
            }
        };
        let status = resp.status();
        let loc = location(&resp);
        let id = loc
            .as_deref()
            .and_then(|l| l.split(['?', '#']).next())
            .and_then(|p| p.strip_prefix("/people/"))
            .filter(|id| !id.is_empty() && *id != "new" && !id.contains('/'))
            .map(str::to_string);
        match (status, id) {
            (StatusCode::SEE_OTHER, Some(id)) => shared
                .acknowledged
                .lock()
                .unwrap()
                .push((id, format!("{given} {family}"))),
            _ => {
                let body = resp.text().await.unwrap_or_default();
                let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
                shared.failures.lock().unwrap().push(format!(
                    "registration {n} answered {status}, location {loc:?}: {}",
                    body.chars().take(600).collect::<String>()
                ));
                return;
            }
        }
    }
}

async fn acknowledged_writes_survive_sigkill(database: String) {
    add_user(&database, "casey", "coordinator", "Casey Coordinator");
    let mut server = Server::start(&database).await;

    let shared = Arc::new(Shared::default());
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        tasks.push(tokio::spawn(client_loop(
            server.url.clone(),
            "casey".to_string(),
            shared.clone(),
        )));
    }

    // Wait for enough acknowledgements (or a failure), then kill mid-stream.
    let started = Instant::now();
    loop {
        let acked = shared.acknowledged.lock().unwrap().len();
        let failures = shared.failures.lock().unwrap().clone();
        assert!(
            failures.is_empty(),
            "registrations failed before the kill: {failures:#?}\nserver output:\n{}",
            server.log()
        );
        if acked >= ACKNOWLEDGED_BEFORE_KILL {
            break;
        }
        assert!(
            started.elapsed() < TIME_LIMIT,
            "only {acked} registrations acknowledged in {TIME_LIMIT:?}"
        );
        assert!(
            server.is_running(),
            "the server exited during the load:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shared.killed.store(true, Ordering::SeqCst);
    server.kill();
    let write_time = started.elapsed();
    for t in tasks {
        t.await.expect("client task");
    }
    let failures = shared.failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "registrations failed: {failures:#?}");
    let acknowledged = shared.acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_KILL);
    eprintln!(
        "{} registrations acknowledged in {:.1} s by {CLIENTS} clients before SIGKILL",
        acknowledged.len(),
        write_time.as_secs_f64()
    );
    let mut ids: Vec<&String> = acknowledged.iter().map(|(id, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        acknowledged.len(),
        "two acknowledgements named the same person id"
    );

    // The audit chain verifies straight after the crash, before any recovery by the server.
    let (ok, out) = audit_verify(&database);
    assert!(ok, "audit verify failed after SIGKILL: {out}");
    assert!(
        out.lines().any(|l| l.starts_with("Audit chain intact")),
        "audit verify output: {out}"
    );

    // Restart on the same database: every acknowledged person is there.
    let server = Server::start(&database).await;
    let (client, _) = sign_in(&server.url, "casey").await;
    for (id, name) in &acknowledged {
        let page = get_ok(&client, &format!("{}/people/{id}", server.url)).await;
        assert!(
            page.contains(&format!("<h1>{name}</h1>")),
            "person {id} ({name}) was acknowledged before the crash but their page does not show them: {}",
            page.chars().take(2000).collect::<String>()
        );
    }
    // A person who was never registered is not found: the check above can fail.
    let missing = client
        .get(format!(
            "{}/people/{}",
            server.url, "00000000-0000-7000-8000-000000000000"
        ))
        .send()
        .await
        .expect("GET unknown person");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    drop(server);

    let (ok, out) = audit_verify(&database);
    assert!(ok, "audit verify failed after restart: {out}");
    assert!(
        out.lines().any(|l| l.starts_with("Audit chain intact")),
        "audit verify output: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    acknowledged_writes_survive_sigkill(crate::support::sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_writes_survive_sigkill() {
    let db = TestDatabase::new(Backend::Postgres).await;
    acknowledged_writes_survive_sigkill(db.url.clone()).await;
}
