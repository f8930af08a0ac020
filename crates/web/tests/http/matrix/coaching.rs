//! Health coaching in the authorization matrix: the rows (from `alongside_core::access`),
//! the fixtures behind the coaching placeholders, the POST arms (each checks that a refusal
//! writes nothing) and the content checks of the pages that are served.
//!
//! The policy, as written in the access rules:
//! * reading a person's coaching, changing their goals and referring them: a coordinator for
//!   anyone in the organisation, a health coach for the people on their caseload, a person for
//!   themselves (a person may also cancel their own booked session, never book, record or
//!   discharge);
//! * booking, recording and discharging: a coordinator, or a coach for their caseload;
//! * accepting or declining a referral: only the coach it was allocated to (accepting opens an
//!   episode with the one who accepts as the coach, so a coordinator cannot do it for them);
//! * withdrawing a referral: a coordinator, or the person themselves;
//! * the waiting list, allocation, coaches' limits and hours and reopening an episode: coordinators;
//! * the caseload and calendar pages: health coaches; /my/coaching and self-referral: a person;
//! * administrators, educators, peer-support leads, volunteers and analysts: no coaching pages;
//! * the calendar feed itself is public: its unguessable address is the credential (a wrong
//!   address is 404).
//!
//! Fixtures: for each person target a referral (made by a coordinator, allocated, accepted),
//! the episode it opened, a goal with a step and a booked session. The on-caseload person's
//! episode is with the world's coach; the off-caseload and own persons' with a second coach in
//! the same organisation (so the world's coach still does not have them on the caseload); the
//! other organisation's person with a coach there.

use super::{check_status, Ctx, Expect, Row, Rule, Target, Who};
use crate::support::*;
use alongside_core::coaching::{
    london_local, BookingForm, ContactMode, GoalCategory, GoalDetails, ReferralDetails,
    ReferralSource, ReferralStatus, SessionStatus, Urgency,
};
use alongside_core::time::Timestamp;
use alongside_core::{EpisodeId, GoalId, ReferralId, Role, SessionId};
use alongside_store::people::Source;
use reqwest::StatusCode;

/// One person target's coaching fixtures.
pub struct Items {
    pub referral: ReferralId,
    pub episode: EpisodeId,
    pub session: SessionId,
    pub goal: GoalId,
    pub goal_words: String,
    /// A second booked session, for the person's own cancellation.
    pub spare_session: SessionId,
}

pub struct Coaching {
    /// A second coach in organisation A (episodes of the off-caseload and own persons).
    pub coach2: Account,
    /// A coach in organisation B.
    pub coach_b: Account,
    pub items: Vec<(Target, Items)>,
    /// The live calendar feed token of the world's coach (replaced when a cell makes a new
    /// address, since the old one then stops working).
    pub feed_token: std::sync::Mutex<String>,
}

fn src() -> Source {
    Source(Some("fixture".into()))
}

/// The first Tuesday at least a week from now (Europe/London).
fn next_week_tuesday() -> time::Date {
    let (mut d, _) = london_local(Timestamp(alongside_store::now_micros()));
    d += time::Duration::days(7);
    while d.weekday() != time::Weekday::Tuesday {
        d += time::Duration::days(1);
    }
    d
}

fn booking(date: time::Date, time: &str) -> alongside_core::coaching::Booking {
    BookingForm {
        date: alongside_core::time::iso_date(date),
        time: time.into(),
        minutes: "60".into(),
        mode: "telephone".into(),
        ..Default::default()
    }
    .validate()
    .expect("fixture booking")
}

fn goal_details(words: &str) -> GoalDetails {
    GoalDetails {
        own_words: words.into(),
        category: GoalCategory::PhysicalActivity,
        what: Some("Walk".into()),
        how_much: Some("Ten minutes".into()),
        when: Some("After lunch".into()),
        how_often: Some("Three times a week".into()),
        importance: 8,
        confidence: 6,
    }
}

