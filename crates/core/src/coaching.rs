//! Health coaching: referrals into coaching, the waiting list's order, coaches' capacity and
//! working hours, the booking rules for sessions, goals with their action plans and reviews,
//! and what an episode's discharge must contain.
//!
//! Every rule here is a pure function of the facts the caller supplies (the clock, the
//! sessions already booked, the coach's hours): this module must never look anything up,
//! read the wall clock or know about SQL or HTTP. Local times are Europe/London.

use crate::time::{parse_iso_date, Timestamp};
use crate::validation::{clean_text, ValidationErrors};
use serde::Serialize;
use time::{Date, Weekday};

/// How a stable code and a plain-English label are attached to each small enum below.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Stable code used in the database, forms and URLs.
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            /// Plain-English label for pages.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn from_code(s: &str) -> Option<Self> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
            /// `(code, label)` pairs for radios and selects.
            pub fn options() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|v| (v.code(), v.label())).collect()
            }
        }
    };
}

coded_enum!(
    /// How soon a referral needs a coach.
    Urgency {
        Urgent => ("urgent", "Urgent (within a week)"),
        Soon => ("soon", "Soon (within 2 weeks)"),
        Routine => ("routine", "Routine"),
    }
);

coded_enum!(
    /// Who made the referral.
    ReferralSource {
        Coordinator => ("coordinator", "Care coordinator"),
        Clinician => ("clinician", "GP, nurse or other clinician"),
        HealthCoach => ("health_coach", "Health coach"),
        SelfReferral => ("self", "The person themselves"),
    }
);

coded_enum!(
    /// Where a referral into coaching stands.
    ReferralStatus {
        Waiting => ("waiting", "Waiting"),
        Allocated => ("allocated", "Allocated to a coach"),
        Accepted => ("accepted", "Accepted"),
        Withdrawn => ("withdrawn", "Withdrawn"),
    }
);

coded_enum!(
    /// How a session takes place.
    ContactMode {
        FaceToFace => ("face_to_face", "Face to face"),
        Telephone => ("telephone", "Telephone"),
        Video => ("video", "Video call"),
    }
);

coded_enum!(
    /// What happened to a booked session.
    SessionStatus {
        Booked => ("booked", "Booked"),
        Attended => ("attended", "Attended"),
        DidNotAttend => ("did_not_attend", "Did not attend"),
        CancelledByPerson => ("cancelled_by_person", "Cancelled by the person"),
        CancelledByCoach => ("cancelled_by_coach", "Cancelled by the coach"),
    }
);

impl SessionStatus {
    /// Whether the session still occupies its time and counts towards the episode's sessions.
    /// Cancelled sessions free the slot and do not count; a missed one ("did not attend")
    /// used the coach's time and counts.
    pub fn occupies(self) -> bool {
        !matches!(
            self,
            SessionStatus::CancelledByPerson | SessionStatus::CancelledByCoach
        )
    }
}

coded_enum!(
    /// What a goal is about (the personalised care categories).
    GoalCategory {
        Rest => ("rest", "Rest and sleep"),
        PhysicalActivity => ("physical_activity", "Physical activity"),
        HealthyEating => ("healthy_eating", "Healthy eating"),
        HealthyWeight => ("healthy_weight", "Healthy weight"),
        TobaccoAlcoholDrugs => ("tobacco_alcohol_drugs", "Tobacco, alcohol or drugs"),
        FamilyFriends => ("family_friends", "Time with family and friends"),
        Medicines => ("medicines", "Managing medicines"),
        Symptoms => ("symptoms", "Managing symptoms"),
        Other => ("other", "Something else"),
    }
);

coded_enum!(
    /// How a goal ended, recorded at discharge.
    GoalOutcome {
        Met => ("met", "Met"),
        PartlyMet => ("partly_met", "Partly met"),
        NotMet => ("not_met", "Not met"),
    }
);

