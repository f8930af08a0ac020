//! Measuring activation: taking a questionnaire (`questionnaire`), staff recording one
//! completed in person, by telephone or on paper (`on_paper`), a person's activation history
//! with its chart (`record`), the coordinators' lists (`lists`: due for re-measurement,
//! outreach) and administering instruments and settings (`admin`). This module holds what they
//! share: scoring results into the stored form and when a person is next due.

mod admin;
mod lists;
mod on_paper;
mod questionnaire;
mod record;

pub use admin::{admin_import, admin_list, admin_rescore, save_settings, settings};
pub use lists::{due, outreach, OutreachParams};
pub use on_paper::{record_form, record_submit, RecordParams};
pub use questionnaire::{answer, check, choose, question, resume, start, submit, LangParam};
pub use record::record_section;

use crate::error::{AppError, AppResult};
use crate::AppState;
use alongside_core::recommend::Rules;
use alongside_core::time::{display_date, Timestamp};
use alongside_core::OrgId;
use alongside_measure::{Flag, Flags, Outcome, Scored};
use alongside_store::activation::{InstrumentRow, StoredResult};

/// Months after the last measurement at which a person is due to be measured again, unless
/// the organisation has set `remeasure_months`.
pub const DEFAULT_REMEASURE_MONTHS: u32 = 6;

fn parse<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// The result of scoring, in the form the store keeps.
pub fn stored_result(outcome: &Outcome) -> StoredResult {
    match outcome {
        Outcome::Scored(s) => StoredResult {
            items_answered: s.items_answered as i64,
            raw_score: s.raw_score,
            measure: s.measure,
            standard_error: s.standard_error,
            score: Some(s.score),
            score_se: s.score_standard_error,
            level: s.level.map(i64::from),
            flags: s
                .flags
                .iter()
                .map(|f| f.code())
                .collect::<Vec<_>>()
                .join(";"),
            not_scored_reason: None,
        },
        Outcome::NotScored(n) => StoredResult {
            items_answered: n.items_answered as i64,
            raw_score: n.raw_score,
            not_scored_reason: Some(n.reason.to_string()),
            ..Default::default()
        },
    }
}

/// A stored result back as a `Scored` value, for comparing two measurements.
fn as_scored(r: &StoredResult) -> Option<Scored> {
    let mut flags = Flags::default();
    for code in r.flags.split(';').filter(|c| !c.is_empty()) {
        if let Some(f) = Flag::from_code(code) {
            flags.insert(f);
        }
    }
    Some(Scored {
        items_answered: r.items_answered as usize,
        raw_score: r.raw_score,
        measure: r.measure,
        standard_error: r.standard_error,
        score: r.score?,
        score_standard_error: r.score_se,
        level: r.level.map(|l| l as u8),
        flags,
    })
}

fn flag_descriptions(flags: &str) -> Vec<&'static str> {
    flags
        .split(';')
        .filter_map(Flag::from_code)
        .map(|f| f.description())
        .collect()
}

fn when(micros: i64) -> String {
    display_date(Timestamp(micros).date())
}

pub async fn rules(state: &AppState, org: OrgId) -> AppResult<Rules> {
    Ok(
        match state.store.setting(org, "recommendation_rules").await? {
            Some(json) => Rules::parse(&json).unwrap_or_else(|_| Rules::default_rules()),
            None => Rules::default_rules(),
        },
    )
}

pub async fn remeasure_months(state: &AppState, org: OrgId) -> AppResult<u32> {
    Ok(state
        .store
        .setting(org, "remeasure_months")
        .await?
        .and_then(|v| v.parse().ok())
        .filter(|m| (1..=36).contains(m))
        .unwrap_or(DEFAULT_REMEASURE_MONTHS))
}

/// When a person is next due to fill in their questionnaire: `months` after the last one, or
/// on the day a coaching episode ended when that is sooner and after the last one (so every
/// episode's end is measured). `None` for someone never measured and never coached.
pub fn due_date(
    last_completed: Option<i64>,
    months: u32,
    coaching_due: Option<time::Date>,
) -> Option<time::Date> {
    let last = last_completed.map(|t| Timestamp(t).date());
    let regular = last.map(|d| add_months(d, months));
    match coaching_due {
        Some(c) if last.is_none_or(|l| l < c) => Some(regular.map_or(c, |r| r.min(c))),
        _ => regular,
    }
}

/// The date `months` calendar months after `from` (clamped to the month's last day).
pub fn add_months(from: time::Date, months: u32) -> time::Date {
    let total = from.year() * 12 + (from.month() as i32 - 1) + months as i32;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(m).expect("1..=12");
    let last = month.length(y);
    time::Date::from_calendar_date(y, month, from.day().min(last)).expect("valid date")
}

async fn active_instruments(state: &AppState, org: OrgId) -> AppResult<Vec<InstrumentRow>> {
    Ok(state
        .store
        .instruments(org)
        .await?
        .into_iter()
        .filter(|i| i.active)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months(date!(2026 - 05 - 22), 6), date!(2026 - 11 - 22));
        assert_eq!(add_months(date!(2026 - 08 - 31), 6), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2027 - 08 - 31), 6), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 12 - 01), 1), date!(2027 - 01 - 01));
    }
}
