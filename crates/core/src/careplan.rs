//! The personalised care and support plan: what it holds, how a submitted plan form is
//! validated, and a field-by-field comparison of two versions. Every save of a plan is a new
//! version (the store never overwrites one); this module knows nothing of storage.
//!
//! Goals: the plan keeps a free-text summary of the person's goals. The coaching goals (with
//! their steps and reviews) live in the coaching tables; a page may show them beside the plan
//! through [`GOALS_HOOK`].

use crate::time::{display_date, iso_date};
use crate::validation::{clean_text, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::Date;

/// Where the plan page links to the person's coaching goals (kept by the coaching module, with
/// their steps and reviews); `{id}` is the person's id.
pub const GOALS_HOOK: &str = "/people/{id}/coaching";

/// The most agreed-action rows a plan holds.
pub const MAX_ACTIONS: usize = 20;

/// Kinds of support a person receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportKind {
    Coaching,
    Education,
    PeerSupport,
    OtherServices,
}

impl SupportKind {
    pub const ALL: [SupportKind; 4] = [
        SupportKind::Coaching,
        SupportKind::Education,
        SupportKind::PeerSupport,
        SupportKind::OtherServices,
    ];
    pub fn code(self) -> &'static str {
        match self {
            SupportKind::Coaching => "coaching",
            SupportKind::Education => "education",
            SupportKind::PeerSupport => "peer_support",
            SupportKind::OtherServices => "other_services",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SupportKind::Coaching => "Health and wellbeing coaching",
            SupportKind::Education => "Self-management education",
            SupportKind::PeerSupport => "Peer support",
            SupportKind::OtherServices => "Other services",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// One agreed action: what, who does it, by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAction {
    pub what: String,
    pub who: String,
    /// ISO date, if one was agreed.
    pub by: Option<String>,
}

/// The content of one version of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContent {
    pub what_matters: String,
    pub strengths: Option<String>,
    pub needs: Option<String>,
    pub preferences: Option<String>,
    pub goals: Option<String>,
    pub actions: Vec<PlanAction>,
    pub support: Vec<SupportKind>,
    pub support_notes: Option<String>,
    pub contingency: Option<String>,
    /// ISO date.
    pub review_date: String,
    pub agreed: bool,
    /// ISO date, when agreed.
    pub agreed_on: Option<String>,
}

/// One agreed-action row as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionRow {
    pub what: String,
    pub who: String,
    pub by: String,
}

/// A plan form as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanForm {
    pub what_matters: String,
    pub strengths: String,
    pub needs: String,
    pub preferences: String,
    pub goals: String,
    pub actions: Vec<ActionRow>,
    pub support: Vec<String>,
    pub support_notes: String,
    pub contingency: String,
    pub review_day: String,
    pub review_month: String,
    pub review_year: String,
    pub agreed: String,
    pub agreed_day: String,
    pub agreed_month: String,
    pub agreed_year: String,
}

fn dmy(d: &Option<String>) -> (String, String, String) {
    match d.as_deref().and_then(crate::time::parse_iso_date) {
        Some(d) => (
            d.day().to_string(),
            (d.month() as u8).to_string(),
            d.year().to_string(),
        ),
        None => Default::default(),
    }
}

impl PlanForm {
    pub fn from_content(c: &PlanContent) -> PlanForm {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let (rd, rm, ry) = dmy(&Some(c.review_date.clone()));
        let (ad, am, ay) = dmy(&c.agreed_on);
        PlanForm {
            what_matters: c.what_matters.clone(),
            strengths: o(&c.strengths),
            needs: o(&c.needs),
            preferences: o(&c.preferences),
            goals: o(&c.goals),
            actions: c
                .actions
                .iter()
                .map(|a| ActionRow {
                    what: a.what.clone(),
                    who: a.who.clone(),
                    by: a
                        .by
                        .as_deref()
                        .and_then(crate::time::parse_iso_date)
                        .map(|d| format!("{}/{}/{}", d.day(), d.month() as u8, d.year()))
                        .unwrap_or_default(),
                })
                .collect(),
            support: c.support.iter().map(|s| s.code().to_string()).collect(),
            support_notes: o(&c.support_notes),
            contingency: o(&c.contingency),
            review_day: rd,
            review_month: rm,
            review_year: ry,
            agreed: if c.agreed { "yes" } else { "no" }.into(),
            agreed_day: ad,
            agreed_month: am,
            agreed_year: ay,
        }
    }
}

