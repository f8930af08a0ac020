//! Demo data for the service directory, referrals to other services and care and support
//! plans. Every service is fictional: email addresses and websites are on example.org and
//! telephone numbers are in Ofcom's drama range (01632 960xxx).

use alongside_core::access::Actor;
use alongside_core::careplan::{ActionRow, PlanContent, PlanForm};
use alongside_core::directory::{ReferralStep, ServiceDetails, ServiceForm, StepInput};
use alongside_core::{OrgId, PersonId, Role, UserId};
use alongside_store::directory::ReferralOptions;
use alongside_store::people::Source;
use alongside_store::Store;
use anyhow::{anyhow, Result};
use time::Duration;

/// (name, kind, description, eligibility, conditions, self-referral, how to refer, phone
/// suffix, opening times, modes, languages)
type Entry = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const SERVICES: &[Entry] = &[
    ("Riverside Stop Smoking Service", "smoking_cessation", "Twelve weeks of one-to-one support to stop smoking, with free nicotine replacement or a vape starter kit.", "Adults who smoke and live or work in Riverside.", &[], true, "Ring us or fill in the form on our website; professionals can email a referral.", "101", "Monday to Friday 9:00 to 17:00; Thursday evenings until 19:30.", &["face_to_face", "telephone"], &["en", "pl", "ur", "bn"]),
    ("Talking Therapies Riverside", "talking_therapies", "Free NHS talking therapies for low mood, worry, stress and anxiety, including support for people living with a long-term condition.", "Adults aged 18 and over registered with a Riverside GP.", &["depression", "anxiety", "chronic_pain", "copd", "type2_diabetes", "heart_failure"], true, "Refer yourself online or by phone; GPs and coaches can refer with consent.", "102", "Monday to Friday 8:00 to 20:00; Saturday 9:00 to 13:00.", &["face_to_face", "telephone", "online"], &["en", "pl", "ar", "so"]),
    ("Active Riverside Exercise Referral", "exercise_referral", "A 12-week supervised exercise programme at three leisure centres, then reduced-price membership.", "Adults with a long-term condition who are not active at the moment, referred by a health professional or coach.", &["type2_diabetes", "hypertension", "coronary_heart_disease", "osteoarthritis", "depression", "copd"], false, "Referral form from a GP, practice nurse, physiotherapist or health and wellbeing coach.", "103", "Classes daily; booking line Monday to Friday 9:00 to 16:00.", &["face_to_face"], &["en"]),
    ("Breathe Easy Riverside", "peer_groups", "A friendly support group for people living with lung conditions and those who care for them, with gentle singing for lung health.", "Anyone with a lung condition, and their family and carers.", &["copd", "asthma", "long_covid"], true, "Just come along, or ring first if you would like someone to meet you.", "104", "Second and fourth Tuesday of the month, 14:00 to 16:00, St Anne's Community Hall.", &["face_to_face"], &["en"]),
    ("Riverside Pulmonary Rehabilitation", "education", "A six-week course of exercise and education about living well with a lung condition: breathing, inhalers, staying active and managing flare-ups.", "Adults with COPD or another chronic lung condition who are breathless walking on the flat.", &["copd", "asthma", "long_covid"], false, "Referral from a GP or respiratory nurse.", "105", "Courses start every month; Monday and Thursday mornings.", &["face_to_face", "online"], &["en", "pa"]),
    ("Healthy Weight Riverside", "weight_management", "A 12-week group programme about eating well, moving more and keeping weight off, with a weekly weigh-in.", "Adults with a body mass index of 30 or more (27.5 or more for some ethnic groups).", &["type2_diabetes", "hypertension", "osteoarthritis"], true, "Refer yourself online, or ask your practice.", "106", "Groups on weekday evenings and Saturday mornings; online groups on Wednesdays.", &["face_to_face", "online"], &["en", "ur", "gu"]),
    ("Living Well with Diabetes", "education", "A free structured education course for people with type 2 diabetes: food, medicines, checks and looking after your feet.", "Adults with type 2 diabetes, especially in the first year after diagnosis.", &["type2_diabetes"], true, "Book a place by phone or online; your practice can book for you.", "107", "Four half-day sessions, or eight online sessions of 90 minutes.", &["face_to_face", "online"], &["en", "pa", "ur", "bn", "gu"]),
    ("MoneyWise Riverside", "debt_housing", "Free, confidential advice about debt, benefits, energy bills and keeping your home, including help with forms.", "Anyone living in Riverside.", &[], true, "Ring the advice line, drop in, or ask any professional to refer you with your consent.", "108", "Advice line Monday to Friday 9:30 to 16:30; drop-in Wednesday 10:00 to 13:00.", &["face_to_face", "telephone", "online"], &["en", "pl", "ro", "ar"]),
    ("Riverside Carers' Centre", "carers_support", "Support for unpaid carers: a carer's assessment, breaks, a monthly carers' café and emergency planning.", "Anyone aged 18 or over who looks after a family member or friend.", &[], true, "Ring or email us; we can also take referrals from professionals.", "109", "Monday to Friday 9:00 to 17:00; carers' café first Friday of the month.", &["face_to_face", "telephone"], &["en", "pa"]),
    ("Heart to Heart Cardiac Support Group", "peer_groups", "People living with heart conditions meeting to share what helps, with talks from the cardiac rehabilitation team.", "People with a heart condition and their partners.", &["heart_failure", "coronary_heart_disease", "atrial_fibrillation"], true, "Just come along.", "110", "First Monday of the month, 18:30 to 20:00, Riverside Library.", &["face_to_face", "online"], &["en"]),
    ("Living Well with Pain", "education", "A course for people living with persistent pain: pacing, sleep, movement and managing setbacks, led by a physiotherapist and a peer tutor.", "Adults with pain for more than three months.", &["chronic_pain", "osteoarthritis"], false, "Referral from a GP, physiotherapist or health and wellbeing coach.", "111", "Six weekly sessions of two hours; daytime and evening courses.", &["face_to_face", "online"], &["en", "pl"]),
    ("The Lighthouse Café", "peer_groups", "A mental health peer-support café: a safe space for a chat over coffee with trained volunteers, open every evening.", "Adults who are struggling with their mental health, without an appointment.", &["depression", "anxiety"], true, "Just come along; no referral needed.", "112", "Every day of the year, 18:00 to 23:00.", &["face_to_face", "telephone"], &["en", "pl", "ar"]),
];

