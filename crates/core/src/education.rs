//! Self-management education: programmes, course runs, the completion rule, the waiting-list
//! order, feedback and online content pages — the rules only, no storage.
//!
//! A *programme* is what is offered (a COPD group course, an online self-paced programme); a
//! *run* is one cohort of a group or one-to-one programme with its own session dates, venue,
//! facilitators and capacity. Session times are entered as Europe/London wall-clock times and
//! stored as UTC instants, so they stay right across the clock changes.

use crate::conditions;
use crate::person::LANGUAGES;
use crate::validation::{clean_text, ValidationErrors};
use serde::Serialize;
use time::Date;

/// The time zone every session time is entered and shown in.
pub const ZONE: &str = "Europe/London";

/// How a programme is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// Self-paced online modules; no sessions to attend.
    Online,
    OneToOne,
    Group,
}

impl DeliveryMode {
    pub const ALL: [DeliveryMode; 3] = [
        DeliveryMode::Group,
        DeliveryMode::OneToOne,
        DeliveryMode::Online,
    ];
    pub fn code(self) -> &'static str {
        match self {
            DeliveryMode::Online => "online",
            DeliveryMode::OneToOne => "one_to_one",
            DeliveryMode::Group => "group",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            DeliveryMode::Online => "Online, at your own pace",
            DeliveryMode::OneToOne => "One-to-one",
            DeliveryMode::Group => "Group course",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryMode> {
        Self::ALL.into_iter().find(|m| m.code() == s)
    }
    /// Whether the programme runs as cohorts with sessions to attend.
    pub fn has_sessions(self) -> bool {
        self != DeliveryMode::Online
    }
}

/// "Completed" means attending at least `min_attended` of the run's `sessions` sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompletionRule {
    pub min_attended: u32,
    pub sessions: u32,
}

impl CompletionRule {
    pub fn completed(self, attended: u32) -> bool {
        self.min_attended > 0 && attended >= self.min_attended
    }
    pub fn describe(self) -> String {
        format!(
            "attended at least {} of {} sessions",
            self.min_attended, self.sessions
        )
    }
}

/// Submitted programme details, all strings.
#[derive(Debug, Clone, Default)]
pub struct ProgrammeForm {
    pub title: String,
    pub summary: String,
    pub provider: String,
    pub mode: String,
    pub sessions: String,
    pub session_minutes: String,
    pub completion_min: String,
    pub audience: String,
    pub topics: String,
    pub languages: Vec<String>,
    pub accessibility: String,
    pub conditions: Vec<String>,
}

/// Validated programme details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgrammeDetails {
    pub title: String,
    pub summary: String,
    pub provider: String,
    pub mode: DeliveryMode,
    /// Sessions (group, one-to-one) or modules (online).
    pub sessions: u32,
    pub session_minutes: u32,
    /// Sessions to attend to complete (group, one-to-one); for online programmes, every page.
    pub completion_min: u32,
    pub audience: String,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub accessibility: Option<String>,
    pub conditions: Vec<String>,
}

impl ProgrammeDetails {
    pub fn completion(&self) -> CompletionRule {
        CompletionRule {
            min_attended: self.completion_min,
            sessions: self.sessions,
        }
    }
    /// The form this was parsed from, for re-editing.
    pub fn to_form(&self) -> ProgrammeForm {
        ProgrammeForm {
            title: self.title.clone(),
            summary: self.summary.clone(),
            provider: self.provider.clone(),
            mode: self.mode.code().into(),
            sessions: self.sessions.to_string(),
            session_minutes: self.session_minutes.to_string(),
            completion_min: self.completion_min.to_string(),
            audience: self.audience.clone(),
            topics: self.topics.join("\n"),
            languages: self.languages.clone(),
            accessibility: self.accessibility.clone().unwrap_or_default(),
            conditions: self.conditions.clone(),
        }
    }

