//! Health coaching pages, one module per part of the service: a person's coaching
//! (`person`), referrals by staff and self-referral (`referrals`), the coordinator's queue
//! and coaches' capacity (`queue`), episodes, discharge and reopening (`episodes`), booking
//! and recording sessions (`sessions`), goals (`goals`), a coach's caseload (`caseload`)
//! and the private calendar feed (`calendar`). This module holds what they share.
//!
//! Handlers parse and render only: access and audit happen in the store, rules in
//! `alongside_core::coaching`. A broken rule re-renders the form with the field's message
//! (422) and nothing written.

mod calendar;
mod caseload;
mod episodes;
mod goals;
mod person;
mod queue;
mod referrals;
mod sessions;

pub use calendar::{calendar_change, calendar_feed, calendar_page};
pub use caseload::caseload;
pub use episodes::{discharge, discharge_form, episode, reopen};
pub use goals::{goal, new_goal, new_goal_form, update_goal};
pub use person::{my_coaching, person_coaching};
pub use queue::{coach_edit, coach_edit_form, queue, QUEUE_PAGE_SIZE};
pub use referrals::{
    accept, allocate, decline, refer_form, refer_submit, referral, self_refer_form,
    self_refer_submit, withdraw,
};
pub use sessions::{book, book_form, record, session};

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::form::FormData;
use alongside_core::access::Action;
use alongside_core::coaching::{london_local, SessionStatus};
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_store::StoreError;
use maud::{html, Markup};

/// `Monday 1 February 2027, 10:00` in Europe/London.
pub fn local_when(t: Timestamp) -> String {
    let (d, m) = london_local(t);
    format!(
        "{} {}, {:02}:{:02}",
        d.weekday(),
        display_date(d),
        m / 60,
        m % 60
    )
}

fn minutes_between(a: Timestamp, b: Timestamp) -> i64 {
    (b.0 - a.0) / 60_000_000
}

/// Errors for single-valued fields sent more than once.
fn repeated(data: &FormData, keys: &[&str]) -> Option<ValidationErrors> {
    Some(data.repeated_errors(keys)).filter(|e| !e.is_empty())
}

fn allowed(user: &CurrentUser, action: Action) -> bool {
    user.may(action)
}

fn status_tag(s: SessionStatus) -> Markup {
    let class = match s {
        SessionStatus::Booked => "tag tag--blue",
        SessionStatus::Attended => "tag tag--green",
        SessionStatus::DidNotAttend => "tag tag--red",
        _ => "tag tag--grey",
    };
    html! { strong class=(class) { (s.label()) } }
}

fn level_text(l: Option<i64>) -> String {
    l.map(|l| format!("Level {l}"))
        .unwrap_or_else(|| "Not measured".into())
}

fn store_outcome<T>(r: Result<T, StoreError>) -> AppResult<Result<T, ValidationErrors>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(StoreError::Invalid(e)) => Ok(Err(e)),
        Err(other) => Err(other.into()),
    }
}

fn reason_from(data: &FormData, field: &str, label: &str) -> Result<String, ValidationErrors> {
    if let Some(e) = repeated(data, &[field]) {
        return Err(e);
    }
    let mut e = ValidationErrors::default();
    match clean_text(&mut e, field, label, &data.get(field), 1000, true) {
        Some(r) => Ok(r),
        None => Err(e),
    }
}
