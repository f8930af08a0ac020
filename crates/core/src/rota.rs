//! The people who run peer-support sessions: who may be on a rota and in which duty, the
//! validation of a training record and of a rota entry, and the warnings a session shows
//! (under-staffed by the minimum staffing rule, someone's required training missing or
//! expired). The counting rules themselves are in [`crate::groups`] (`staffing_warnings`,
//! `training_status`, `overlaps`).
//!
//! Pure: no I/O, no clock (callers pass the session's date). Must never decide access; that
//! is [`crate::access`].

use crate::groups::{
    overlaps, staffing_warnings, training_label, training_status, ClockTime, Staffing,
    TrainingStatus, TRAINING_COURSES,
};
use crate::role::Role;
use crate::validation::ValidationErrors;
use time::Date;

/// What someone is on the rota as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    Staff,
    Volunteer,
}

impl Duty {
    pub fn code(self) -> &'static str {
        match self {
            Duty::Staff => "staff",
            Duty::Volunteer => "volunteer",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Duty::Staff => "Staff",
            Duty::Volunteer => "Volunteer",
        }
    }
    pub fn parse(s: &str) -> Option<Duty> {
        match s {
            "staff" => Some(Duty::Staff),
            "volunteer" => Some(Duty::Volunteer),
            _ => None,
        }
    }
}

/// Whether an account with `role` may be on a rota at all (staff and volunteers of the
/// organisation; never a person's own account or an analyst).
pub fn runs_sessions(role: Role) -> bool {
    !matches!(role, Role::Person | Role::Analyst)
}

/// Whether `role` may take `duty`: volunteers are on as volunteers; staff may be on as staff
/// or cover as a volunteer.
pub fn may_take(role: Role, duty: Duty) -> bool {
    match role {
        Role::Volunteer => duty == Duty::Volunteer,
        r => runs_sessions(r),
    }
}

/// A training record as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainingForm {
    pub course: String,
    pub completed_day: String,
    pub completed_month: String,
    pub completed_year: String,
    pub expires_day: String,
    pub expires_month: String,
    pub expires_year: String,
}

/// A valid training record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Training {
    pub course: String,
    pub completed_on: Date,
    pub expires_on: Option<Date>,
}

fn typed_date(d: &str, m: &str, y: &str) -> Option<Option<Date>> {
    if d.trim().is_empty() && m.trim().is_empty() && y.trim().is_empty() {
        return Some(None);
    }
    crate::groups::parse_loose_date(&format!("{}/{}/{}", d.trim(), m.trim(), y.trim())).map(Some)
}

impl TrainingForm {
    /// Checks the record: a known course, a real completion date not after `today`, and an
    /// expiry date (optional) not before the completion date.
    pub fn parse(&self, today: Date) -> Result<Training, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let course = self.course.trim();
        if !TRAINING_COURSES.iter().any(|(c, _)| *c == course) {
            e.add("course", "Choose the training course");
        }
        let completed = match typed_date(
            &self.completed_day,
            &self.completed_month,
            &self.completed_year,
        ) {
            Some(Some(d)) if d > today => {
                e.add(
                    "completed_day",
                    "The date it was completed must be today or in the past",
                );
                None
            }
            Some(Some(d)) => Some(d),
            Some(None) => {
                e.add(
                    "completed_day",
                    "Enter the date the training was completed, for example 14 3 2026",
                );
                None
            }
            None => {
                e.add(
                    "completed_day",
                    "The date it was completed must be a real date, for example 14 3 2026",
                );
                None
            }
        };
        let expires = match typed_date(&self.expires_day, &self.expires_month, &self.expires_year) {
            Some(x) => x,
            None => {
                e.add(
                    "expires_day",
                    "The expiry date must be a real date, for example 14 3 2029",
                );
                None
            }
        };
        if let (Some(c), Some(x)) = (completed, expires) {
            if x < c {
                e.add(
                    "expires_day",
                    "The expiry date must be the same as or after the date it was completed",
                );
            }
        }
        match (e.is_empty(), completed) {
            (true, Some(completed_on)) => Ok(Training {
                course: course.to_string(),
                completed_on,
                expires_on: expires,
            }),
            _ => Err(e),
        }
    }
}

