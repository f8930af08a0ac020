//! The authorization matrix's peer-support part: expectation rows, targets (a group of this
//! organisation and one of another), paths, POST cells and content checks for the groups,
//! sessions, door, booking, "coming up" and attendance routes.
//!
//! Policy: anyone signed in may find groups and see sessions (they name no one); peer-support
//! leads, coordinators and administrators create and change groups and sessions; they and
//! volunteers on the session's rota sign people in at the door (first names only; the fixture
//! puts the volunteer on the rota of the session the matrix uses); a person joins and books for
//! themselves; attendance history follows the person-record rule. Another organisation's
//! group is not found (404) for roles that may use the route, and refused (403) for the rest.

use super::{check_status, Ctx, Expect, Row, Rule, Target, Who};
use crate::support::*;
use alongside_core::groups::{GroupDetails, GroupForm};
use alongside_core::time::iso_date;
use alongside_core::{GroupId, Role};
use alongside_store::people::Source;
use reqwest::StatusCode;

pub struct Fixture {
    pub same: GroupId,
    pub other: GroupId,
    pub date: time::Date,
}

pub const NAME_A: &str = "Matrix evening café";
pub const NAME_B: &str = "Hillside walking group";

fn details(name: &str) -> GroupDetails {
    let t = alongside_web::Clock::default().today();
    let until = t.saturating_add(time::Duration::days(30));
    GroupDetails::parse(&GroupForm {
        name: name.into(),
        kind: "formal".into(),
        focus: "any".into(),
        mode: "in_person".into(),
        venue: "Community hall".into(),
        who_may_join: "Anyone".into(),
        first_day: t.day().to_string(),
        first_month: u8::from(t.month()).to_string(),
        first_year: t.year().to_string(),
        start_time: "18:00".into(),
        end_time: "23:00".into(),
        repeat: "daily".into(),
        until_day: until.day().to_string(),
        until_month: u8::from(until.month()).to_string(),
        until_year: until.year().to_string(),
        capacity: "60".into(),
        walk_in_places: "10".into(),
        ..Default::default()
    })
    .expect("fixture group")
}

pub async fn fixture(app: &TestApp, w: &World) -> Fixture {
    let src = || Source(Some("fixture".into()));
    let same = app
        .store
        .create_group(
            &w.account(Role::Coordinator).actor(),
            details(NAME_A),
            src(),
        )
        .await
        .expect("group a");
    let other = app
        .store
        .create_group(&w.admin_b.actor(), details(NAME_B), src())
        .await
        .expect("group b");
    let date = alongside_web::Clock::default()
        .today()
        .saturating_add(time::Duration::days(1));
    // Volunteers use the door only at sessions they are on the rota for.
    let t = |s| alongside_core::groups::ClockTime::parse(s).expect("time");
    app.store
        .add_rota_entry_unaudited(
            w.org_a,
            same,
            date,
            w.account(Role::Volunteer).id,
            alongside_core::rota::Duty::Volunteer,
            (t("18:00"), t("23:00")),
        )
        .await
        .expect("roster the volunteer");
    Fixture { same, other, date }
}

pub fn group_route(who: Who, t: Target, allowed: &[Role]) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(r) if !allowed.contains(&r) => Expect::Deny,
        Who::Signed(_) if t == Target::OtherOrgGroup => Expect::NotFound,
        Who::Signed(_) => Expect::Allow,
    }
}

pub const MANAGERS: &[Role] = &[
    Role::Administrator,
    Role::Coordinator,
    Role::PeerSupportLead,
];
pub const DOOR: &[Role] = &[
    Role::Administrator,
    Role::Coordinator,
    Role::PeerSupportLead,
    Role::Volunteer,
];
const PERSON: &[Role] = &[Role::Person];

