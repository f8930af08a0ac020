//! HTTP behaviour tests of the web layer, each run on SQLite and on PostgreSQL against the real
//! router served on a local port: the authorization matrix, bad input on every form, sessions
//! and sign-in, the audit trail, concurrent edits, and each feature's pages. One test binary for
//! the crate: compiled and linked once.

mod support;

mod activation;
mod activities;
mod audit;
mod bad_input;
mod clock;
mod coaching;
mod concurrency;
mod course_runs;
mod education;
mod groups;
mod matrix;
mod outcomes;
mod peer_report;
mod plans;
mod reach;
mod regressions;
mod rota;
mod sessions;