/// The attainment scale used at each review (goal attainment scaling, −2 … +2).
pub const ATTAINMENT: [(i64, &str); 5] = [
    (-2, "Much less than expected"),
    (-1, "Somewhat less than expected"),
    (0, "As expected"),
    (1, "Somewhat more than expected"),
    (2, "Much more than expected"),
];

pub fn attainment_label(v: i64) -> &'static str {
    ATTAINMENT
        .iter()
        .find(|(k, _)| *k == v)
        .map(|(_, l)| *l)
        .unwrap_or("Unknown")
}

/// Sessions per episode unless the organisation sets otherwise.
pub const DEFAULT_MAX_SESSIONS: u32 = 6;
/// A coach's caseload limit unless set otherwise.
pub const DEFAULT_CASELOAD_LIMIT: u32 = 40;
/// The usual session length: outside it the coach records why.
pub const USUAL_MINUTES: std::ops::RangeInclusive<u32> = 45..=60;
/// No session is shorter or longer than this, whatever the reason.
pub const HARD_MINUTES: std::ops::RangeInclusive<u32> = 10..=180;

/// The waiting list's order key: smaller waits less. Urgency first, then activation (lowest
/// first), then the time the referral was received. Someone not yet measured is ranked with
/// level 1, so nobody waits longer for not having filled in a questionnaire.
pub fn priority(urgency: Urgency, level: Option<i64>) -> i64 {
    let u = match urgency {
        Urgency::Urgent => 0,
        Urgency::Soon => 1,
        Urgency::Routine => 2,
    };
    let l = level.unwrap_or(1).clamp(1, 4);
    u * 10 + l
}

/// A validated referral into coaching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralDetails {
    pub source: ReferralSource,
    pub referrer: Option<String>,
    pub reason: String,
    pub urgency: Urgency,
    pub modes: Vec<ContactMode>,
    pub times: Option<String>,
    pub language: Option<String>,
}

/// The referral form as typed.
#[derive(Debug, Clone, Default)]
pub struct ReferralForm {
    pub source: String,
    pub referrer: String,
    pub reason: String,
    pub urgency: String,
    pub modes: Vec<String>,
    pub times: String,
    pub language: String,
}

impl ReferralForm {
    /// Validates the form. `self_referral` fixes the source and asks the questions in the
    /// second person.
    pub fn validate(&self, self_referral: bool) -> Result<ReferralDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let source = if self_referral {
            Some(ReferralSource::SelfReferral)
        } else {
            match ReferralSource::from_code(self.source.trim()) {
                Some(ReferralSource::SelfReferral) | None => {
                    e.add("source", "Select who is making the referral");
                    None
                }
                s => s,
            }
        };
        let referrer = clean_text(
            &mut e,
            "referrer",
            "the referrer's name and role",
            &self.referrer,
            120,
            false,
        );
        let reason_label = if self_referral {
            "what you would like help with"
        } else {
            "the reason for the referral"
        };
        let reason = clean_text(&mut e, "reason", reason_label, &self.reason, 2000, true);
        let urgency = Urgency::from_code(self.urgency.trim());
        if urgency.is_none() && !self_referral {
            e.add("urgency", "Select how urgent the referral is");
        }
        let mut modes = Vec::new();
        for m in &self.modes {
            match ContactMode::from_code(m.trim()) {
                Some(m) if !modes.contains(&m) => modes.push(m),
                Some(_) => {}
                None => e.add("modes", "Select ways of meeting from the list"),
            }
        }
        let times = clean_text(
            &mut e,
            "times",
            "the times that suit",
            &self.times,
            200,
            false,
        );
        let language = clean_text(
            &mut e,
            "language",
            "the language",
            &self.language,
            60,
            false,
        );
        match (source, reason) {
            (Some(source), Some(reason)) if e.is_empty() => Ok(ReferralDetails {
                source,
                referrer,
                reason,
                urgency: urgency.unwrap_or(Urgency::Routine),
                modes,
                times,
                language,
            }),
            _ => Err(e),
        }
    }
}

