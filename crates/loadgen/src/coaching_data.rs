//! The data the coaching scenarios measure, built through the store's own use cases (so every
//! rule and audit entry applies), in the database the server uses.

use crate::Scenario;
use alongside_core::coaching::{
    london_instant, london_local, BookingForm, ContactMode, GoalCategory, GoalDetails,
    ReferralDetails, ReferralSource, SessionStatus, Urgency, WorkingHours,
};
use alongside_core::time::Timestamp;
use alongside_core::{Actor, PersonId, Role, UserId};
use alongside_store::coaching::{ReviewInput, SessionRecord};
use alongside_store::people::Source;
use alongside_store::users::NewUser;
use alongside_store::Store;
use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};

/// Open episodes of the measured coach.
pub const CASELOAD: usize = 60;
/// Waiting referrals on the measured list.
pub const WAITING: usize = 5_000;

fn src() -> Source {
    Source(Some("loadgen".into()))
}

/// `n` new synthetic people (no NHS numbers, so they never collide with existing ones).
async fn new_people(
    store: &Store,
    org: alongside_core::OrgId,
    n: usize,
    seed: u64,
) -> Result<Vec<PersonId>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let today = store.clock().today();
    let mut ids = Vec::with_capacity(n);
    let mut batch = Vec::with_capacity(n);
    for i in 0..n {
        let mut d = alongside_store::synthetic::synthetic_person(&mut rng, i, today);
        d.nhs_number = None;
        let id = PersonId::new();
        ids.push(id);
        batch.push((id, d, None));
    }
    for chunk in batch.chunks(1000) {
        store
            .insert_people_unaudited_actor(org, chunk.to_vec(), "loadgen data")
            .await?;
    }
    Ok(ids)
}