/// Reads a day/month/year triple; `None` with an error when it is not a real date.
fn three_part_date(
    e: &mut ValidationErrors,
    prefix: &str,
    label: &str,
    d: &str,
    m: &str,
    y: &str,
    required: bool,
) -> Option<Date> {
    let (d, m, y) = (d.trim(), m.trim(), y.trim());
    if d.is_empty() && m.is_empty() && y.is_empty() {
        if required {
            e.add(&format!("{prefix}_day"), format!("Enter {label}"));
        }
        return None;
    }
    let parsed = (|| {
        let day: u8 = d.parse().ok()?;
        let month: u8 = m.parse().ok()?;
        let year: i32 = y.parse().ok()?;
        if !(1900..=2200).contains(&year) {
            return None;
        }
        Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
    })();
    if parsed.is_none() {
        let field = if d.parse::<u8>().is_err() {
            "day"
        } else if m.parse::<u8>().is_err() {
            "month"
        } else {
            "year"
        };
        e.add(
            &format!("{prefix}_{field}"),
            format!(
                "{} must be a real date, like 15 3 2027",
                crate::validation::capitalise(label)
            ),
        );
    }
    parsed
}

impl PlanContent {
    /// Validates a submitted plan, naming each field that is wrong.
    pub fn parse(f: &PlanForm, today: Date) -> Result<PlanContent, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let what_matters = clean_text(
            &mut e,
            "what_matters",
            "what matters to the person",
            &f.what_matters,
            4000,
            true,
        );
        let strengths = clean_text(
            &mut e,
            "strengths",
            "their strengths",
            &f.strengths,
            4000,
            false,
        );
        let needs = clean_text(&mut e, "needs", "their needs", &f.needs, 4000, false);
        let preferences = clean_text(
            &mut e,
            "preferences",
            "their preferences",
            &f.preferences,
            4000,
            false,
        );
        let goals = clean_text(&mut e, "goals", "their goals", &f.goals, 4000, false);
        let mut actions = Vec::new();
        let filled: Vec<(usize, &ActionRow)> = f
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                !(a.what.trim().is_empty() && a.who.trim().is_empty() && a.by.trim().is_empty())
            })
            .collect();
        if filled.len() > MAX_ACTIONS {
            e.add(
                "action_what_1",
                format!("A plan can hold up to {MAX_ACTIONS} agreed actions"),
            );
        }
        for (i, a) in filled.into_iter().take(MAX_ACTIONS) {
            let n = i + 1;
            let what = clean_text(
                &mut e,
                &format!("action_what_{n}"),
                &format!("what action {n} is"),
                &a.what,
                500,
                true,
            );
            let who = clean_text(
                &mut e,
                &format!("action_who_{n}"),
                &format!("who will do action {n}"),
                &a.who,
                200,
                true,
            );
            let by = if a.by.trim().is_empty() {
                None
            } else {
                match crate::directory::parse_flexible_date(&a.by) {
                    Some(d) => Some(iso_date(d)),
                    None => {
                        e.add(
                            &format!("action_by_{n}"),
                            format!("The date for action {n} must be a real date, like 15/3/2027"),
                        );
                        None
                    }
                }
            };
            if let (Some(what), Some(who)) = (what, who) {
                actions.push(PlanAction { what, who, by });
            }
        }
        let mut support = Vec::new();
        for s in &f.support {
            match SupportKind::parse(s) {
                Some(k) if !support.contains(&k) => support.push(k),
                Some(_) => {}
                None => {
                    e.add("support", "Select the support they receive from the list");
                    break;
                }
            }
        }
        support.sort_by_key(|k| SupportKind::ALL.iter().position(|x| x == k));
        let support_notes = clean_text(
            &mut e,
            "support_notes",
            "the details of their support",
            &f.support_notes,
            4000,
            false,
        );
        let contingency = clean_text(
            &mut e,
            "contingency",
            "what to do if things get worse",
            &f.contingency,
            4000,
            false,
        );
        let review = three_part_date(
            &mut e,
            "review",
            "the review date",
            &f.review_day,
            &f.review_month,
            &f.review_year,
            true,
        );
        if let Some(r) = review {
            if r < today {
                e.add(
                    "review_day",
                    "The review date must be today or in the future",
                );
            } else if (r - today).whole_days() > 2 * 366 {
                e.add(
                    "review_day",
                    "The review date must be within the next two years",
                );
            }
        }
        let agreed = match f.agreed.as_str() {
            "yes" => true,
            "no" => false,
            _ => {
                e.add("agreed", "Select whether the person has agreed this plan");
                false
            }
        };
        let agreed_on = if agreed {
            let d = three_part_date(
                &mut e,
                "agreed",
                "the date the person agreed the plan",
                &f.agreed_day,
                &f.agreed_month,
                &f.agreed_year,
                true,
            );
            if let Some(d) = d {
                if d > today {
                    e.add(
                        "agreed_day",
                        "The date the person agreed the plan must be today or in the past",
                    );
                }
            }
            d
        } else {
            None
        };
        if !e.is_empty() {
            return Err(e);
        }
        Ok(PlanContent {
            what_matters: what_matters.unwrap_or_default(),
            strengths,
            needs,
            preferences,
            goals,
            actions,
            support,
            support_notes,
            contingency,
            review_date: review.map(iso_date).unwrap_or_default(),
            agreed,
            agreed_on: agreed_on.map(iso_date),
        })
    }
}

/// One field that differs between two versions, as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