pub async fn fixture(app: &TestApp, w: &World, coord_b: &Account) -> Coaching {
    let hash = password_hash().await;
    let coach2 = create_account(
        app,
        w.org_a,
        Role::HealthCoach,
        "second.coach",
        "Cora Secondcoach",
        None,
        &hash,
    )
    .await;
    let coach_b = create_account(
        app,
        w.org_b,
        Role::HealthCoach,
        "hillside.coach",
        "Heath Hillcoach",
        None,
        &hash,
    )
    .await;
    let tuesday = next_week_tuesday();
    let world_coach = w.account(Role::HealthCoach).clone();
    let mut items = Vec::new();
    for (t, person, coordinator, coach, time) in [
        (
            Target::OnCaseload,
            &w.on_caseload,
            w.account(Role::Coordinator),
            &world_coach,
            "10:00",
        ),
        (
            Target::OffCaseload,
            &w.off_caseload,
            w.account(Role::Coordinator),
            &coach2,
            "10:00",
        ),
        (
            Target::Own,
            &w.own,
            w.account(Role::Coordinator),
            &coach2,
            "11:30",
        ),
        (Target::OtherOrg, &w.other_org, coord_b, &coach_b, "10:00"),
    ] {
        let referral = app
            .store
            .create_referral(
                &coordinator.actor(),
                person.id,
                ReferralDetails {
                    source: ReferralSource::Coordinator,
                    referrer: None,
                    reason: "Would like to get out walking again".into(),
                    urgency: Urgency::Soon,
                    modes: vec![ContactMode::Telephone],
                    times: None,
                    language: None,
                },
                src(),
            )
            .await
            .expect("referral");
        app.store
            .allocate_referral(&coordinator.actor(), referral, coach.id, src())
            .await
            .expect("allocate");
        let episode = app
            .store
            .accept_referral(&coach.actor(), referral, src())
            .await
            .expect("accept");
        let goal_words = format!("Walk to the allotment gate ({t:?})");
        let goal = app
            .store
            .add_goal(
                &coach.actor(),
                person.id,
                Some(episode),
                goal_details(&goal_words),
                vec!["Walk to the corner and back".into()],
                src(),
            )
            .await
            .expect("goal");
        let now = Timestamp(alongside_store::now_micros());
        let session = app
            .store
            .book_session(&coach.actor(), episode, booking(tuesday, time), now, src())
            .await
            .expect("session");
        let spare_session = app
            .store
            .book_session(
                &coach.actor(),
                episode,
                booking(tuesday + time::Duration::days(1), time),
                now,
                src(),
            )
            .await
            .expect("spare session");
        items.push((
            t,
            Items {
                referral,
                episode,
                session,
                goal,
                goal_words,
                spare_session,
            },
        ));
    }
    let feed_token = alongside_web::auth::random_token();
    app.store
        .set_calendar_feed(
            &world_coach.actor(),
            Some(alongside_web::auth::token_hash(&feed_token)),
            src(),
        )
        .await
        .expect("calendar feed");
    Coaching {
        coach2,
        coach_b,
        items,
        feed_token: std::sync::Mutex::new(feed_token),
    }
}

impl Coaching {
    pub fn feed_token(&self) -> String {
        self.feed_token.lock().expect("feed token").clone()
    }

    pub fn items(&self, t: Target) -> &Items {
        &self
            .items
            .iter()
            .find(|(x, _)| *x == t)
            .expect("coaching fixture for target")
            .1
    }
}

// ---- the rules ---------------------------------------------------------------------------

/// Read a person's coaching, change their goals, refer them (and a person: cancel their own
/// session).
fn reads(role: Role, t: Target) -> bool {
    match role {
        Role::Coordinator => true,
        Role::HealthCoach => t == Target::OnCaseload,
        Role::Person => t == Target::Own,
        _ => false,
    }
}

/// Book, record, discharge: the coaching team.
fn manages(role: Role, t: Target) -> bool {
    match role {
        Role::Coordinator => true,
        Role::HealthCoach => t == Target::OnCaseload,
        _ => false,
    }
}

/// Accept or decline: the coach the referral was allocated to (the world's coach has the
/// on-caseload person's referral).
fn allocated_coach(role: Role, t: Target) -> bool {
    role == Role::HealthCoach && t == Target::OnCaseload
}

fn withdraws(role: Role, t: Target) -> bool {
    role == Role::Coordinator || (role == Role::Person && t == Target::Own)
}

fn person(who: Who, t: Target, may: fn(Role, Target) -> bool) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(_) if t == Target::OtherOrg => Expect::NotFound,
        Who::Signed(r) if may(r, t) => Expect::Allow,
        Who::Signed(_) => Expect::Deny,
    }
}

/// Coordinator-only work on a record: refused by role first (403, whatever the record), and
/// another organisation's record is not found.
fn coordinator_only(who: Who, t: Target) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(Role::Coordinator) if matches!(t, Target::OtherOrg | Target::OtherOrgCoach) => {
            Expect::NotFound
        }
        Who::Signed(Role::Coordinator) => Expect::Allow,
        Who::Signed(_) => Expect::Deny,
    }
}

fn only(who: Who, role: Role) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(r) if r == role => Expect::Allow,
        Who::Signed(_) => Expect::Deny,
    }
}

