//! The demo organisation: deterministic, synthetic people and one account for each role.
//!
//! Nothing here is real. NHS numbers are drawn from the 999 range reserved for testing,
//! telephone numbers from Ofcom's drama ranges, email addresses from example.com, and names
//! are combined at random from common first and last names.

use alongside_core::person::PersonDetails;
use alongside_core::{PersonId, Role, UserId};
use alongside_store::synthetic::synthetic_person;
pub use alongside_store::synthetic::DEMO_ORG;
use alongside_store::users::NewUser;
use alongside_store::Store;
use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const DEMO_PASSWORD: &str = "demo-password-1";

pub const ACCOUNTS: &[(&str, &str, Role)] = &[
    ("admin", "Ade Administrator", Role::Administrator),
    ("coordinator", "Chloe Coordinator", Role::Coordinator),
    ("coach", "Kofi Coach", Role::HealthCoach),
    ("educator", "Erin Educator", Role::Educator),
    ("peerlead", "Priya Peer-Lead", Role::PeerSupportLead),
    ("volunteer", "Val Volunteer", Role::Volunteer),
    ("analyst", "Anna Analyst", Role::Analyst),
    ("person", "", Role::Person),
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

/// Creates the demo organisation, accounts and people unless they already exist.
pub async fn ensure(store: &Store, people: usize, seed: u64) -> Result<()> {
    if store
        .organisations()
        .await?
        .iter()
        .any(|o| o.name == DEMO_ORG)
    {
        println!("Using the existing demo data.");
        return Ok(());
    }
    println!("Creating the demo organisation with {people} synthetic people…");
    let org =
        alongside_web::setup::create_organisation(store, DEMO_ORG, "primary_care_network").await?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let today = store.clock().today();
    let hash = alongside_web::auth::hash_password(DEMO_PASSWORD.to_string())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut coach_id: Option<UserId> = None;
    let mut coordinator_id: Option<UserId> = None;
    let mut all_people = Vec::with_capacity(people);
    let mut batch = Vec::with_capacity(people);
    let mut thetas = Vec::with_capacity(people);
    let mut first_person: Option<(PersonId, String)> = None;
    let mut coach_pending = Vec::new();
    let mut covariates = Vec::with_capacity(people);
    let mut edu_people = Vec::with_capacity(people);
    for i in 0..people {
        let d = synthetic_person(&mut rng, i, today);
        let id = PersonId::new();
        if first_person.is_none() {
            first_person = Some((id, d.full_name()));
        }
        // Every 50th person is on the demo coach's caseload (about 40 people).
        if i % 50 == 1 {
            coach_pending.push(id);
        }
        thetas.push((id, latent_activation(&mut rng, &d, today)));
        covariates.push((
            id,
            alongside_core::time::age_on(d.date_of_birth, today),
            d.deprivation_decile.unwrap_or(5),
            d.conditions.len(),
        ));
        edu_people.push((id, d.conditions.clone()));
        all_people.push(id);
        batch.push((id, d, None));
    }
    store
        .insert_people_unaudited_actor(org, batch, "demo data")
        .await?;
    let first_levels = seed_assessments(store, &org, &mut rng, &thetas).await?;
    seed_utilisation(
        store,
        org,
        &mut rng,
        &covariates,
        &thetas,
        &first_levels,
        today,
    )
    .await?;
    let mut staff = std::collections::BTreeMap::new();
    for (username, name, role) in ACCOUNTS {
        let (display, person_id) = match role {
            Role::Person => {
                let (pid, pname) = first_person.clone().expect("at least one person");
                (pname, Some(pid))
            }
            _ => (name.to_string(), None),
        };
        let id = store
            .create_user_by_system(
                NewUser {
                    org_id: org,
                    username: username.to_string(),
                    display_name: display,
                    role: *role,
                    person_id,
                    password_hash: hash.clone(),
                },
                "demo",
            )
            .await?;
        if *role == Role::HealthCoach {
            coach_id = Some(id);
        }
        if *role == Role::Coordinator {
            coordinator_id = Some(id);
        }
        staff.insert(*role, id);
    }
    if let Some(coach) = coach_id {
        for pid in &coach_pending {
            store.add_to_caseload(org, coach, *pid).await?;
        }
    }
    // Service directory, referrals to other services and care and support plans.
    if let (Some(coordinator), Some(coach), Some((own, _))) =
        (coordinator_id, coach_id, first_person.clone())
    {
        crate::demo_plans::seed(store, org, coordinator, coach, own, &coach_pending).await?;
    }
    if let (Some(ed), Some(co), Some((own, _))) = (
        staff.get(&Role::Educator),
        staff.get(&Role::Coordinator),
        first_person.clone(),
    ) {
        crate::demo_education::seed(store, org, &mut rng, *ed, *co, &edu_people, own, today)
            .await?;
    }
    // Peer support: the evening café and two smaller groups.
    let actor = |role: Role| {
        staff.get(&role).map(|id: &UserId| alongside_core::Actor {
            user_id: *id,
            org_id: org,
            role,
            person_id: None,
        })
    };
    if let (Some(lead), Some(volunteer)) = (actor(Role::PeerSupportLead), actor(Role::Volunteer)) {
        let ids: Vec<PersonId> = thetas.iter().map(|(id, _)| *id).collect();
        crate::demo_groups::seed(store, org, &lead, &volunteer, &ids, today).await?;
    }
    if let (Some(coach), Some(coordinator)) = (coach_id, coordinator_id) {
        seed_coaching(store, org, coordinator, coach, &all_people, &hash, &mut rng).await?;
    }
    Ok(())
}

/// A second coach's sign-in (not in [`ACCOUNTS`]: the demo's one-per-role list).
pub const SECOND_COACH: (&str, &str) = ("coach2", "Sam Coach");

const REFERRAL_REASONS: &[&str] = &[
    "Struggling to manage breathlessness day to day; would like help to get more active.",
    "Low mood since diagnosis; finds it hard to get started with anything.",
    "Wants to lose weight before knee surgery.",
    "Keeps forgetting medicines and would like a routine that works.",
    "Lonely since a bereavement; wants to get out more.",
    "Would like to stop smoking and has tried before.",
    "Finds blood sugar monitoring overwhelming.",
    "Wants to return to work part-time and manage fatigue.",
];

/// (own words, category, what, how much, when, how often, steps)
type DemoGoal = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);
const GOALS: &[DemoGoal] = &[
    (
        "Walk to the park with my dog without stopping",
        "physical_activity",
        "Walk",
        "To the park and back",
        "After breakfast",
        "Five days a week",
        &[
            "Walk to the end of the road and back",
            "Walk to the corner shop",
            "Walk halfway to the park",
        ],
    ),
    (
        "Get a proper night's sleep",
        "rest",
        "Go to bed at the same time",
        "By 11pm",
        "Every night",
        "Every night",
        &["No tea or coffee after 4pm", "Phone off at 10pm"],
    ),
    (
        "Cook a meal from scratch",
        "healthy_eating",
        "Cook dinner",
        "One meal",
        "Sunday",
        "Once a week",
        &["Write a shopping list", "Cook a simple soup"],
    ),
    (
        "Take my inhalers the right way every day",
        "medicines",
        "Use the preventer inhaler",
        "Two puffs",
        "Morning and evening",
        "Twice a day",
        &[
            "Ask the pharmacist to check my technique",
            "Keep the inhaler by the toothbrush",
        ],
    ),
    (
        "See my friends at the community café",
        "family_friends",
        "Go to the café",
        "An hour",
        "Thursday afternoon",
        "Once a week",
        &["Phone Maureen to go together"],
    ),
    (
        "Cut down to five cigarettes a day",
        "tobacco_alcohol_drugs",
        "Smoke fewer cigarettes",
        "Five a day",
        "Through the day",
        "Every day",
        &[
            "No cigarette before breakfast",
            "Book the stop smoking service",
        ],
    ),
    (
        "Lose half a stone before the summer",
        "healthy_weight",
        "Lose weight",
        "Half a stone",
        "By June",
        "Weigh in weekly",
        &["Swap biscuits for fruit", "Smaller plates at dinner"],
    ),
];

