//! The e2e integration tests: one test binary for the crate (compiled and linked once).

mod support;

mod browser;
mod browser_coaching;
mod browser_courses;
mod browser_groups;
mod browser_questionnaire;
mod crash_safety;
mod import_encounters;