pub fn table() -> Vec<Row> {
    let row = |method, path, rule: Rule| Row { method, path, rule };
    vec![
        row("GET", "/people/{id}/coaching", |w, t| person(w, t, reads)),
        row("GET", "/people/{id}/coaching/refer", |w, t| {
            person(w, t, reads)
        }),
        row("POST", "/people/{id}/coaching/refer", |w, t| {
            person(w, t, reads)
        }),
        row("GET", "/my/coaching", |w, _| only(w, Role::Person)),
        row("GET", "/coaching/refer-myself", |w, _| {
            only(w, Role::Person)
        }),
        row("POST", "/coaching/refer-myself", |w, _| {
            only(w, Role::Person)
        }),
        row("GET", "/coaching/queue", |w, _| only(w, Role::Coordinator)),
        row("GET", "/coaching/referrals/{id}", |w, t| {
            person(w, t, reads)
        }),
        row(
            "POST",
            "/coaching/referrals/{id}/allocate",
            coordinator_only,
        ),
        row("POST", "/coaching/referrals/{id}/accept", |w, t| {
            person(w, t, allocated_coach)
        }),
        row("POST", "/coaching/referrals/{id}/decline", |w, t| {
            person(w, t, allocated_coach)
        }),
        row("POST", "/coaching/referrals/{id}/withdraw", |w, t| {
            person(w, t, withdraws)
        }),
        row("GET", "/coaching/coaches/{id}", coordinator_only),
        row("POST", "/coaching/coaches/{id}", coordinator_only),
        row("GET", "/coaching/episodes/{id}", |w, t| person(w, t, reads)),
        row("GET", "/coaching/episodes/{id}/book", |w, t| {
            person(w, t, manages)
        }),
        row("POST", "/coaching/episodes/{id}/book", |w, t| {
            person(w, t, manages)
        }),
        row("GET", "/coaching/episodes/{id}/discharge", |w, t| {
            person(w, t, manages)
        }),
        row("POST", "/coaching/episodes/{id}/discharge", |w, t| {
            person(w, t, manages)
        }),
        row("POST", "/coaching/episodes/{id}/reopen", coordinator_only),
        row("GET", "/coaching/sessions/{id}", |w, t| person(w, t, reads)),
        // A person may cancel their own session; the team records it.
        row("POST", "/coaching/sessions/{id}", |w, t| {
            person(w, t, reads)
        }),
        row("GET", "/people/{id}/goals/new", |w, t| person(w, t, reads)),
        row("POST", "/people/{id}/goals", |w, t| person(w, t, reads)),
        row("GET", "/goals/{id}", |w, t| person(w, t, reads)),
        row("POST", "/goals/{id}", |w, t| person(w, t, reads)),
        row("GET", "/coaching/caseload", |w, _| {
            only(w, Role::HealthCoach)
        }),
        row("GET", "/coaching/calendar", |w, _| {
            only(w, Role::HealthCoach)
        }),
        row("POST", "/coaching/calendar", |w, _| {
            only(w, Role::HealthCoach)
        }),
        row("GET", "/calendar/{org}/{token}", |_, _| Expect::Allow),
    ]
}

/// The targets of the coaching placeholders (`None`: not a coaching route).
pub fn targets(path: &str) -> Option<Vec<Target>> {
    if path.starts_with("/coaching/referrals/{id}")
        || path.starts_with("/coaching/episodes/{id}")
        || path.starts_with("/coaching/sessions/{id}")
        || path.starts_with("/goals/{id}")
    {
        Some(vec![
            Target::OnCaseload,
            Target::OffCaseload,
            Target::Own,
            Target::OtherOrg,
        ])
    } else if path.starts_with("/coaching/coaches/{id}") {
        Some(vec![Target::SameOrgCoach, Target::OtherOrgCoach])
    } else if path == "/calendar/{org}/{token}" {
        Some(vec![Target::Feed])
    } else {
        None
    }
}

/// The concrete path for a coaching placeholder (`None`: not one of them).
pub fn path(cx: &Ctx<'_>, template: &str, t: Target) -> Option<String> {
    let id = if template.starts_with("/coaching/referrals/{id}") {
        cx.coach.items(t).referral.to_string()
    } else if template.starts_with("/coaching/episodes/{id}") {
        cx.coach.items(t).episode.to_string()
    } else if template.starts_with("/coaching/sessions/{id}") {
        cx.coach.items(t).session.to_string()
    } else if template.starts_with("/goals/{id}") {
        cx.coach.items(t).goal.to_string()
    } else if template.starts_with("/coaching/coaches/{id}") {
        match t {
            Target::SameOrgCoach => cx.coach.coach2.id.to_string(),
            _ => cx.coach.coach_b.id.to_string(),
        }
    } else if template == "/calendar/{org}/{token}" {
        return Some(format!(
            "/calendar/{}/{}.ics",
            cx.w.org_a,
            cx.coach.feed_token()
        ));
    } else {
        return None;
    };
    Some(template.replace("{id}", &id))
}

// ---- reading back what is stored (as the organisation's coordinator) ----------------------

fn verifier<'a>(cx: &'a Ctx<'_>, t: Target) -> &'a Account {
    if t == Target::OtherOrg {
        &cx.act.coord_b
    } else {
        cx.w.account(Role::Coordinator)
    }
}

fn person_of<'a>(cx: &'a Ctx<'_>, t: Target) -> &'a Person {
    cx.person(t).expect("person target")
}

async fn referral_state(cx: &Ctx<'_>, t: Target) -> (ReferralStatus, Option<String>) {
    let r = cx
        .app
        .store
        .referral(&verifier(cx, t).actor(), cx.coach.items(t).referral, src())
        .await
        .expect("read referral");
    (r.status, r.coach_id.map(|c| c.to_string()))
}