    pub fn parse(f: &ProgrammeForm) -> Result<ProgrammeDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = clean_text(&mut e, "title", "a title", &f.title, 120, true);
        let summary = clean_text(
            &mut e,
            "summary",
            "a short description",
            &f.summary,
            1000,
            true,
        );
        let provider = clean_text(&mut e, "provider", "the provider", &f.provider, 120, true);
        let mode = DeliveryMode::parse(f.mode.trim());
        if mode.is_none() {
            e.add("mode", "Select how the programme is delivered");
        }
        let sessions = whole(&mut e, "sessions", "Number of sessions", &f.sessions, 1, 52);
        let minutes = whole(
            &mut e,
            "session_minutes",
            "Length of each session in minutes",
            &f.session_minutes,
            5,
            600,
        );
        let completion_min = match mode {
            Some(DeliveryMode::Online) if f.completion_min.trim().is_empty() => sessions,
            _ => {
                let c = whole(
                    &mut e,
                    "completion_min",
                    "Sessions to attend to complete",
                    &f.completion_min,
                    1,
                    52,
                );
                match (c, sessions) {
                    (Some(c), Some(s)) if c > s => {
                        e.add(
                            "completion_min",
                            format!("Sessions to attend to complete cannot be more than the number of sessions ({s})"),
                        );
                        None
                    }
                    (c, _) => c,
                }
            }
        };
        let audience = clean_text(&mut e, "audience", "who it is for", &f.audience, 1000, true);
        let mut topics = Vec::new();
        if let Some(t) = clean_text(&mut e, "topics", "the topics", &f.topics, 4000, true) {
            topics = t
                .lines()
                .map(|l| {
                    l.trim()
                        .trim_start_matches(['-', '*', '•'])
                        .trim()
                        .to_string()
                })
                .filter(|l| !l.is_empty())
                .collect();
            if topics.len() > 20 {
                e.add("topics", "Enter 20 topics or fewer, one a line");
            } else if topics.iter().any(|t| t.chars().count() > 200) {
                e.add("topics", "Each topic must be 200 characters or fewer");
            }
        }
        let mut languages: Vec<String> = f.languages.iter().map(|l| l.trim().to_string()).collect();
        languages.sort();
        languages.dedup();
        if languages.is_empty() {
            e.add("languages", "Select at least one language it is offered in");
        } else if languages
            .iter()
            .any(|l| !LANGUAGES.iter().any(|(c, _)| c == l))
        {
            e.add("languages", "Select languages from the list");
        }
        let accessibility = clean_text(
            &mut e,
            "accessibility",
            "accessibility",
            &f.accessibility,
            1000,
            false,
        );
        let mut conds: Vec<String> = f.conditions.iter().map(|c| c.trim().to_string()).collect();
        conds.sort();
        conds.dedup();
        if conds.is_empty() {
            e.add(
                "conditions",
                "Select at least one condition the programme is for",
            );
        } else if conds.iter().any(|c| conditions::by_key(c).is_none()) {
            e.add("conditions", "Select conditions from the list");
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ProgrammeDetails {
            title: title.unwrap_or_default(),
            summary: summary.unwrap_or_default(),
            provider: provider.unwrap_or_default(),
            mode: mode.expect("checked"),
            sessions: sessions.expect("checked"),
            session_minutes: minutes.expect("checked"),
            completion_min: completion_min.expect("checked"),
            audience: audience.unwrap_or_default(),
            topics,
            languages,
            accessibility,
            conditions: conds,
        })
    }
}

/// A whole number in `lo..=hi`, or a field error saying so.
pub fn whole(
    e: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    lo: u32,
    hi: u32,
) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() {
        e.add(field, format!("Enter {}", label.to_lowercase()));
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) if n >= i64::from(lo) && n <= i64::from(hi) => Some(n as u32),
        Ok(_) => {
            e.add(
                field,
                format!("{label} must be a whole number from {lo} to {hi}"),
            );
            None
        }
        Err(_) => {
            e.add(field, format!("{label} must be a whole number, like {lo}"));
            None
        }
    }
}

/// A clock time typed into a form, as hour and minute ([`crate::dates::parse_clock`]).
pub fn parse_clock(s: &str) -> Option<(u8, u8)> {
    crate::dates::parse_clock(s).map(|t| (t.hour(), t.minute()))
}

/// A course date typed into a form ([`crate::dates::parse_date`]), in 2000–2100.
pub fn parse_day(s: &str) -> Option<Date> {
    crate::dates::parse_date(s).filter(|d| (2000..=2100).contains(&d.year()))
}

pub use crate::london::{micros_at as london_micros, parts as london_parts};

