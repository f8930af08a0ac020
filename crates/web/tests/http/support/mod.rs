//! Shared helpers for the web layer's HTTP tests: a fresh database per app, the real router
//! served on a random local port, a browser-like client (cookie store, no redirects), typed
//! requests, HTML inspection with `scraper`, and fixtures (organisations, one account per
//! role, people, caseload links).
#![allow(dead_code)] // each test module uses a different part of this module

use alongside_core::access::Actor;
use alongside_core::audit::AuditEntry;
use alongside_core::person::{PersonDetails, PersonForm};
use alongside_core::{OrgId, PersonId, Role, UserId};
use alongside_store::people::{PersonRecord, Source};
use alongside_store::testing::TestDatabase;
use alongside_store::users::NewUser;
use alongside_store::{Backend, Store};
use alongside_web::{AppState, Config};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use scraper::{ElementRef, Html, Selector};
use std::net::SocketAddr;

/// The password of every fixture account.
pub const PASSWORD: &str = "correct-horse-battery-staple";

/// A running application on its own fresh database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    pub addr: SocketAddr,
    pub store: Store,
    pub backend: Backend,
    server: tokio::task::JoinHandle<()>,
    // Last, so the database outlives the server and store that use it.
    _db: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the real router (with its layers) on 127.0.0.1:0 over a fresh, migrated database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Config::default()).await
}

pub async fn spawn_app_with(backend: Backend, config: Config) -> TestApp {
    // Cheap argon2 parameters (debug builds only): a hash in 1 ms instead of about 100.
    alongside_web::auth::use_cheap_hashes_in_tests();
    // Server errors (logged, never shown to users) appear in the failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ALONGSIDE_TEST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .try_init();
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url)
        .await
        .unwrap_or_else(|e| panic!("open and migrate {backend:?} test database: {e}"));
    let app = alongside_web::app(AppState::new(store.clone(), config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        addr,
        store,
        backend,
        server,
        _db: db,
    }
}

impl TestApp {
    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// A new browser signed in as `username`; panics unless sign-in succeeds (303).
    pub async fn sign_in(&self, username: &str, password: &str) -> Browser {
        let b = self.browser();
        let p = b.sign_in(username, password).await;
        assert_eq!(
            p.status,
            StatusCode::SEE_OTHER,
            "sign in as {username} on {:?} should succeed; got {} {}",
            self.backend,
            p.status,
            p.snippet()
        );
        b
    }

    pub async fn count_people(&self, org: OrgId) -> i64 {
        self.store.count_people(org).await.expect("count people")
    }

    /// Every audit entry of an organisation, newest first.
    pub async fn audit(&self, org: OrgId) -> Vec<AuditEntry> {
        self.store
            .audit_page(org, None, 1_000_000)
            .await
            .expect("audit page")
    }

    /// How many entries of `org` have this action and outcome.
    pub async fn count_audit(&self, org: OrgId, action: &str, outcome: Option<&str>) -> usize {
        self.audit(org)
            .await
            .iter()
            .filter(|e| e.action == action && outcome.is_none_or(|o| e.outcome == o))
            .count()
    }

    /// Reads a record as `verifier` (an administrator of the record's organisation) through the
    /// store, for checking what is stored. Audited as a read by "test-verifier".
    pub async fn record(&self, verifier: &Account, id: PersonId) -> PersonRecord {
        self.store
            .read_person(&verifier.actor(), id, Source(Some("test-verifier".into())))
            .await
            .unwrap_or_else(|e| panic!("verifier read of {id}: {e}"))
            .record
    }

    /// Asserts that the audit chains of every organisation verify.
    pub async fn assert_audit_verifies(&self) {
        let report = self.store.verify_audit().await.expect("verify audit");
        assert!(
            report.ok(),
            "audit chain broken on {:?}: {:?}",
            self.backend,
            report.organisations
        );
        assert!(
            !report.organisations.is_empty(),
            "no audit chain was checked"
        );
    }
}

