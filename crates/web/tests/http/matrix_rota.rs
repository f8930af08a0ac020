//! The authorization matrix's part for the people who run peer support: the session team and
//! training records, a session's rota, and booking a place on someone's behalf. Rows, targets,
//! the fixture behind the `{entry}` placeholder, and each cell (every POST checks that a
//! refusal writes nothing).
//!
//! Policy: peer-support leads, coordinators and administrators keep the rota and training
//! records (`ManageGroups`); coordinators and peer-support leads book places on a person's
//! behalf; nobody else. Another organisation's group or account is not found (404) for the
//! roles that may use the route, refused (403) for the rest.

use super::groups::Fixture as Groups;
use super::{check_status, Ctx, Expect, Row, Target, Who};
use crate::support::*;
use alongside_core::groups::ClockTime;
use alongside_core::rota::Duty;
use alongside_core::time::iso_date;
use alongside_core::Role;
use reqwest::StatusCode;
use std::sync::Mutex;

const MANAGERS: &[Role] = &[
    Role::Administrator,
    Role::Coordinator,
    Role::PeerSupportLead,
];
const BOOKERS: &[Role] = &[Role::Coordinator, Role::PeerSupportLead];

/// A rota entry of the peer-support lead (staff, 18:00–19:00) on the groups fixture's session,
/// for the remove route; replaced each time an allowed cell removes it.
pub struct Fixture {
    entry: Mutex<String>,
}

fn t(s: &str) -> ClockTime {
    ClockTime::parse(s).expect("time")
}

async fn lead_entry(app: &TestApp, w: &World, g: &Groups) -> String {
    app.store
        .add_rota_entry_unaudited(
            w.org_a,
            g.same,
            g.date,
            w.account(Role::PeerSupportLead).id,
            Duty::Staff,
            (t("18:00"), t("19:00")),
        )
        .await
        .expect("lead on the rota")
}

pub async fn fixture(app: &TestApp, w: &World, g: &Groups) -> Fixture {
    Fixture {
        entry: Mutex::new(lead_entry(app, w, g).await),
    }
}

fn route(who: Who, t: Target, allowed: &[Role], other: Target) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(r) if !allowed.contains(&r) => Expect::Deny,
        Who::Signed(_) if t == other => Expect::NotFound,
        Who::Signed(_) => Expect::Allow,
    }
}

pub fn rows() -> Vec<Row> {
    let row = |method, path, rule| Row { method, path, rule };
    vec![
        row("GET", "/rota/people", |w, _| super::org_wide(w, MANAGERS)),
        row("GET", "/rota/people/{id}", |w, t| {
            route(w, t, MANAGERS, Target::OtherOrgUser)
        }),
        row("POST", "/rota/people/{id}/training", |w, t| {
            route(w, t, MANAGERS, Target::OtherOrgUser)
        }),
        row("GET", "/groups/{id}/sessions/{date}/rota", |w, t| {
            route(w, t, MANAGERS, Target::OtherOrgGroup)
        }),
        row("POST", "/groups/{id}/sessions/{date}/rota", |w, t| {
            route(w, t, MANAGERS, Target::OtherOrgGroup)
        }),
        row(
            "POST",
            "/groups/{id}/sessions/{date}/rota/{entry}/remove",
            |w, t| route(w, t, MANAGERS, Target::OtherOrgGroup),
        ),
        row("GET", "/groups/{id}/sessions/{date}/bookings", |w, t| {
            route(w, t, BOOKERS, Target::OtherOrgGroup)
        }),
        row("POST", "/groups/{id}/sessions/{date}/bookings", |w, t| {
            route(w, t, BOOKERS, Target::OtherOrgGroup)
        }),
    ]
}

fn handles(template: &str) -> bool {
    template.starts_with("/rota/")
        || template.ends_with("/rota")
        || template.contains("/rota/{entry}")
        || template.ends_with("/bookings")
}

pub fn targets(path: &str) -> Option<Vec<Target>> {
    if path.starts_with("/rota/people/{id}") {
        return Some(vec![Target::SameOrgUser, Target::OtherOrgUser]);
    }
    if path == "/rota/people" {
        return Some(vec![Target::Nothing]);
    }
    None
}

pub fn path(cx: &Ctx<'_>, template: &str, t: Target) -> Option<String> {
    if !handles(template) {
        return None;
    }
    let g = cx.grp;
    let w = cx.w;
    let out = match t {
        Target::SameOrgUser => template.replace("{id}", &w.spare.id.to_string()),
        Target::OtherOrgUser => template.replace("{id}", &w.admin_b.id.to_string()),
        Target::SameOrgGroup | Target::OtherOrgGroup => {
            let id = if t == Target::SameOrgGroup {
                g.same
            } else {
                g.other
            };
            template
                .replace("{id}", &id.to_string())
                .replace("{date}", &iso_date(g.date))
                .replace("{entry}", &cx.rota.entry.lock().expect("entry").clone())
        }
        _ => template.to_string(),
    };
    Some(out)
}

async fn rota_len(cx: &Ctx<'_>) -> usize {
    cx.app
        .store
        .rota(cx.w.org_a, cx.grp.same, cx.grp.date)
        .await
        .expect("rota")
        .len()
}

async fn training_len(cx: &Ctx<'_>) -> usize {
    cx.app
        .store
        .training_records(cx.w.org_a, None)
        .await
        .expect("training")
        .len()
}

async fn booked(cx: &Ctx<'_>) -> bool {
    cx.app
        .store
        .has_booking(cx.w.org_a, cx.grp.same, cx.grp.date, cx.w.own.id)
        .await
        .expect("booking")
}