/// One course's status for someone on a date: the best of their records for it (the one that
/// lasts longest), or missing.
pub fn course_status(records: &[(Date, Option<Date>)], on: Date) -> TrainingStatus {
    let usable: Vec<&(Date, Option<Date>)> = records.iter().filter(|(c, _)| *c <= on).collect();
    if usable.is_empty() {
        return TrainingStatus::Missing;
    }
    let best = usable
        .iter()
        .map(|(_, x)| *x)
        .max_by(|a, b| match (a, b) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        })
        .flatten();
    training_status(best, on)
}

pub fn status_label(s: TrainingStatus) -> &'static str {
    match s {
        TrainingStatus::Current => "Valid",
        TrainingStatus::ExpiringSoon => "Expiring soon",
        TrainingStatus::Expired => "Expired",
        TrainingStatus::Missing => "Missing",
    }
}

/// A rota entry's times, checked against the session's: end after start, both within the
/// session.
pub fn check_times(
    start: &str,
    end: &str,
    session: (ClockTime, ClockTime),
) -> Result<(ClockTime, ClockTime), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let s = ClockTime::parse(start);
    let f = ClockTime::parse(end);
    if s.is_none() {
        e.add("start_time", "Enter the start time, for example 18:00");
    }
    if f.is_none() {
        e.add("end_time", "Enter the end time, for example 23:00");
    }
    if let (Some(s), Some(f)) = (s, f) {
        if f <= s {
            e.add("end_time", "The end time must be after the start time");
        } else if s < session.0 || f > session.1 {
            e.add(
                "start_time",
                format!(
                    "The times must be within the session, {} to {}",
                    session.0.text(),
                    session.1.text()
                ),
            );
        }
        if e.is_empty() {
            return Ok((s, f));
        }
    }
    Err(e)
}

/// The first of `existing` (other entries of the same person on the same date) that the new
/// times overlap, if any.
pub fn first_overlap<T: Clone>(
    new: (ClockTime, ClockTime),
    existing: &[(T, ClockTime, ClockTime)],
) -> Option<T> {
    existing
        .iter()
        .find(|(_, s, e)| overlaps(new, (*s, *e)))
        .map(|(t, _, _)| t.clone())
}

/// Someone on a session's rota, as the warnings need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rostered {
    pub name: String,
    pub duty: Duty,
    /// Their training records: (course, completed on, expires on).
    pub training: Vec<(String, Date, Option<Date>)>,
}

/// The warnings for a session on `date` with `expected` attendees: the minimum staffing rule,
/// then "X's required training has expired" (or is missing) for each rostered person and each
/// of the group's required courses.
pub fn session_warnings(
    date: Date,
    expected: u32,
    per_volunteer: u32,
    required: &[String],
    rota: &[Rostered],
) -> Vec<String> {
    let on = Staffing {
        staff: rota.iter().filter(|r| r.duty == Duty::Staff).count() as u32,
        volunteers: rota.iter().filter(|r| r.duty == Duty::Volunteer).count() as u32,
    };
    let mut w = staffing_warnings(expected, on, per_volunteer);
    let mut seen: Vec<&str> = Vec::new();
    for r in rota {
        if seen.contains(&r.name.as_str()) {
            continue;
        }
        seen.push(&r.name);
        for course in required {
            let records: Vec<(Date, Option<Date>)> = r
                .training
                .iter()
                .filter(|(c, _, _)| c == course)
                .map(|(_, c, x)| (*c, *x))
                .collect();
            match course_status(&records, date) {
                TrainingStatus::Expired => w.push(format!(
                    "{}'s required training has expired: {}",
                    r.name,
                    training_label(course)
                )),
                TrainingStatus::Missing => w.push(format!(
                    "{} has no record of required training: {}",
                    r.name,
                    training_label(course)
                )),
                TrainingStatus::Current | TrainingStatus::ExpiringSoon => {}
            }
        }
    }
    w
}

