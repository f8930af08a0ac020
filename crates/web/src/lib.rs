//! The web application: server-rendered HTML pages (NHS service manual style) and `/health`.
//!
//! Handlers parse input, ask the store's use cases (which ask `alongside_core::access`), and
//! render. This crate must never contain SQL, and never put health data in log messages or
//! span names (spans are named by the matched route template, never the raw URI).

pub mod assets;
pub mod auth;
pub mod error;
pub mod extract;
pub mod form;
pub mod layout;
pub mod pages;
pub mod routes;
pub mod setup;

use alongside_core::{InstrumentId, OrgId};
use alongside_measure::Instrument;
use alongside_store::Store;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Settings for the web layer.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` and send HSTS (set when served behind TLS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// How long a session lasts, in seconds.
    pub session_seconds: i64,
    /// The address people reach the service at (for links given out, such as calendar
    /// feeds); when unset, taken from the request's Host header.
    pub public_url: Option<String>,
    /// The clock the coaching rules read ("is this booking in the future?").
    pub clock: Clock,
}

pub use alongside_store::clock::Clock;

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            trust_proxy: false,
            session_seconds: 8 * 3600,
            public_url: None,
            clock: Clock::default(),
        }
    }
}

type InstrumentCache = HashMap<(OrgId, InstrumentId), Arc<Instrument>>;

/// Shared state handed to every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub throttle: Arc<auth::Throttle>,
    /// Compiled instrument definitions. Stored versions never change, so entries never go stale.
    instruments: Arc<RwLock<InstrumentCache>>,
    /// Organisation names for the page header (organisations are never renamed in place).
    org_names: Arc<RwLock<HashMap<OrgId, String>>>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            // One clock for the whole application: the store stamps rows by the same clock
            // the pages read "today" from.
            store: store.with_clock(config.clock.clone()),
            config: Arc::new(config),
            throttle: Arc::new(auth::Throttle::default()),
            instruments: Arc::default(),
            org_names: Arc::default(),
        }
    }

    /// An organisation's name, read once and then kept.
    pub async fn org_name(&self, org: OrgId) -> String {
        if let Some(n) = self.org_names.read().expect("org name cache").get(&org) {
            return n.clone();
        }
        let name = self
            .store
            .organisation(org)
            .await
            .map(|o| o.name)
            .unwrap_or_default();
        if !name.is_empty() {
            self.org_names
                .write()
                .expect("org name cache")
                .insert(org, name.clone());
        }
        name
    }

    /// The compiled instrument stored as `id` in `org`.
    pub async fn instrument(
        &self,
        org: OrgId,
        id: InstrumentId,
    ) -> Result<Arc<Instrument>, error::AppError> {
        if let Some(i) = self
            .instruments
            .read()
            .expect("instrument cache")
            .get(&(org, id))
        {
            return Ok(i.clone());
        }
        let row = self.store.instrument(org, id).await?;
        let compiled = Instrument::from_json_str(&row.definition).map_err(|e| {
            error::AppError::Internal(format!("stored instrument {id} no longer loads: {e}"))
        })?;
        let compiled = Arc::new(compiled);
        self.instruments
            .write()
            .expect("instrument cache")
            .insert((org, id), compiled.clone());
        Ok(compiled)
    }
}

/// The whole application router, with security headers, body limit and tracing.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}