pub async fn prepare(
    database: &str,
    scenario: Scenario,
    username: &str,
    password: &str,
) -> Result<()> {
    if !matches!(scenario, Scenario::CaseloadPage | Scenario::WaitingList) {
        bail!("--prepare-database is for the caseload-page and waiting-list scenarios");
    }
    let started = std::time::Instant::now();
    let store = Store::open(database)
        .await
        .with_context(|| format!("opening {database}"))?;
    let orgs = store.organisations().await?;
    let org = orgs
        .iter()
        .find(|o| o.name == alongside_store::synthetic::DEMO_ORG)
        .or(orgs.first())
        .context("no organisation: run `alongside demo --no-serve` first")?
        .id;
    let users = store.users(org).await?;
    let coordinator = users
        .iter()
        .find(|u| u.role == Role::Coordinator && u.active)
        .context("the organisation has no coordinator")?;
    let coord = Actor {
        user_id: coordinator.id,
        org_id: org,
        role: Role::Coordinator,
        person_id: None,
    };
    match scenario {
        Scenario::CaseloadPage => {
            let coach = match users.iter().find(|u| u.username == username) {
                Some(u) if u.role == Role::HealthCoach => u.id,
                Some(u) => bail!("{username} is a {}, not a health coach", u.role.label()),
                None => {
                    let hash = alongside_web::auth::hash_password(password.to_string())
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    store
                        .create_user_by_system(
                            NewUser {
                                org_id: org,
                                username: username.into(),
                                display_name: "Bench Coach".into(),
                                role: Role::HealthCoach,
                                person_id: None,
                                password_hash: hash,
                            },
                            "loadgen",
                        )
                        .await?
                }
            };
            let have = store.coach(org, coach).await?.in_use as usize;
            if have >= CASELOAD {
                println!("The coach already has {have} people: nothing to build.");
                return Ok(());
            }
            build_caseload(&store, org, &coord, coach, CASELOAD - have).await?;
        }
        _ => {
            let waiting = store
                .coaching_queue(&coord, 1, 1, src())
                .await?
                .waiting_total as usize;
            if waiting >= WAITING {
                println!("{waiting} referrals are waiting already: nothing to build.");
                return Ok(());
            }
            let people = new_people(&store, org, WAITING - waiting, 5_000).await?;
            let now = store.now();
            let urgencies = [
                Urgency::Routine,
                Urgency::Routine,
                Urgency::Soon,
                Urgency::Urgent,
            ];
            let mut set = tokio::task::JoinSet::new();
            for (i, pid) in people.into_iter().enumerate() {
                let (store, coord) = (store.clone(), coord.clone());
                let details = ReferralDetails {
                    source: ReferralSource::Clinician,
                    referrer: None,
                    reason: "Would like help to manage day to day".into(),
                    urgency: urgencies[i % urgencies.len()],
                    modes: vec![ContactMode::Telephone],
                    times: None,
                    language: None,
                };
                set.spawn(async move {
                    let rid = store.create_referral(&coord, pid, details, src()).await?;
                    // Received over the last six months.
                    let back = (i as i64 * 3_111) % (180 * 86_400) * 1_000_000;
                    store.backdate_coaching(org, rid, now - back, None).await?;
                    Ok::<_, anyhow::Error>(())
                });
                while set.len() >= 64 {
                    set.join_next().await.context("task")???;
                }
            }
            while let Some(r) = set.join_next().await {
                r.context("task")??;
            }
        }
    }
    store.close().await;
    println!(
        "Built the {} data in {:.1} s.",
        scenario.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `n` open episodes for the coach, each on its own weekly slot (Monday to Friday,
/// 08:00 to 20:00): three past sessions, recorded with a review of both goals, and the
/// next one booked.
async fn build_caseload(
    store: &Store,
    org: alongside_core::OrgId,
    coord: &Actor,
    coach: UserId,
    n: usize,
) -> Result<()> {
    let me = Actor {
        user_id: coach,
        org_id: org,
        role: Role::HealthCoach,
        person_id: None,
    };
    store
        .set_coach_profile(
            coord,
            coach,
            80,
            WorkingHours::from_text("mon=08:00-20:00;tue=08:00-20:00;wed=08:00-20:00;thu=08:00-20:00;fri=08:00-20:00;sat=08:00-20:00")
                .context("hours")?,
            src(),
        )
        .await?;
    let people = new_people(store, org, n, 60).await?;
    let now = store.now();
    let day = 86_400_000_000i64;
    let (today, _) = london_local(Timestamp(now));
    let monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for (i, pid) in people.into_iter().enumerate() {
        let rid = store
            .create_referral(
                coord,
                pid,
                ReferralDetails {
                    source: ReferralSource::Coordinator,
                    referrer: None,
                    reason: "Would like help to get more active".into(),
                    urgency: Urgency::Soon,
                    modes: vec![ContactMode::Telephone],
                    times: None,
                    language: None,
                },
                src(),
            )
            .await?;
        store.allocate_referral(coord, rid, coach, src()).await?;
        let eid = store.accept_referral(&me, rid, src()).await?;
        let mut goals = Vec::new();
        for (words, cat) in [
            (
                "Walk to the shops without stopping",
                GoalCategory::PhysicalActivity,
            ),
            ("Sleep through the night", GoalCategory::Rest),
        ] {
            goals.push(
                store
                    .add_goal(
                        &me,
                        pid,
                        Some(eid),
                        GoalDetails {
                            own_words: words.into(),
                            category: cat,
                            what: None,
                            how_much: None,
                            when: None,
                            how_often: Some("Most days".into()),
                            importance: 8,
                            confidence: 5,
                        },
                        vec![
                            "First small step".into(),
                            "Second step".into(),
                            "Third step".into(),
                        ],
                        src(),
                    )
                    .await?,
            );
        }
        let weekday = (i / 12) as i64;
        let minutes = (8 + (i % 12) as u32) * 60;
        let booking = |date: time::Date| {
            BookingForm {
                date: alongside_core::time::iso_date(date),
                time: format!("{:02}:{:02}", minutes / 60, minutes % 60),
                minutes: "60".into(),
                mode: "telephone".into(),
                ..Default::default()
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("booking: {e}"))
        };
        for w in (1..=3).rev() {
            let b = booking(monday + time::Duration::days(weekday - 7 * w))?;
            let starts = b.starts_at;
            let sid = store
                .book_session(&me, eid, b, Timestamp(starts.0 - day), src())
                .await?;
            let reviews = goals
                .iter()
                .map(|g| ReviewInput {
                    goal_id: *g,
                    attainment: rng.gen_range(-2..=2),
                    note: None,
                })
                .collect();
            store
                .record_session(
                    &me,
                    sid,
                    SessionRecord {
                        status: SessionStatus::Attended,
                        notes: Some("Talked about the next small step.".into()),
                        notes_shared: false,
                        cancel_reason: None,
                        reviews,
                    },
                    Timestamp(starts.0 + 3_600_000_000),
                    src(),
                )
                .await?;
        }
        let mut next = monday + time::Duration::days(weekday);
        while london_instant(next, minutes).0 <= now {
            next += time::Duration::weeks(1);
        }
        store
            .book_session(&me, eid, booking(next)?, Timestamp(now), src())
            .await?;
    }
    Ok(())
}
