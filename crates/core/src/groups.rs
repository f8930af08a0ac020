//! Peer support: groups, their recurring sessions, capacity with places held back for walk-ins,
//! the minimum staffing rule and training expiry — the pure rules, no I/O.
//!
//! A group's sessions are a recurrence rule (an RFC 5545 subset) from its first date, in local
//! (Europe/London) wall-clock times, with closure dates. Sessions are computed on demand; the
//! store materialises one only when it is touched.

use crate::conditions;
use crate::recurrence::{Frequency, Rule, Series, Until};
use crate::time::{iso_date, parse_iso_date};
use crate::validation::{clean_name, clean_text, ValidationErrors};
use time::{Date, Month, Weekday};

/// Formal groups are run by trained staff and volunteers; informal ones by a named peer leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Formal,
    Informal,
}

impl GroupKind {
    pub fn code(self) -> &'static str {
        match self {
            GroupKind::Formal => "formal",
            GroupKind::Informal => "informal",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            GroupKind::Formal => "Formal: run by trained staff and volunteers",
            GroupKind::Informal => "Informal: run by peers, with a named peer leader",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "formal" => Some(GroupKind::Formal),
            "informal" => Some(GroupKind::Informal),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    InPerson,
    Online,
}

impl Mode {
    pub fn code(self) -> &'static str {
        match self {
            Mode::InPerson => "in_person",
            Mode::Online => "online",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Mode::InPerson => "Face to face",
            Mode::Online => "Online",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in_person" => Some(Mode::InPerson),
            "online" => Some(Mode::Online),
            _ => None,
        }
    }
}

/// The focus value for a group open to people with any condition.
pub const ANY_CONDITION: &str = "any";

/// Training courses a rota may require, as (code, label).
pub const TRAINING_COURSES: &[(&str, &str)] = &[
    ("peer_support", "Peer-support training"),
    ("safeguarding", "Safeguarding adults"),
    ("mental_health_first_aid", "Mental health first aid"),
    ("first_aid", "First aid"),
    ("information_governance", "Information governance"),
];

pub fn training_label(code: &str) -> &str {
    TRAINING_COURSES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or(code)
}

/// Times of day are the one clock-time type (`crate::dates`).
pub use crate::dates::ClockTime;

/// What a group form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupForm {
    pub name: String,
    pub description: String,
    pub kind: String,
    pub peer_leader: String,
    pub focus: String,
    pub interest: String,
    pub mode: String,
    pub venue: String,
    pub place: String,
    pub joining_details: String,
    pub who_may_join: String,
    pub code_of_conduct: String,
    pub first_day: String,
    pub first_month: String,
    pub first_year: String,
    pub start_time: String,
    pub end_time: String,
    /// `daily`, `weekly`, `monthly` or `custom`.
    pub repeat: String,
    /// Weekday codes (`MO` … `SU`) for a weekly group.
    pub days: Vec<String>,
    /// `1` … `4` or `-1` (last) for a monthly group.
    pub month_week: String,
    /// Weekday code for a monthly group.
    pub month_day: String,
    /// An RRULE for `custom`.
    pub rrule: String,
    pub until_day: String,
    pub until_month: String,
    pub until_year: String,
    pub count: String,
    /// Closure dates, one per line.
    pub closures: String,
    pub capacity: String,
    pub walk_in_places: String,
    pub attendees_per_volunteer: String,
    pub required_training: Vec<String>,
}

/// A validated group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetails {
    pub name: String,
    pub description: Option<String>,
    pub kind: GroupKind,
    pub peer_leader: Option<String>,
    /// A condition key, or [`ANY_CONDITION`].
    pub focus: String,
    pub interest: Option<String>,
    pub mode: Mode,
    pub venue: Option<String>,
    /// Town or area, for finding groups nearby.
    pub place: Option<String>,
    pub joining_details: Option<String>,
    pub who_may_join: String,
    pub code_of_conduct: Option<String>,
    pub first_date: Date,
    pub start_time: ClockTime,
    pub end_time: ClockTime,
    /// The recurrence rule (without DTSTART), e.g. `FREQ=DAILY;UNTIL=20271231`.
    pub rrule: String,
    pub closures: Vec<Date>,
    pub capacity: u32,
    pub walk_in_places: u32,
    pub attendees_per_volunteer: u32,
    pub required_training: Vec<String>,
}

