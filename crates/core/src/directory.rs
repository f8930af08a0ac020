//! The service directory and referrals to other services: what a service is, how a submitted
//! service form is validated, and the life cycle of a referral (drafted → sent → accepted |
//! declined → completed, or withdrawn) as a pure transition function. No I/O.

use crate::conditions;
use crate::person::LANGUAGES;
use crate::time::parse_iso_date;
use crate::validation::{clean_text, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::Date;

/// The need a service meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    SmokingCessation,
    TalkingTherapies,
    ExerciseReferral,
    WeightManagement,
    DebtHousing,
    CarersSupport,
    Education,
    PeerGroups,
    Other,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 9] = [
        ServiceKind::SmokingCessation,
        ServiceKind::TalkingTherapies,
        ServiceKind::ExerciseReferral,
        ServiceKind::WeightManagement,
        ServiceKind::DebtHousing,
        ServiceKind::CarersSupport,
        ServiceKind::Education,
        ServiceKind::PeerGroups,
        ServiceKind::Other,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ServiceKind::SmokingCessation => "smoking_cessation",
            ServiceKind::TalkingTherapies => "talking_therapies",
            ServiceKind::ExerciseReferral => "exercise_referral",
            ServiceKind::WeightManagement => "weight_management",
            ServiceKind::DebtHousing => "debt_housing",
            ServiceKind::CarersSupport => "carers_support",
            ServiceKind::Education => "education",
            ServiceKind::PeerGroups => "peer_groups",
            ServiceKind::Other => "other",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::SmokingCessation => "Stopping smoking",
            ServiceKind::TalkingTherapies => "Counselling and talking therapies",
            ServiceKind::ExerciseReferral => "Exercise referral",
            ServiceKind::WeightManagement => "Weight management",
            ServiceKind::DebtHousing => "Debt and housing advice",
            ServiceKind::CarersSupport => "Support for carers",
            ServiceKind::Education => "Education programmes",
            ServiceKind::PeerGroups => "Peer support groups",
            ServiceKind::Other => "Other support",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// How a service is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    FaceToFace,
    Telephone,
    Online,
}

impl ServiceMode {
    pub const ALL: [ServiceMode; 3] = [
        ServiceMode::FaceToFace,
        ServiceMode::Telephone,
        ServiceMode::Online,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ServiceMode::FaceToFace => "face_to_face",
            ServiceMode::Telephone => "telephone",
            ServiceMode::Online => "online",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ServiceMode::FaceToFace => "Face to face",
            ServiceMode::Telephone => "By telephone",
            ServiceMode::Online => "Online",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// A validated directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDetails {
    pub name: String,
    pub kind: ServiceKind,
    pub description: String,
    pub eligibility: Option<String>,
    /// Condition keys of [`crate::conditions::CONDITIONS`] the service is for (empty: any).
    pub conditions: Vec<String>,
    pub self_referral: bool,
    pub referral_method: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub opening_times: Option<String>,
    pub modes: Vec<ServiceMode>,
    /// Language codes of [`crate::person::LANGUAGES`].
    pub languages: Vec<String>,
    pub active: bool,
}

/// A service form as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceForm {
    pub name: String,
    pub kind: String,
    pub description: String,
    pub eligibility: String,
    pub conditions: Vec<String>,
    pub self_referral: String,
    pub referral_method: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub website: String,
    pub opening_times: String,
    pub modes: Vec<String>,
    pub languages: Vec<String>,
    pub active: String,
}

impl ServiceForm {
    pub fn from_details(d: &ServiceDetails) -> ServiceForm {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        ServiceForm {
            name: d.name.clone(),
            kind: d.kind.code().into(),
            description: d.description.clone(),
            eligibility: o(&d.eligibility),
            conditions: d.conditions.clone(),
            self_referral: if d.self_referral { "yes" } else { "no" }.into(),
            referral_method: o(&d.referral_method),
            email: o(&d.email),
            phone: o(&d.phone),
            address: o(&d.address),
            website: o(&d.website),
            opening_times: o(&d.opening_times),
            modes: d.modes.iter().map(|m| m.code().to_string()).collect(),
            languages: d.languages.clone(),
            active: if d.active { "yes" } else { "no" }.into(),
        }
    }
}

