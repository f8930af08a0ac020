//! The authorization matrix's part for activities within a session and the peer-support
//! report: expectation rows, POST cells and content checks.
//!
//! Policy: peer-support leads, coordinators and administrators define a group's activities;
//! they and volunteers sign people up to an activity at the door (first names only); the
//! peer-support report is de-identified and open to administrators, coordinators, peer-support
//! leads and analysts. Another organisation's group is not found (404) for roles that may use
//! the route, and refused (403) for the rest.

use super::groups::{group_route, DOOR, MANAGERS};
use super::{check_status, Ctx, Expect, Row, Target};
use crate::support::*;
use alongside_core::Role;
use alongside_store::activities::NewActivity;
use alongside_store::people::Source;
use reqwest::StatusCode;

const REPORT: &[Role] = &[
    Role::Administrator,
    Role::Coordinator,
    Role::PeerSupportLead,
    Role::Analyst,
];

pub fn rows() -> Vec<Row> {
    let row = |method, path, rule: super::Rule| Row { method, path, rule };
    vec![
        row("GET", "/groups/{id}/activities", |w, t| {
            group_route(w, t, MANAGERS)
        }),
        row("POST", "/groups/{id}/activities", |w, t| {
            group_route(w, t, MANAGERS)
        }),
        row("POST", "/groups/{id}/sessions/{date}/activities", |w, t| {
            group_route(w, t, DOOR)
        }),
        row("GET", "/reports/peer-support", |w, _| {
            super::org_wide(w, REPORT)
        }),
        row("GET", "/reports/peer-support.csv", |w, _| {
            super::org_wide(w, REPORT)
        }),
    ]
}

pub fn handles(template: &str) -> bool {
    template.ends_with("/activities") || template.starts_with("/reports/peer-support")
}

/// The fixture group's activity, added on first use.
async fn activity(cx: &Ctx<'_>) -> String {
    let app = cx.app;
    let w = cx.w;
    let existing = app
        .store
        .group_activities(w.org_a, cx.grp.same)
        .await
        .expect("activities");
    if let Some(a) = existing.into_iter().next() {
        return a.id;
    }
    app.store
        .create_activity(
            &w.account(Role::Coordinator).actor(),
            cx.grp.same,
            NewActivity {
                name: "Matrix workshop".into(),
                capacity: 8,
                facilitator: None,
            },
            Source(Some("fixture".into())),
        )
        .await
        .expect("activity")
}

pub async fn post_cell(
    cx: &Ctx<'_>,
    b: &Browser,
    template: &str,
    t: Target,
    expect: Expect,
) -> Result<Page, String> {
    let app = cx.app;
    let w = cx.w;
    let path = cx.path(template, t);
    let aid = activity(cx).await;
    let count = || async {
        app.store
            .group_activities(w.org_a, cx.grp.same)
            .await
            .expect("activities")
            .len()
    };
    let before = count().await;
    let p = match template {
        "/groups/{id}/activities" => {
            let p = b
                .post_form_from(
                    "/",
                    &path,
                    &[("action", "add"), ("name", ""), ("capacity", "0")],
                )
                .await;
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary()
                            .contains(&("#capacity".into(), "Places must be 1 or more".into())),
                    "a bad activity should be refused naming the field, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
            } else {
                check_status(&p, expect)?;
            }
            p
        }
        "/groups/{id}/sessions/{date}/activities" => {
            let p = b
                .post_form_from(
                    "/",
                    &path,
                    &[("activity", aid.as_str()), ("attendance", "")],
                )
                .await;
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary().contains(&(
                            format!("#attendance-{aid}"),
                            "Choose who to sign up for the activity".into()
                        )),
                    "a sign-up without anyone chosen should be refused naming the field, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
            } else {
                check_status(&p, expect)?;
            }
            let n = app
                .store
                .activity_signup_count(w.org_a, cx.grp.same, cx.grp.date, &aid)
                .await
                .expect("count");
            ensure!(n == 0, "a refused sign-up was written");
            p
        }
        other => return Err(format!("no POST cell for {other}")),
    };
    ensure!(count().await == before, "the number of activities changed");
    Ok(p)
}

pub fn check_page(template: &str, p: &Page) -> Result<(), String> {
    match template {
        "/groups/{id}/activities" => {
            ensure!(p.h1() == "Activities", "h1 {:?}", p.h1());
            ensure!(
                p.main_text().contains(super::groups::NAME_A),
                "the activities page names its group"
            );
        }
        "/reports/peer-support" => {
            ensure!(p.h1() == "Peer support report", "h1 {:?}", p.h1());
        }
        "/reports/peer-support.csv" => {
            ensure!(
                p.header("content-type")
                    .is_some_and(|c| c.starts_with("text/csv"))
                    && p.body.starts_with("section,"),
                "peer-support CSV: {:?}",
                p.snippet()
            );
        }
        other => return Err(format!("no content check for {other}")),
    }
    Ok(())
}