/// `Tuesday 12 January 2027, 10:00 to 12:00` in Europe/London time.
pub fn describe_session(starts: i64, ends: i64) -> String {
    let (d, h, m) = london_parts(starts);
    let (_, h2, m2) = london_parts(ends);
    format!(
        "{} {}, {h:02}:{m:02} to {h2:02}:{m2:02}",
        d.weekday(),
        crate::time::display_date(d)
    )
}

/// Submitted details of a course run, all strings.
#[derive(Debug, Clone, Default)]
pub struct RunForm {
    pub label: String,
    pub first_date: String,
    pub start_time: String,
    pub end_time: String,
    pub venue: String,
    pub joining: String,
    pub capacity: String,
    pub facilitators: Vec<String>,
}

/// One session of a run: UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionTimes {
    pub starts_at: i64,
    pub ends_at: i64,
}

/// A validated course run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunDetails {
    pub label: String,
    pub venue: Option<String>,
    pub joining: Option<String>,
    pub capacity: u32,
    /// Facilitators' user ids as submitted (checked against the organisation's users by the
    /// caller).
    pub facilitators: Vec<String>,
    pub sessions: Vec<SessionTimes>,
}

impl RunDetails {
    /// Parses a run of `sessions` weekly sessions starting on the first date, at the same
    /// Europe/London times each week. One-to-one runs hold one person.
    pub fn parse(
        f: &RunForm,
        mode: DeliveryMode,
        sessions: u32,
    ) -> Result<RunDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let label = clean_text(&mut e, "label", "a name for this run", &f.label, 120, true);
        let first = if f.first_date.trim().is_empty() {
            e.add("first_date", "Enter the date of the first session");
            None
        } else {
            let d = parse_day(&f.first_date);
            if d.is_none() {
                e.add(
                    "first_date",
                    "Date of the first session must be a real date, like 12/1/2027",
                );
            }
            d
        };
        let start = time_field(&mut e, "start_time", "Start time", &f.start_time);
        let end = time_field(&mut e, "end_time", "End time", &f.end_time);
        if let (Some(s), Some(t)) = (start, end) {
            if t <= s {
                e.add("end_time", "End time must be after the start time");
            }
        }
        let venue = clean_text(&mut e, "venue", "the venue", &f.venue, 300, false);
        let joining = clean_text(
            &mut e,
            "joining",
            "the online joining details",
            &f.joining,
            500,
            false,
        );
        if venue.is_none() && joining.is_none() && e.for_field("venue").is_none() {
            e.add(
                "venue",
                "Enter the venue, or the online joining details, or both",
            );
        }
        let capacity = {
            let v = f.capacity.trim();
            if v.is_empty() {
                e.add("capacity", "Enter the number of places");
                None
            } else {
                match v.parse::<i64>() {
                    Ok(n) if n < 1 => {
                        e.add("capacity", "Number of places must be 1 or more");
                        None
                    }
                    Ok(n) if n > 500 => {
                        e.add("capacity", "Number of places must be 500 or fewer");
                        None
                    }
                    Ok(n) if mode == DeliveryMode::OneToOne && n != 1 => {
                        e.add("capacity", "A one-to-one run has exactly 1 place");
                        None
                    }
                    Ok(n) => Some(n as u32),
                    Err(_) => {
                        e.add(
                            "capacity",
                            "Number of places must be a whole number, like 12",
                        );
                        None
                    }
                }
            }
        };
        if !mode.has_sessions() {
            e.add(
                "label",
                "Online self-paced programmes have no runs: people start them when they like",
            );
        }
        let mut facilitators: Vec<String> = f
            .facilitators
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        facilitators.sort();
        facilitators.dedup();
        if facilitators.is_empty() {
            e.add("facilitators", "Select at least one facilitator");
        }
        if !e.is_empty() {
            return Err(e);
        }
        let first = first.expect("checked");
        let (sh, sm) = start.expect("checked");
        let (eh, em) = end.expect("checked");
        let sessions = (0..sessions)
            .map(|i| {
                let day = first + time::Duration::days(7 * i64::from(i));
                SessionTimes {
                    starts_at: london_micros(day, sh, sm),
                    ends_at: london_micros(day, eh, em),
                }
            })
            .collect();
        Ok(RunDetails {
            label: label.unwrap_or_default(),
            venue,
            joining,
            capacity: capacity.expect("checked"),
            facilitators,
            sessions,
        })
    }
}