fn yes_no(errors: &mut ValidationErrors, field: &str, message: &str, v: &str) -> bool {
    match v {
        "yes" => true,
        "no" => false,
        _ => {
            errors.add(field, message);
            false
        }
    }
}

impl ServiceDetails {
    /// Validates a submitted form, naming each field that is wrong.
    pub fn parse(f: &ServiceForm) -> Result<ServiceDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let name = clean_text(
            &mut e,
            "name",
            "the name of the service",
            &f.name,
            200,
            true,
        );
        let kind = ServiceKind::parse(&f.kind);
        if kind.is_none() {
            e.add("kind", "Select the need the service meets");
        }
        let description = clean_text(
            &mut e,
            "description",
            "what the service offers",
            &f.description,
            4000,
            true,
        );
        let eligibility = clean_text(
            &mut e,
            "eligibility",
            "who the service is for",
            &f.eligibility,
            2000,
            false,
        );
        let mut conds = Vec::new();
        for c in &f.conditions {
            if conditions::by_key(c).is_none() {
                e.add("conditions", "Select conditions from the list");
                break;
            }
            if !conds.contains(c) {
                conds.push(c.clone());
            }
        }
        let self_referral = yes_no(
            &mut e,
            "self_referral",
            "Select whether people can refer themselves",
            &f.self_referral,
        );
        let referral_method = clean_text(
            &mut e,
            "referral_method",
            "how to refer",
            &f.referral_method,
            2000,
            false,
        );
        let email = clean_text(&mut e, "email", "the email address", &f.email, 200, false);
        if let Some(m) = &email {
            let ok = m.split_once('@').is_some_and(|(a, b)| {
                !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.')
            }) && !m.contains(char::is_whitespace);
            if !ok {
                e.add(
                    "email",
                    "Enter an email address in the correct format, like name@example.org",
                );
            }
        }
        let phone = clean_text(&mut e, "phone", "the telephone number", &f.phone, 40, false);
        if let Some(p) = &phone {
            let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
            if digits < 5 || !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c)) {
                e.add(
                    "phone",
                    "Enter a telephone number, like 01632 960 001 or +44 1632 960 001",
                );
            }
        }
        let address = clean_text(&mut e, "address", "the address", &f.address, 500, false);
        let website = clean_text(&mut e, "website", "the website", &f.website, 300, false);
        if let Some(w) = &website {
            if !(w.starts_with("https://") || w.starts_with("http://"))
                || w.contains(char::is_whitespace)
                || w.len() < 12
            {
                e.add(
                    "website",
                    "Enter a website address starting with https://, like https://example.org",
                );
            }
        }
        let opening_times = clean_text(
            &mut e,
            "opening_times",
            "the opening times",
            &f.opening_times,
            1000,
            false,
        );
        let mut modes = Vec::new();
        for m in &f.modes {
            match ServiceMode::parse(m) {
                Some(m) if !modes.contains(&m) => modes.push(m),
                Some(_) => {}
                None => {
                    e.add("modes", "Select how the service is offered from the list");
                    break;
                }
            }
        }
        if modes.is_empty() && e.for_field("modes").is_none() {
            e.add(
                "modes",
                "Select how the service is offered: face to face, by telephone or online",
            );
        }
        let mut languages = Vec::new();
        for l in &f.languages {
            if !LANGUAGES.iter().any(|(c, _)| c == l) {
                e.add("languages", "Select languages from the list");
                break;
            }
            if !languages.contains(l) {
                languages.push(l.clone());
            }
        }
        if languages.is_empty() && e.for_field("languages").is_none() {
            e.add(
                "languages",
                "Select at least one language the service works in",
            );
        }
        let active = yes_no(
            &mut e,
            "active",
            "Select whether the service is taking referrals",
            &f.active,
        );
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ServiceDetails {
            name: name.unwrap_or_default(),
            kind: kind.unwrap_or(ServiceKind::Other),
            description: description.unwrap_or_default(),
            eligibility,
            conditions: conds,
            self_referral,
            referral_method,
            email,
            phone,
            address,
            website,
            opening_times,
            modes,
            languages,
            active,
        })
    }
}