/// The hours a coach works, per weekday, in local (Europe/London) time. A day without hours
/// is a day off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkingHours {
    /// Monday first; minutes after midnight, start inclusive, end exclusive.
    pub days: [Option<(u32, u32)>; 7],
}

pub const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

fn weekday_index(w: Weekday) -> usize {
    w.number_days_from_monday() as usize
}

/// A clock time typed into a form, as minutes after midnight ([`crate::dates::parse_clock`]).
pub fn parse_hhmm(s: &str) -> Option<u32> {
    crate::dates::parse_clock(s).map(|t| t.minutes())
}

pub fn format_hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl WorkingHours {
    /// Monday to Friday, 09:00 to 17:00.
    pub fn office() -> Self {
        let mut days = [None; 7];
        for d in days.iter_mut().take(5) {
            *d = Some((9 * 60, 17 * 60));
        }
        Self { days }
    }

    /// One day's hours as typed: empty for a day off, or `09:00-17:00`.
    pub fn parse_day(s: &str) -> Result<Option<(u32, u32)>, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let (a, b) = s
            .split_once(['-', '–'])
            .ok_or("Enter hours like 09:00-17:00, or leave it empty for a day off")?;
        let (a, b) = (
            parse_hhmm(a).ok_or("Enter the start as a 24-hour time, like 09:00")?,
            parse_hhmm(b).ok_or("Enter the end as a 24-hour time, like 17:00")?,
        );
        if b <= a {
            return Err("The end must be after the start");
        }
        Ok(Some((a, b)))
    }

    /// The stored form: `mon=09:00-17:00;tue=…` (days off omitted).
    pub fn to_text(&self) -> String {
        WEEKDAYS
            .iter()
            .zip(self.days.iter())
            .filter_map(|((code, _), d)| {
                d.map(|(a, b)| format!("{code}={}-{}", format_hhmm(a), format_hhmm(b)))
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    pub fn from_text(s: &str) -> Option<Self> {
        let mut days = [None; 7];
        for part in s.split(';').filter(|p| !p.trim().is_empty()) {
            let (code, hours) = part.split_once('=')?;
            let i = WEEKDAYS.iter().position(|(c, _)| *c == code.trim())?;
            days[i] = Self::parse_day(hours).ok()?;
        }
        Some(Self { days })
    }

    /// One day as typed in the form (`09:00-17:00` or empty).
    pub fn day_text(&self, i: usize) -> String {
        self.days[i]
            .map(|(a, b)| format!("{}-{}", format_hhmm(a), format_hhmm(b)))
            .unwrap_or_default()
    }

    /// Whether a session on `date` from `start` for `minutes` (local) lies within the hours.
    pub fn covers(&self, date: Date, start: u32, minutes: u32) -> bool {
        match self.days[weekday_index(date.weekday())] {
            Some((a, b)) => start >= a && start + minutes <= b,
            None => false,
        }
    }
}

pub use crate::london::{instant as london_instant, local as london_local};

/// A session's time, place and length as typed.
#[derive(Debug, Clone, Default)]
pub struct BookingForm {
    pub date: String,
    pub time: String,
    pub minutes: String,
    pub mode: String,
    pub place: String,
    pub length_reason: String,
    pub extra_reason: String,
}

/// A booking that passed the form checks (the caller then applies [`check_booking`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub date: Date,
    pub start_minutes: u32,
    pub minutes: u32,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub mode: ContactMode,
    pub place: Option<String>,
    pub length_reason: Option<String>,
    pub extra_reason: Option<String>,
}

impl BookingForm {
    pub fn validate(&self) -> Result<Booking, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let date = if self.date.trim().is_empty() {
            e.add("date", "Enter the date of the session");
            None
        } else {
            let d = parse_iso_date(&self.date);
            if d.is_none() {
                e.add(
                    "date",
                    "Enter the date of the session as a real date, like 2027-03-14",
                );
            }
            d
        };
        let start = if self.time.trim().is_empty() {
            e.add("time", "Enter the start time");
            None
        } else {
            let t = parse_hhmm(&self.time);
            if t.is_none() {
                e.add("time", "Enter the start time as a 24-hour time, like 14:30");
            }
            t
        };
        let minutes = match self.minutes.trim() {
            "" => {
                e.add("minutes", "Enter how long the session is, in minutes");
                None
            }
            s => match s.parse::<u32>() {
                Ok(m) if HARD_MINUTES.contains(&m) => Some(m),
                Ok(_) => {
                    e.add(
                        "minutes",
                        format!(
                            "The session must be between {} and {} minutes long",
                            HARD_MINUTES.start(),
                            HARD_MINUTES.end()
                        ),
                    );
                    None
                }
                Err(_) => {
                    e.add(
                        "minutes",
                        "Enter the length as a whole number of minutes, like 60",
                    );
                    None
                }
            },
        };
        let mode = ContactMode::from_code(self.mode.trim());
        if mode.is_none() {
            e.add(
                "mode",
                "Select how the session takes place: face to face, telephone or video call",
            );
        }
        let place = clean_text(&mut e, "place", "the place", &self.place, 200, false);
        if mode == Some(ContactMode::FaceToFace)
            && place.is_none()
            && e.for_field("place").is_none()
        {
            e.add(
                "place",
                "Enter where you will meet for a face-to-face session",
            );
        }
        let length_reason = clean_text(
            &mut e,
            "length_reason",
            "the reason for the length",
            &self.length_reason,
            500,
            false,
        );
        if let Some(m) = minutes {
            if !USUAL_MINUTES.contains(&m)
                && length_reason.is_none()
                && e.for_field("length_reason").is_none()
            {
                e.add(
                    "length_reason",
                    format!(
                        "Sessions are usually {} to {} minutes: enter why this one is {m} minutes",
                        USUAL_MINUTES.start(),
                        USUAL_MINUTES.end()
                    ),
                );
            }
        }
        let extra_reason = clean_text(
            &mut e,
            "extra_reason",
            "the reason for an extra session",
            &self.extra_reason,
            500,
            false,
        );
        match (date, start, minutes, mode) {
            (Some(date), Some(start), Some(minutes), Some(mode)) if e.is_empty() => {
                let starts_at = london_instant(date, start);
                Ok(Booking {
                    date,
                    start_minutes: start,
                    minutes,
                    starts_at,
                    ends_at: starts_at.plus_seconds(i64::from(minutes) * 60),
                    mode,
                    place,
                    length_reason: if USUAL_MINUTES.contains(&minutes) {
                        None
                    } else {
                        length_reason
                    },
                    extra_reason,
                })
            }
            _ => Err(e),
        }
    }
}