fn time_field(e: &mut ValidationErrors, field: &str, label: &str, v: &str) -> Option<(u8, u8)> {
    if v.trim().is_empty() {
        e.add(field, format!("Enter the {}", label.to_lowercase()));
        return None;
    }
    let t = parse_clock(v);
    if t.is_none() {
        e.add(
            field,
            format!("{label} must be a 24-hour time, like 10:00 or 14:30"),
        );
    }
    t
}

/// Someone waiting for a place: joined the list at `joined_at` (microseconds), with a unique id
/// breaking ties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub enrolment_id: String,
    pub joined_at: i64,
}

/// The waiting-list order: first come, first served; equal times in id order (ids are
/// time-ordered UUIDs, so that is still arrival order). Returns up to `free` people to promote.
pub fn promote(mut waiting: Vec<Waiting>, free: u32) -> Vec<Waiting> {
    waiting.sort_by(|a, b| {
        a.joined_at
            .cmp(&b.joined_at)
            .then_with(|| a.enrolment_id.cmp(&b.enrolment_id))
    });
    waiting.truncate(free as usize);
    waiting
}

/// Free places on a run.
pub fn free_places(capacity: u32, enrolled: u32) -> u32 {
    capacity.saturating_sub(enrolled)
}

/// A participant's feedback on a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub rating: u8,
    pub helped: Option<String>,
    pub better: Option<String>,
}

impl Feedback {
    pub fn parse(rating: &str, helped: &str, better: &str) -> Result<Feedback, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let r = match rating.trim().parse::<u8>() {
            Ok(n) if (1..=5).contains(&n) => Some(n),
            _ => {
                e.add("rating", "Select how useful the course was, from 1 to 5");
                None
            }
        };
        let helped = clean_text(&mut e, "helped", "what helped", helped, 1000, false);
        let better = clean_text(
            &mut e,
            "better",
            "what could be better",
            better,
            1000,
            false,
        );
        e.into_result(()).map(|_| Feedback {
            rating: r.expect("checked"),
            helped,
            better,
        })
    }
}

/// A content page of an online programme, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentPage {
    pub module_title: String,
    pub title: String,
    pub body: String,
    pub video_url: Option<String>,
    /// (label, https URL)
    pub resources: Vec<(String, String)>,
}

/// True for an absolute `https://` URL with a host and no spaces or quotes.
pub fn is_safe_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`')
        })
        && s.len() <= 500
}

impl ContentPage {
    pub fn parse(
        module_title: &str,
        title: &str,
        body: &str,
        video_url: &str,
        resources: &str,
    ) -> Result<ContentPage, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let module_title = clean_text(
            &mut e,
            "module_title",
            "the module",
            module_title,
            120,
            true,
        );
        let title = clean_text(&mut e, "title", "a page title", title, 120, true);
        let body = clean_text(&mut e, "body", "the page text", body, 20_000, true);
        let video = clean_text(&mut e, "video_url", "the video link", video_url, 500, false);
        if let Some(v) = &video {
            if !is_safe_url(v) {
                e.add(
                    "video_url",
                    "Video link must be a web address starting https://",
                );
            }
        }
        let mut res = Vec::new();
        if let Some(r) = clean_text(&mut e, "resources", "the resources", resources, 4000, false) {
            for line in r.lines().map(str::trim).filter(|l| !l.is_empty()) {
                match line.rsplit_once('|') {
                    Some((label, url)) if !label.trim().is_empty() && is_safe_url(url.trim()) => {
                        res.push((label.trim().to_string(), url.trim().to_string()))
                    }
                    _ => {
                        e.add(
                            "resources",
                            "Write each resource on its own line as a name, a | and a web address starting https://",
                        );
                        break;
                    }
                }
            }
        }
        e.into_result(()).map(|_| ContentPage {
            module_title: module_title.unwrap_or_default(),
            title: title.unwrap_or_default(),
            body: body.unwrap_or_default(),
            video_url: video,
            resources: res,
        })
    }
}

/// A block of the limited markup content pages are written in: `## ` starts a heading, lines
/// starting `- ` make a bulleted list, blank lines separate paragraphs. Nothing else is
/// interpreted; everything is shown as text (escaped by the page renderer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
}

pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Vec<String> = Vec::new();
    fn flush(out: &mut Vec<Block>, para: &mut Vec<&str>, list: &mut Vec<String>) {
        if !para.is_empty() {
            out.push(Block::Paragraph(para.join(" ")));
            para.clear();
        }
        if !list.is_empty() {
            out.push(Block::List(std::mem::take(list)));
        }
    }
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            flush(&mut out, &mut para, &mut list);
        } else if let Some(h) = l.strip_prefix("## ") {
            flush(&mut out, &mut para, &mut list);
            out.push(Block::Heading(h.trim().to_string()));
        } else if let Some(item) = l.strip_prefix("- ") {
            if !para.is_empty() {
                out.push(Block::Paragraph(para.join(" ")));
                para.clear();
            }
            list.push(item.trim().to_string());
        } else {
            if !list.is_empty() {
                out.push(Block::List(std::mem::take(&mut list)));
            }
            para.push(l);
        }
    }
    flush(&mut out, &mut para, &mut list);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn programme() -> ProgrammeForm {
        ProgrammeForm {
            title: "Breathe Easier".into(),
            summary: "A six-week group course".into(),
            provider: "Riverside PCN".into(),
            mode: "group".into(),
            sessions: "6".into(),
            session_minutes: "120".into(),
            completion_min: "4".into(),
            audience: "Adults with COPD".into(),
            topics: "- The condition\n- Inhaler technique\n\n".into(),
            languages: vec!["en".into(), "pl".into(), "en".into()],
            accessibility: "".into(),
            conditions: vec!["copd".into()],
        }
    }

    #[test]
    fn completion_rule() {
        let r = CompletionRule {
            min_attended: 4,
            sessions: 6,
        };
        assert!(!r.completed(3));
        assert!(r.completed(4));
        assert!(r.completed(6));
        assert_eq!(r.describe(), "attended at least 4 of 6 sessions");
    }

    #[test]
    fn programme_parses_and_refuses_a_rule_larger_than_the_course() {
        let p = ProgrammeDetails::parse(&programme()).unwrap();
        assert_eq!(p.topics, vec!["The condition", "Inhaler technique"]);
        assert_eq!(p.languages, vec!["en", "pl"]);
        assert_eq!(p.completion().min_attended, 4);
        let e = ProgrammeDetails::parse(&ProgrammeForm {
            completion_min: "7".into(),
            ..programme()
        })
        .unwrap_err();
        assert_eq!(
            e.for_field("completion_min"),
            Some("Sessions to attend to complete cannot be more than the number of sessions (6)")
        );
        let e = ProgrammeDetails::parse(&ProgrammeForm {
            sessions: "0".into(),
            conditions: vec!["flu".into()],
            languages: vec![],
            mode: "telepathy".into(),
            ..programme()
        })
        .unwrap_err();
        assert!(e.for_field("sessions").is_some());
        assert!(e.for_field("conditions").is_some());
        assert!(e.for_field("languages").is_some());
        assert!(e.for_field("mode").is_some());
    }

    fn run() -> RunForm {
        RunForm {
            label: "Spring, Tuesday mornings".into(),
            first_date: "2027-03-16".into(),
            start_time: "10:00".into(),
            end_time: "12:00".into(),
            venue: "Riverside Community Centre".into(),
            joining: "".into(),
            capacity: "12".into(),
            facilitators: vec!["u1".into()],
        }
    }

    #[test]
    fn weekly_sessions_keep_london_time_across_the_clock_change() {
        // 2027 clocks go forward on Sunday 28 March: sessions on 16 and 23 March are GMT
        // (10:00 = 10:00 UTC), from 30 March BST (10:00 = 09:00 UTC).
        let r = RunDetails::parse(&run(), DeliveryMode::Group, 3).unwrap();
        assert_eq!(r.sessions.len(), 3);
        let utc_hour = |m: i64| (m / 1_000_000 / 3600).rem_euclid(24);
        assert_eq!(utc_hour(r.sessions[0].starts_at), 10);
        assert_eq!(utc_hour(r.sessions[1].starts_at), 10);
        assert_eq!(utc_hour(r.sessions[2].starts_at), 9);
        assert_eq!(
            describe_session(r.sessions[2].starts_at, r.sessions[2].ends_at),
            "Tuesday 30 March 2027, 10:00 to 12:00"
        );
        let (d, h, m) = london_parts(london_micros(date!(2027 - 10 - 31), 1, 30));
        assert_eq!((d, h, m), (date!(2027 - 10 - 31), 1, 30));
    }

    #[test]
    fn run_bad_input_is_named_by_field() {
        let bad = |f: RunForm, field: &str| {
            let e = RunDetails::parse(&f, DeliveryMode::Group, 6).unwrap_err();
            e.for_field(field)
                .unwrap_or_else(|| panic!("no error on {field}: {e}"))
                .to_string()
        };
        assert_eq!(
            bad(
                RunForm {
                    end_time: "09:00".into(),
                    ..run()
                },
                "end_time"
            ),
            "End time must be after the start time"
        );
        assert_eq!(
            bad(
                RunForm {
                    capacity: "0".into(),
                    ..run()
                },
                "capacity"
            ),
            "Number of places must be 1 or more"
        );
        assert_eq!(
            bad(
                RunForm {
                    capacity: "-3".into(),
                    ..run()
                },
                "capacity"
            ),
            "Number of places must be 1 or more"
        );
        assert!(bad(
            RunForm {
                first_date: "31/2/2027".into(),
                ..run()
            },
            "first_date"
        )
        .contains("real date"));
        assert!(bad(
            RunForm {
                venue: "".into(),
                ..run()
            },
            "venue"
        )
        .contains("venue"));
        assert!(bad(
            RunForm {
                facilitators: vec![],
                ..run()
            },
            "facilitators"
        )
        .contains("facilitator"));
        let e = RunDetails::parse(
            &RunForm {
                capacity: "2".into(),
                ..run()
            },
            DeliveryMode::OneToOne,
            6,
        )
        .unwrap_err();
        assert_eq!(
            e.for_field("capacity"),
            Some("A one-to-one run has exactly 1 place")
        );
    }

    #[test]
    fn waiting_list_is_first_come_first_served() {
        let w = |id: &str, at| Waiting {
            enrolment_id: id.into(),
            joined_at: at,
        };
        let next = promote(vec![w("c", 30), w("b", 10), w("a", 10), w("d", 5)], 2);
        assert_eq!(
            next.iter()
                .map(|x| x.enrolment_id.as_str())
                .collect::<Vec<_>>(),
            vec!["d", "a"]
        );
        assert!(promote(vec![w("a", 1)], 0).is_empty());
        assert_eq!(free_places(12, 12), 0);
        assert_eq!(free_places(12, 13), 0);
        assert_eq!(free_places(12, 10), 2);
    }

    #[test]
    fn feedback_and_pages() {
        assert!(Feedback::parse("6", "", "").is_err());
        assert!(Feedback::parse("0", "", "").is_err());
        assert_eq!(
            Feedback::parse("4", " x ", "").unwrap().helped.as_deref(),
            Some("x")
        );
        let e = ContentPage::parse("M", "T", "Body", "javascript:alert(1)", "").unwrap_err();
        assert!(e.for_field("video_url").is_some());
        let e = ContentPage::parse("M", "T", "Body", "", "Leaflet | http://x.example").unwrap_err();
        assert!(e.for_field("resources").is_some());
        let p = ContentPage::parse(
            "M",
            "T",
            "Body",
            "https://video.example/v/1",
            "Inhaler leaflet | https://leaflets.example/inhaler.pdf",
        )
        .unwrap();
        assert_eq!(p.resources[0].0, "Inhaler leaflet");
        assert!(!is_safe_url("https://a.example/\"onmouseover"));
    }

    #[test]
    fn limited_markup() {
        let b = blocks("## Why breathing\nFirst line\nsecond line\n\n- one\n- two\nAfter <b>");
        assert_eq!(
            b,
            vec![
                Block::Heading("Why breathing".into()),
                Block::Paragraph("First line second line".into()),
                Block::List(vec!["one".into(), "two".into()]),
                Block::Paragraph("After <b>".into()),
            ]
        );
    }
}