pub const WEEKDAYS: [(&str, &str, Weekday); 7] = [
    ("MO", "Monday", Weekday::Monday),
    ("TU", "Tuesday", Weekday::Tuesday),
    ("WE", "Wednesday", Weekday::Wednesday),
    ("TH", "Thursday", Weekday::Thursday),
    ("FR", "Friday", Weekday::Friday),
    ("SA", "Saturday", Weekday::Saturday),
    ("SU", "Sunday", Weekday::Sunday),
];

fn weekday_code(code: &str) -> Option<Weekday> {
    WEEKDAYS.iter().find(|(c, _, _)| *c == code).map(|w| w.2)
}

fn form_date(d: &str, m: &str, y: &str) -> Result<Option<Date>, ()> {
    let (d, m, y) = (d.trim(), m.trim(), y.trim());
    if d.is_empty() && m.is_empty() && y.is_empty() {
        return Ok(None);
    }
    let day: u8 = d.parse().map_err(|_| ())?;
    let month: u8 = m.parse().map_err(|_| ())?;
    let year: i32 = y.parse().map_err(|_| ())?;
    if !(2000..=2200).contains(&year) {
        return Err(());
    }
    let month = Month::try_from(month).map_err(|_| ())?;
    Date::from_calendar_date(year, month, day)
        .map(Some)
        .map_err(|_| ())
}

/// Reads one date as people type it: `2026-12-25`, `25/12/2026` or `25 12 2026`.
pub fn parse_loose_date(s: &str) -> Option<Date> {
    if let Some(d) = parse_iso_date(s) {
        return Some(d);
    }
    let parts: Vec<&str> = s
        .split(['/', ' ', '.', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    form_date(parts[0], parts[1], parts[2]).ok().flatten()
}

fn whole(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    min: i64,
    max: i64,
    message: &str,
) -> Option<u32> {
    match value.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n as u32),
        _ => {
            errors.add(field, message);
            None
        }
    }
}