/// Where a referral to another service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Drafted,
    Sent,
    Accepted,
    Declined,
    Completed,
    Withdrawn,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 6] = [
        ReferralStatus::Drafted,
        ReferralStatus::Sent,
        ReferralStatus::Accepted,
        ReferralStatus::Declined,
        ReferralStatus::Completed,
        ReferralStatus::Withdrawn,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ReferralStatus::Drafted => "drafted",
            ReferralStatus::Sent => "sent",
            ReferralStatus::Accepted => "accepted",
            ReferralStatus::Declined => "declined",
            ReferralStatus::Completed => "completed",
            ReferralStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ReferralStatus::Drafted => "Drafted",
            ReferralStatus::Sent => "Sent",
            ReferralStatus::Accepted => "Accepted",
            ReferralStatus::Declined => "Declined",
            ReferralStatus::Completed => "Completed",
            ReferralStatus::Withdrawn => "Withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
    /// Finished referrals take no further steps.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            ReferralStatus::Declined | ReferralStatus::Completed | ReferralStatus::Withdrawn
        )
    }
    /// The FHIR ServiceRequest status this corresponds to.
    pub fn fhir_status(self) -> &'static str {
        match self {
            ReferralStatus::Drafted => "draft",
            ReferralStatus::Sent | ReferralStatus::Accepted => "active",
            ReferralStatus::Completed => "completed",
            ReferralStatus::Declined | ReferralStatus::Withdrawn => "revoked",
        }
    }
}

/// A step in a referral's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStep {
    Send,
    Accept,
    Decline,
    Complete,
    Withdraw,
}

impl ReferralStep {
    pub const ALL: [ReferralStep; 5] = [
        ReferralStep::Send,
        ReferralStep::Accept,
        ReferralStep::Decline,
        ReferralStep::Complete,
        ReferralStep::Withdraw,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ReferralStep::Send => "send",
            ReferralStep::Accept => "accept",
            ReferralStep::Decline => "decline",
            ReferralStep::Complete => "complete",
            ReferralStep::Withdraw => "withdraw",
        }
    }
    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            ReferralStep::Send => "Mark as sent",
            ReferralStep::Accept => "Record that the service accepted",
            ReferralStep::Decline => "Record that the service declined",
            ReferralStep::Complete => "Record the outcome and complete",
            ReferralStep::Withdraw => "Withdraw the referral",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
    pub fn target(self) -> ReferralStatus {
        match self {
            ReferralStep::Send => ReferralStatus::Sent,
            ReferralStep::Accept => ReferralStatus::Accepted,
            ReferralStep::Decline => ReferralStatus::Declined,
            ReferralStep::Complete => ReferralStatus::Completed,
            ReferralStep::Withdraw => ReferralStatus::Withdrawn,
        }
    }
}

/// The status after `step`, or why the step cannot be taken from `from`.
pub fn transition(from: ReferralStatus, step: ReferralStep) -> Result<ReferralStatus, String> {
    use ReferralStatus::*;
    use ReferralStep::*;
    let ok = matches!(
        (from, step),
        (Drafted, Send)
            | (Sent, Accept)
            | (Sent, Decline)
            | (Accepted, Complete)
            | (Drafted | Sent | Accepted, Withdraw)
    );
    if ok {
        return Ok(step.target());
    }
    Err(match (from, step) {
        (s, _) if s.is_closed() => format!(
            "This referral is {}: it cannot be changed any more",
            s.label().to_lowercase()
        ),
        (Drafted, Accept | Decline | Complete) => {
            "This referral has not been sent yet: mark it as sent first".into()
        }
        (Sent, Complete) => {
            "The service has not accepted this referral yet: record that they accepted first".into()
        }
        (Sent, Send) => "This referral has already been sent".into(),
        (Accepted, Send | Accept | Decline) => {
            "The service has already accepted this referral".into()
        }
        _ => "That step is not possible for this referral now".into(),
    })
}