/// (referrals, goals, open episodes, sessions) of the target person.
async fn counts(cx: &Ctx<'_>, t: Target) -> (usize, usize, usize, usize) {
    let p = person_of(cx, t);
    let pc = cx
        .app
        .store
        .person_coaching(
            &verifier(cx, t).actor(),
            p.id,
            Timestamp(alongside_store::now_micros()),
            src(),
        )
        .await
        .expect("person coaching");
    let ep = cx
        .app
        .store
        .episode(&verifier(cx, t).actor(), cx.coach.items(t).episode, src())
        .await
        .expect("episode");
    (
        pc.referrals.len(),
        pc.goals.len(),
        pc.episodes.iter().filter(|e| e.2).count(),
        ep.sessions.len(),
    )
}

async fn session_status(cx: &Ctx<'_>, t: Target, id: SessionId) -> SessionStatus {
    cx.app
        .store
        .coaching_session(&verifier(cx, t).actor(), id, src())
        .await
        .expect("session")
        .0
        .status
}

async fn goal_state(cx: &Ctx<'_>, t: Target) -> (GoalDetails, usize) {
    let g = cx
        .app
        .store
        .goal(&verifier(cx, t).actor(), cx.coach.items(t).goal, src())
        .await
        .expect("goal");
    (g.details, g.steps.len())
}

fn served_422(p: &Page, field: &str, message: &str) -> Result<(), String> {
    ensure!(
        p.status == StatusCode::UNPROCESSABLE_ENTITY,
        "expected 422, got {}: {}",
        p.status,
        p.snippet()
    );
    let errors = p.error_summary();
    ensure!(
        errors
            .iter()
            .any(|(href, m)| href == &format!("#{field}") && m.contains(message)),
        "expected an error on #{field} containing {message:?}, got {errors:?}"
    );
    ensure!(
        p.has_id(field),
        "the error summary links to #{field}, which is not on the page"
    );
    Ok(())
}

// ---- running a cell ------------------------------------------------------------------------

