//! The CSRF sweep, generated from the route table: every POST route, for each of its targets,
//! sent by a role the policy allows there (so the handler would act on a good form) — once
//! without a token and once with another signed-in session's token. Each must be refused with
//! 403 and the "form has expired" page, and nothing may be written: every table except the
//! audit log is compared before and after, and the audit log may only have gained refusals.

use super::{table, targets, Expect, Fixtures, Who};
use crate::support::*;
use alongside_core::Role;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use sqlx::{Column, Row};

/// Every row of every table but the audit log, as text, sorted: what "nothing written" means.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let tables_sql = match app.backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY 1",
        Backend::Postgres => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY 1",
    };
    let tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(app.store.reader())
        .await
        .expect("list tables");
    let mut out = Vec::new();
    for t in tables {
        if t == "audit_log" || t == "audit_heads" {
            continue;
        }
        let rows = sqlx::query(&format!("SELECT * FROM {t}"))
            .fetch_all(app.store.reader())
            .await
            .unwrap_or_else(|e| panic!("read {t}: {e}"));
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                let cells: Vec<String> = (0..r.columns().len())
                    .map(|i| {
                        if let Ok(v) = r.try_get::<Option<String>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<bool>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<Vec<u8>>, _>(i) {
                            format!("{v:?}")
                        } else {
                            panic!(
                                "{t}.{}: a column type the sweep cannot read",
                                r.column(i).name()
                            )
                        }
                    })
                    .collect();
                format!("{t}: {}", cells.join(" | "))
            })
            .collect();
        lines.sort();
        out.extend(lines);
    }
    out
}

/// The first role the policy allows this route and target, if any.
fn allowed_role(rule: super::Rule, t: super::Target) -> Option<Role> {
    Role::ALL
        .into_iter()
        .find(|r| rule(Who::Signed(*r), t) == Expect::Allow)
}

fn refused_as_expired(p: &Page) -> Result<(), String> {
    if p.status != StatusCode::FORBIDDEN {
        return Err(format!("answered {} {}", p.status, p.snippet()));
    }
    if !p.body.contains("The form has expired") {
        return Err(format!(
            "403 without the expired-form page: {}",
            p.snippet()
        ));
    }
    Ok(())
}

async fn every_post_refuses_without_its_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let fx = Fixtures::new(&app).await;
    let cx = fx.cx(&app);
    let mut browsers = Vec::new();
    for role in Role::ALL {
        browsers.push((role, app.sign_in(role.code(), PASSWORD).await));
    }
    // Another live session's token: valid, but not this session's.
    let stranger = app.sign_in(Role::Coordinator.code(), PASSWORD).await;
    let foreign = stranger
        .csrf_token("/")
        .await
        .expect("a signed-in page has a token");
    let anonymous = app.browser();
    let foreign_sign_in = app
        .browser()
        .csrf_token("/sign-in")
        .await
        .expect("the sign-in form has a token");

    let before = snapshot(&app).await;
    let audit_a = app.audit(fx.w.org_a).await.len();
    let audit_b = app.audit(fx.w.org_b).await.len();
    let mut failures = Vec::new();
    let mut sent = 0;
    for row in table().iter().filter(|r| r.method == "POST") {
        for t in targets(row.path) {
            let path = cx.path(row.path, t);
            let (b, token) = if row.path == "/sign-in" {
                (&anonymous, foreign_sign_in.clone())
            } else {
                let Some(role) = allowed_role(row.rule, t) else {
                    continue;
                };
                let b = &browsers
                    .iter()
                    .find(|(r, _)| *r == role)
                    .expect("browser")
                    .1;
                (b, foreign.clone())
            };
            for (how, fields) in [
                ("no token", vec![]),
                (
                    "another session's token",
                    vec![("csrf_token", token.clone())],
                ),
            ] {
                sent += 1;
                let p = b.post_pairs(&path, &fields).await;
                if let Err(e) = refused_as_expired(&p) {
                    failures.push(format!("POST {} [{t:?}] with {how}: {e}", row.path));
                }
            }
        }
    }
    assert!(sent > 100, "the sweep sent only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} POSTs without their token were not refused on {backend:?}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let after = snapshot(&app).await;
    let changed: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "POSTs without their token wrote on {backend:?}: added/changed {changed:#?}, removed {gone:#?}"
    );
    // The audit log gained refusals only (newest entries first).
    for (org, n_before) in [(fx.w.org_a, audit_a), (fx.w.org_b, audit_b)] {
        let entries = app.audit(org).await;
        let added = &entries[..entries.len() - n_before];
        let not_refusals: Vec<String> = added
            .iter()
            .filter(|e| e.outcome != "refused")
            .map(|e| format!("{} {}", e.action, e.outcome))
            .collect();
        assert!(
            not_refusals.is_empty(),
            "POSTs without their token were audited as more than refusals on {backend:?}: {not_refusals:?}"
        );
    }
    // Sessions still work: the refused sign-out did not sign anyone out.
    for (role, b) in &browsers {
        let home = b.get("/").await;
        assert_eq!(
            home.status,
            StatusCode::OK,
            "{role:?} was signed out by a sign-out without its token"
        );
    }
    app.assert_audit_verifies().await;
}

both_backends!(every_post_refuses_without_its_csrf_token);
