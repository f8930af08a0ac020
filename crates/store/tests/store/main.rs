//! The store integration tests: one test binary for the crate (compiled and linked once).

mod support;

mod conformance;
mod fhir_import;
mod outcomes;
mod tidy;
