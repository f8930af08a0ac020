//! The stats integration tests: one test binary for the crate (compiled and linked once).

mod evaluate;
mod properties;
mod statsmodels_reference;