fn check_page(cx: &Ctx<'_>, template: &str, p: &Page) -> Result<(), String> {
    let w = cx.w;
    match template {
        "/rota/people" => {
            ensure!(p.h1() == "Session team", "h1 {:?}", p.h1());
            ensure!(
                p.main_text().contains(display_name(Role::Volunteer))
                    && p.main_text().contains(display_name(Role::PeerSupportLead)),
                "the team should list the staff and volunteers"
            );
            ensure!(
                !p.body.contains(&w.admin_b.display_name),
                "the team shows another organisation's account"
            );
            ensure!(
                !p.body.contains(&w.own.family),
                "the team lists a person's own account"
            );
        }
        "/rota/people/{id}" => {
            let h = format!("Training: {}", w.spare.display_name);
            ensure!(p.h1() == h, "h1 {:?}", p.h1());
        }
        "/groups/{id}/sessions/{date}/rota" => {
            ensure!(
                p.h1() == format!("Rota: {}", super::groups::NAME_A),
                "h1 {:?}",
                p.h1()
            );
            ensure!(
                p.main_text().contains(display_name(Role::Volunteer)),
                "the rota should show who is on"
            );
        }
        "/groups/{id}/sessions/{date}/bookings" => {
            ensure!(
                p.h1() == format!("Book a place: {}", super::groups::NAME_A),
                "h1 {:?}",
                p.h1()
            );
        }
        other => return Err(format!("no content check for {other}")),
    }
    Ok(())
}

pub async fn run(
    cx: &Ctx<'_>,
    b: &Browser,
    row: &Row,
    t: Target,
    expect: Expect,
    path: &str,
) -> Result<Option<(Page, bool)>, String> {
    if !handles(row.path) {
        return Ok(None);
    }
    let app = cx.app;
    let w = cx.w;
    let allowed = expect == Expect::Allow;
    let page = match (row.method, row.path) {
        ("GET", tpl) => {
            let p = b.get(path).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::OK,
                    "expected 200, got {}: {}",
                    p.status,
                    p.snippet()
                );
                check_page(cx, tpl, &p)?;
            } else {
                check_status(&p, expect)?;
                if let Some(u) = cx.user(t) {
                    ensure!(
                        !p.body.contains(&u.display_name),
                        "a refusal shows the user's name"
                    );
                }
            }
            p
        }
        ("POST", "/rota/people/{id}/training") => {
            let before = training_len(cx).await;
            let p = b
                .post_form_from(
                    "/",
                    path,
                    &[
                        ("course", "safeguarding"),
                        ("completed_day", "1"),
                        ("completed_month", "3"),
                        ("completed_year", "2026"),
                        ("expires_day", "1"),
                        ("expires_month", "2"),
                        ("expires_year", "2026"),
                    ],
                )
                .await;
            if allowed {
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary().contains(&(
                            "#expires_day".into(),
                            "The expiry date must be the same as or after the date it was completed"
                                .into()
                        )),
                    "an expiry before completion should be refused naming the field, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
            } else {
                check_status(&p, expect)?;
            }
            ensure!(training_len(cx).await == before, "training was recorded");
            p
        }
        ("POST", "/groups/{id}/sessions/{date}/rota") => {
            let before = rota_len(cx).await;
            let lead = w.account(Role::PeerSupportLead).id.to_string();
            let p = b
                .post_form_from(
                    "/",
                    path,
                    &[
                        ("user", lead.as_str()),
                        ("duty", "staff"),
                        ("start_time", "18:30"),
                        ("end_time", "19:30"),
                    ],
                )
                .await;
            if allowed {
                let msg = format!(
                    "{} is already on the rota from 18:00 to 19:00 that day ({}): the times overlap",
                    display_name(Role::PeerSupportLead),
                    super::groups::NAME_A
                );
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary()
                            .contains(&("#start_time".into(), msg.clone())),
                    "an overlapping entry should be refused with {msg:?}, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
            } else {
                check_status(&p, expect)?;
            }
            ensure!(rota_len(cx).await == before, "the rota changed");
            p
        }
        ("POST", "/groups/{id}/sessions/{date}/rota/{entry}/remove") => {
            let before = rota_len(cx).await;
            let p = b.post_form_from("/", path, &[] as &[(&str, &str)]).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location().is_some_and(|l| l.ends_with("/rota?removed=1"))
                        && rota_len(cx).await == before - 1,
                    "removing should be 303 and take one entry off, got {} {:?}",
                    p.status,
                    p.location()
                );
                // Put the lead back on for the next cells.
                let fresh = lead_entry(app, w, cx.grp).await;
                *cx.rota.entry.lock().expect("entry") = fresh;
            } else {
                check_status(&p, expect)?;
                ensure!(
                    rota_len(cx).await == before,
                    "a refused request changed the rota"
                );
            }
            p
        }
        ("POST", "/groups/{id}/sessions/{date}/bookings") => {
            let person = w.own.id.to_string();
            let p = b
                .post_form_from(
                    "/",
                    path,
                    &[("person", person.as_str()), ("action", "book")],
                )
                .await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER && booked(cx).await,
                    "booking on someone's behalf should be 303 and hold a place, got {}",
                    p.status
                );
                let c = b
                    .post_form_from(
                        "/",
                        path,
                        &[("person", person.as_str()), ("action", "cancel")],
                    )
                    .await;
                ensure!(
                    c.status == StatusCode::SEE_OTHER && !booked(cx).await,
                    "cancelling on someone's behalf: {}",
                    c.status
                );
            } else {
                check_status(&p, expect)?;
                ensure!(!booked(cx).await, "a refused request booked a place");
            }
            p
        }
        (method, template) => return Err(format!("no cell for {method} {template}")),
    };
    // The bookings page names the people booked to the staff who book for them.
    Ok(Some((page, !row.path.ends_with("/bookings"))))
}
