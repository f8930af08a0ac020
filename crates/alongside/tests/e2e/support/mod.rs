//! Shared helpers for the end-to-end tests: run the real `alongside` binary, wait until it is
//! listening, create users through its CLI, and talk to it over HTTP as a browser would.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod webdriver;

use reqwest::{redirect, StatusCode};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The password every test account is given.
pub const PASSWORD: &str = "correct-horse-battery-9";

/// Path of the `alongside` binary that cargo built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_alongside")
}

/// A fresh SQLite database file in `dir`, as a database URL.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("alongside.db").display())
}

/// A running `alongside serve`. Killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    /// Base URL, e.g. `http://127.0.0.1:41234`, with no trailing slash.
    pub url: String,
    pub database: String,
    /// Everything the server wrote to stdout and stderr, for failure messages.
    log: Arc<Mutex<String>>,
}

/// Reads `pipe` line by line into `log`, sending each line to `tx` too (while it is listened to).
fn drain(
    pipe: impl Read + Send + 'static,
    log: Arc<Mutex<String>>,
    tx: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            {
                let mut log = log.lock().expect("log lock");
                if log.len() < 1_000_000 {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
            if let Some(tx) = &tx {
                let _ = tx.send(line);
            }
        }
    });
}

impl Server {
    /// Starts `alongside serve --database URL --listen 127.0.0.1:0` and waits (up to 90 s) for
    /// its listening line, then checks `/health`.
    pub async fn start(database: &str) -> Server {
        Self::start_with_env(database, &[]).await
    }

    /// [`Server::start`] with extra environment variables (e.g. `ALONGSIDE_TEST_NOW`).
    pub async fn start_with_env(database: &str, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
            .env_remove("ALONGSIDE_DATABASE_URL")
            .env_remove("ALONGSIDE_LISTEN")
            .env("RUST_LOG", "warn")
            // Cheap argon2 parameters: honoured by debug builds only.
            .env("ALONGSIDE_TEST_CHEAP_HASHES", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin()));
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        drain(child.stdout.take().expect("stdout"), log.clone(), Some(tx));
        drain(child.stderr.take().expect("stderr"), log.clone(), None);

        let prefix = "Alongside is listening on ";
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        let url = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(u) = line.trim().strip_prefix(prefix) {
                        break u.trim_end_matches('/').to_string();
                    }
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "alongside serve did not print {prefix:?} within 90 s (exit status {status:?}). Its output:\n{}",
                        log.lock().expect("log lock")
                    );
                }
            }
        };
        assert!(
            url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
            "listening line names an unexpected address: {url}"
        );
        let server = Server {
            child: Some(child),
            url,
            database: database.to_string(),
            log,
        };
        let resp = reqwest::get(format!("{}/health", server.url))
            .await
            .unwrap_or_else(|e| panic!("GET /health: {e}\n{}", server.log()));
        let status = resp.status();
        let body = resp.text().await.expect("health body");
        assert_eq!(status, StatusCode::OK, "/health: {body}");
        let json: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("/health is not JSON ({e}): {body}"));
        assert_eq!(json["status"], "ok", "/health: {body}");
        server
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Kills the server with SIGKILL (no chance to flush or shut down cleanly) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the binary with `args` (and the given extra environment), returning (success, stdout,
/// stderr).
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(bin());
    cmd.env("ALONGSIDE_TEST_CHEAP_HASHES", "1");
    cmd.args(args)
        .env_remove("ALONGSIDE_DATABASE_URL")
        .env_remove("ALONGSIDE_PASSWORD")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run alongside {args:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `alongside user add USERNAME --role ROLE --name NAME --database URL`, password from the
/// environment. Returns what it printed (the user id).
pub fn add_user(database: &str, username: &str, role: &str, name: &str) -> String {
    let (ok, out, err) = run_cli(
        &[
            "user",
            "add",
            username,
            "--role",
            role,
            "--name",
            name,
            "--organisation",
            "Test Health Partnership",
            "--database",
            database,
        ],
        &[("ALONGSIDE_PASSWORD", PASSWORD)],
    );
    assert!(
        ok,
        "alongside user add {username} failed.\nstdout: {out}\nstderr: {err}"
    );
    let id = out.trim().to_string();
    assert!(!id.is_empty(), "alongside user add printed no user id");
    id
}

/// `alongside audit verify --database URL`: (success, combined output).
pub fn audit_verify(database: &str) -> (bool, String) {
    let (ok, out, err) = run_cli(&["audit", "verify", "--database", database], &[]);
    (ok, format!("{out}{err}"))
}

/// An HTTP client with its own cookie jar that does not follow redirects, so that each 303 can
/// be checked.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

pub use alongside_testkit::{csrf_token, letters, test_nhs_number};

/// GETs a page, asserting 200, and returns its body.
pub async fn get_ok(client: &reqwest::Client, url: &str) -> String {
    let resp = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
    body
}

pub fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Signs in over HTTP (GET /sign-in for its CSRF cookie and token, then POST) and returns the
/// client holding the session, and the session's CSRF token from the "Register a person" form.
pub async fn sign_in(base: &str, username: &str) -> (reqwest::Client, String) {
    let client = http_client();
    let page = get_ok(&client, &format!("{base}/sign-in")).await;
    let token = csrf_token(&page).expect("the sign-in form carries a csrf_token");
    let resp = client
        .post(format!("{base}/sign-in"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .expect("POST /sign-in");
    let status = resp.status();
    let loc = location(&resp);
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "sign-in as {username}: {body}"
    );
    assert_eq!(loc.as_deref(), Some("/"), "sign-in redirects home");
    let home = get_ok(&client, &format!("{base}/")).await;
    assert!(
        home.contains("Sign out"),
        "home page after sign-in has no Sign out: {home}"
    );
    let form = get_ok(&client, &format!("{base}/people/new")).await;
    let csrf = csrf_token(&form).expect("the register form carries a csrf_token");
    (client, csrf)
}

/// A valid register-person form (given name, family name, fields) unique to `n`.
pub fn person_form(n: u64, csrf: &str) -> (String, String, Vec<(&'static str, String)>) {
    let given = ["Amira", "Bethan", "Chidi", "Dafydd", "Eilidh", "Farah"][(n % 6) as usize];
    let family = format!("Crashtest {}", letters(n, 4));
    let form = vec![
        ("csrf_token", csrf.to_string()),
        ("given_name", given.to_string()),
        ("family_name", family.clone()),
        ("nhs_number", test_nhs_number(n).unwrap_or_default()),
        ("dob_day", (1 + n % 28).to_string()),
        ("dob_month", (1 + n % 12).to_string()),
        ("dob_year", (1940 + n % 60).to_string()),
        (
            "sex",
            ["female", "male", "other", "unknown"][(n % 4) as usize].to_string(),
        ),
        ("postcode", "LS1 4AP".to_string()),
        ("phone", "07700 900982".to_string()),
        ("consent_phone", "yes".to_string()),
        ("preferred_language", "en".to_string()),
        ("conditions", "copd".to_string()),
        ("conditions", "type2_diabetes".to_string()),
        (
            "what_matters",
            format!("Getting back to the allotment, week {n}."),
        ),
    ];
    (given.to_string(), family, form)
}