pub fn rows() -> Vec<Row> {
    let row = |method, path, rule: Rule| Row { method, path, rule };
    vec![
        row("GET", "/groups", super::signed_in),
        row("GET", "/groups/new", |w, _| super::org_wide(w, MANAGERS)),
        row("POST", "/groups", |w, _| super::org_wide(w, MANAGERS)),
        row("GET", "/groups/{id}", |w, t| group_route(w, t, &Role::ALL)),
        row("GET", "/groups/{id}/edit", |w, t| {
            group_route(w, t, MANAGERS)
        }),
        row("POST", "/groups/{id}/edit", |w, t| {
            group_route(w, t, MANAGERS)
        }),
        row("POST", "/groups/{id}/join", |w, t| {
            group_route(w, t, PERSON)
        }),
        row("GET", "/groups/{id}/sessions/{date}", |w, t| {
            group_route(w, t, &Role::ALL)
        }),
        row("POST", "/groups/{id}/sessions/{date}/change", |w, t| {
            group_route(w, t, MANAGERS)
        }),
        row("POST", "/groups/{id}/sessions/{date}/booking", |w, t| {
            group_route(w, t, PERSON)
        }),
        row("GET", "/groups/{id}/sessions/{date}/door", |w, t| {
            group_route(w, t, DOOR)
        }),
        row("POST", "/groups/{id}/sessions/{date}/door", |w, t| {
            group_route(w, t, DOOR)
        }),
        row("GET", "/my/upcoming", |w, _| super::org_wide(w, PERSON)),
        row("GET", "/people/{id}/attendance", |w, t| {
            super::person_route(w, t, super::reads)
        }),
    ]
}

pub fn targets(path: &str) -> Option<Vec<Target>> {
    path.starts_with("/groups/{id}")
        .then(|| vec![Target::SameOrgGroup, Target::OtherOrgGroup])
}

pub fn path(f: &Fixture, template: &str, t: Target) -> Option<String> {
    let id = match t {
        Target::SameOrgGroup => f.same,
        Target::OtherOrgGroup => f.other,
        _ => return None,
    };
    Some(
        template
            .replace("{id}", &id.to_string())
            .replace("{date}", &iso_date(f.date)),
    )
}