/// An existing session that occupies time, as the booking rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusySlot {
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// What the booking rules need to know besides the booking itself.
#[derive(Debug, Clone)]
pub struct BookingContext<'a> {
    pub now: Timestamp,
    /// Sessions in this episode that count (see [`SessionStatus::occupies`]).
    pub sessions_used: u32,
    pub max_sessions: u32,
    /// The person booking is a coordinator (who may add sessions beyond the maximum).
    pub by_coordinator: bool,
    pub coach_name: &'a str,
    pub coach_hours: &'a WorkingHours,
    /// The coach's and the person's other sessions that still occupy time.
    pub coach_busy: &'a [BusySlot],
    pub person_busy: &'a [BusySlot],
    /// The episode is open.
    pub episode_open: bool,
}

fn overlaps(b: &Booking, s: &BusySlot) -> bool {
    b.starts_at < s.ends_at && s.starts_at < b.ends_at
}

/// The rules every booking must meet. Each failure names the form field it belongs to.
pub fn check_booking(b: &Booking, ctx: &BookingContext) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    if !ctx.episode_open {
        e.add(
            "date",
            "This coaching episode has ended: a coordinator must reopen it before booking",
        );
        return Err(e);
    }
    if b.starts_at <= ctx.now {
        e.add("date", "The session must be in the future");
    }
    if ctx.sessions_used >= ctx.max_sessions {
        if !ctx.by_coordinator {
            e.add(
                "extra_reason",
                format!(
                    "This episode has used {} of {} sessions. A care coordinator must record a reason to add another",
                    ctx.sessions_used, ctx.max_sessions
                ),
            );
        } else if b.extra_reason.is_none() {
            e.add(
                "extra_reason",
                format!(
                    "This episode has used {} of {} sessions: enter the reason for an extra session",
                    ctx.sessions_used, ctx.max_sessions
                ),
            );
        }
    }
    if !ctx.coach_hours.covers(b.date, b.start_minutes, b.minutes) {
        e.add(
            "time",
            format!(
                "The session is outside {}'s working hours on {}",
                ctx.coach_name,
                WEEKDAYS[weekday_index(b.date.weekday())].1
            ),
        );
    }
    if ctx.coach_busy.iter().any(|s| overlaps(b, s)) {
        e.add(
            "time",
            format!(
                "{} already has a session at this time: choose another time",
                ctx.coach_name
            ),
        );
    } else if ctx.person_busy.iter().any(|s| overlaps(b, s)) {
        e.add(
            "time",
            "The person already has a session at this time: choose another time",
        );
    }
    e.into_result(())
}