/// The format of the `UNTIL` part of a rule.
fn until_text(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

impl GroupDetails {
    /// Validates a group form, naming each field that is wrong and how.
    pub fn parse(f: &GroupForm) -> Result<GroupDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let name = clean_text(&mut e, "name", "the group's name", &f.name, 120, true);
        let description = clean_text(
            &mut e,
            "description",
            "a description",
            &f.description,
            2000,
            false,
        );
        let kind = GroupKind::parse(&f.kind);
        if kind.is_none() {
            e.add(
                "kind",
                "Select whether the group is formal or informal (peer-led)",
            );
        }
        let peer_leader = if kind == Some(GroupKind::Informal) {
            clean_name(
                &mut e,
                "peer_leader",
                "the peer leader's name",
                &f.peer_leader,
                100,
            )
        } else {
            clean_text(
                &mut e,
                "peer_leader",
                "the peer leader's name",
                &f.peer_leader,
                100,
                false,
            )
        };
        let focus = f.focus.trim().to_string();
        if focus != ANY_CONDITION && conditions::by_key(&focus).is_none() {
            e.add(
                "focus",
                "Select the condition the group is for, or any condition",
            );
        }
        let interest = clean_text(&mut e, "interest", "the interest", &f.interest, 120, false);
        let mode = Mode::parse(&f.mode);
        let venue = clean_text(&mut e, "venue", "the venue", &f.venue, 300, false);
        let joining_details = clean_text(
            &mut e,
            "joining_details",
            "the joining details",
            &f.joining_details,
            1000,
            false,
        );
        match mode {
            None => e.add(
                "mode",
                "Select whether the group meets face to face or online",
            ),
            Some(Mode::InPerson) if venue.is_none() && e.for_field("venue").is_none() => {
                e.add("venue", "Enter the venue where the group meets")
            }
            Some(Mode::Online)
                if joining_details.is_none() && e.for_field("joining_details").is_none() =>
            {
                e.add(
                    "joining_details",
                    "Enter how people join online, for example the meeting link",
                )
            }
            _ => {}
        }
        let place = clean_text(&mut e, "place", "the town or area", &f.place, 100, false);
        let who_may_join = clean_text(
            &mut e,
            "who_may_join",
            "who may join",
            &f.who_may_join,
            1000,
            true,
        );
        let code_of_conduct = clean_text(
            &mut e,
            "code_of_conduct",
            "the code of conduct",
            &f.code_of_conduct,
            4000,
            false,
        );
        let first_date = match form_date(&f.first_day, &f.first_month, &f.first_year) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                e.add("first_day", "Enter the date of the first session");
                None
            }
            Err(()) => {
                e.add(
                    "first_day",
                    "The date of the first session must be a real date, for example 1 12 2026",
                );
                None
            }
        };
        let start = ClockTime::parse(&f.start_time);
        let end = ClockTime::parse(&f.end_time);
        if start.is_none() {
            e.add(
                "start_time",
                "Enter the start time as hours and minutes, for example 18:00",
            );
        }
        if end.is_none() {
            e.add(
                "end_time",
                "Enter the end time as hours and minutes, for example 23:00",
            );
        }
        if let (Some(s), Some(en)) = (start, end) {
            if en <= s {
                e.add("end_time", "The end time must be after the start time");
            }
        }
        let until = match form_date(&f.until_day, &f.until_month, &f.until_year) {
            Ok(d) => d,
            Err(()) => {
                e.add(
                    "until_day",
                    "The end date must be a real date, for example 31 12 2027",
                );
                None
            }
        };
        let count = if f.count.trim().is_empty() {
            None
        } else {
            whole(
                &mut e,
                "count",
                &f.count,
                1,
                5000,
                "The number of sessions must be a whole number from 1 to 5000",
            )
        };
        if let (Some(u), Some(first)) = (until, first_date) {
            if u < first {
                e.add(
                    "until_day",
                    "The end date must be on or after the date of the first session",
                );
            }
        }
        let limit = match (until, count) {
            (Some(u), None) => Some(format!(";UNTIL={}", until_text(u))),
            (None, Some(c)) => Some(format!(";COUNT={c}")),
            (Some(_), Some(_)) => {
                e.add(
                    "count",
                    "Give an end date or a number of sessions, not both",
                );
                None
            }
            (None, None) => None,
        };
        let needs_limit = |e: &mut ValidationErrors| {
            if e.for_field("until_day").is_none() && e.for_field("count").is_none() {
                e.add(
                    "until_day",
                    "Sessions cannot repeat for ever: enter the date they end, or how many there are",
                )
            }
        };
        let rrule = match f.repeat.as_str() {
            "daily" | "weekly" | "monthly" => {
                let base = match f.repeat.as_str() {
                    "daily" => Some("FREQ=DAILY".to_string()),
                    "weekly" => {
                        let mut days: Vec<&str> = Vec::new();
                        for (code, _, _) in WEEKDAYS {
                            if f.days.iter().any(|d| d == code) {
                                days.push(code);
                            }
                        }
                        if days.is_empty() || f.days.iter().any(|d| weekday_code(d).is_none()) {
                            e.add("days", "Select the days of the week the group meets");
                            None
                        } else {
                            Some(format!("FREQ=WEEKLY;BYDAY={}", days.join(",")))
                        }
                    }
                    _ => {
                        let week = f.month_week.trim();
                        let ok_week = matches!(week, "1" | "2" | "3" | "4" | "-1");
                        if !ok_week || weekday_code(f.month_day.trim()).is_none() {
                            e.add(
                                "month_week",
                                "Select which week of the month and which day the group meets",
                            );
                            None
                        } else {
                            Some(format!("FREQ=MONTHLY;BYDAY={}{}", week, f.month_day.trim()))
                        }
                    }
                };
                if limit.is_none() {
                    needs_limit(&mut e);
                }
                match (base, &limit) {
                    (Some(b), Some(l)) => Some(format!("{b}{l}")),
                    _ => None,
                }
            }
            "custom" => {
                let text = f
                    .rrule
                    .trim()
                    .trim_start_matches("RRULE:")
                    .to_ascii_uppercase();
                match Rule::parse(&text) {
                    Err(err) => {
                        e.add("rrule", err.to_string());
                        None
                    }
                    Ok(rule) => {
                        if rule.count.is_some() || rule.until.is_some() {
                            if limit.is_some() {
                                e.add("rrule", "The rule already says when it ends: leave the end date and number of sessions empty");
                                None
                            } else {
                                Some(text)
                            }
                        } else if let Some(l) = &limit {
                            Some(format!("{text}{l}"))
                        } else {
                            e.add("rrule", "Sessions cannot repeat for ever: add UNTIL or COUNT to the rule, or enter the date they end");
                            None
                        }
                    }
                }
            }
            _ => {
                e.add("repeat", "Select how often the group meets");
                None
            }
        };
        let mut closures = Vec::new();
        for line in f.closures.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match parse_loose_date(line) {
                Some(d) => closures.push(d),
                None => {
                    e.add(
                        "closures",
                        format!("Closure dates must be real dates, one per line, for example 25/12/2026 (\u{201c}{}\u{201d} is not)", line.chars().take(30).collect::<String>()),
                    );
                    break;
                }
            }
        }
        closures.sort();
        closures.dedup();
        let capacity = whole(
            &mut e,
            "capacity",
            &f.capacity,
            1,
            10_000,
            "The number of places must be a whole number of 1 or more (at most 10,000)",
        );
        let walk_in = if f.walk_in_places.trim().is_empty() {
            Some(0)
        } else {
            whole(
                &mut e,
                "walk_in_places",
                &f.walk_in_places,
                0,
                10_000,
                "Places held back for walk-ins must be a whole number, 0 or more",
            )
        };
        if let (Some(c), Some(w)) = (capacity, walk_in) {
            if w > c {
                e.add(
                    "walk_in_places",
                    "Places held back for walk-ins cannot be more than the number of places",
                );
            }
        }
        let ratio = if f.attendees_per_volunteer.trim().is_empty() {
            Some(15)
        } else {
            whole(
                &mut e,
                "attendees_per_volunteer",
                &f.attendees_per_volunteer,
                1,
                1000,
                "People per volunteer must be a whole number of 1 or more",
            )
        };
        let mut required_training = Vec::new();
        for t in &f.required_training {
            if TRAINING_COURSES.iter().any(|(c, _)| c == t) {
                if !required_training.contains(t) {
                    required_training.push(t.clone());
                }
            } else {
                e.add("required_training", "Select training from the list");
                break;
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        let (
            Some(name),
            Some(kind),
            Some(mode),
            Some(who_may_join),
            Some(first_date),
            Some(start_time),
            Some(end_time),
            Some(rrule),
            Some(capacity),
            Some(walk_in_places),
            Some(attendees_per_volunteer),
        ) = (
            name,
            kind,
            mode,
            who_may_join,
            first_date,
            start,
            end,
            rrule,
            capacity,
            walk_in,
            ratio,
        )
        else {
            e.add("name", "Check the form and try again");
            return Err(e);
        };
        // A rule that gives no session at all is a mistake worth naming.
        let details = GroupDetails {
            name,
            description,
            kind,
            peer_leader: if kind == GroupKind::Informal {
                peer_leader
            } else {
                None
            },
            focus,
            interest,
            mode,
            venue,
            place,
            joining_details,
            who_may_join,
            code_of_conduct,
            first_date,
            start_time,
            end_time,
            rrule,
            closures,
            capacity,
            walk_in_places,
            attendees_per_volunteer,
            required_training,
        };
        if let Err(err) = details.series().and_then(|s| s.validate()) {
            let field = if f.repeat == "custom" {
                "rrule"
            } else {
                "until_day"
            };
            e.add(field, err.to_string());
            return Err(e);
        }
        Ok(details)
    }

    /// The form that would produce these details (for editing).
    pub fn to_form(&self) -> GroupForm {
        let mut f = GroupForm {
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_default(),
            kind: self.kind.code().into(),
            peer_leader: self.peer_leader.clone().unwrap_or_default(),
            focus: self.focus.clone(),
            interest: self.interest.clone().unwrap_or_default(),
            mode: self.mode.code().into(),
            venue: self.venue.clone().unwrap_or_default(),
            place: self.place.clone().unwrap_or_default(),
            joining_details: self.joining_details.clone().unwrap_or_default(),
            who_may_join: self.who_may_join.clone(),
            code_of_conduct: self.code_of_conduct.clone().unwrap_or_default(),
            first_day: self.first_date.day().to_string(),
            first_month: u8::from(self.first_date.month()).to_string(),
            first_year: self.first_date.year().to_string(),
            start_time: self.start_time.text(),
            end_time: self.end_time.text(),
            repeat: "custom".into(),
            rrule: self.rrule.clone(),
            closures: self
                .closures
                .iter()
                .map(|d| iso_date(*d))
                .collect::<Vec<_>>()
                .join("\n"),
            capacity: self.capacity.to_string(),
            walk_in_places: self.walk_in_places.to_string(),
            attendees_per_volunteer: self.attendees_per_volunteer.to_string(),
            required_training: self.required_training.clone(),
            ..Default::default()
        };
        // Simple rules go back into the simple controls.
        if let Ok(rule) = Rule::parse(&self.rrule) {
            let by_day: Vec<(Option<i8>, Weekday)> =
                rule.by_day.iter().map(|b| (b.ordinal, b.weekday)).collect();
            let simple = match (
                rule.freq,
                rule.interval,
                by_day.as_slice(),
                rule.by_month_day.is_empty(),
            ) {
                (Frequency::Daily, 1, [], true) => Some("daily"),
                (Frequency::Weekly, 1, days, true)
                    if !days.is_empty() && days.iter().all(|(n, _)| n.is_none()) =>
                {
                    f.days = days
                        .iter()
                        .filter_map(|(_, w)| {
                            WEEKDAYS.iter().find(|x| x.2 == *w).map(|x| x.0.to_string())
                        })
                        .collect();
                    Some("weekly")
                }
                (Frequency::Monthly, 1, [(Some(n), w)], true) if matches!(n, 1..=4 | -1) => {
                    f.month_week = n.to_string();
                    f.month_day = WEEKDAYS
                        .iter()
                        .find(|x| x.2 == *w)
                        .map(|x| x.0.to_string())
                        .unwrap_or_default();
                    Some("monthly")
                }
                _ => None,
            };
            if let Some(s) = simple {
                f.repeat = s.into();
                f.rrule.clear();
                match (rule.until, rule.count) {
                    (Some(Until::Date(u)), _) => {
                        f.until_day = u.day().to_string();
                        f.until_month = u8::from(u.month()).to_string();
                        f.until_year = u.year().to_string();
                    }
                    (None, Some(c)) => f.count = c.to_string(),
                    _ => {}
                }
            }
        }
        f
    }

    /// Session dates (by the rule, before one-off moves) from `from` to `to` inclusive,
    /// closures left out.
    pub fn occurrences(&self, from: Date, to: Date) -> Vec<Date> {
        let Ok(series) = self.series() else {
            return Vec::new();
        };
        series
            .expand(from, to)
            .map(|v| v.into_iter().map(|o| o.original_date).collect())
            .unwrap_or_default()
    }

    /// The series for [`crate::recurrence`]: local times in Europe/London, closures as
    /// exceptions (one-off moves and cancellations are the store's, per session).
    pub fn series(&self) -> Result<Series, crate::recurrence::RecurrenceError> {
        let rule = Rule::parse(&self.rrule)?;
        let start = time::Time::from_hms(
            (self.start_time.0 / 60) as u8,
            (self.start_time.0 % 60) as u8,
            0,
        )
        .unwrap_or(time::Time::MIDNIGHT);
        let minutes = u32::from(self.end_time.0.saturating_sub(self.start_time.0)).max(1);
        let mut s = Series::new(self.first_date, start, minutes, Some(rule), None);
        s.exceptions = self.closures.iter().copied().collect();
        Ok(s)
    }

    /// Whether `date` is a session date by the rule (closures excluded).
    pub fn is_occurrence(&self, date: Date) -> bool {
        self.occurrences(date, date) == [date]
    }

    /// Places that may be booked ahead.
    pub fn bookable_places(&self) -> u32 {
        bookable_places(self.capacity, self.walk_in_places)
    }

    /// "Every day", "Every Tuesday", "First Monday of the month", or the rule.
    pub fn describe_schedule(&self) -> String {
        let Ok(rule) = Rule::parse(&self.rrule) else {
            return self.rrule.clone();
        };
        rule.describe()
    }
}