/// A browser: keeps cookies, never follows redirects, and reuses its connections (as a real
/// browser does) — except for a body over the server's limit, which goes on a connection of its
/// own, because the server closes a connection after refusing one.
#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    oneshot: reqwest::Client,
    base: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            oneshot: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .expect("client"),
            base: base.to_string(),
        }
    }

    /// A client with no cookie store: send cookies by hand with [`Browser::get_with_cookie`].
    pub fn without_cookies(base: &str) -> Browser {
        let client = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .expect("client")
        };
        Browser {
            http: client(),
            oneshot: client(),
            base: base.to_string(),
        }
    }

    async fn page(method: &str, path: &str, resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("read body");
        Page {
            method: method.to_string(),
            path: path.to_string(),
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Self::page("GET", path, resp).await
    }

    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Self::page("GET", path, resp).await
    }

    /// POSTs `body` as `application/x-www-form-urlencoded`, exactly as given.
    ///
    /// A body over the server's limit is answered (413) before it has all been sent, and the
    /// server then closes the connection: the client may see that reset instead of the answer.
    /// Such a request is tried again (it can never have been processed); any other transport
    /// error fails the test at once.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Page {
        let oversized = body.len() > 256 * 1024;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let client = if oversized { &self.oneshot } else { &self.http };
            let sent = client
                .post(format!("{}{path}", self.base))
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(resp) => return Self::page("POST", path, resp).await,
                Err(e) if oversized && attempt < 10 => {
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("POST {path}: {e}"),
            }
        }
    }

    /// POSTs the pairs, form-encoded, with no CSRF token added.
    pub async fn post_pairs<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        fields: &[(K, V)],
    ) -> Page {
        self.post_raw(path, encode(fields).into_bytes()).await
    }

    /// The CSRF token this browser would have in its forms: from `page_path` if it shows one,
    /// else from the home page (signed in) or the sign-in page (signed out).
    pub async fn csrf_token(&self, page_path: &str) -> Option<String> {
        for path in [page_path, "/", "/sign-in"] {
            let p = self.get(path).await;
            if let Some(t) = p.csrf_token() {
                return Some(t);
            }
        }
        None
    }

    /// Fetches the form's page (`path` itself) first, then POSTs the fields with its
    /// `csrf_token` added.
    pub async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        fields: &[(K, V)],
    ) -> Page {
        self.post_form_from(path, path, fields).await
    }

    /// Fetches `page_path` for its CSRF token, then POSTs the fields to `path` with it.
    pub async fn post_form_from<K: AsRef<str>, V: AsRef<str>>(
        &self,
        page_path: &str,
        path: &str,
        fields: &[(K, V)],
    ) -> Page {
        let token = self.csrf_token(page_path).await.unwrap_or_default();
        let mut all: Vec<(String, String)> = vec![("csrf_token".into(), token)];
        all.extend(
            fields
                .iter()
                .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())),
        );
        self.post_pairs(path, &all).await
    }

    /// Signs in through the form (fetching it first for its CSRF cookie and token).
    pub async fn sign_in(&self, username: &str, password: &str) -> Page {
        self.post_form(
            "/sign-in",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Signs out through the header's sign-out form.
    pub async fn sign_out(&self) -> Page {
        self.post_form_from("/", "/sign-out", &[] as &[(&str, &str)])
            .await
    }
}

/// Form-encodes pairs.
pub fn encode<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k.as_ref(), v.as_ref());
    }
    s.finish()
}

/// A response, read in full.
#[derive(Debug, Clone)]
pub struct Page {
    pub method: String,
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("selector {s:?}: {e:?}"))
}