/// A goal as typed.
#[derive(Debug, Clone, Default)]
pub struct GoalForm {
    pub own_words: String,
    pub category: String,
    pub what: String,
    pub how_much: String,
    pub when: String,
    pub how_often: String,
    pub importance: String,
    pub confidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalDetails {
    pub own_words: String,
    pub category: GoalCategory,
    pub what: Option<String>,
    pub how_much: Option<String>,
    pub when: Option<String>,
    pub how_often: Option<String>,
    pub importance: i64,
    pub confidence: i64,
}

fn zero_to_ten(e: &mut ValidationErrors, field: &str, label: &str, v: &str) -> Option<i64> {
    match v.trim().parse::<i64>() {
        Ok(n) if (0..=10).contains(&n) => Some(n),
        _ if v.trim().is_empty() => {
            e.add(field, format!("Enter {label} from 0 to 10"));
            None
        }
        _ => {
            e.add(
                field,
                format!(
                    "{} must be a whole number from 0 to 10",
                    crate::validation::capitalise(label)
                ),
            );
            None
        }
    }
}

impl GoalForm {
    pub fn validate(&self) -> Result<GoalDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let own_words = clean_text(
            &mut e,
            "own_words",
            "the goal in the person's own words",
            &self.own_words,
            500,
            true,
        );
        let category = GoalCategory::from_code(self.category.trim());
        if category.is_none() {
            e.add("category", "Select what the goal is about");
        }
        let what = clean_text(&mut e, "what", "what", &self.what, 200, false);
        let how_much = clean_text(&mut e, "how_much", "how much", &self.how_much, 200, false);
        let when = clean_text(&mut e, "when", "when", &self.when, 200, false);
        let how_often = clean_text(
            &mut e,
            "how_often",
            "how often",
            &self.how_often,
            200,
            false,
        );
        let importance = zero_to_ten(
            &mut e,
            "importance",
            "how important it is",
            &self.importance,
        );
        let confidence = zero_to_ten(
            &mut e,
            "confidence",
            "how confident they feel",
            &self.confidence,
        );
        match (own_words, category, importance, confidence) {
            (Some(own_words), Some(category), Some(importance), Some(confidence))
                if e.is_empty() =>
            {
                Ok(GoalDetails {
                    own_words,
                    category,
                    what,
                    how_much,
                    when,
                    how_often,
                    importance,
                    confidence,
                })
            }
            _ => Err(e),
        }
    }
}

/// Parses a review's attainment (−2 … +2).
pub fn parse_attainment(s: &str) -> Option<i64> {
    s.trim()
        .trim_start_matches('+')
        .parse::<i64>()
        .ok()
        .filter(|v| (-2..=2).contains(v))
}