/// The steps possible from `from`, in the order they are offered.
pub fn next_steps(from: ReferralStatus) -> Vec<ReferralStep> {
    ReferralStep::ALL
        .into_iter()
        .filter(|s| transition(from, *s).is_ok())
        .collect()
}

/// How many days a referral is overdue on `today`: sent and not answered by its expected
/// response date, or accepted and not completed by its expected completion date.
pub fn days_overdue(
    status: ReferralStatus,
    respond_by: Option<Date>,
    complete_by: Option<Date>,
    today: Date,
) -> Option<i64> {
    let due = match status {
        ReferralStatus::Sent => respond_by?,
        ReferralStatus::Accepted => complete_by?,
        _ => return None,
    };
    let days = (today - due).whole_days();
    (days > 0).then_some(days)
}

/// A new referral as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralForm {
    pub service: String,
    pub reason: String,
    pub notes: String,
    pub respond_by: String,
    pub complete_by: String,
    pub send_now: String,
}

/// A validated new referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    pub service: String,
    pub reason: String,
    pub notes: Option<String>,
    pub respond_by: Option<Date>,
    pub complete_by: Option<Date>,
    pub send_now: bool,
}

/// Reads a date typed as `YYYY-MM-DD` or `D/M/YYYY` (also with spaces or hyphens).
pub fn parse_flexible_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Some(d) = parse_iso_date(s) {
        return Some(d);
    }
    let parts: Vec<&str> = s
        .split(['/', ' ', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let d: u8 = parts[0].parse().ok()?;
    let m: u8 = parts[1].parse().ok()?;
    let y: i32 = parts[2].parse().ok()?;
    if !(1900..=2200).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

fn date_field(
    e: &mut ValidationErrors,
    field: &str,
    label: &str,
    v: &str,
    today: Date,
) -> Option<Date> {
    if v.trim().is_empty() {
        return None;
    }
    match parse_flexible_date(v) {
        None => {
            e.add(
                field,
                format!("{label} must be a real date, like 15/3/2027"),
            );
            None
        }
        Some(d) if d < today => {
            e.add(field, format!("{label} must be today or in the future"));
            None
        }
        Some(d) if (d - today).whole_days() > 3 * 366 => {
            e.add(
                field,
                format!("{label} must be within the next three years"),
            );
            None
        }
        Some(d) => Some(d),
    }
}

impl NewReferral {
    pub fn parse(f: &ReferralForm, today: Date) -> Result<NewReferral, ValidationErrors> {
        let mut e = ValidationErrors::default();
        if f.service.trim().is_empty() {
            e.add("service", "Select the service to refer to");
        }
        let reason = clean_text(
            &mut e,
            "reason",
            "the reason for the referral",
            &f.reason,
            2000,
            true,
        );
        let notes = clean_text(&mut e, "notes", "the notes", &f.notes, 4000, false);
        let respond_by = date_field(
            &mut e,
            "respond_by",
            "The date a response is expected by",
            &f.respond_by,
            today,
        );
        let complete_by = date_field(
            &mut e,
            "complete_by",
            "The date the support is expected to be complete by",
            &f.complete_by,
            today,
        );
        if let (Some(r), Some(c)) = (respond_by, complete_by) {
            if c < r {
                e.add(
                    "complete_by",
                    "The date the support is expected to be complete by must be on or after the response date",
                );
            }
        }
        let send_now = match f.send_now.as_str() {
            "yes" => true,
            "no" => false,
            _ => {
                e.add(
                    "send_now",
                    "Select whether the referral has been sent or is a draft",
                );
                false
            }
        };
        if send_now && respond_by.is_none() && e.for_field("respond_by").is_none() {
            e.add(
                "respond_by",
                "Enter the date a response is expected by, so an unanswered referral is noticed",
            );
        }
        e.into_result(NewReferral {
            service: f.service.trim().to_string(),
            reason: reason.unwrap_or_default(),
            notes,
            respond_by,
            complete_by,
            send_now,
        })
    }
}

/// One step as submitted from a referral's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInput {
    pub step: ReferralStep,
    /// The date it happened (today if left blank); never in the future.
    pub on: Date,
    pub note: Option<String>,
    /// The outcome, required to complete.
    pub outcome: Option<String>,
    /// When sending: the date a response is expected by (required if none was set).
    pub respond_by: Option<Date>,
    /// When accepting: the date the support should be complete by.
    pub complete_by: Option<Date>,
}

/// A step form as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepForm {
    pub step: String,
    pub on: String,
    pub note: String,
    pub outcome: String,
    pub respond_by: String,
    pub complete_by: String,
}

