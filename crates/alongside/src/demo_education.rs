//! Demo self-management education: a COPD group course, a type 2 diabetes course and an
//! online self-paced programme, with one finished run (registers taken), runs
//! coming up (one full, with a waiting list) and the demo person booked on one. All text is
//! written for this demo; none of it is taken from any real course.

use alongside_core::access::Actor;
use alongside_core::education::{
    ContentPage, DeliveryMode, ProgrammeDetails, ProgrammeForm, RunDetails, RunForm,
};
use alongside_core::{OrgId, PersonId, Role, UserId};
use alongside_store::people::Source;
use alongside_store::Store;
use anyhow::{anyhow, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

fn src() -> Source {
    Source(Some("demo".into()))
}

fn actor(org: OrgId, user: UserId, role: Role) -> Actor {
    Actor {
        user_id: user,
        org_id: org,
        role,
        person_id: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn programme(
    title: &str,
    summary: &str,
    mode: &str,
    sessions: u32,
    minutes: u32,
    complete: Option<u32>,
    conditions: &[&str],
    languages: &[&str],
    topics: &[&str],
    audience: &str,
    accessibility: &str,
) -> Result<ProgrammeDetails> {
    ProgrammeDetails::parse(&ProgrammeForm {
        title: title.into(),
        summary: summary.into(),
        provider: "Riverside PCN self-management team".into(),
        mode: mode.into(),
        sessions: sessions.to_string(),
        session_minutes: minutes.to_string(),
        completion_min: complete.map(|c| c.to_string()).unwrap_or_default(),
        audience: audience.into(),
        topics: topics.join("\n"),
        languages: languages.iter().map(|s| s.to_string()).collect(),
        accessibility: accessibility.into(),
        conditions: conditions.iter().map(|s| s.to_string()).collect(),
    })
    .map_err(|e| anyhow!("demo programme {title}: {e}"))
}

#[allow(clippy::too_many_arguments)]
fn run(
    label: &str,
    first: time::Date,
    start: &str,
    end: &str,
    venue: &str,
    capacity: u32,
    facilitator: UserId,
    sessions: u32,
) -> Result<RunDetails> {
    RunDetails::parse(
        &RunForm {
            label: label.into(),
            first_date: alongside_core::time::iso_date(first),
            start_time: start.into(),
            end_time: end.into(),
            venue: venue.into(),
            joining: String::new(),
            capacity: capacity.to_string(),
            facilitators: vec![facilitator.to_string()],
        },
        DeliveryMode::Group,
        sessions,
    )
    .map_err(|e| anyhow!("demo run {label}: {e}"))
}

/// Seeds the education demo. `people` are (id, condition keys); `educator` and `coordinator`
/// are the demo accounts; `own` is the demo person's record.
pub async fn seed(
    store: &Store,
    org: OrgId,
    rng: &mut ChaCha8Rng,
    educator: UserId,
    coordinator: UserId,
    people: &[(PersonId, Vec<String>)],
    own: PersonId,
    today: time::Date,
) -> Result<()> {
    let ed = actor(org, educator, Role::Educator);
    let co = actor(org, coordinator, Role::Coordinator);
    let with = |c: &str| -> Vec<PersonId> {
        people
            .iter()
            .filter(|(id, cs)| *id != own && cs.iter().any(|x| x == c))
            .map(|(id, _)| *id)
            .collect()
    };
    let copd = store
        .create_programme(
            &ed,
            programme(
                "Breathing Space: living well with COPD",
                "A friendly six-week group course for people with COPD, run in the community by a respiratory nurse and a physiotherapist.",
                "group",
                6,
                120,
                Some(4),
                &["copd"],
                &["en", "pl"],
                &[
                    "COPD: what is happening in your lungs, and its physical and emotional impact",
                    "Treatments and what each one is for",
                    "Medication and inhaler technique, with a chance to practise",
                    "Breathing control, pacing and staying active",
                    "Stopping smoking: a personal approach, with referral on to the stop smoking service",
                    "Flare-ups: spotting them early and having a plan",
                ],
                "Adults with COPD of any severity. A family member or carer is welcome to come too.",
                "Step-free access, hearing loop, large-print handouts. Polish-speaking facilitator on request.",
            )?,
            src(),
        )
        .await?;
    let t2d = store
        .create_programme(
            &ed,
            programme(
                "Sugar Smart: your type 2 diabetes course",
                "Four afternoon sessions to understand type 2 diabetes and find changes that fit your life.",
                "group",
                4,
                150,
                Some(3),
                &["type2_diabetes"],
                &["en", "ur", "pa"],
                &[
                    "What type 2 diabetes is and how it can change",
                    "Food, portions and reading labels",
                    "Being active and what it does to blood glucose",
                    "Medicines, yearly checks and looking after your feet and eyes",
                    "Living with diabetes day to day, including low mood and stress",
                ],
                "Adults diagnosed with type 2 diabetes in the last few years, or anyone who would like a refresher.",
                "Step-free access. Sessions can be interpreted in Urdu or Punjabi: ask when you book.",
            )?,
            src(),
        )
        .await?;
    let online = store
        .create_programme(
            &co,
            programme(
                "Living well with a long-term condition (online)",
                "Short online pages you can go through at your own pace, on a phone or computer.",
                "online",
                3,
                20,
                None,
                &[
                    "other",
                    "copd",
                    "type2_diabetes",
                    "heart_failure",
                    "chronic_pain",
                    "depression",
                ],
                &["en"],
                &[
                    "What self-management means for you",
                    "Setting a small goal and planning the first step",
                    "Sleep, energy and pacing",
                    "Talking to your GP practice and getting the most from appointments",
                ],
                "Anyone living with one or more long-term conditions.",
                "Works with screen readers and text enlargement; every video has captions.",
            )?,
            src(),
        )
        .await?;
    for (module, title, body, video, res) in [
        (
            "Getting started",
            "What self-management means",
            "## You are the expert in your own life\nMost of the time, you are the one looking after your health. Self-management means having the knowledge, skills and confidence to do that in a way that suits you.\n\n## What helps\n- Knowing what your condition is and how it may change\n- Small steps that you choose\n- People around you who understand\n\nYou do not have to do everything at once.",
            "https://video.example.org/alongside/self-management-intro",
            "",
        ),
        (
            "Getting started",
            "Setting a small goal",
            "Pick one thing you would like to be different in a month's time. Make the first step small enough that you are at least 7 out of 10 sure you can do it this week.\n\n- What will you do?\n- When and where?\n- How often?\n- What might get in the way, and what will you do then?",
            "",
            "My action plan (printable) | https://leaflets.example.org/alongside/action-plan.pdf",
        ),
        (
            "Everyday life",
            "Sleep, energy and pacing",
            "Many long-term conditions affect energy. Pacing means spreading activity through the day and week, with rests before you need them.\n\n## Try this week\n- Notice when your energy is best\n- Break one bigger job into smaller parts\n- Keep a regular time to wind down",
            "",
            "",
        ),
    ] {
        let page = ContentPage::parse(module, title, body, video, res)
            .map_err(|e| anyhow!("demo page {title}: {e}"))?;
        store.add_page(&co, online, page, src()).await?;
    }

    // A finished COPD run (started ten weeks ago): 12 places, registers taken, feedback.
    let past = store
        .create_run(
            &ed,
            copd,
            run(
                "Autumn, Tuesday mornings",
                today - time::Duration::weeks(10),
                "10:00",
                "12:00",
                "Riverside Community Centre, 4 Mill Lane",
                12,
                educator,
                6,
            )?,
            src(),
        )
        .await?;
    let copd_people = with("copd");
    let finished: Vec<PersonId> = copd_people.iter().take(12).copied().collect();
    for p in &finished {
        store.enrol(&co, past, *p, src()).await?;
    }
    for n in 1..=6 {
        let present: Vec<PersonId> = finished
            .iter()
            .filter(|_| rng.gen_bool(0.75))
            .copied()
            .collect();
        store
            .record_attendance(&ed, past, n, present, src())
            .await?;
    }
    // The next COPD run is full, with people waiting.
    let next = store
        .create_run(
            &ed,
            copd,
            run(
                "Spring, Thursday afternoons",
                today + time::Duration::weeks(2),
                "14:00",
                "16:00",
                "Hillside Library meeting room, 20 Station Road",
                10,
                educator,
                6,
            )?,
            src(),
        )
        .await?;
    for p in copd_people.iter().skip(12).take(13) {
        store.enrol(&co, next, *p, src()).await?;
    }
    // A type 2 diabetes run with room; the demo person has booked a place.
    let sugar = store
        .create_run(
            &ed,
            t2d,
            run(
                "Wednesday afternoons",
                today + time::Duration::weeks(1),
                "13:30",
                "16:00",
                "Riverside Health Centre, Education Room",
                14,
                educator,
                4,
            )?,
            src(),
        )
        .await?;
    for p in with("type2_diabetes").iter().take(8) {
        store.enrol(&co, sugar, *p, src()).await?;
    }
    store.enrol(&co, sugar, own, src()).await?;
    Ok(())
}
