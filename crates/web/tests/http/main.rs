//! HTTP behaviour tests of the web layer, each run on SQLite and on PostgreSQL against the real
//! router served on a local port: the authorization matrix, bad input on every form, sessions
//! and sign-in, the audit trail, and concurrent edits.

#[path = "../support/mod.rs"]
mod support;

mod audit;
mod bad_input;
mod clock;
mod concurrency;
mod matrix;
mod plans;
mod regressions;
mod sessions;
