//! Demo peer support: the evening peer-support café from the seed documents (open 18:00–23:00
//! every day of the year, up to 60 people a night, volunteers alongside community support staff,
//! one-to-one chats over coffee and creative workshops), two smaller groups, members, and a
//! fortnight of past nights' attendance (and one night a week earlier in the year), the café's rota (the demo lead and volunteer) and their
//! training records. All synthetic.

use alongside_core::access::Actor;
use alongside_core::groups::{GroupDetails, GroupForm};
use alongside_core::rota::{Duty, Training};
use alongside_core::{GroupId, OrgId, PersonId};
use alongside_store::groups::{DoorEntry, SignInOutcome};
use alongside_store::people::Source;
use alongside_store::Store;
use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const CAFE: &str = "Evening peer-support café";

fn form(name: &str, today: time::Date) -> GroupForm {
    GroupForm {
        name: name.into(),
        kind: "formal".into(),
        focus: "any".into(),
        mode: "in_person".into(),
        first_day: "1".into(),
        first_month: "1".into(),
        first_year: today.year().to_string(),
        until_day: "31".into(),
        until_month: "12".into(),
        until_year: today.year().to_string(),
        who_may_join: "Anyone".into(),
        walk_in_places: "0".into(),
        ..Default::default()
    }
}

