//! Health coaching in the store: referrals and the waiting list, allocation to coaches with
//! room, episodes, sessions, goals with steps and reviews, discharge, caseloads and calendar
//! feeds.
//!
//! Every use case runs through the door ([`Store::write_as`](crate::Store::write_as) /
//! [`Store::read_as`](crate::Store::read_as)): it finds whose coaching a record is, takes the grant
//! for that person (or the organisation-wide grant for the coordinator's queue and a coach's own
//! caseload) before reading anything of theirs, and audits what it read or changed in the same
//! transaction. The loaders take a grant, so nothing is loaded without a decision. Booking rules
//! come from `alongside_core::coaching`; this module only gathers the facts they need. All writes
//! run on the single writer, so a check and the insert it guards (a free slot, a coach's room)
//! cannot interleave with another booking: exactly one of two simultaneous bookings of a slot wins,
//! on both backends.
//!
//! The use cases live in submodules named after their part of the service: `coaches` (coaches'
//! limits, hours and room), `referrals` (referrals and the coordinator's waiting list),
//! `episodes` (episodes, a person's coaching, discharge and reopening), `sessions` (booking and
//! recording sessions), `goals` (goals with steps and reviews), `caseload` (a coach's caseload
//! and the caseload links) and `calendar` (calendar feeds). This file keeps what they share:
//! whose a record is (`owner`), the reader's team rights, and the small row helpers.

mod calendar;
mod caseload;
mod coaches;
mod episodes;
mod goals;
mod referrals;
mod sessions;

pub use self::calendar::CalendarData;
pub use self::caseload::{Caseload, CaseloadRow};
pub use self::coaches::CoachSummary;
pub use self::episodes::{EpisodeView, PersonCoaching};
pub use self::goals::{GoalView, ReviewRow, StepRow};
pub use self::referrals::{QueuePage, ReferralRow};
pub use self::sessions::{ReviewInput, SessionRecord, SessionRow};

use crate::door::{PersonGrant, Tx};
use crate::users::parse_uuid;
use crate::{Result, StoreError};
use alongside_core::access::Action;
use alongside_core::{PersonId, ValidationErrors};
use sqlx::any::AnyRow;
use sqlx::Row;

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    let mut e = ValidationErrors::default();
    e.add(field, message);
    StoreError::Invalid(e)
}

fn full_name(r: &AnyRow, given: &str, family: &str) -> Result<String> {
    Ok(format!(
        "{} {}",
        r.try_get::<String, _>(given)?,
        r.try_get::<String, _>(family)?
    ))
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("bad {what} {v:?}"))
}

/// The kinds of coaching record, each about one person.
#[derive(Debug, Clone, Copy)]
enum Record {
    Referral,
    Episode,
    Session,
    Goal,
}

impl Record {
    fn table(self) -> &'static str {
        match self {
            Record::Referral => "coaching_referrals",
            Record::Episode => "coaching_episodes",
            Record::Session => "coaching_sessions",
            Record::Goal => "goals",
        }
    }
}

/// Whom a coaching record is about (nothing else is read), so that the decision can be made
/// before anything of theirs is loaded. `NotFound` when the organisation has no such record.
async fn owner(tx: &mut Tx<'_>, record: Record, id: &str) -> Result<PersonId> {
    let org = tx.org();
    let sql = format!(
        "SELECT person_id FROM {} WHERE org_id = $1 AND id = $2",
        record.table()
    );
    let row = sqlx::query(&sql)
        .bind(org.as_text())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    parse_uuid(&row.try_get::<String, _>("person_id")?)
}

/// `$first, $first+1, …` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the reader of the person of `grant` may see and do beyond reading their coaching:
/// `(sees the team's private notes, may book, record and discharge)`, decided by the access
/// rules on the facts the grant was decided on.
async fn team_rights(tx: &mut Tx<'_>, grant: &PersonGrant) -> Result<(bool, bool)> {
    Ok((
        tx.also_may(grant, Action::ReadPrivateCoachingNotes).await?,
        tx.also_may(grant, Action::ManageCoaching).await?,
    ))
}