fn show_date(iso: &str) -> String {
    crate::time::parse_iso_date(iso)
        .map(display_date)
        .unwrap_or_else(|| iso.to_string())
}

/// The plan's fields as `(label, text)` in the order pages show them.
pub fn fields(c: &PlanContent) -> Vec<(&'static str, String)> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("What matters to me", c.what_matters.clone()),
        ("My strengths", o(&c.strengths)),
        ("My needs", o(&c.needs)),
        ("My preferences", o(&c.preferences)),
        ("My goals", o(&c.goals)),
        (
            "Agreed actions",
            c.actions
                .iter()
                .map(|a| {
                    format!(
                        "{} — {}{}",
                        a.what,
                        a.who,
                        a.by.as_deref()
                            .map(|d| format!(", by {}", show_date(d)))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "Support I receive",
            c.support
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("About my support", o(&c.support_notes)),
        ("If things get worse", o(&c.contingency)),
        ("Review date", show_date(&c.review_date)),
        (
            "Agreed with me",
            if c.agreed {
                format!(
                    "Yes{}",
                    c.agreed_on
                        .as_deref()
                        .map(|d| format!(", on {}", show_date(d)))
                        .unwrap_or_default()
                )
            } else {
                "Not yet".to_string()
            },
        ),
    ]
}

/// Field-by-field comparison: the fields whose text differs, in page order.
pub fn diff(before: &PlanContent, after: &PlanContent) -> Vec<FieldChange> {
    fields(before)
        .into_iter()
        .zip(fields(after))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, a), (_, b))| FieldChange {
            field,
            before: a,
            after: b,
        })
        .collect()
}

/// Names of the changed fields, for the audit detail (never the values).
pub fn changed_field_names(before: Option<&PlanContent>, after: &PlanContent) -> String {
    match before {
        None => "first version".to_string(),
        Some(b) => {
            let names: Vec<&str> = diff(b, after).iter().map(|c| c.field).collect();
            if names.is_empty() {
                "no changes".into()
            } else {
                format!("changed: {}", names.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form() -> PlanForm {
        PlanForm {
            what_matters: "Walking my dog to the park".into(),
            strengths: "Determined; supportive daughter".into(),
            actions: vec![
                ActionRow {
                    what: "Walk to the end of the road daily".into(),
                    who: "Me".into(),
                    by: "1/12/2026".into(),
                },
                ActionRow::default(),
            ],
            support: vec!["coaching".into(), "peer_support".into()],
            review_day: "1".into(),
            review_month: "3".into(),
            review_year: "2027".into(),
            agreed: "yes".into(),
            agreed_day: "20".into(),
            agreed_month: "11".into(),
            agreed_year: "2026".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_plan_parses_and_round_trips() {
        let today = date!(2026 - 11 - 22);
        let c = PlanContent::parse(&form(), today).unwrap();
        assert_eq!(c.actions.len(), 1);
        assert_eq!(c.actions[0].by.as_deref(), Some("2026-12-01"));
        assert_eq!(c.review_date, "2027-03-01");
        assert_eq!(c.agreed_on.as_deref(), Some("2026-11-20"));
        assert_eq!(
            PlanContent::parse(&PlanForm::from_content(&c), today).unwrap(),
            c
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let today = date!(2026 - 11 - 22);
        let mut f = form();
        f.what_matters = "  ".into();
        f.actions[1] = ActionRow {
            what: "Ring the surgery".into(),
            who: "".into(),
            by: "32/1/2027".into(),
        };
        f.support.push("astrology".into());
        f.review_year = "2020".into();
        f.agreed_day = "".into();
        f.agreed_month = "".into();
        f.agreed_year = "".into();
        let e = PlanContent::parse(&f, today).unwrap_err();
        assert_eq!(
            e.for_field("what_matters"),
            Some("Enter what matters to the person")
        );
        assert_eq!(
            e.for_field("action_who_2"),
            Some("Enter who will do action 2")
        );
        assert!(e.for_field("action_by_2").is_some());
        assert!(e.for_field("support").is_some());
        assert_eq!(
            e.for_field("review_day"),
            Some("The review date must be today or in the future")
        );
        assert_eq!(
            e.for_field("agreed_day"),
            Some("Enter the date the person agreed the plan")
        );
    }

    #[test]
    fn diff_names_only_changed_fields() {
        let today = date!(2026 - 11 - 22);
        let a = PlanContent::parse(&form(), today).unwrap();
        let mut b = a.clone();
        b.contingency = Some("Call the practice".into());
        b.support.retain(|s| *s != SupportKind::PeerSupport);
        let d = diff(&a, &b);
        assert_eq!(
            d.iter().map(|c| c.field).collect::<Vec<_>>(),
            vec!["Support I receive", "If things get worse"]
        );
        assert_eq!(d[1].before, "");
        assert_eq!(d[1].after, "Call the practice");
        assert_eq!(
            changed_field_names(Some(&a), &b),
            "changed: Support I receive, If things get worse"
        );
        assert_eq!(changed_field_names(Some(&a), &a), "no changes");
    }
}