/// Runs a coaching POST (or a coaching GET that is not a plain page). `Ok(None)`: not a
/// coaching arm; `Ok(Some((page, check_names)))` otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    cx: &Ctx<'_>,
    b: &Browser,
    who: Who,
    row: &Row,
    t: Target,
    expect: Expect,
    path: &str,
) -> Result<Option<(Page, bool)>, String> {
    let app = cx.app;
    let w = cx.w;
    let role = match who {
        Who::Signed(r) => Some(r),
        Who::Anonymous => None,
    };
    let allowed = expect == Expect::Allow;
    let page = match (row.method, row.path) {
        ("GET", "/my/coaching") => {
            let p = b.get(path).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location() == Some(&format!("/people/{}/coaching", w.own.id)),
                    "/my/coaching should lead to the person's own coaching, got {} {:?}",
                    p.status,
                    p.location()
                );
            } else {
                check_status(&p, expect)?;
            }
            p
        }
        ("GET", "/calendar/{org}/{token}") => {
            // Public: the address is the credential. A live address gives the coach's
            // sessions with first names only; a wrong or revoked one is not found.
            let p = b.get(path).await;
            ensure!(
                p.status == StatusCode::OK
                    && p.header("content-type")
                        .is_some_and(|c| c.starts_with("text/calendar")),
                "a live feed should be text/calendar, got {} {:?}",
                p.status,
                p.header("content-type")
            );
            ensure!(
                p.body.starts_with("BEGIN:VCALENDAR") && p.body.contains("BEGIN:VEVENT"),
                "feed is not a calendar with events: {}",
                p.snippet()
            );
            ensure!(
                p.body.contains(&w.on_caseload.given),
                "the feed should name the person by first name"
            );
            for person in w.people() {
                ensure!(
                    !p.body.contains(&person.family),
                    "the feed shows the family name of {}",
                    person.name()
                );
            }
            for other in [&w.off_caseload, &w.own, &w.other_org] {
                ensure!(
                    !p.body.contains(&other.given),
                    "the feed shows a session of {}, not the coach's",
                    other.name()
                );
            }
            let bad = format!("/calendar/{}/not-the-token.ics", w.org_a);
            let q = b.get(&bad).await;
            ensure!(
                q.status == StatusCode::NOT_FOUND,
                "a wrong feed address should be 404, got {}",
                q.status
            );
            let other_org = format!("/calendar/{}/{}.ics", w.org_b, cx.coach.feed_token());
            let q = b.get(&other_org).await;
            ensure!(
                q.status == StatusCode::NOT_FOUND,
                "a feed address under another organisation should be 404, got {}",
                q.status
            );
            return Ok(Some((p, false)));
        }
        ("POST", "/people/{id}/coaching/refer") => {
            let before = counts(cx, t).await;
            let own = role == Some(Role::Person);
            let mut fields = vec![
                ("reason", "Finding it hard to get going again"),
                ("modes", "telephone"),
            ];
            if !own {
                fields.extend([("source", "clinician"), ("urgency", "soon")]);
            }
            let p = b
                .post_form_from(
                    &format!("/people/{}/coaching", person_of(cx, t).id),
                    path,
                    &fields,
                )
                .await;
            if allowed {
                // Everyone here already has a coach: the referral is refused by the rule,
                // which shows the request got through.
                served_422(&p, "reason", "already waiting for coaching or has a coach")?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(counts(cx, t).await == before, "a referral was written");
            p
        }
        ("POST", "/coaching/refer-myself") => {
            let before = counts(cx, Target::Own).await;
            let p = b
                .post_form_from(
                    "/",
                    path,
                    &[
                        ("reason", "I would like to sleep better"),
                        ("modes", "video"),
                    ],
                )
                .await;
            if allowed {
                served_422(&p, "reason", "already waiting for coaching or has a coach")?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(
                counts(cx, Target::Own).await == before,
                "a self-referral was written"
            );
            p
        }
        ("POST", "/coaching/referrals/{id}/allocate") => {
            let before = referral_state(cx, t).await;
            let coach = w.account(Role::HealthCoach).id.to_string();
            let p = b
                .post_form_from("/", path, &[("coach", coach.as_str())])
                .await;
            if allowed {
                served_422(&p, "status", "no longer waiting")?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(
                referral_state(cx, t).await == before,
                "the referral changed"
            );
            p
        }
        ("POST", "/coaching/referrals/{id}/accept") => {
            let before = (referral_state(cx, t).await, counts(cx, t).await);
            let p = b.post_form_from("/", path, &[] as &[(&str, &str)]).await;
            if allowed {
                served_422(
                    &p,
                    "status",
                    "This referral is no longer waiting for your decision",
                )?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(
                (referral_state(cx, t).await, counts(cx, t).await) == before,
                "accepting changed the referral or opened an episode"
            );
            p
        }
        ("POST", "/coaching/referrals/{id}/decline") => {
            let before = referral_state(cx, t).await;
            let p = b
                .post_form_from("/", path, &[("decline_reason", "My caseload is full")])
                .await;
            if allowed {
                served_422(&p, "status", "no longer waiting for your decision")?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(
                referral_state(cx, t).await == before,
                "the referral changed"
            );
            p
        }
        ("POST", "/coaching/referrals/{id}/withdraw") => {
            let before = referral_state(cx, t).await;
            let p = b
                .post_form_from("/", path, &[("withdraw_reason", "No longer wanted")])
                .await;
            if allowed {
                served_422(&p, "status", "Only a referral that is waiting")?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(
                referral_state(cx, t).await == before,
                "the referral changed"
            );
            p
        }
        ("POST", "/coaching/coaches/{id}") => {
            let (org, coach) = match t {
                Target::SameOrgCoach => (w.org_a, &cx.coach.coach2),
                _ => (w.org_b, &cx.coach.coach_b),
            };
            let before = app.store.coach(org, coach.id).await.expect("coach");
            let limit = if before.caseload_limit == 12 {
                "13"
            } else {
                "12"
            };
            let p = b
                .post_form_from(
                    "/",
                    path,
                    &[
                        ("caseload_limit", limit),
                        ("hours_mon", "08:00-16:00"),
                        ("hours_tue", "09:00-17:00"),
                        ("hours_wed", "09:00-17:00"),
                        ("hours_thu", "09:00-17:00"),
                        ("hours_fri", "09:00-13:00"),
                        ("hours_sat", ""),
                        ("hours_sun", ""),
                    ],
                )
                .await;
            let after = app.store.coach(org, coach.id).await.expect("coach");
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER && p.location() == Some("/coaching/queue"),
                    "saving a coach should lead back to the queue, got {} {:?}: {}",
                    p.status,
                    p.location(),
                    p.snippet()
                );
                ensure!(
                    after.caseload_limit.to_string() == limit
                        && after.hours.day_text(0) == "08:00-16:00"
                        && after.hours.day_text(4) == "09:00-13:00",
                    "the limit and hours were not saved: {after:?}"
                );
            } else {
                check_status(&p, expect)?;
                ensure!(
                    after.caseload_limit == before.caseload_limit && after.hours == before.hours,
                    "a refused request changed the coach"
                );
            }
            p
        }
        ("POST", "/coaching/episodes/{id}/book") => {
            let before = counts(cx, t).await;
            let p = if allowed {
                // In the past: refused by the rule, nothing written.
                let (today, _) = london_local(Timestamp(alongside_store::now_micros()));
                let past = alongside_core::time::iso_date(today - time::Duration::days(7));
                let p = b
                    .post_form_from(
                        path,
                        path,
                        &[
                            ("date", past.as_str()),
                            ("time", "10:00"),
                            ("minutes", "60"),
                            ("mode", "telephone"),
                        ],
                    )
                    .await;
                served_422(&p, "date", "The session must be in the future")?;
                p
            } else {
                let date =
                    alongside_core::time::iso_date(next_week_tuesday() + time::Duration::days(2));
                let p = b
                    .post_form_from(
                        "/",
                        path,
                        &[
                            ("date", date.as_str()),
                            ("time", "15:00"),
                            ("minutes", "60"),
                            ("mode", "telephone"),
                        ],
                    )
                    .await;
                check_status(&p, expect)?;
                p
            };
            ensure!(counts(cx, t).await == before, "a session was written");
            p
        }
        ("POST", "/coaching/episodes/{id}/discharge") => {
            let before = counts(cx, t).await;
            let items = cx.coach.items(t);
            let p = if allowed {
                let p = b
                    .post_form_from(path, path, &[("summary", ""), ("onward", "")])
                    .await;
                served_422(&p, "summary", "Enter a discharge summary")?;
                ensure!(
                    p.error_summary()
                        .iter()
                        .any(|(h, _)| h == &format!("#outcome-{}", items.goal)),
                    "the missing goal outcome should be named: {:?}",
                    p.error_summary()
                );
                p
            } else {
                let outcome = format!("outcome-{}", items.goal);
                let p = b
                    .post_form_from(
                        "/",
                        path,
                        &[
                            ("summary", "Walked to the gate twice a week"),
                            (outcome.as_str(), "met"),
                        ],
                    )
                    .await;
                check_status(&p, expect)?;
                p
            };
            ensure!(
                counts(cx, t).await == before,
                "the episode or its sessions changed"
            );
            p
        }
        ("POST", "/coaching/episodes/{id}/reopen") => {
            let before = counts(cx, t).await;
            let p = b
                .post_form_from("/", path, &[("reopen_reason", "Asked to carry on")])
                .await;
            if allowed {
                served_422(&p, "status", "This episode is already open")?;
            } else {
                check_status(&p, expect)?;
            }
            ensure!(counts(cx, t).await == before, "the episode changed");
            p
        }
        ("POST", "/coaching/sessions/{id}") => {
            let items = cx.coach.items(t);
            let before = session_status(cx, t, items.session).await;
            let p = if allowed && role == Some(Role::Person) {
                // The person cancels their own (spare) session; recording attendance is
                // the coach's.
                let p = b
                    .post_form_from(path, path, &[("status", "attended")])
                    .await;
                ensure!(
                    p.status == StatusCode::UNPROCESSABLE_ENTITY
                        && p.error_summary()
                            .iter()
                            .any(|(_, m)| m.contains("You can cancel a session")),
                    "a person recording attendance should be told they can only cancel, got {}: {:?}",
                    p.status,
                    p.error_summary()
                );
                let spare = format!("/coaching/sessions/{}", items.spare_session);
                let q = b
                    .post_form_from(
                        &spare,
                        &spare,
                        &[
                            ("status", "cancelled_by_person"),
                            ("cancel_reason", "Hospital appointment"),
                        ],
                    )
                    .await;
                ensure!(
                    q.status == StatusCode::SEE_OTHER
                        && q.location() == Some(&format!("/people/{}/coaching", w.own.id)),
                    "cancelling their own session should lead back to their coaching, got {} {:?}: {}",
                    q.status,
                    q.location(),
                    q.snippet()
                );
                ensure!(
                    session_status(cx, t, items.spare_session).await
                        == SessionStatus::CancelledByPerson,
                    "the person's cancellation was not saved"
                );
                p
            } else if allowed {
                let p = b
                    .post_form_from(
                        path,
                        path,
                        &[("status", "attended"), ("notes", "Went well")],
                    )
                    .await;
                served_422(&p, "status", "The session has not started yet")?;
                p
            } else {
                let p = b
                    .post_form_from(
                        "/",
                        path,
                        &[
                            ("status", "cancelled_by_coach"),
                            ("cancel_reason", "Unwell"),
                        ],
                    )
                    .await;
                check_status(&p, expect)?;
                p
            };
            ensure!(
                session_status(cx, t, items.session).await == before,
                "the session changed"
            );
            p
        }
        ("POST", "/people/{id}/goals") => {
            let before = counts(cx, t).await;
            let words = format!(
                "Sleep through the night ({})",
                role.map(|r| r.code()).unwrap_or("anonymous")
            );
            let p = b
                .post_form_from(
                    "/",
                    path,
                    &[
                        ("own_words", words.as_str()),
                        ("category", "rest"),
                        ("importance", "7"),
                        ("confidence", "5"),
                        ("steps", "No tea after six\nRead before bed"),
                    ],
                )
                .await;
            let after = counts(cx, t).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location()
                            .is_some_and(|l| l.starts_with("/goals/") && l.ends_with("?saved=1")),
                    "adding a goal should lead to it, got {} {:?}: {}",
                    p.status,
                    p.location(),
                    p.snippet()
                );
                ensure!(after.1 == before.1 + 1, "the goal was not saved");
                let g = b.get(p.location().unwrap_or("/")).await;
                ensure!(
                    g.status == StatusCode::OK && g.h1() == format!("\u{201c}{words}\u{201d}"),
                    "the new goal's page: {} {:?}",
                    g.status,
                    g.h1()
                );
                ensure!(
                    g.main_text().contains("Read before bed"),
                    "the new goal's steps are not shown"
                );
            } else {
                check_status(&p, expect)?;
                ensure!(after == before, "a refused request wrote a goal");
                ensure!(!p.body.contains(&words), "the refusal echoes the goal");
            }
            p
        }
        ("POST", "/goals/{id}") => {
            let before = goal_state(cx, t).await;
            let marker = format!(
                "Twenty minutes ({})",
                role.map(|r| r.code()).unwrap_or("anonymous")
            );
            let p = if allowed {
                let form = b.get(path).await;
                ensure!(
                    form.status == StatusCode::OK,
                    "goal page should open, got {}",
                    form.status
                );
                let fields = with(
                    &form.form_values(path),
                    &[("how_much", marker.as_str()), ("new_step", "Buy boots")],
                );
                b.post_pairs(path, &fields).await
            } else {
                b.post_form_from(
                    "/",
                    path,
                    &[
                        ("own_words", "Changed by someone else"),
                        ("category", "rest"),
                        ("how_much", marker.as_str()),
                        ("importance", "1"),
                        ("confidence", "1"),
                    ],
                )
                .await
            };
            let after = goal_state(cx, t).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location()
                            == Some(&format!("/goals/{}?saved=1", cx.coach.items(t).goal)),
                    "saving a goal should lead back to it, got {} {:?}: {}",
                    p.status,
                    p.location(),
                    p.snippet()
                );
                ensure!(
                    after.0.how_much.as_deref() == Some(marker.as_str())
                        && after.0.own_words == before.0.own_words
                        && after.1 == before.1 + 1,
                    "the change was not saved as made: {after:?}"
                );
            } else {
                check_status(&p, expect)?;
                ensure!(after == before, "a refused request changed the goal");
            }
            p
        }
        ("POST", "/coaching/calendar") => {
            let p = b.post_form_from("/", path, &[("action", "new")]).await;
            if allowed {
                let coach = w.account(Role::HealthCoach);
                ensure!(
                    p.status == StatusCode::OK && p.h1() == "Your calendar feed",
                    "making an address should show it, got {}: {}",
                    p.status,
                    p.snippet()
                );
                let url = p
                    .html()
                    .select(&scraper::Selector::parse("#feed-url").expect("selector"))
                    .next()
                    .and_then(|e| e.value().attr("value").map(str::to_string))
                    .ok_or("no feed address on the page")?;
                let feed_path = url
                    .find("/calendar/")
                    .map(|i| url[i..].to_string())
                    .ok_or_else(|| format!("feed address {url:?}"))?;
                let feed = b.get(&feed_path).await;
                ensure!(
                    feed.status == StatusCode::OK && feed.body.starts_with("BEGIN:VCALENDAR"),
                    "the new address should serve the feed, got {}",
                    feed.status
                );
                // The fixture address stopped working: a new one for the other cells.
                let old = cx.coach.feed_token();
                let stale = app
                    .browser()
                    .get(&format!("/calendar/{}/{old}.ics", w.org_a))
                    .await;
                ensure!(
                    stale.status == StatusCode::NOT_FOUND,
                    "the old address should stop working, got {}",
                    stale.status
                );
                let fresh = alongside_web::auth::random_token();
                app.store
                    .set_calendar_feed(
                        &coach.actor(),
                        Some(alongside_web::auth::token_hash(&fresh)),
                        src(),
                    )
                    .await
                    .expect("a new fixture feed");
                *cx.coach.feed_token.lock().expect("feed token") = fresh;
            } else {
                check_status(&p, expect)?;
                if let Some(r) = role {
                    let a = w.account(r);
                    let feed = app.store.calendar_feed(a.org, a.id).await.expect("feed");
                    ensure!(feed.is_none(), "a refused request made a feed address");
                }
            }
            p
        }
        _ => return Ok(None),
    };
    Ok(Some((page, true)))
}