fn text_of(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Page {
    /// The first 600 characters of the body, for failure messages.
    pub fn snippet(&self) -> String {
        let main = self.main_text();
        let s = if main.is_empty() {
            self.body.clone()
        } else {
            main
        };
        s.chars().take(600).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The `Set-Cookie` header for cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The value of the first `csrf_token` input.
    pub fn csrf_token(&self) -> Option<String> {
        alongside_testkit::csrf_token(&self.body)
    }

    /// Text of the `<title>`.
    pub fn title(&self) -> String {
        let doc = self.html();
        let t = doc.select(&sel("title")).next().map(text_of);
        t.unwrap_or_default()
    }

    /// Text of the first `h1`.
    pub fn h1(&self) -> String {
        let doc = self.html();
        let t = doc.select(&sel("h1")).next().map(text_of);
        t.unwrap_or_default()
    }

    /// The visible text of `<main>` (whitespace collapsed).
    pub fn main_text(&self) -> String {
        let doc = self.html();
        let t = doc.select(&sel("main")).next().map(text_of);
        t.unwrap_or_default()
    }

    /// All visible text of the document (whitespace collapsed).
    pub fn text(&self) -> String {
        let doc = self.html();
        let t = text_of(doc.root_element());
        t
    }

    /// The error summary's links: `(href, text)`.
    pub fn error_summary(&self) -> Vec<(String, String)> {
        let doc = self.html();
        let v = doc
            .select(&sel(".error-summary a"))
            .map(|a| (a.value().attr("href").unwrap_or("").to_string(), text_of(a)))
            .collect();
        v
    }

    /// Whether an element with this id exists (an error summary link must lead somewhere).
    pub fn has_id(&self, id: &str) -> bool {
        let doc = self.html();
        let found = doc
            .tree
            .nodes()
            .filter_map(|n| n.value().as_element())
            .any(|e| e.id() == Some(id));
        found
    }

    /// Values of the named input (all of them, e.g. several `version` inputs).
    pub fn input_values(&self, name: &str) -> Vec<String> {
        let doc = self.html();
        let v = doc
            .select(&sel(&format!("input[name=\"{name}\"]")))
            .map(|e| e.value().attr("value").unwrap_or("").to_string())
            .collect();
        v
    }

    /// The text of the named textarea, if the page has one.
    pub fn textarea(&self, name: &str) -> Option<String> {
        let doc = self.html();
        let v = doc
            .select(&sel(&format!("textarea[name=\"{name}\"]")))
            .next()
            .map(|e| e.text().collect::<String>());
        v
    }

    /// The pairs a browser would submit for the form whose `action` is `action`: text and
    /// hidden inputs, ticked checkboxes and radios, selected options and textareas.
    pub fn form_values(&self, action: &str) -> Vec<(String, String)> {
        let doc = self.html();
        let form = doc
            .select(&sel(&format!("form[action=\"{action}\"]")))
            .next()
            .unwrap_or_else(|| panic!("no form with action {action} on {}", self.path));
        let mut out = Vec::new();
        for e in form.select(&sel("input, select, textarea")) {
            let v = e.value();
            let Some(name) = v.attr("name") else { continue };
            match v.name() {
                "input" => {
                    let kind = v.attr("type").unwrap_or("text");
                    match kind {
                        "checkbox" | "radio" => {
                            if v.attr("checked").is_some() {
                                out.push((name.into(), v.attr("value").unwrap_or("on").into()));
                            }
                        }
                        "submit" | "button" | "image" | "reset" | "file" => {}
                        _ => out.push((name.into(), v.attr("value").unwrap_or("").into())),
                    }
                }
                "select" => {
                    let options: Vec<ElementRef> = e.select(&sel("option")).collect();
                    let chosen = options
                        .iter()
                        .find(|o| o.value().attr("selected").is_some())
                        .or(options.first());
                    if let Some(o) = chosen {
                        out.push((name.into(), o.value().attr("value").unwrap_or("").into()));
                    }
                }
                "textarea" => out.push((name.into(), e.text().collect())),
                _ => {}
            }
        }
        out
    }

    /// Asserts the status, with the page in the message.
    pub fn assert_status(&self, expected: StatusCode, context: &str) {
        assert_eq!(
            self.status,
            expected,
            "{context}: {} {} answered {} (expected {expected}); body: {}",
            self.method,
            self.path,
            self.status,
            self.snippet()
        );
    }

    /// Asserts a 303 to a location starting with `prefix`.
    pub fn assert_redirect(&self, prefix: &str, context: &str) {
        self.assert_status(StatusCode::SEE_OTHER, context);
        let loc = self.location().unwrap_or("");
        assert!(
            loc.starts_with(prefix),
            "{context}: {} {} redirected to {loc:?}, expected a location starting {prefix:?}",
            self.method,
            self.path
        );
    }

    /// Asserts the error summary has a link to `#field` with exactly this message, and that
    /// the page has an element with that id for the link to lead to.
    pub fn assert_error(&self, field: &str, message: &str, context: &str) {
        let summary = self.error_summary();
        let href = format!("#{field}");
        assert!(
            summary.iter().any(|(h, t)| *h == href && t == message),
            "{context}: {} {} ({}) should have error summary link {href} {message:?}; summary: {summary:?}; title {:?}",
            self.method,
            self.path,
            self.status,
            self.title()
        );
        assert!(
            self.body.contains("There is a problem"),
            "{context}: error summary heading missing"
        );
        assert!(
            self.title().starts_with("Error: "),
            "{context}: page title should start with \"Error: \", got {:?}",
            self.title()
        );
        assert!(
            self.has_id(field),
            "{context}: error link {href} leads to no element with that id"
        );
    }

    /// Asserts the status is not a server error.
    pub fn assert_not_5xx(&self, context: &str) {
        assert!(
            !self.status.is_server_error(),
            "{context}: {} {} answered {}: {}",
            self.method,
            self.path,
            self.status,
            self.snippet()
        );
    }
}

/// A fixture account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: UserId,
    pub org: OrgId,
    pub role: Role,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<PersonId>,
}

impl Account {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            org_id: self.org,
            role: self.role,
            person_id: self.person_id,
        }
    }
}

