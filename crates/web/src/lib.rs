//! The web application: server-rendered HTML pages (NHS service manual style) and `/health`.
//!
//! Handlers parse input, ask the store's use cases (which ask `alongside_core::access`), and
//! render. This crate must never contain SQL, and never put health data in log messages or
//! span names (spans are named by the matched route template, never the raw URI).

pub mod assets;
pub mod auth;
pub mod error;
pub mod form;
pub mod layout;
pub mod pages;
pub mod routes;

use alongside_store::Store;
use axum::Router;
use std::sync::Arc;

/// Settings for the web layer.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` and send HSTS (set when served behind TLS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// How long a session lasts, in seconds.
    pub session_seconds: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            trust_proxy: false,
            session_seconds: 8 * 3600,
        }
    }
}

/// Shared state handed to every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub throttle: Arc<auth::Throttle>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            throttle: Arc::new(auth::Throttle::default()),
        }
    }
}

/// The whole application router, with security headers, body limit and tracing.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}