/// Places that may be booked ahead when `walk_in` of `capacity` are held back for walk-ins.
pub fn bookable_places(capacity: u32, walk_in: u32) -> u32 {
    capacity.saturating_sub(walk_in)
}

// ---- staffing and training ----------------------------------------------------------------

/// People on the rota for a session, by kind of duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Staffing {
    pub staff: u32,
    pub volunteers: u32,
}

/// Volunteers needed for `attendees` at one per `per_volunteer` (at least one).
pub fn volunteers_needed(attendees: u32, per_volunteer: u32) -> u32 {
    attendees.div_ceil(per_volunteer.max(1)).max(1)
}

/// The minimum staffing rule: at least one staff member, and one volunteer per
/// `per_volunteer` attendees (at least one). Returns the warnings, empty when staffed.
pub fn staffing_warnings(attendees: u32, on: Staffing, per_volunteer: u32) -> Vec<String> {
    let mut w = Vec::new();
    if on.staff == 0 {
        w.push("No staff member is on the rota: at least one is needed".to_string());
    }
    let need = volunteers_needed(attendees, per_volunteer);
    if on.volunteers < need {
        w.push(format!(
            "{} volunteer{} on the rota for {attendees} people: {need} needed (one per {per_volunteer})",
            on.volunteers,
            if on.volunteers == 1 { " is" } else { "s are" }
        ));
    }
    w
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingStatus {
    Current,
    /// Expires within 30 days.
    ExpiringSoon,
    Expired,
    Missing,
}

/// Whether training that expires on `expires_on` (if ever) is current on `on`.
pub fn training_status(expires_on: Option<Date>, on: Date) -> TrainingStatus {
    match expires_on {
        None => TrainingStatus::Current,
        Some(e) if e < on => TrainingStatus::Expired,
        Some(e) if e <= on.saturating_add(time::Duration::days(30)) => TrainingStatus::ExpiringSoon,
        Some(_) => TrainingStatus::Current,
    }
}

/// Two time ranges on the same day overlap (touching ends do not).
pub fn overlaps(a: (ClockTime, ClockTime), b: (ClockTime, ClockTime)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cafe_form() -> GroupForm {
        GroupForm {
            name: "Evening peer-support café".into(),
            kind: "formal".into(),
            focus: "depression".into(),
            mode: "in_person".into(),
            venue: "The Old Library, 12 High Street".into(),
            who_may_join: "Anyone over 18".into(),
            first_day: "1".into(),
            first_month: "1".into(),
            first_year: "2027".into(),
            start_time: "18:00".into(),
            end_time: "23:00".into(),
            repeat: "daily".into(),
            until_day: "31".into(),
            until_month: "12".into(),
            until_year: "2027".into(),
            capacity: "60".into(),
            walk_in_places: "10".into(),
            ..Default::default()
        }
    }

    #[test]
    fn cafe_every_day_of_the_year() {
        let g = GroupDetails::parse(&cafe_form()).unwrap();
        assert_eq!(g.rrule, "FREQ=DAILY;UNTIL=20271231");
        assert_eq!(
            g.occurrences(date!(2026 - 01 - 01), date!(2028 - 12 - 31))
                .len(),
            365
        );
        assert_eq!(g.bookable_places(), 50);
        assert_eq!(g.describe_schedule(), "Every day, until 31 December 2027");
        assert_eq!(GroupDetails::parse(&g.to_form()).unwrap(), g);
    }

    #[test]
    fn weekly_and_monthly_forms() {
        let mut f = cafe_form();
        f.repeat = "weekly".into();
        f.days = vec!["TU".into()];
        f.until_day.clear();
        f.until_month.clear();
        f.until_year.clear();
        f.count = "3".into();
        let g = GroupDetails::parse(&f).unwrap();
        assert_eq!(g.rrule, "FREQ=WEEKLY;BYDAY=TU;COUNT=3");
        assert_eq!(
            g.occurrences(date!(2026 - 01 - 01), date!(2028 - 12 - 31)),
            vec![
                date!(2027 - 01 - 05),
                date!(2027 - 01 - 12),
                date!(2027 - 01 - 19)
            ]
        );
        assert_eq!(GroupDetails::parse(&g.to_form()).unwrap(), g);
        let mut f = cafe_form();
        f.repeat = "monthly".into();
        f.month_week = "1".into();
        f.month_day = "MO".into();
        f.until_month = "3".into();
        let g = GroupDetails::parse(&f).unwrap();
        assert_eq!(
            g.occurrences(date!(2026 - 01 - 01), date!(2028 - 12 - 31)),
            vec![
                date!(2027 - 01 - 04),
                date!(2027 - 02 - 01),
                date!(2027 - 03 - 01)
            ]
        );
        assert_eq!(GroupDetails::parse(&g.to_form()).unwrap(), g);
    }

    #[test]
    fn bad_input_is_refused_with_clear_messages() {
        let field = |f: GroupForm, field: &str| {
            let e = GroupDetails::parse(&f).unwrap_err();
            e.for_field(field)
                .unwrap_or_else(|| panic!("no error on {field}: {e}"))
                .to_string()
        };
        let mut f = cafe_form();
        f.end_time = "17:00".into();
        assert_eq!(
            field(f, "end_time"),
            "The end time must be after the start time"
        );
        for bad in ["0", "-5", "sixty", "1.5"] {
            let mut f = cafe_form();
            f.capacity = bad.into();
            assert!(field(f, "capacity")
                .starts_with("The number of places must be a whole number of 1 or more"));
        }
        let mut f = cafe_form();
        f.until_day.clear();
        f.until_month.clear();
        f.until_year.clear();
        assert_eq!(
            field(f, "until_day"),
            "Sessions cannot repeat for ever: enter the date they end, or how many there are"
        );
        let mut f = cafe_form();
        f.repeat = "custom".into();
        f.rrule = "FREQ=WEEKLY;BYDAY=TU".into();
        f.until_day.clear();
        f.until_month.clear();
        f.until_year.clear();
        assert!(field(f, "rrule").starts_with("Sessions cannot repeat for ever"));
        let mut f = cafe_form();
        f.walk_in_places = "61".into();
        assert!(field(f, "walk_in_places").contains("cannot be more than"));
        let mut f = cafe_form();
        f.kind = "informal".into();
        assert_eq!(field(f, "peer_leader"), "Enter the peer leader's name");
        let mut f = cafe_form();
        f.mode = "online".into();
        assert!(field(f, "joining_details").starts_with("Enter how people join online"));
        let mut f = cafe_form();
        f.until_year = "2026".into();
        assert!(field(f, "until_day").contains("on or after"));
    }

    #[test]
    fn closures_are_left_out() {
        let mut f = cafe_form();
        f.closures = "25/12/2027\n2027-12-26".into();
        let g = GroupDetails::parse(&f).unwrap();
        assert_eq!(
            g.occurrences(date!(2027 - 01 - 01), date!(2027 - 12 - 31))
                .len(),
            363
        );
        assert!(!g.is_occurrence(date!(2027 - 12 - 25)));
        assert!(g.is_occurrence(date!(2027 - 12 - 24)));
    }

    #[test]
    fn staffing_rule() {
        assert!(staffing_warnings(
            30,
            Staffing {
                staff: 1,
                volunteers: 2
            },
            15
        )
        .is_empty());
        assert_eq!(
            staffing_warnings(
                31,
                Staffing {
                    staff: 1,
                    volunteers: 2
                },
                15
            )
            .len(),
            1
        );
        assert_eq!(
            staffing_warnings(
                0,
                Staffing {
                    staff: 0,
                    volunteers: 0
                },
                15
            )
            .len(),
            2
        );
        assert_eq!(volunteers_needed(60, 15), 4);
        assert_eq!(volunteers_needed(0, 15), 1);
    }

    #[test]
    fn training_and_overlap() {
        let today = date!(2027 - 06 - 01);
        assert_eq!(
            training_status(Some(date!(2027 - 05 - 31)), today),
            TrainingStatus::Expired
        );
        assert_eq!(
            training_status(Some(date!(2027 - 06 - 15)), today),
            TrainingStatus::ExpiringSoon
        );
        assert_eq!(training_status(None, today), TrainingStatus::Current);
        let t = |a: &str, b: &str| (ClockTime::parse(a).unwrap(), ClockTime::parse(b).unwrap());
        assert!(overlaps(t("18:00", "21:00"), t("20:00", "23:00")));
        assert!(!overlaps(t("18:00", "20:00"), t("20:00", "23:00")));
        assert_eq!(ClockTime::parse("6pm"), ClockTime::parse("18:00"));
        assert_eq!(ClockTime::parse("24:00"), None);
    }
}