fn details(e: &Entry) -> Result<ServiceDetails> {
    let (
        name,
        kind,
        description,
        eligibility,
        conditions,
        self_referral,
        how,
        phone,
        opening,
        modes,
        languages,
    ) = *e;
    let slug: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    ServiceDetails::parse(&ServiceForm {
        name: name.into(),
        kind: kind.into(),
        description: description.into(),
        eligibility: eligibility.into(),
        conditions: conditions.iter().map(|c| c.to_string()).collect(),
        self_referral: if self_referral { "yes" } else { "no" }.into(),
        referral_method: how.into(),
        email: format!(
            "{}@example.org",
            slug.split('-').take(2).collect::<Vec<_>>().join(".")
        ),
        phone: format!("01632 960 {phone}"),
        address: "Riverside Health and Wellbeing Hub, 1 Example Street, Riverside".into(),
        website: format!("https://example.org/{slug}"),
        opening_times: opening.into(),
        modes: modes.iter().map(|m| m.to_string()).collect(),
        languages: languages.iter().map(|l| l.to_string()).collect(),
        active: "yes".into(),
    })
    .map_err(|e| anyhow!("demo service {name}: {e}"))
}

fn plan(
    today: time::Date,
    what_matters: &str,
    contingency: &str,
    review_in_days: i64,
    agreed: bool,
    actions: &[(&str, &str)],
    support: &[&str],
) -> Result<PlanContent> {
    let review = today + Duration::days(review_in_days);
    PlanContent::parse(
        &PlanForm {
            what_matters: what_matters.into(),
            strengths: "Knows what helps on a bad day; a daughter who lives nearby.".into(),
            needs: "Gets breathless on the stairs; worries about money this winter.".into(),
            preferences: "Telephone calls in the morning; face to face at the practice.".into(),
            goals: "Walk to the park and back without stopping; stop smoking by the spring.".into(),
            actions: actions
                .iter()
                .map(|(what, who)| ActionRow {
                    what: what.to_string(),
                    who: who.to_string(),
                    by: String::new(),
                })
                .collect(),
            support: support.iter().map(|s| s.to_string()).collect(),
            support_notes: "Coaching sessions fortnightly by telephone.".into(),
            contingency: contingency.into(),
            review_day: review.day().to_string(),
            review_month: (review.month() as u8).to_string(),
            review_year: review.year().to_string(),
            agreed: if agreed { "yes" } else { "no" }.into(),
            agreed_day: if agreed {
                today.day().to_string()
            } else {
                String::new()
            },
            agreed_month: if agreed {
                (today.month() as u8).to_string()
            } else {
                String::new()
            },
            agreed_year: if agreed {
                today.year().to_string()
            } else {
                String::new()
            },
        },
        today,
    )
    .map_err(|e| anyhow!("demo plan: {e}"))
}