pub async fn seed(
    store: &Store,
    org: OrgId,
    lead: &Actor,
    volunteer: &Actor,
    people: &[PersonId],
    today: time::Date,
) -> Result<GroupId> {
    let src = || Source(Some("demo".into()));
    let cafe = GroupDetails::parse(&GroupForm {
        description: "A calm, welcoming space in the evening for anyone finding things hard. Volunteers with lived experience work alongside community support staff: one-to-one chats over coffee, and creative workshops.".into(),
        focus: "depression".into(),
        interest: "Mental health and wellbeing".into(),
        venue: "The Old Library, 12 High Street".into(),
        place: "Riverside".into(),
        who_may_join: "Anyone aged 18 or over who is struggling with their mental health — no referral needed, just turn up or book ahead.".into(),
        code_of_conduct: "Be kind; what is shared here stays here; no alcohol or drugs; staff may ask anyone to leave to keep everyone safe.".into(),
        start_time: "18:00".into(),
        end_time: "23:00".into(),
        repeat: "daily".into(),
        capacity: "60".into(),
        walk_in_places: "20".into(),
        attendees_per_volunteer: "15".into(),
        required_training: vec!["peer_support".into(), "safeguarding".into()],
        ..form(CAFE, today)
    })
    .map_err(|e| anyhow::anyhow!("demo café: {e}"))?;
    let cafe_id = store.create_group(lead, cafe, src()).await?;
    // Activities within each night, with their own places (pages/activities.rs).
    let mut activities = Vec::new();
    for (name, places, with) in [
        ("One-to-one chat over coffee", 8, "Priya"),
        ("Creative workshop", 12, "Tom"),
    ] {
        let new = alongside_store::activities::NewActivity {
            name: name.into(),
            capacity: places,
            facilitator: Some(with.into()),
        };
        activities.push(store.create_activity(lead, cafe_id, new, src()).await?);
    }
    let walking = GroupDetails::parse(&GroupForm {
        description: "A gentle walk and a chat for people with breathing problems.".into(),
        kind: "informal".into(),
        peer_leader: "Gareth".into(),
        focus: "copd".into(),
        venue: "Riverside Park main gates".into(),
        place: "Riverside".into(),
        start_time: "10:30".into(),
        end_time: "11:30".into(),
        repeat: "weekly".into(),
        days: vec!["TU".into()],
        capacity: "15".into(),
        ..form("Breathe Easy walking group", today)
    })
    .map_err(|e| anyhow::anyhow!("demo walking group: {e}"))?;
    store.create_group(lead, walking, src()).await?;
    let online = GroupDetails::parse(&GroupForm {
        description: "Once a month, people living with type 2 diabetes share what works for them.".into(),
        focus: "type2_diabetes".into(),
        mode: "online".into(),
        joining_details: "Video call link sent to members the day before (demo: https://example.com/meet)".into(),
        start_time: "19:00".into(),
        end_time: "20:00".into(),
        repeat: "monthly".into(),
        month_week: "1".into(),
        month_day: "MO".into(),
        capacity: "25".into(),
        ..form("Diabetes peer circle (online)", today)
    })
    .map_err(|e| anyhow::anyhow!("demo online group: {e}"))?;
    store.create_group(lead, online, src()).await?;

    // Members: the first 120 people; the demo person (first) among them.
    for pid in people.iter().take(120) {
        store.add_group_member_unaudited(org, cafe_id, *pid).await?;
    }
    // The rota: the peer-support lead (staff) and the volunteer on every café night from a
    // fortnight ago to a month ahead (volunteers may only use the door of sessions they are on
    // the rota for), and their training: the lead's safeguarding has lapsed, so the café's
    // session pages show that warning.
    let times = (
        alongside_core::groups::ClockTime::parse("18:00").expect("time"),
        alongside_core::groups::ClockTime::parse("23:00").expect("time"),
    );
    let cafe_row = store.group(org, cafe_id).await?;
    for night in cafe_row.details.occurrences(
        today.saturating_sub(time::Duration::days(14)),
        today.saturating_add(time::Duration::days(30)),
    ) {
        for (who, duty) in [(lead, Duty::Staff), (volunteer, Duty::Volunteer)] {
            store
                .add_rota_entry_unaudited(org, cafe_id, night, who.user_id, duty, times)
                .await?;
        }
    }
    let year = |n: i32| today.replace_year(today.year() + n).unwrap_or(today);
    for (who, course, done, expires) in [
        (volunteer, "peer_support", year(-1), None),
        (volunteer, "safeguarding", year(-1), Some(year(2))),
        (lead, "peer_support", year(-3), None),
        (
            lead,
            "safeguarding",
            year(-3),
            Some(year(-1).saturating_add(time::Duration::days(200))),
        ),
    ] {
        let expires_on = expires.map(|x: time::Date| x.max(done));
        store
            .record_training(
                lead,
                who.user_id,
                Training {
                    course: course.into(),
                    completed_on: done,
                    expires_on,
                },
                src(),
            )
            .await?;
    }
    // A fortnight of past nights, signed in at the door by the volunteer.
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_122);
    let first = time::Date::from_calendar_date(today.year(), time::Month::January, 1)?;
    for back in (1..=14).rev() {
        let night = today.saturating_sub(time::Duration::days(back));
        if night < first {
            continue;
        }
        let members = rng.gen_range(12..30);
        let walk_ins = rng.gen_range(5..20);
        let mut admitted = Vec::new();
        for i in 0..members {
            let pid = people[rng.gen_range(0..people.len().min(120))];
            let _ = i;
            if let SignInOutcome::Admitted { attendance_id, .. } = store
                .door_sign_in(volunteer, cafe_id, night, DoorEntry::Person(pid), src())
                .await?
            {
                admitted.push(attendance_id);
            }
        }
        // Some of them take part in the night's activities.
        for (i, attendance) in admitted.iter().take(14).enumerate() {
            let activity = &activities[usize::from(i >= 5)];
            store
                .activity_sign_up(volunteer, cafe_id, night, activity, attendance, src())
                .await?;
        }
        for i in 0..walk_ins {
            let name = ["Sam", "Alex", "Jo", "Chris", "Robin", "Kim", "Lee", "Nat"][i % 8];
            store
                .door_sign_in(
                    volunteer,
                    cafe_id,
                    night,
                    DoorEntry::WalkIn {
                        first_name: name.into(),
                        contact: None,
                    },
                    src(),
                )
                .await?;
        }
    }
    // Earlier in the year, one café night a week signed in by the peer-support lead (staff use
    // any session's door), so that the analyst's dashboard, whose default window is the last
    // full 12 months, shows peer-support reach from the first run.
    let fortnight_ago = today.saturating_sub(time::Duration::days(15));
    if first <= fortnight_ago {
        for night in cafe_row
            .details
            .occurrences(first, fortnight_ago)
            .into_iter()
            .step_by(7)
        {
            for _ in 0..rng.gen_range(10..25) {
                let pid = people[rng.gen_range(0..people.len().min(120))];
                store
                    .door_sign_in(lead, cafe_id, night, DoorEntry::Person(pid), src())
                    .await?;
            }
            for i in 0..rng.gen_range(3..10) {
                let name = ["Sam", "Alex", "Jo", "Chris", "Robin", "Kim", "Lee", "Nat"][i % 8];
                store
                    .door_sign_in(
                        lead,
                        cafe_id,
                        night,
                        DoorEntry::WalkIn {
                            first_name: name.into(),
                            contact: None,
                        },
                        src(),
                    )
                    .await?;
            }
        }
    }
    Ok(cafe_id)
}