/// Rota entries that no longer fit their session (it was moved to other times after they were
/// made): one warning each, so the rota is put right before the night. `entries` are
/// (name, start, end).
pub fn outside_session_warnings(
    session: (ClockTime, ClockTime),
    entries: &[(String, ClockTime, ClockTime)],
) -> Vec<String> {
    entries
        .iter()
        .filter(|(_, s, e)| *s < session.0 || *e > session.1)
        .map(|(name, s, e)| {
            format!(
                "{name} is on the rota from {} to {}, outside the session's times ({} to {}): change or remove the entry",
                s.text(),
                e.text(),
                session.0.text(),
                session.1.text()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_outside_a_moved_session_are_named() {
        let t = |s| ClockTime::parse(s).unwrap();
        let entries = vec![
            ("Sam".to_string(), t("18:00"), t("21:00")),
            ("Val".to_string(), t("19:00"), t("22:00")),
        ];
        // The session moved from 18:00–23:00 to 19:00–22:00: only Sam's entry no longer fits.
        assert_eq!(
            outside_session_warnings((t("19:00"), t("22:00")), &entries),
            vec!["Sam is on the rota from 18:00 to 21:00, outside the session's times (19:00 to 22:00): change or remove the entry".to_string()]
        );
        assert!(outside_session_warnings((t("18:00"), t("23:00")), &entries).is_empty());
    }
    use time::macros::date;

    fn t(s: &str) -> ClockTime {
        ClockTime::parse(s).unwrap()
    }

    #[test]
    fn who_may_take_which_duty() {
        assert!(may_take(Role::Volunteer, Duty::Volunteer));
        assert!(!may_take(Role::Volunteer, Duty::Staff));
        assert!(may_take(Role::PeerSupportLead, Duty::Staff));
        assert!(may_take(Role::Coordinator, Duty::Volunteer));
        for d in [Duty::Staff, Duty::Volunteer] {
            assert!(!may_take(Role::Person, d));
            assert!(!may_take(Role::Analyst, d));
        }
        assert_eq!(Duty::parse("staff"), Some(Duty::Staff));
        assert_eq!(Duty::parse("boss"), None);
    }

    fn form(c: (&str, &str, &str), x: (&str, &str, &str)) -> TrainingForm {
        TrainingForm {
            course: "safeguarding".into(),
            completed_day: c.0.into(),
            completed_month: c.1.into(),
            completed_year: c.2.into(),
            expires_day: x.0.into(),
            expires_month: x.1.into(),
            expires_year: x.2.into(),
        }
    }

    #[test]
    fn training_form_checks_its_dates() {
        let today = date!(2026 - 11 - 23);
        let ok = form(("1", "3", "2026"), ("1", "3", "2029"))
            .parse(today)
            .unwrap();
        assert_eq!(ok.completed_on, date!(2026 - 03 - 01));
        assert_eq!(ok.expires_on, Some(date!(2029 - 03 - 01)));
        let no_expiry = form(("1", "3", "2026"), ("", "", "")).parse(today).unwrap();
        assert_eq!(no_expiry.expires_on, None);
        let before = form(("1", "3", "2026"), ("28", "2", "2026"))
            .parse(today)
            .unwrap_err();
        assert_eq!(
            before.for_field("expires_day"),
            Some("The expiry date must be the same as or after the date it was completed")
        );
        let same_day = form(("1", "3", "2026"), ("1", "3", "2026")).parse(today);
        assert!(same_day.is_ok());
        let future = form(("1", "3", "2027"), ("", "", ""))
            .parse(today)
            .unwrap_err();
        assert!(future.for_field("completed_day").is_some());
        let missing = form(("", "", ""), ("", "", "")).parse(today).unwrap_err();
        assert!(missing.for_field("completed_day").is_some());
        let unreal = form(("31", "2", "2026"), ("x", "", ""))
            .parse(today)
            .unwrap_err();
        assert!(unreal.for_field("completed_day").is_some());
        assert!(unreal.for_field("expires_day").is_some());
        let mut bad_course = form(("1", "3", "2026"), ("", "", ""));
        bad_course.course = "juggling".into();
        assert_eq!(
            bad_course.parse(today).unwrap_err().for_field("course"),
            Some("Choose the training course")
        );
    }

    #[test]
    fn course_status_takes_the_longest_lasting_record() {
        let on = date!(2026 - 11 - 23);
        assert_eq!(course_status(&[], on), TrainingStatus::Missing);
        let expired = (date!(2023 - 01 - 01), Some(date!(2026 - 01 - 01)));
        let renewed = (date!(2026 - 01 - 01), Some(date!(2029 - 01 - 01)));
        assert_eq!(course_status(&[expired], on), TrainingStatus::Expired);
        assert_eq!(
            course_status(&[expired, renewed], on),
            TrainingStatus::Current
        );
        assert_eq!(
            course_status(&[(date!(2020 - 01 - 01), None), expired], on),
            TrainingStatus::Current
        );
        let soon = (date!(2024 - 01 - 01), Some(date!(2026 - 12 - 01)));
        assert_eq!(course_status(&[soon], on), TrainingStatus::ExpiringSoon);
        // Training completed after the session does not count for it.
        assert_eq!(
            course_status(&[(date!(2026 - 12 - 01), None)], on),
            TrainingStatus::Missing
        );
    }

    #[test]
    fn times_must_be_within_the_session_and_end_after_start() {
        let session = (t("18:00"), t("23:00"));
        assert_eq!(
            check_times("18:00", "21:00", session).unwrap(),
            (t("18:00"), t("21:00"))
        );
        let e = check_times("21:00", "19:00", session).unwrap_err();
        assert_eq!(
            e.for_field("end_time"),
            Some("The end time must be after the start time")
        );
        let e = check_times("17:00", "19:00", session).unwrap_err();
        assert_eq!(
            e.for_field("start_time"),
            Some("The times must be within the session, 18:00 to 23:00")
        );
        assert!(check_times("soon", "", session).is_err());
    }

    #[test]
    fn overlap_finds_the_clashing_entry() {
        let existing = vec![
            ("café", t("18:00"), t("20:00")),
            ("walk", t("21:00"), t("22:00")),
        ];
        assert_eq!(
            first_overlap((t("19:00"), t("21:00")), &existing),
            Some("café")
        );
        assert_eq!(first_overlap((t("20:00"), t("21:00")), &existing), None);
        assert_eq!(
            first_overlap((t("21:30"), t("23:00")), &existing),
            Some("walk")
        );
    }

    #[test]
    fn warnings_name_understaffing_and_expired_training() {
        let day = date!(2026 - 11 - 23);
        let required = vec!["safeguarding".to_string()];
        let good = vec![("safeguarding".to_string(), date!(2026 - 01 - 01), None)];
        let lapsed = vec![(
            "safeguarding".to_string(),
            date!(2023 - 01 - 01),
            Some(date!(2026 - 01 - 01)),
        )];
        let p = |name: &str, duty, training: &Vec<(String, Date, Option<Date>)>| Rostered {
            name: name.into(),
            duty,
            training: training.clone(),
        };
        // Nobody on: both parts of the rule.
        let w = session_warnings(day, 20, 15, &required, &[]);
        assert_eq!(w.len(), 2, "{w:?}");
        // One staff, two volunteers for 20 people at one per 15: staffed.
        let rota = vec![
            p("Sam", Duty::Staff, &good),
            p("Val", Duty::Volunteer, &good),
            p("Vic", Duty::Volunteer, &good),
        ];
        assert!(session_warnings(day, 20, 15, &required, &rota).is_empty());
        // 31 people need three volunteers.
        assert_eq!(session_warnings(day, 31, 15, &required, &rota).len(), 1);
        // Someone's training lapsed.
        let rota = vec![
            p("Sam", Duty::Staff, &good),
            p("Val", Duty::Volunteer, &lapsed),
            p("Vic", Duty::Volunteer, &vec![]),
        ];
        let w = session_warnings(day, 20, 15, &required, &rota);
        assert_eq!(
            w,
            vec![
                "Val's required training has expired: Safeguarding adults".to_string(),
                "Vic has no record of required training: Safeguarding adults".to_string(),
            ]
        );
        // No required training: only the staffing rule.
        assert!(session_warnings(day, 20, 15, &[], &rota).is_empty());
    }
}