pub fn handles(template: &str) -> bool {
    template.starts_with("/groups")
        || template == "/my/upcoming"
        || template == "/people/{id}/attendance"
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
    let f = cx.grp;
    let path = cx.path(template, t);
    let groups_before = app.store.groups(w.org_a).await.expect("groups").len();
    let p = match template {
        "/groups" => {
            let p = b.post_form_from("/", &path, &[("name", "")]).await;
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary()
                            .contains(&("#name".into(), "Enter the group's name".into())),
                    "an empty group form should be refused naming the field, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
            } else {
                check_status(&p, expect)?;
            }
            p
        }
        "/groups/{id}/edit" => {
            let p = b
                .post_form_from("/", &path, &[("name", ""), ("version", "1")])
                .await;
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY,
                    "an invalid change should be 422, got {}",
                    p.status
                );
            } else {
                check_status(&p, expect)?;
            }
            let g = app.store.group(w.org_a, f.same).await.expect("group");
            ensure!(
                g.details.name == NAME_A && g.version == 1,
                "the group changed"
            );
            p
        }
        "/groups/{id}/join" => {
            let p = b.post_form_from("/", &path, &[] as &[(&str, &str)]).await;
            let member = app
                .store
                .memberships(w.org_a, w.own.id)
                .await
                .expect("memberships")
                .contains(&f.same);
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::SEE_OTHER && member,
                    "joining should be 303 and make a member, got {} member={member}",
                    p.status
                );
            } else {
                check_status(&p, expect)?;
            }
            p
        }
        "/groups/{id}/sessions/{date}/change" => {
            let p = b
                .post_form_from(
                    "/",
                    &path,
                    &[
                        ("action", "move"),
                        ("move_day", "x"),
                        ("move_start", "18:00"),
                        ("move_end", "17:00"),
                    ],
                )
                .await;
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary().contains(&(
                            "#move_end".into(),
                            "The end time must be after the start time".into()
                        )),
                    "an invalid move should be refused naming the field, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
            } else {
                check_status(&p, expect)?;
            }
            let g = app.store.group(w.org_a, f.same).await.expect("group");
            let s = app.store.group_session(&g, f.date).await.expect("session");
            ensure!(!s.cancelled && !s.moved(), "the session changed");
            p
        }
        "/groups/{id}/sessions/{date}/booking" => {
            let p = b.post_form_from("/", &path, &[("action", "book")]).await;
            let booked = app
                .store
                .has_booking(w.org_a, f.same, f.date, w.own.id)
                .await
                .expect("booking");
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::SEE_OTHER && booked,
                    "booking should be 303 and hold a place, got {} booked={booked}",
                    p.status
                );
                let c = b.post_form_from("/", &path, &[("action", "cancel")]).await;
                ensure!(
                    c.status == StatusCode::SEE_OTHER,
                    "cancelling: {}",
                    c.status
                );
            } else {
                check_status(&p, expect)?;
                ensure!(!booked, "a refused request booked a place");
            }
            p
        }
        "/groups/{id}/sessions/{date}/door" => {
            let before = app
                .store
                .session_attendance_count(w.org_a, f.same, f.date)
                .await
                .expect("count");
            let p = b
                .post_form_from("/", &path, &[("first_name", "Matrixwalker")])
                .await;
            let after = app
                .store
                .session_attendance_count(w.org_a, f.same, f.date)
                .await
                .expect("count");
            if expect == Expect::Allow {
                ensure!(
                    p.status == StatusCode::SEE_OTHER && after == before + 1,
                    "signing in should be 303 and add one attendance, got {} ({before} -> {after})",
                    p.status
                );
            } else {
                check_status(&p, expect)?;
                ensure!(after == before, "a refused sign-in wrote attendance");
            }
            p
        }
        other => return Err(format!("no POST cell for {other}")),
    };
    let groups_after = app.store.groups(w.org_a).await.expect("groups").len();
    ensure!(
        groups_before == groups_after,
        "the number of groups changed"
    );
    Ok(p)
}

pub fn check_page(
    cx: &Ctx<'_>,
    role: Option<Role>,
    template: &str,
    t: Target,
    p: &Page,
) -> Result<(), String> {
    match template {
        "/groups" => {
            ensure!(p.h1() == "Peer support groups", "h1 {:?}", p.h1());
            ensure!(
                p.main_text().contains(NAME_A),
                "the list should show the group"
            );
            ensure!(
                !p.body.contains(NAME_B),
                "the list shows another organisation's group"
            );
        }
        "/groups/new" => ensure!(p.h1() == "Create a group", "h1 {:?}", p.h1()),
        "/groups/{id}" => ensure!(p.h1() == NAME_A, "h1 {:?}", p.h1()),
        "/groups/{id}/edit" => {
            ensure!(p.h1() == "Change the group", "h1 {:?}", p.h1());
            ensure!(
                p.input_values("name") == vec![NAME_A.to_string()],
                "edit form name"
            );
        }
        "/groups/{id}/sessions/{date}" => {
            ensure!(p.h1().ends_with("18:00 to 23:00"), "h1 {:?}", p.h1())
        }
        "/groups/{id}/sessions/{date}/door" => {
            ensure!(p.h1().ends_with("of 60 signed in"), "h1 {:?}", p.h1())
        }
        "/my/upcoming" => ensure!(p.h1() == "Coming up", "h1 {:?}", p.h1()),
        "/people/{id}/attendance" => {
            let own = role == Some(Role::Person) && t == Target::Own;
            let h = if own {
                "Groups you have been to"
            } else {
                "Group attendance"
            };
            ensure!(p.h1() == h, "h1 {:?}", p.h1());
            let _ = cx;
        }
        other => return Err(format!("no content check for {other}")),
    }
    Ok(())
}
