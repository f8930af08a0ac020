//! Peer support: groups, their sessions (materialised only when touched), door sign-in with a
//! capacity guarantee, membership, bookings with places held back for walk-ins, and attendance.
//!
//! The capacity guarantee: every admission is one conditional `UPDATE group_sessions SET
//! walk_ins = walk_ins + 1 ... WHERE ... AND walk_ins + booked < capacity RETURNING ...` inside
//! the same `Store::write_as` transaction as the attendance row and its audit entry. On SQLite the
//! writer runs one transaction at a time; on PostgreSQL the UPDATE takes the session row's lock
//! and re-checks the condition on the committed row (READ COMMITTED), so concurrent writers —
//! this instance's or another's — can never admit more than `capacity`. A booked place is
//! reserved in the same counters (`booked`), so arrivals with a booking always get in.
//!
//! Every use case runs through the door (`Store::write_as`): group and session changes under an
//! organisation grant (`ManageGroups`), the door under a session grant (`SignInAtDoor`, a
//! volunteer only at the sessions they are on the rota for), a person's bookings and
//! attendance under a grant for that person. This module never decides access itself.
//!
//! The use cases live in submodules named after the parts of peer support: `catalogue` (groups
//! as stored), `sessions` (a group's sessions, computed from its rule and stored when touched,
//! and one-off changes), `sign_in` (the door page and signing in at the door), `bookings`
//! (membership, booking and cancelling places, a person's own place) and `attendance` (what a
//! person has coming up and their attendance history). This file keeps the reads for tests.

mod attendance;
mod bookings;
mod catalogue;
mod sessions;
mod sign_in;

pub use self::attendance::{AttendanceItem, Upcoming};
pub(crate) use self::bookings::{release_place, take_place};
pub use self::bookings::{BookOutcome, OwnPlace};
pub(crate) use self::catalogue::load_group;
pub use self::catalogue::GroupRow;
pub(crate) use self::sessions::{ensure_session, load_session, unstored};
pub use self::sessions::{SessionChange, SessionState};
pub use self::sign_in::{DoorEntry, DoorView, SignInOutcome};

use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::time::iso_date;
use alongside_core::{GroupId, OrgId, PersonId};
use sqlx::Row;
use time::Date;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("bad stored {what}"))
}

/// Reads for tests that check what was stored, without an actor and unaudited. Never called by
/// the product: pages ask [`Store::own_place`], which decides and reads under a grant.
impl Store {
    /// The groups a person belongs to, ids only (unaudited; tests only).
    pub async fn memberships(&self, org: OrgId, person: PersonId) -> Result<Vec<GroupId>> {
        sqlx::query("SELECT group_id FROM group_members WHERE org_id = $1 AND person_id = $2 ORDER BY group_id")
            .bind(org.as_text())
            .bind(person.as_text())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| parse_uuid(&r.try_get::<String, _>("group_id")?))
            .collect()
    }

    /// Whether the person holds a booking for the session (unaudited; tests only).
    pub async fn has_booking(
        &self,
        org: OrgId,
        group: GroupId,
        original: Date,
        person: PersonId,
    ) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 AS one FROM session_bookings b JOIN group_sessions s ON s.org_id = b.org_id AND s.id = b.session_id WHERE b.org_id = $1 AND s.group_id = $2 AND s.original_date = $3 AND b.person_id = $4 AND b.status = 'booked'")
            .bind(org.as_text())
            .bind(group.as_text())
            .bind(iso_date(original))
            .bind(person.as_text())
            .fetch_optional(self.reader())
            .await?
            .is_some())
    }

    /// Attendance rows of a session (a count, naming no one; tests only).
    pub async fn session_attendance_count(
        &self,
        org: OrgId,
        group: GroupId,
        original: Date,
    ) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM session_attendance a JOIN group_sessions s ON s.org_id = a.org_id AND s.id = a.session_id WHERE a.org_id = $1 AND s.group_id = $2 AND s.original_date = $3")
            .bind(org.as_text()).bind(group.as_text()).bind(iso_date(original))
            .fetch_one(self.reader()).await?;
        Ok(r.try_get("n")?)
    }
}
