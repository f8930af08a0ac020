//! Sign-in, sessions, CSRF protection, password hashing and throttling of failed sign-ins.
//!
//! Sessions are server-side: the cookie holds the organisation id and a random token; the
//! database holds only the token's SHA-256. Every form carries a CSRF token — the session's,
//! or for the sign-in form a per-browser token in its own cookie — checked on every POST.

use crate::error::AppError;
use crate::AppState;
use alongside_core::access::Actor;
use alongside_core::OrgId;
use alongside_store::people::Source;
use alongside_store::users::User;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
#[cfg(debug_assertions)]
use argon2::{Algorithm, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "alongside_session";
pub const CSRF_COOKIE: &str = "alongside_csrf";

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Password hashing runs on a small, fixed set of dedicated threads. Each argon2id hash takes
/// 19 MiB; run on arbitrary blocking threads, a burst of sign-ins left that much memory held by
/// every thread's allocator arena (hundreds of MB measured after 32 sign-ins). With a fixed
/// set of threads at most `HASH_THREADS` × 19 MiB is ever in use; other requests queue.
const HASH_THREADS: usize = 2;

type HashJob = Box<dyn FnOnce() + Send>;

static HASHER: std::sync::LazyLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> =
    std::sync::LazyLock::new(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..HASH_THREADS {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("start a password-hashing thread");
        }
        std::sync::Mutex::new(tx)
    });

/// Runs `f` on a password-hashing thread and waits for its answer without blocking the runtime.
async fn on_hash_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = tx.send(f());
    });
    HASHER
        .lock()
        .map_err(|_| AppError::Internal("password hasher lock".into()))?
        .send(job)
        .map_err(|_| AppError::Internal("password hasher stopped".into()))?;
    rx.await
        .map_err(|_| AppError::Internal("password hasher stopped".into()))
}

/// The argon2id hasher: the library's defaults (19 MiB, 2 passes, 1 lane). Only a debug build
/// can be told to hash cheaply (8 KiB, 1 pass) — by a test calling
/// [`use_cheap_hashes_in_tests`], or by `ALONGSIDE_TEST_CHEAP_HASHES=1` in the environment of a
/// binary a test starts. A release build has no such path: it is compiled out.
fn hasher() -> Argon2<'static> {
    #[cfg(debug_assertions)]
    if cheap_hashes() {
        let params = Params::new(8, 1, 1, None).expect("cheap argon2 parameters");
        return Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    }
    Argon2::default()
}

#[cfg(debug_assertions)]
static CHEAP_HASHES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tests only (debug builds): hash new passwords with cheap parameters from now on. Checking a
/// password reads the parameters from its stored hash, so both kinds keep working.
#[cfg(debug_assertions)]
pub fn use_cheap_hashes_in_tests() {
    CHEAP_HASHES.store(true, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(debug_assertions)]
fn cheap_hashes() -> bool {
    static FROM_ENV: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("ALONGSIDE_TEST_CHEAP_HASHES").is_ok_and(|v| v == "1")
    });
    CHEAP_HASHES.load(std::sync::atomic::Ordering::Relaxed) || *FROM_ENV
}

/// Hashes a password with argon2id ([`hasher`]: 19 MiB, 2 passes).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    on_hash_thread(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await?
}

/// A fixed hash checked when the user name is unknown, so a miss takes as long as a hit.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"alongside-dummy-salt").expect("salt");
    hasher()
        .hash_password(b"not a real password", &salt)
        .expect("hash")
        .to_string()
});

pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    on_hash_thread(move || {
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        match PasswordHash::new(&hash) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

/// Why a new password is not acceptable, or `None`.
pub fn password_problem(password: &str, username: &str) -> Option<&'static str> {
    let n = password.chars().count();
    if n < 10 {
        Some("Password must be 10 characters or more")
    } else if n > 128 {
        Some("Password must be 128 characters or fewer")
    } else if password.to_lowercase() == username.to_lowercase() {
        Some("Password must not be the same as the user name")
    } else if [
        "password123",
        "1234567890",
        "qwertyuiop",
        "passwordpassword",
    ]
    .contains(&password.to_lowercase().as_str())
    {
        Some("Password is too common: choose something harder to guess")
    } else {
        None
    }
}

/// Counts failed sign-ins per user name and per client address in a sliding window.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

pub const MAX_FAILURES_PER_NAME: u32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl Throttle {
    fn count(&self, key: &str) -> u32 {
        let map = self.failures.lock().expect("throttle lock");
        match map.get(key) {
            Some((n, since)) if since.elapsed() < THROTTLE_WINDOW => *n,
            _ => 0,
        }
    }
    /// True when further attempts for this name or address must wait.
    pub fn blocked(&self, username: &str, address: &str) -> bool {
        self.count(&format!("u:{username}")) >= MAX_FAILURES_PER_NAME
            || self.count(&format!("a:{address}")) >= MAX_FAILURES_PER_ADDRESS
    }
    pub fn record_failure(&self, username: &str, address: &str) {
        let mut map = self.failures.lock().expect("throttle lock");
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < THROTTLE_WINDOW);
        }
        for key in [format!("u:{username}"), format!("a:{address}")] {
            let e = map.entry(key).or_insert((0, Instant::now()));
            if e.1.elapsed() >= THROTTLE_WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }
    pub fn record_success(&self, username: &str) {
        self.failures
            .lock()
            .expect("throttle lock")
            .remove(&format!("u:{username}"));
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool, same_site: &str) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The signed-in user, taken from the session cookie. Routes that need a signed-in user take
/// this as an argument; without a live session the request is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub actor: Actor,
    pub csrf: String,
    pub token_hash: String,
    pub org_name: String,
}

impl CurrentUser {
    /// Whether the access rules allow `action` organisation-wide (what a page offers).
    pub fn may(&self, action: alongside_core::Action) -> bool {
        alongside_store::door::org_decision(&self.actor, action).allowed
    }

    /// Refuses (403, audited by the refusal layer) unless the access rules allow `action`
    /// organisation-wide.
    pub fn require(&self, action: alongside_core::Action) -> Result<(), AppError> {
        let d = alongside_store::door::org_decision(&self.actor, action);
        if d.allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(d.reason))
        }
    }

    /// Checks a submitted form's CSRF token against the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        if constant_time_eq(submitted, &self.csrf) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }
}

/// Parses the session cookie into (organisation, token).
pub fn parse_session_cookie(value: &str) -> Option<(OrgId, String)> {
    let (org, token) = value.split_once('.')?;
    Some((org.parse().ok()?, token.to_string()))
}

/// Where the refusal layer learns who was refused: filled in when a request's user is known.
#[derive(Debug, Clone, Default)]
pub struct ActorSlot(pub std::sync::Arc<Mutex<Option<(Actor, Source)>>>);

impl CurrentUser {
    /// The signed-in user of a request, from the session cookie, or the sign-in redirect.
    async fn from_session(parts: &Parts, state: &AppState) -> Result<CurrentUser, AppError> {
        let next = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let next = if parts.method == axum::http::Method::GET {
            next
        } else {
            String::new()
        };
        let Some((org, token)) = cookie_value(&parts.headers, SESSION_COOKIE)
            .as_deref()
            .and_then(parse_session_cookie)
        else {
            return Err(AppError::SignInRequired { next });
        };
        let hash = token_hash(&token);
        let Some(session) = state.store.session(org, &hash).await? else {
            return Err(AppError::SignInRequired { next });
        };
        let org_name = state.org_name(org).await;
        let u = session.user;
        Ok(CurrentUser {
            actor: Actor {
                user_id: u.id,
                org_id: u.org_id,
                role: u.role,
                person_id: u.person_id,
            },
            user: u,
            csrf: session.csrf_token,
            token_hash: hash,
            org_name,
        })
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    /// Taken from the request when the router's signed-in gate has already found it,
    /// otherwise looked up from the session cookie.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = match parts.extensions.get::<CurrentUser>() {
            Some(u) => u.clone(),
            None => Self::from_session(parts, state).await?,
        };
        if let Some(slot) = parts.extensions.get::<ActorSlot>() {
            let source = client_source(parts, state.config.trust_proxy);
            *slot.0.lock().expect("actor slot") = Some((user.actor.clone(), source));
        }
        Ok(user)
    }
}

/// The router's gate for signed-in routes: no live session, no handler (the sign-in page
/// instead); the user found is handed on to the handler's extractor.
pub async fn require_session(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    match CurrentUser::from_session(&parts, &state).await {
        Ok(user) => {
            parts.extensions.insert(user);
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Err(e) => e.into_response(),
    }
}

/// The client address of a request, for the audit log.
pub fn client_source(parts: &Parts, trust_proxy: bool) -> Source {
    if trust_proxy {
        if let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return Source(Some(ip.trim().chars().take(64).collect()));
        }
    }
    let addr = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    Source(addr)
}

/// The client address for the audit log.
pub struct ClientSource(pub Source);

impl FromRequestParts<AppState> for ClientSource {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientSource(client_source(parts, state.config.trust_proxy)))
    }
}