fn actor(org: OrgId, user: UserId, role: Role) -> Actor {
    Actor {
        user_id: user,
        org_id: org,
        role,
        person_id: None,
    }
}

/// Seeds the directory, some referrals (one overdue) and plans: the person account's own
/// record gets a plan with two versions; the first two people on the coach's caseload get one.
pub async fn seed(
    store: &Store,
    org: OrgId,
    coordinator: UserId,
    coach: UserId,
    own: PersonId,
    caseload: &[PersonId],
) -> Result<()> {
    let src = || Source(Some("demo".into()));
    let coord = actor(org, coordinator, Role::Coordinator);
    let coach = actor(org, coach, Role::HealthCoach);
    let mut ids = Vec::new();
    for e in SERVICES {
        ids.push(store.create_service(&coord, details(e)?, src()).await?);
    }
    let today = store.clock().today();
    // The person's own plan: version 1 by the coordinator, version 2 after a conversation.
    store
        .save_care_plan(&coord, own, 0, plan(today, "Getting back to my allotment and seeing my grandchildren at weekends.", "Use my rescue pack as the COPD nurse showed me; call the practice, or 111 out of hours.", 60, false, &[("Walk to the end of the road each morning", "Me")], &["coaching"])?, src())
        .await?;
    store
        .save_care_plan(&coord, own, 1, plan(today, "Getting back to my allotment and seeing my grandchildren at weekends.", "Use my rescue pack as the COPD nurse showed me; if I am no better in two days, call the practice, or 111 out of hours. In an emergency call 999.", 90, true, &[("Walk to the end of the road each morning", "Me"), ("Book a place on pulmonary rehabilitation", "My coordinator"), ("Ring the stop smoking service", "Me, with my daughter")], &["coaching", "education", "other_services"])?, src())
        .await?;
    let sent = |days: i64| ReferralOptions {
        respond_by: Some(today + Duration::days(days)),
        send_now: true,
        ..Default::default()
    };
    store
        .create_service_referral(
            &coord,
            own,
            ids[0],
            "Wants to stop smoking before the spring",
            sent(14),
            today,
            src(),
        )
        .await?;
    store
        .create_service_referral(
            &coord,
            own,
            ids[4],
            "Breathless walking on the flat; would like to understand COPD better",
            sent(21),
            today,
            src(),
        )
        .await?;
    for (i, pid) in caseload.iter().take(2).enumerate() {
        store
            .save_care_plan(
                &coach,
                *pid,
                0,
                plan(
                    today,
                    "Feeling less tired and being able to cook for my family again.",
                    "Ring the practice; if the surgery is closed, call 111.",
                    75,
                    true,
                    &[("Try a 10-minute walk after lunch", "Me")],
                    &["coaching", "peer_support"],
                )?,
                src(),
            )
            .await?;
        // One referral waiting too long for an answer, one accepted.
        let rid = store
            .create_service_referral(
                &coach,
                *pid,
                ids[7 + i],
                "Money worries are getting in the way",
                sent(-5 - 3 * i as i64),
                today - Duration::days(20),
                src(),
            )
            .await?;
        if i == 1 {
            store
                .move_service_referral(
                    &coach,
                    *pid,
                    rid,
                    1,
                    StepInput {
                        step: ReferralStep::Accept,
                        on: today - Duration::days(10),
                        note: None,
                        outcome: None,
                        respond_by: None,
                        complete_by: Some(today - Duration::days(2)),
                    },
                    src(),
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_services_are_valid_and_clearly_fictional() {
        assert_eq!(SERVICES.len(), 12);
        let mut kinds = std::collections::BTreeSet::new();
        for e in SERVICES {
            let d = details(e).unwrap();
            kinds.insert(d.kind.code());
            assert!(
                d.phone.as_deref().unwrap().starts_with("01632 960 "),
                "{}",
                d.name
            );
            assert!(
                d.email.as_deref().unwrap().ends_with("@example.org"),
                "{}",
                d.name
            );
            assert!(
                d.website
                    .as_deref()
                    .unwrap()
                    .starts_with("https://example.org/"),
                "{}",
                d.name
            );
        }
        assert!(kinds.len() >= 8, "the demo covers most needs: {kinds:?}");
        plan(
            time::macros::date!(2026 - 12 - 03),
            "x",
            "y",
            30,
            true,
            &[("a", "b")],
            &["coaching"],
        )
        .unwrap();
    }
}