impl StepInput {
    pub fn parse(f: &StepForm, today: Date) -> Result<StepInput, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let step = ReferralStep::parse(&f.step);
        if step.is_none() {
            e.add("step", "Choose what happened to the referral");
        }
        let on = if f.on.trim().is_empty() {
            Some(today)
        } else {
            match parse_flexible_date(&f.on) {
                None => {
                    e.add(
                        "on",
                        "The date it happened must be a real date, like 15/3/2027",
                    );
                    None
                }
                Some(d) if d > today => {
                    e.add("on", "The date it happened must be today or in the past");
                    None
                }
                Some(d) => Some(d),
            }
        };
        let note = clean_text(&mut e, "note", "the note", &f.note, 2000, false);
        let outcome = clean_text(&mut e, "outcome", "the outcome", &f.outcome, 4000, false);
        if step == Some(ReferralStep::Complete)
            && outcome.is_none()
            && e.for_field("outcome").is_none()
        {
            e.add(
                "outcome",
                "Enter the outcome of the referral to complete it",
            );
        }
        if step == Some(ReferralStep::Decline) && note.is_none() && e.for_field("note").is_none() {
            e.add("note", "Enter why the service declined the referral");
        }
        let respond_by = date_field(
            &mut e,
            "respond_by",
            "The date a response is expected by",
            &f.respond_by,
            today,
        );
        let complete_by = date_field(
            &mut e,
            "complete_by",
            "The date the support is expected to be complete by",
            &f.complete_by,
            today,
        );
        if !e.is_empty() {
            return Err(e);
        }
        Ok(StepInput {
            step: step.expect("checked"),
            on: on.expect("checked"),
            note,
            outcome,
            respond_by,
            complete_by,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn life_cycle_allows_only_the_documented_steps() {
        use ReferralStatus::*;
        use ReferralStep::*;
        assert_eq!(transition(Drafted, Send), Ok(Sent));
        assert_eq!(transition(Sent, Accept), Ok(Accepted));
        assert_eq!(transition(Sent, Decline), Ok(Declined));
        assert_eq!(transition(Accepted, Complete), Ok(Completed));
        for s in [Drafted, Sent, Accepted] {
            assert_eq!(transition(s, Withdraw), Ok(Withdrawn));
        }
        assert_eq!(
            transition(Drafted, Complete).unwrap_err(),
            "This referral has not been sent yet: mark it as sent first"
        );
        for closed in [Declined, Completed, Withdrawn] {
            assert!(next_steps(closed).is_empty());
            assert!(transition(closed, Withdraw)
                .unwrap_err()
                .contains("cannot be changed"));
        }
        assert_eq!(next_steps(Sent), vec![Accept, Decline, Withdraw]);
        assert_eq!(next_steps(Accepted), vec![Complete, Withdraw]);
    }

    #[test]
    fn overdue_counts_days_past_the_relevant_date() {
        let t = date!(2026 - 11 - 22);
        let before = Some(date!(2026 - 11 - 12));
        assert_eq!(
            days_overdue(ReferralStatus::Sent, before, None, t),
            Some(10)
        );
        assert_eq!(days_overdue(ReferralStatus::Sent, Some(t), None, t), None);
        assert_eq!(
            days_overdue(ReferralStatus::Accepted, before, None, t),
            None
        );
        assert_eq!(
            days_overdue(ReferralStatus::Accepted, None, before, t),
            Some(10)
        );
        assert_eq!(
            days_overdue(ReferralStatus::Drafted, before, before, t),
            None
        );
        assert_eq!(
            days_overdue(ReferralStatus::Completed, before, before, t),
            None
        );
    }

    fn service_form() -> ServiceForm {
        ServiceForm {
            name: "Breathe Easy Riverside".into(),
            kind: "peer_groups".into(),
            description: "A peer support group for people with lung conditions.".into(),
            conditions: vec!["copd".into(), "asthma".into()],
            self_referral: "yes".into(),
            email: "breathe@example.org".into(),
            phone: "01632 960 123".into(),
            website: "https://example.org/breathe".into(),
            modes: vec!["face_to_face".into()],
            languages: vec!["en".into()],
            active: "yes".into(),
            ..Default::default()
        }
    }

    #[test]
    fn service_form_validates_each_field() {
        let ok = ServiceDetails::parse(&service_form()).unwrap();
        assert_eq!(ok.kind, ServiceKind::PeerGroups);
        assert_eq!(
            ServiceDetails::parse(&ServiceForm::from_details(&ok)).unwrap(),
            ok
        );
        let bad = ServiceForm {
            name: " ".into(),
            kind: "astrology".into(),
            conditions: vec!["flu".into()],
            email: "not an email".into(),
            phone: "call me".into(),
            website: "javascript:alert(1)".into(),
            modes: vec![],
            languages: vec!["xx".into()],
            self_referral: "maybe".into(),
            ..service_form()
        };
        let e = ServiceDetails::parse(&bad).unwrap_err();
        for f in [
            "name",
            "kind",
            "conditions",
            "email",
            "phone",
            "website",
            "modes",
            "languages",
            "self_referral",
        ] {
            assert!(e.for_field(f).is_some(), "{f}: {e}");
        }
    }

    #[test]
    fn referral_and_step_forms() {
        let today = date!(2026 - 11 - 22);
        let f = ReferralForm {
            service: "x".into(),
            reason: "Wants to stop smoking".into(),
            respond_by: "6/12/2026".into(),
            send_now: "yes".into(),
            ..Default::default()
        };
        let r = NewReferral::parse(&f, today).unwrap();
        assert_eq!(r.respond_by, Some(date!(2026 - 12 - 06)));
        let e = NewReferral::parse(
            &ReferralForm {
                respond_by: "".into(),
                reason: "".into(),
                ..f.clone()
            },
            today,
        )
        .unwrap_err();
        assert!(e.for_field("reason").is_some() && e.for_field("respond_by").is_some());
        let e = NewReferral::parse(
            &ReferralForm {
                respond_by: "1/1/2020".into(),
                ..f
            },
            today,
        )
        .unwrap_err();
        assert_eq!(
            e.for_field("respond_by"),
            Some("The date a response is expected by must be today or in the future")
        );
        let e = StepInput::parse(
            &StepForm {
                step: "complete".into(),
                on: "31/2/2026".into(),
                ..Default::default()
            },
            today,
        )
        .unwrap_err();
        assert!(e.for_field("on").is_some() && e.for_field("outcome").is_some());
        assert_eq!(parse_flexible_date("2026-11-22"), Some(today));
        assert_eq!(parse_flexible_date("22 11 2026"), Some(today));
        assert_eq!(parse_flexible_date("22/13/2026"), None);
    }
}
