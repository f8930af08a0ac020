//! The measure integration tests: one test binary for the crate (compiled and linked once).

mod common;

mod batch;
mod properties;
mod reference;
mod scoring;
mod validation;
