//! Tidy tests: the architecture's invariants (ARCHITECTURE.md) checked over the source tree,
//! so that a change that breaks one fails here with the file and line.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .to_path_buf()
}

/// Every `.rs` file under `crates/*/src`, with its text.
fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let crates = workspace().join("crates");
    let mut stack: Vec<PathBuf> = std::fs::read_dir(&crates)
        .expect("crates/")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(workspace())
                    .expect("inside the workspace")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).expect("read source")));
            }
        }
    }
    out.sort();
    out
}

/// Lines of `text` (1-based numbers) containing `needle`, outside `//` comments.
fn lines_with(text: &str, needle: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            code.contains(needle)
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn offences(
    files: &[(String, String)],
    needles: &[&str],
    allowed: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut v = Vec::new();
    for (path, text) in files {
        if allowed(path) {
            continue;
        }
        for n in needles {
            for line in lines_with(text, n) {
                v.push(format!("{path}:{line}: {n}"));
            }
        }
    }
    v
}

#[test]
fn no_sql_outside_the_store() {
    let found = offences(
        &sources(),
        &[
            "sqlx::",
            "rusqlite::",
            "SELECT ",
            "INSERT INTO",
            "UPDATE ",
            "DELETE FROM",
        ],
        |p| p.starts_with("crates/store/") || p.starts_with("crates/loadgen/"),
    );
    assert!(
        found.is_empty(),
        "SQL outside crates/store:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_system_clock_outside_the_clock_module() {
    let found = offences(
        &sources(),
        &[
            "now_utc()",
            "SystemTime::now",
            "Timestamp::now()",
            "Zoned::now",
            "alongside_store::now_micros",
            "crate::now_micros",
        ],
        |p| p == "crates/store/src/clock.rs",
    );
    assert!(
        found.is_empty(),
        "the system clock read outside crates/store/src/clock.rs (take time from the store's \
         clock: Store::now, Tx::now, Clock::today):\n{}",
        found.join("\n")
    );
}

#[test]
fn access_is_decided_only_by_the_door() {
    let files = sources();
    // Only the door turns facts into decisions in the store, and only it commits a refusal
    // from a failed use case.
    let found = offences(&files, &["decide(", "Ok(Err("], |p| {
        !p.starts_with("crates/store/") || p == "crates/store/src/door.rs"
    });
    assert!(
        found.is_empty(),
        "decisions or committed refusals outside crates/store/src/door.rs:\n{}",
        found.join("\n")
    );
    // Nobody outside the core and the door builds relationship facts by hand.
    let found = offences(&files, &["PersonRelation {", "SessionRelation {"], |p| {
        p.starts_with("crates/core/") || p == "crates/store/src/door.rs"
    });
    assert!(
        found.is_empty(),
        "relationship facts built outside the door:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_web_handler_decides_access_itself() {
    let found = offences(
        &sources(),
        &["alongside_core::decide(", "access::decide(", " decide(&"],
        |p| !p.starts_with("crates/web/"),
    );
    assert!(
        found.is_empty(),
        "web code deciding access by itself (ask the store: Store::may, a use case, or an \
         extract::Require gate):\n{}",
        found.join("\n")
    );
}

/// No source file over about 1,000 lines unless its module doc says why it is one cohesive
/// thing (the words "One cohesive thing:"): a large file is split along its own sections.
#[test]
fn no_source_file_is_a_warehouse() {
    const LIMIT: usize = 1_050;
    let big: Vec<String> = sources()
        .iter()
        .filter(|(_, text)| text.lines().count() > LIMIT)
        .filter(|(_, text)| !text.contains("One cohesive thing:"))
        .map(|(path, text)| format!("{path}: {} lines", text.lines().count()))
        .collect();
    assert!(
        big.is_empty(),
        "split these along their sections (or say in the module doc why each is \"One cohesive thing:\"):\n{}",
        big.join("\n")
    );
}