/// A fixture person.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: PersonId,
    pub org: OrgId,
    pub given: String,
    pub family: String,
}

impl Person {
    pub fn name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
}

/// A valid person's form as a browser would submit it (no CSRF token).
pub fn person_fields(given: &str, family: &str) -> Vec<(String, String)> {
    [
        ("given_name", given),
        ("family_name", family),
        ("dob_day", "7"),
        ("dob_month", "3"),
        ("dob_year", "1958"),
        ("sex", "female"),
        ("preferred_language", "en"),
        ("conditions", "copd"),
        ("what_matters", "Walking to the allotment again"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Replaces every value of each overridden key (or appends it when absent).
pub fn with(fields: &[(String, String)], overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    out.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    out
}

/// Removes every value of the named keys.
pub fn without(fields: &[(String, String)], keys: &[&str]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .cloned()
        .collect()
}

pub fn details(given: &str, family: &str) -> PersonDetails {
    let form = PersonForm {
        given_name: given.into(),
        family_name: family.into(),
        dob_day: "7".into(),
        dob_month: "3".into(),
        dob_year: "1958".into(),
        sex: "female".into(),
        preferred_language: "en".into(),
        conditions: vec!["copd".into()],
        what_matters: "Walking to the allotment again".into(),
        ..Default::default()
    };
    PersonDetails::parse(&form, time::OffsetDateTime::now_utc().date())
        .unwrap_or_else(|e| panic!("fixture details for {given} {family}: {e}"))
}

/// The fixture world: two organisations; in the first one account of every role (the person's
/// account linked to their own record), a spare account for user administration, and people
/// on and off the coach's caseload; in the second an administrator and one person.
pub struct World {
    pub org_a: OrgId,
    pub org_b: OrgId,
    /// One account per role in organisation A, in `Role::ALL` order.
    pub accounts: Vec<Account>,
    /// An account in A that user administration may change.
    pub spare: Account,
    /// The administrator of organisation B.
    pub admin_b: Account,
    /// On the coach's caseload.
    pub on_caseload: Person,
    /// In A, on nobody's caseload.
    pub off_caseload: Person,
    /// In A, the record the person's account is linked to.
    pub own: Person,
    /// In B.
    pub other_org: Person,
}

impl World {
    pub fn account(&self, role: Role) -> &Account {
        self.accounts
            .iter()
            .find(|a| a.role == role)
            .expect("an account for every role")
    }

    pub fn people(&self) -> [&Person; 4] {
        [
            &self.on_caseload,
            &self.off_caseload,
            &self.own,
            &self.other_org,
        ]
    }
}

/// Display names of the fixture accounts (the person's is their own name).
pub fn display_name(role: Role) -> &'static str {
    match role {
        Role::Administrator => "Ada Administrator",
        Role::Coordinator => "Corin Coordinator",
        Role::HealthCoach => "Hana Coach",
        Role::Educator => "Edwin Educator",
        Role::PeerSupportLead => "Petra Peerlead",
        Role::Volunteer => "Vida Volunteer",
        Role::Analyst => "Anselm Analyst",
        Role::Person => "Selwyn Ownrecordson",
    }
}

async fn add_person(app: &TestApp, org: OrgId, given: &str, family: &str) -> Person {
    let id = PersonId::new();
    app.store
        .insert_people_unaudited_actor(org, vec![(id, details(given, family), None)], "fixture")
        .await
        .expect("insert fixture person");
    Person {
        id,
        org,
        given: given.into(),
        family: family.into(),
    }
}

pub async fn create_account(
    app: &TestApp,
    org: OrgId,
    role: Role,
    username: &str,
    display_name: &str,
    person_id: Option<PersonId>,
    hash: &str,
) -> Account {
    let id = app
        .store
        .create_user(
            NewUser {
                org_id: org,
                username: username.into(),
                display_name: display_name.into(),
                role,
                person_id,
                password_hash: hash.into(),
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("create user {username}: {e}"));
    Account {
        id,
        org,
        role,
        username: username.into(),
        display_name: display_name.into(),
        person_id,
    }
}

/// A real argon2id hash of [`PASSWORD`] (with the tests' cheap parameters).
pub async fn password_hash() -> String {
    alongside_web::auth::use_cheap_hashes_in_tests();
    alongside_web::auth::hash_password(PASSWORD.to_string())
        .await
        .expect("hash password")
}

pub async fn world(app: &TestApp) -> World {
    let hash = password_hash().await;
    let org_a = app
        .store
        .create_organisation("Riverside Primary Care Network", "pcn")
        .await
        .expect("org a");
    let org_b = app
        .store
        .create_organisation("Hillside Wellbeing Trust", "trust")
        .await
        .expect("org b");
    let on_caseload = add_person(app, org_a, "Perpetua", "Caseloadine").await;
    let off_caseload = add_person(app, org_a, "Octavian", "Offcaseley").await;
    let own = add_person(app, org_a, "Selwyn", "Ownrecordson").await;
    let other_org = add_person(app, org_b, "Xanthe", "Otherorgova").await;
    let mut accounts = Vec::new();
    for role in Role::ALL {
        let person = (role == Role::Person).then_some(own.id);
        accounts.push(
            create_account(
                app,
                org_a,
                role,
                role.code(),
                display_name(role),
                person,
                &hash,
            )
            .await,
        );
    }
    let coach = accounts
        .iter()
        .find(|a| a.role == Role::HealthCoach)
        .expect("coach");
    app.store
        .add_to_caseload(org_a, coach.id, on_caseload.id)
        .await
        .expect("caseload");
    let spare = create_account(
        app,
        org_a,
        Role::Volunteer,
        "spare.volunteer",
        "Sparrow Spareaccount",
        None,
        &hash,
    )
    .await;
    let admin_b = create_account(
        app,
        org_b,
        Role::Administrator,
        "hillside.admin",
        "Hildegard Hillside",
        None,
        &hash,
    )
    .await;
    World {
        org_a,
        org_b,
        accounts,
        spare,
        admin_b,
        on_caseload,
        off_caseload,
        own,
        other_org,
    }
}

/// Puts the fixture volunteer on a session's rota (volunteers may only use the door of
/// sessions they are on the rota for).
pub async fn roster_volunteer(app: &TestApp, w: &World, g: alongside_core::GroupId, d: time::Date) {
    let t = |s| alongside_core::groups::ClockTime::parse(s).expect("time");
    app.store
        .add_rota_entry_unaudited(
            w.org_a,
            g,
            d,
            w.account(Role::Volunteer).id,
            alongside_core::rota::Duty::Volunteer,
            (t("18:00"), t("23:00")),
        )
        .await
        .expect("roster the volunteer");
}