const SESSION_NOTES: &[&str] = &[
    "Talked about what matters most right now. Agreed a first small step.",
    "Went well: the first step is done most days. We talked about what got in the way on the other days.",
    "A hard week with a chest infection. We adjusted the step to something smaller.",
    "Confidence is growing. Next step agreed, and a plan for bad days.",
    "Reviewed progress against the goals; celebrated what has changed.",
];

/// Health coaching for the demo: both coaches' limits and hours, open episodes for the demo
/// coach (past sessions with notes and goal reviews, the next one booked), one ended episode,
/// a few referrals allocated and about forty waiting, with mixed urgency. The demo `person`
/// (the first person) has an open episode with goals and a note their coach shared.
async fn seed_coaching(
    store: &Store,
    org: alongside_core::OrgId,
    coordinator: UserId,
    coach: UserId,
    people: &[PersonId],
    hash: &str,
    rng: &mut ChaCha8Rng,
) -> Result<()> {
    use alongside_core::coaching::{
        london_instant, london_local, BookingForm, ContactMode, Discharge, GoalCategory,
        GoalDetails, GoalOutcome, ReferralDetails, ReferralSource, SessionStatus, Urgency,
        WorkingHours,
    };
    use alongside_core::time::Timestamp;
    use alongside_core::Actor;
    use alongside_store::coaching::{ReviewInput, SessionRecord};
    use alongside_store::people::Source;

    let src = || Source(Some("demo".into()));
    let day = 86_400_000_000i64;
    let now = store.now();
    let actor = |user_id, role| Actor {
        user_id,
        org_id: org,
        role,
        person_id: None,
    };
    let coord = actor(coordinator, Role::Coordinator);
    let kofi = actor(coach, Role::HealthCoach);
    let sam_id = store
        .create_user_by_system(
            NewUser {
                org_id: org,
                username: SECOND_COACH.0.into(),
                display_name: SECOND_COACH.1.into(),
                role: Role::HealthCoach,
                person_id: None,
                password_hash: hash.to_string(),
            },
            "demo",
        )
        .await?;
    let hours = |t: &str| WorkingHours::from_text(t).expect("demo hours");
    store
        .set_coach_profile(
            &coord,
            coach,
            30,
            hours(
                "mon=09:00-17:00;tue=09:00-17:00;wed=09:00-17:00;thu=09:00-17:00;fri=09:00-13:00",
            ),
            src(),
        )
        .await?;
    store
        .set_coach_profile(
            &coord,
            sam_id,
            20,
            hours(
                "tue=10:00-18:00;wed=10:00-18:00;thu=10:00-18:00;fri=10:00-18:00;sat=09:00-12:00",
            ),
            src(),
        )
        .await?;

    let urgencies = [
        Urgency::Routine,
        Urgency::Routine,
        Urgency::Soon,
        Urgency::Urgent,
    ];
    let sources = [
        ReferralSource::Coordinator,
        ReferralSource::Clinician,
        ReferralSource::Clinician,
        ReferralSource::SelfReferral,
    ];
    let referral = |rng: &mut ChaCha8Rng| ReferralDetails {
        source: *pick(rng, &sources),
        referrer: None,
        reason: pick(rng, REFERRAL_REASONS).to_string(),
        urgency: *pick(rng, &urgencies),
        modes: vec![*pick(
            rng,
            &[
                ContactMode::FaceToFace,
                ContactMode::Telephone,
                ContactMode::Video,
            ],
        )],
        times: rng.gen_bool(0.5).then(|| "Weekday mornings".to_string()),
        language: None,
    };
    let goal = |g: &DemoGoal, rng: &mut ChaCha8Rng| {
        (
            GoalDetails {
                own_words: g.0.into(),
                category: GoalCategory::from_code(g.1).expect("demo category"),
                what: Some(g.2.into()),
                how_much: Some(g.3.into()),
                when: Some(g.4.into()),
                how_often: Some(g.5.into()),
                importance: rng.gen_range(6..=10),
                confidence: rng.gen_range(3..=8),
            },
            g.6.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    let booking = |date: time::Date, minutes: u32| {
        BookingForm {
            date: alongside_core::time::iso_date(date),
            time: format!("{:02}:{:02}", minutes / 60, minutes % 60),
            minutes: "60".into(),
            mode: "telephone".into(),
            ..Default::default()
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo booking: {e}"))
    };
    let (today, _) = london_local(Timestamp(now));

    // Who gets what: the demo person first (an open episode), then the others in turn.
    let mut order: Vec<PersonId> = people.to_vec();
    let mut rest = order.split_off(1.min(order.len()));
    rand::seq::SliceRandom::shuffle(rest.as_mut_slice(), rng);
    order.extend(rest);
    let mut people = order.into_iter();

    // Open episodes for the demo coach (12), each on its own weekly slot: weekday i % 4
    // (Monday to Thursday) at 09:00, 10:00 or 11:00.
    for i in 0..12u32 {
        let Some(pid) = people.next() else { break };
        let rid = store
            .create_referral(&coord, pid, referral(rng), src())
            .await?;
        store.allocate_referral(&coord, rid, coach, src()).await?;
        let eid = store.accept_referral(&kofi, rid, src()).await?;
        let past = if i == 0 { 3 } else { (i % 5) as i64 };
        store
            .backdate_coaching(
                org,
                rid,
                now - (past + 4) * 7 * day,
                Some((eid, now - (past + 1) * 7 * day)),
            )
            .await?;
        let mut goals = Vec::new();
        let n_goals = if i == 0 { 2 } else { 1 + (i % 2) as usize };
        for k in 0..n_goals {
            let g = &GOALS[(i as usize + k * 3) % GOALS.len()];
            let (d, steps) = goal(g, rng);
            goals.push(
                store
                    .add_goal(&kofi, pid, Some(eid), d, steps, src())
                    .await?,
            );
        }
        let weekday = i % 4;
        let minutes = (9 + i / 4) * 60;
        // The most recent slot before today, then back one week per earlier session.
        let mut last = today - time::Duration::days(1);
        while last.weekday().number_days_from_monday() != weekday as u8 {
            last -= time::Duration::days(1);
        }
        for j in 0..past {
            let date = last - time::Duration::weeks(past - 1 - j);
            let b = booking(date, minutes)?;
            let starts = b.starts_at;
            let sid = store
                .book_session(&kofi, eid, b, Timestamp(starts.0 - day), src())
                .await?;
            let missed = i != 0 && j == 1 && i % 3 == 0;
            let reviews = if missed {
                Vec::new()
            } else {
                goals
                    .iter()
                    .map(|g| ReviewInput {
                        goal_id: *g,
                        attainment: (j - 1).clamp(-2, 2),
                        note: (j == past - 1).then(|| "Doing it most days now".to_string()),
                    })
                    .collect()
            };
            store
                .record_session(
                    &kofi,
                    sid,
                    SessionRecord {
                        status: if missed {
                            SessionStatus::DidNotAttend
                        } else {
                            SessionStatus::Attended
                        },
                        notes: (!missed)
                            .then(|| SESSION_NOTES[j as usize % SESSION_NOTES.len()].to_string()),
                        notes_shared: i == 0 || j % 2 == 0,
                        cancel_reason: None,
                        reviews,
                    },
                    Timestamp(starts.0 + 3_600_000_000),
                    src(),
                )
                .await?;
        }
        // The next session: this week if the slot is still ahead, else next week.
        let mut next = today;
        while next.weekday().number_days_from_monday() != weekday as u8
            || london_instant(next, minutes).0 <= now
        {
            next += time::Duration::days(1);
        }
        store
            .book_session(&kofi, eid, booking(next, minutes)?, Timestamp(now), src())
            .await?;
    }

    // One ended episode: four sessions on Friday mornings, then discharge.
    if let Some(pid) = people.next() {
        let rid = store
            .create_referral(&coord, pid, referral(rng), src())
            .await?;
        store.allocate_referral(&coord, rid, coach, src()).await?;
        let eid = store.accept_referral(&kofi, rid, src()).await?;
        store
            .backdate_coaching(org, rid, now - 12 * 7 * day, Some((eid, now - 9 * 7 * day)))
            .await?;
        let (d, steps) = goal(&GOALS[0], rng);
        let g = store
            .add_goal(&kofi, pid, Some(eid), d, steps, src())
            .await?;
        let mut friday = today - time::Duration::days(1);
        while friday.weekday() != time::Weekday::Friday {
            friday -= time::Duration::days(1);
        }
        for j in 0..4i64 {
            let b = booking(friday - time::Duration::weeks(5 - j), 9 * 60)?;
            let starts = b.starts_at;
            let sid = store
                .book_session(&kofi, eid, b, Timestamp(starts.0 - day), src())
                .await?;
            store
                .record_session(
                    &kofi,
                    sid,
                    SessionRecord {
                        status: SessionStatus::Attended,
                        notes: Some(SESSION_NOTES[j as usize + 1].to_string()),
                        notes_shared: true,
                        cancel_reason: None,
                        reviews: vec![ReviewInput {
                            goal_id: g,
                            attainment: j - 1,
                            note: None,
                        }],
                    },
                    Timestamp(starts.0 + 3_600_000_000),
                    src(),
                )
                .await?;
        }
        store
            .discharge(
                &kofi,
                eid,
                Discharge {
                    summary: "Walks to the park most days now and feels more in control of breathlessness. Knows what to do on bad days.".into(),
                    outcomes: vec![(g.to_string(), GoalOutcome::Met)],
                    onward: Some("Signposted to the Tuesday walking group.".into()),
                },
                today,
                Timestamp(now),
                src(),
            )
            .await?;
    }

    // Referrals allocated and waiting for the coach's decision: three to Sam, one to Kofi.
    for (k, to) in [sam_id, sam_id, sam_id, coach].into_iter().enumerate() {
        let Some(pid) = people.next() else { break };
        let rid = store
            .create_referral(&coord, pid, referral(rng), src())
            .await?;
        store.allocate_referral(&coord, rid, to, src()).await?;
        store
            .backdate_coaching(org, rid, now - (10 + k as i64 * 3) * day, None)
            .await?;
    }

    // About forty waiting, received over the last three months.
    for _ in 0..40 {
        let Some(pid) = people.next() else { break };
        let rid = store
            .create_referral(&coord, pid, referral(rng), src())
            .await?;
        let received = now - rng.gen_range(1..90) * day - rng.gen_range(0..day);
        store.backdate_coaching(org, rid, received, None).await?;
    }
    Ok(())
}

/// A person's latent activation (logits) for the demo: lower with age, deprivation and
/// multimorbidity, as in the published associations.
fn latent_activation(rng: &mut ChaCha8Rng, d: &PersonDetails, today: time::Date) -> f64 {
    let age = alongside_core::time::age_on(d.date_of_birth, today) as f64;
    let decile = f64::from(d.deprivation_decile.unwrap_or(5));
    let normal: f64 = (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0;
    1.6 - 0.02 * (age - 50.0) + 0.08 * (decile - 5.0) - 0.25 * (d.conditions.len() as f64 - 1.0)
        + 1.1 * normal
}

/// Answers drawn from the instrument's own partial credit model at `theta`.
fn simulate_answers(
    rng: &mut ChaCha8Rng,
    ins: &alongside_measure::Instrument,
    theta: f64,
) -> std::collections::BTreeMap<String, String> {
    let scoring = ins.definition().scoring.items.clone().unwrap_or_default();
    let mut answers = std::collections::BTreeMap::new();
    for item in ins.items() {
        if rng.gen_bool(0.04) {
            continue; // left blank
        }
        let na = item.not_applicable.first().filter(|_| rng.gen_bool(0.03));
        if let Some(code) = na {
            answers.insert(item.link_id.clone(), code.clone());
            continue;
        }
        let Some(cal) = scoring.iter().find(|c| c.link_id == item.link_id) else {
            continue;
        };
        let probs = alongside_measure::rasch::category_probabilities(
            cal.difficulty,
            cal.thresholds.as_deref().unwrap_or(&[]),
            theta,
        );
        let mut u: f64 = rng.gen();
        let mut k = probs.len() - 1;
        for (i, p) in probs.iter().enumerate() {
            if u < *p {
                k = i;
                break;
            }
            u -= p;
        }
        if let Some(o) = item.options.iter().find(|o| o.score == Some(k as i32)) {
            answers.insert(item.link_id.clone(), o.code.clone());
        }
    }
    answers
}

/// Activation history for most demo people: a first measurement within the last two years and,
/// for many, one or two more, drifting upwards for those who had support.
async fn seed_assessments(
    store: &Store,
    org: &alongside_core::OrgId,
    rng: &mut ChaCha8Rng,
    people: &[(PersonId, f64)],
) -> Result<std::collections::HashMap<PersonId, u8>> {
    let mut first_levels = std::collections::HashMap::new();
    let org = *org;
    let rows = store.instruments(org).await?;
    let Some(row) = rows
        .iter()
        .find(|r| r.active && r.key == "alongside-demo-activation")
    else {
        return Ok(first_levels);
    };
    let ins = alongside_measure::Instrument::from_json_str(&row.definition)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = store.now();
    let day = 86_400_000_000i64;
    let mut batch = Vec::new();
    for (pid, theta) in people {
        if !rng.gen_bool(0.8) {
            continue;
        }
        let mut at = now - rng.gen_range(30..730) * day;
        let mut theta = *theta;
        let n = 1 + usize::from(rng.gen_bool(0.45)) + usize::from(rng.gen_bool(0.2));
        for _ in 0..n {
            if at > now {
                break;
            }
            let answers = simulate_answers(rng, &ins, theta);
            let outcome = ins
                .score_answers(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let stored = alongside_web::pages::activation::stored_result(&outcome);
            if let Some(level) = stored.level {
                first_levels.entry(*pid).or_insert(level as u8);
            }
            batch.push((*pid, row.id, at, answers, stored));
            at += rng.gen_range(150..260) * day;
            theta += rng.gen_range(-0.2..0.6);
        }
    }
    store.insert_completed_assessments(org, batch).await?;
    Ok(first_levels)
}

/// Level-4-against-level-1 rate ratios from the reference study (Barker et al. 2018; missed
/// outpatient appointments assumed), with rates per person-year at level 1 for a 50-year-old
/// in decile 5 with one condition.
const UTILISATION: [(u8, f64, f64); 6] = [
    (0, 4.5, 0.82),  // gp_appointment
    (1, 0.45, 0.77), // gp_dna
    (2, 0.40, 0.68), // ae_attendance (30% self-referred minor, ratio 0.67)
    (3, 0.16, 0.62), // emergency_admission
    (4, 1.40, 0.81), // outpatient_attendance
    (5, 0.14, 0.80), // outpatient_dna
];

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    // Knuth's method in steps, exact for the small means used here.
    let mut n = 0u32;
    let mut left = mean;
    while left > 0.0 {
        let step = left.min(20.0);
        left -= step;
        let l = (-step).exp();
        let mut p: f64 = rng.gen();
        while p > l {
            n += 1;
            p *= rng.gen::<f64>();
        }
    }
    n
}

/// Two years of GP, A&E, admission and outpatient events for every demo person, from a Poisson
/// model with a gamma frailty (variance 0.5) whose rates fall with activation level as in the
/// reference study and rise with age, deprivation and number of conditions. Stored through the
/// store's bulk path as one import.
async fn seed_utilisation(
    store: &Store,
    org: alongside_core::OrgId,
    rng: &mut ChaCha8Rng,
    covariates: &[(PersonId, i32, u8, usize)],
    thetas: &[(PersonId, f64)],
    first_levels: &std::collections::HashMap<PersonId, u8>,
    today: time::Date,
) -> Result<()> {
    let days = 730;
    let end = alongside_stats::Day(
        (today - time::Date::from_calendar_date(1970, time::Month::January, 1)?).whole_days()
            as i32,
    );
    let mut events = Vec::new();
    for ((pid, age, decile, conditions), (_, theta)) in covariates.iter().zip(thetas) {
        let level = first_levels.get(pid).copied().unwrap_or(match *theta {
            t if t < 0.5 => 1,
            t if t < 1.2 => 2,
            t if t < 2.6 => 3,
            _ => 4,
        });
        let frailty =
            0.5 * (-(rng.gen::<f64>().max(1e-12)).ln() - (rng.gen::<f64>().max(1e-12)).ln());
        let cov = (1.0 + 0.015 * f64::from(age - 50)).max(0.5)
            * (1.0 + 0.05 * (5.0 - f64::from(*decile)))
            * (1.0 + 0.25 * (*conditions as f64 - 1.0));
        for (ty, base, ratio) in UTILISATION {
            let rate = base * cov * frailty * ratio.powf(f64::from(level - 1) / 3.0);
            for _ in 0..poisson(rng, rate * f64::from(days) / 365.25) {
                events.push(alongside_store::outcomes::NewEvent {
                    person_id: *pid,
                    day: alongside_stats::Day(end.0 - rng.gen_range(1..=days)),
                    event_type: ty,
                    minor: ty == 2 && rng.gen_bool(0.3),
                });
            }
        }
    }
    store
        .insert_generated_events(org, "demo utilisation data (synthetic)", events)
        .await?;
    Ok(())
}

pub fn print_sign_ins() {
    println!();
    println!("Demo sign-ins (password for all: {DEMO_PASSWORD}):");
    for (username, _, role) in ACCOUNTS {
        println!("  {username:<12} {}", role.label());
    }
    println!(
        "  {:<12} {} (a second coach)",
        SECOND_COACH.0,
        Role::HealthCoach.label()
    );
    println!();
}