// ---- content of the pages that are served --------------------------------------------------

/// Content checks for an allowed coaching page (`None`: not a coaching page).
pub fn check_page(
    cx: &Ctx<'_>,
    who: Who,
    template: &str,
    t: Target,
    p: &Page,
) -> Option<Result<(), String>> {
    let coaching = template.contains("coaching")
        || template.starts_with("/goals/")
        || template.starts_with("/people/{id}/goals");
    coaching.then(|| check(cx, who, template, t, p))
}

fn check(cx: &Ctx<'_>, who: Who, template: &str, t: Target, p: &Page) -> Result<(), String> {
    let w = cx.w;
    let role = match who {
        Who::Signed(r) => r,
        Who::Anonymous => return Err("anonymous on a coaching page".into()),
    };
    let own = role == Role::Person;
    let text = p.main_text();
    match template {
        "/people/{id}/coaching" => {
            let items = cx.coach.items(t);
            let title = if own { "Your coaching" } else { "Coaching" };
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
            ensure!(
                text.contains(&items.goal_words),
                "the goal should be listed"
            );
            let coach = if t == Target::OnCaseload {
                display_name(Role::HealthCoach)
            } else {
                cx.coach.coach2.display_name.as_str()
            };
            ensure!(
                text.contains(&format!("With {coach}")),
                "the episode with {coach} should be listed"
            );
        }
        "/people/{id}/coaching/refer" => {
            let title = if own {
                "Ask for a health coach".to_string()
            } else {
                format!(
                    "Refer {} to health coaching",
                    cx.person(t).expect("p").name()
                )
            };
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
            ensure!(p.csrf_token().is_some(), "no form");
        }
        "/coaching/refer-myself" => {
            ensure!(p.h1() == "Ask for a health coach", "h1 {:?}", p.h1());
            ensure!(
                !p.form_values("/coaching/refer-myself").is_empty(),
                "no self-referral form"
            );
        }
        "/coaching/queue" => {
            ensure!(p.h1() == "Coaching referrals", "h1 {:?}", p.h1());
            for c in [
                display_name(Role::HealthCoach),
                cx.coach.coach2.display_name.as_str(),
            ] {
                ensure!(text.contains(c), "the coaches' capacity should list {c}");
            }
            ensure!(
                !p.body.contains(&cx.coach.coach_b.display_name),
                "the queue shows another organisation's coach"
            );
            ensure!(text.contains("Nobody is waiting."), "nobody waits here");
        }
        "/coaching/referrals/{id}" => {
            let title = if own {
                "Your request for a health coach".to_string()
            } else {
                format!("Referral for {}", cx.person(t).expect("p").name())
            };
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
            ensure!(
                text.contains("Would like to get out walking again") && text.contains("Accepted"),
                "the referral's reason and status should show"
            );
        }
        "/coaching/coaches/{id}" => {
            let title = format!("{}: caseload and hours", cx.coach.coach2.display_name);
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
        }
        "/coaching/episodes/{id}" => {
            let items = cx.coach.items(t);
            let title = if own {
                format!("Your coaching with {}", cx.coach.coach2.display_name)
            } else {
                format!("Coaching: {}", cx.person(t).expect("p").name())
            };
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
            ensure!(
                text.contains(&items.goal_words),
                "the episode's goal should show"
            );
            ensure!(
                text.contains("of 6"),
                "sessions used of the maximum should show"
            );
            ensure!(
                p.body.contains("/book") == manages(role, t),
                "the booking link should show exactly when the viewer may book"
            );
        }
        "/coaching/episodes/{id}/book" => {
            let title = format!("Book a session with {}", cx.person(t).expect("p").name());
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
        }
        "/coaching/episodes/{id}/discharge" => {
            let title = format!("End coaching with {}", cx.person(t).expect("p").name());
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
            ensure!(
                text.contains(&cx.coach.items(t).goal_words),
                "each goal's outcome is asked"
            );
        }
        "/coaching/sessions/{id}" => {
            ensure!(p.h1().starts_with("Session on "), "h1 {:?}", p.h1());
            ensure!(
                text.contains(&cx.person(t).expect("p").name()),
                "the session page should name the person"
            );
            ensure!(
                p.body.contains("Record the session") == manages(role, t),
                "the record form should show exactly for the coaching team"
            );
        }
        "/people/{id}/goals/new" => {
            let title = if own {
                "Add a goal"
            } else {
                "Add a goal with the person"
            };
            ensure!(p.h1() == title, "h1 {:?}, expected {title:?}", p.h1());
            ensure!(
                !p.form_values(&format!("/people/{}/goals", cx.person(t).expect("p").id))
                    .is_empty(),
                "no goal form"
            );
        }
        "/goals/{id}" => {
            let items = cx.coach.items(t);
            ensure!(
                p.h1().starts_with(&format!("\u{201c}{}", items.goal_words)),
                "h1 {:?}",
                p.h1()
            );
            ensure!(
                text.contains("Walk to the corner and back"),
                "the goal's steps should show"
            );
        }
        "/coaching/caseload" => {
            ensure!(p.h1() == "Your coaching caseload", "h1 {:?}", p.h1());
            ensure!(
                text.contains(&w.on_caseload.name()),
                "the caseload should list {}",
                w.on_caseload.name()
            );
            for other in [&w.off_caseload, &w.own] {
                ensure!(
                    !p.body.contains(&other.family),
                    "the caseload lists {}, who is another coach's",
                    other.name()
                );
            }
        }
        "/coaching/calendar" => {
            ensure!(p.h1() == "Your calendar feed", "h1 {:?}", p.h1());
            ensure!(
                text.contains("You have a live address"),
                "the live fixture address should be mentioned"
            );
        }
        other => return Err(format!("no content check for {other}")),
    }
    Ok(())
}