/// A discharge as typed: a summary, one outcome per goal, onward referrals.
#[derive(Debug, Clone, Default)]
pub struct DischargeForm {
    pub summary: String,
    /// `(goal id text, outcome code)` for every goal of the episode.
    pub outcomes: Vec<(String, String)>,
    pub onward: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discharge {
    pub summary: String,
    pub outcomes: Vec<(String, GoalOutcome)>,
    pub onward: Option<String>,
}

impl DischargeForm {
    pub fn validate(&self) -> Result<Discharge, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let summary = clean_text(
            &mut e,
            "summary",
            "a discharge summary",
            &self.summary,
            4000,
            true,
        );
        let mut outcomes = Vec::new();
        for (goal, code) in &self.outcomes {
            match GoalOutcome::from_code(code.trim()) {
                Some(o) => outcomes.push((goal.clone(), o)),
                None => e.add(
                    &format!("outcome-{goal}"),
                    "Select whether the goal was met, partly met or not met",
                ),
            }
        }
        let onward = clean_text(
            &mut e,
            "onward",
            "onward referrals",
            &self.onward,
            2000,
            false,
        );
        match summary {
            Some(summary) if e.is_empty() => Ok(Discharge {
                summary,
                outcomes,
                onward,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn booking(date: &str, time: &str, minutes: &str) -> BookingForm {
        BookingForm {
            date: date.into(),
            time: time.into(),
            minutes: minutes.into(),
            mode: "telephone".into(),
            ..Default::default()
        }
    }

    fn ctx<'a>(hours: &'a WorkingHours, busy: &'a [BusySlot]) -> BookingContext<'a> {
        BookingContext {
            now: london_instant(date!(2027 - 01 - 01), 0),
            sessions_used: 0,
            max_sessions: 6,
            by_coordinator: false,
            coach_name: "Sam",
            coach_hours: hours,
            coach_busy: busy,
            person_busy: &[],
            episode_open: true,
        }
    }

    #[test]
    fn priority_orders_urgency_then_activation() {
        assert!(priority(Urgency::Urgent, Some(4)) < priority(Urgency::Soon, Some(1)));
        assert!(priority(Urgency::Routine, Some(1)) < priority(Urgency::Routine, Some(2)));
        assert_eq!(
            priority(Urgency::Routine, None),
            priority(Urgency::Routine, Some(1))
        );
    }

    #[test]
    fn london_times_follow_the_clock_changes() {
        // 10:00 in winter is 10:00 UTC; in summer 09:00 UTC.
        let winter = london_instant(date!(2027 - 01 - 11), 600);
        let summer = london_instant(date!(2027 - 07 - 12), 600);
        assert_eq!(winter.rfc3339(), "2027-01-11T10:00:00Z");
        assert_eq!(summer.rfc3339(), "2027-07-12T09:00:00Z");
        // The day the clocks go forward (28 March 2027): 01:30 does not exist, moves to 02:30 BST.
        assert_eq!(
            london_instant(date!(2027 - 03 - 28), 90).rfc3339(),
            "2027-03-28T01:30:00Z"
        );
        // The day they go back (31 October 2027): 01:30 happens twice, the first is BST.
        assert_eq!(
            london_instant(date!(2027 - 10 - 31), 90).rfc3339(),
            "2027-10-31T00:30:00Z"
        );
        assert_eq!(london_local(summer), (date!(2027 - 07 - 12), 600));
    }

    #[test]
    fn length_outside_45_to_60_needs_a_reason() {
        let e = booking("2027-02-01", "10:00", "20").validate().unwrap_err();
        assert!(e.for_field("length_reason").unwrap().contains("20 minutes"));
        let mut f = booking("2027-02-01", "10:00", "20");
        f.length_reason = "Short check-in before surgery".into();
        assert_eq!(f.validate().unwrap().minutes, 20);
        assert!(booking("2027-02-01", "10:00", "5").validate().is_err());
        assert!(booking("2027-02-01", "10:00", "45").validate().is_ok());
    }

    #[test]
    fn face_to_face_needs_a_place() {
        let mut f = booking("2027-02-01", "10:00", "60");
        f.mode = "face_to_face".into();
        assert!(f.validate().unwrap_err().for_field("place").is_some());
        f.place = "Riverside Health Centre, room 3".into();
        assert!(f.validate().is_ok());
    }

    #[test]
    fn booking_rules() {
        let hours = WorkingHours::office();
        let b = booking("2027-02-01", "10:00", "60").validate().unwrap(); // a Monday
        assert!(check_booking(&b, &ctx(&hours, &[])).is_ok());
        // In the past.
        let past = booking("2026-12-01", "10:00", "60").validate().unwrap();
        assert!(check_booking(&past, &ctx(&hours, &[]))
            .unwrap_err()
            .for_field("date")
            .unwrap()
            .contains("future"));
        // Outside working hours (a Saturday; an evening).
        let sat = booking("2027-02-06", "10:00", "60").validate().unwrap();
        assert!(check_booking(&sat, &ctx(&hours, &[])).is_err());
        let late = booking("2027-02-01", "16:30", "60").validate().unwrap();
        assert!(check_booking(&late, &ctx(&hours, &[])).is_err());
        // Overlap with the coach's other session, but touching end-to-start is fine.
        let busy = [BusySlot {
            starts_at: london_instant(date!(2027 - 02 - 01), 630),
            ends_at: london_instant(date!(2027 - 02 - 01), 690),
        }];
        assert!(check_booking(&b, &ctx(&hours, &busy)).is_err());
        let after = booking("2027-02-01", "11:30", "45").validate().unwrap();
        assert!(check_booking(&after, &ctx(&hours, &busy)).is_ok());
        // The seventh session.
        let mut c = ctx(&hours, &[]);
        c.sessions_used = 6;
        assert!(check_booking(&b, &c)
            .unwrap_err()
            .for_field("extra_reason")
            .unwrap()
            .contains("coordinator"));
        c.by_coordinator = true;
        assert!(check_booking(&b, &c).is_err());
        let mut f = booking("2027-02-01", "10:00", "60");
        f.extra_reason = "Needs one more before the new inhaler review".into();
        assert!(check_booking(&f.validate().unwrap(), &c).is_ok());
    }

    #[test]
    fn working_hours_round_trip() {
        let h = WorkingHours::office();
        assert_eq!(WorkingHours::from_text(&h.to_text()), Some(h.clone()));
        assert_eq!(h.day_text(0), "09:00-17:00");
        assert_eq!(h.day_text(6), "");
        assert!(WorkingHours::parse_day("17:00-09:00").is_err());
        assert!(WorkingHours::parse_day("9-5").is_err());
        assert_eq!(WorkingHours::parse_day("9:30-12:00"), Ok(Some((570, 720))));
    }

    #[test]
    fn goals_validate_scales() {
        let mut g = GoalForm {
            own_words: "Walk to the allotment without stopping".into(),
            category: "physical_activity".into(),
            importance: "9".into(),
            confidence: "11".into(),
            ..Default::default()
        };
        assert!(g.validate().unwrap_err().for_field("confidence").is_some());
        g.confidence = "6".into();
        assert_eq!(g.validate().unwrap().confidence, 6);
        assert_eq!(parse_attainment("+2"), Some(2));
        assert_eq!(parse_attainment("3"), None);
    }

    #[test]
    fn referral_needs_reason_and_urgency() {
        let f = ReferralForm {
            source: "clinician".into(),
            ..Default::default()
        };
        let e = f.validate(false).unwrap_err();
        assert!(e.for_field("reason").is_some());
        assert!(e.for_field("urgency").is_some());
        let f = ReferralForm {
            reason: "I would like help getting back to walking".into(),
            modes: vec!["video".into(), "video".into()],
            ..Default::default()
        };
        let d = f.validate(true).unwrap();
        assert_eq!(d.source, ReferralSource::SelfReferral);
        assert_eq!(d.modes, vec![ContactMode::Video]);
    }
}
