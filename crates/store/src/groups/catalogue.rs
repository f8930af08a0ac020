//! Peer-support groups as stored ([`GroupRow`]): creating and changing a group (its details and
//! recurrence rule) and reading one group or all of an organisation's.

use super::corrupt;
use crate::door::AuditAs;
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::groups::{ClockTime, GroupDetails, GroupKind, Mode};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{GroupId, OrgId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub org_id: OrgId,
    pub id: GroupId,
    pub details: GroupDetails,
    pub active: bool,
    pub version: i64,
}

const GROUP_COLUMNS: &str = "org_id, id, name, description, kind, peer_leader, focus, interest, mode, venue, place, joining_details, who_may_join, code_of_conduct, first_date, start_time, end_time, rrule, closures, capacity, walk_in_places, attendees_per_volunteer, required_training, active, version";

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn group_from_row(r: &AnyRow) -> Result<GroupRow> {
    let date = |k: &str| -> Result<Date> {
        let s: String = r.try_get(k)?;
        parse_iso_date(&s).ok_or_else(|| corrupt(k))
    };
    let clock = |k: &str| -> Result<ClockTime> {
        let s: String = r.try_get(k)?;
        ClockTime::parse(&s).ok_or_else(|| corrupt(k))
    };
    let closures: String = r.try_get("closures")?;
    Ok(GroupRow {
        org_id: parse_uuid(&r.try_get::<String, _>("org_id")?)?,
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        active: r.try_get::<i64, _>("active")? != 0,
        version: r.try_get("version")?,
        details: GroupDetails {
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            kind: GroupKind::parse(&r.try_get::<String, _>("kind")?)
                .ok_or_else(|| corrupt("kind"))?,
            peer_leader: r.try_get("peer_leader")?,
            focus: r.try_get("focus")?,
            interest: r.try_get("interest")?,
            mode: Mode::parse(&r.try_get::<String, _>("mode")?).ok_or_else(|| corrupt("mode"))?,
            venue: r.try_get("venue")?,
            place: r.try_get("place")?,
            joining_details: r.try_get("joining_details")?,
            who_may_join: r.try_get("who_may_join")?,
            code_of_conduct: r.try_get("code_of_conduct")?,
            first_date: date("first_date")?,
            start_time: clock("start_time")?,
            end_time: clock("end_time")?,
            rrule: r.try_get("rrule")?,
            closures: split_list(&closures)
                .iter()
                .map(|d| parse_iso_date(d).ok_or_else(|| corrupt("closures")))
                .collect::<Result<_>>()?,
            capacity: r.try_get::<i64, _>("capacity")? as u32,
            walk_in_places: r.try_get::<i64, _>("walk_in_places")? as u32,
            attendees_per_volunteer: r.try_get::<i64, _>("attendees_per_volunteer")? as u32,
            required_training: split_list(&r.try_get::<String, _>("required_training")?),
        },
    })
}

pub(crate) async fn load_group(
    c: &mut AnyConnection,
    org: OrgId,
    id: GroupId,
) -> Result<Option<GroupRow>> {
    let row = sqlx::query(&format!(
        "SELECT {GROUP_COLUMNS} FROM peer_groups WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(group_from_row).transpose()
}

async fn insert_or_update_group(
    c: &mut AnyConnection,
    org: OrgId,
    id: GroupId,
    d: &GroupDetails,
    expected_version: Option<i64>,
    now: i64,
) -> Result<bool> {
    let closures = d
        .closures
        .iter()
        .map(|x| iso_date(*x))
        .collect::<Vec<_>>()
        .join(",");
    let training = d.required_training.join(",");
    let insert_sql = format!("INSERT INTO peer_groups ({GROUP_COLUMNS}, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 1, 1, $24, $24)");
    let q = match expected_version {
        None => sqlx::query(&insert_sql),
        Some(_) => sqlx::query("UPDATE peer_groups SET name = $3, description = $4, kind = $5, peer_leader = $6, focus = $7, interest = $8, mode = $9, venue = $10, place = $11, joining_details = $12, who_may_join = $13, code_of_conduct = $14, first_date = $15, start_time = $16, end_time = $17, rrule = $18, closures = $19, capacity = $20, walk_in_places = $21, attendees_per_volunteer = $22, required_training = $23, updated_at = $24, version = version + 1 WHERE org_id = $1 AND id = $2 AND version = $25"),
    };
    let q = q
        .bind(org.as_text())
        .bind(id.as_text())
        .bind(&d.name)
        .bind(&d.description)
        .bind(d.kind.code())
        .bind(&d.peer_leader)
        .bind(&d.focus)
        .bind(&d.interest)
        .bind(d.mode.code())
        .bind(&d.venue)
        .bind(&d.place)
        .bind(&d.joining_details)
        .bind(&d.who_may_join)
        .bind(&d.code_of_conduct)
        .bind(iso_date(d.first_date))
        .bind(d.start_time.text())
        .bind(d.end_time.text())
        .bind(&d.rrule)
        .bind(closures)
        .bind(i64::from(d.capacity))
        .bind(i64::from(d.walk_in_places))
        .bind(i64::from(d.attendees_per_volunteer))
        .bind(training)
        .bind(now);
    let q = match expected_version {
        Some(v) => q.bind(v),
        None => q,
    };
    Ok(q.execute(&mut *c).await?.rows_affected() == 1)
}

impl Store {
    /// Creates a group if `actor` runs peer support; audited.
    pub async fn create_group(
        &self,
        actor: &Actor,
        details: GroupDetails,
        source: Source,
    ) -> Result<GroupId> {
        let id = GroupId::new();
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::GroupCreated).on("group", Some(id.as_text()));
                let g = tx.org_action(Action::ManageGroups, audit.clone())?;
                let now = tx.now();
                insert_or_update_group(tx.conn(), g.org(), id, &details, None, now).await?;
                tx.log_org(&g, None, audit).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Replaces a group's details if nobody changed it since `expected_version`. Stored future
    /// sessions take the new number of places unless more people already have one.
    pub async fn update_group(
        &self,
        actor: &Actor,
        id: GroupId,
        expected_version: i64,
        details: GroupDetails,
        today: Date,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::GroupUpdated).on("group", Some(id.as_text()));
                let g = tx.org_action(Action::ManageGroups, audit.clone())?;
                let now = tx.now();
                if load_group(tx.conn(), g.org(), id).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                if !insert_or_update_group(tx.conn(), g.org(), id, &details, Some(expected_version), now).await? {
                    return Err(StoreError::StaleVersion);
                }
                sqlx::query("UPDATE group_sessions SET capacity = $1, walk_in_places = $2, updated_at = $3 WHERE org_id = $4 AND group_id = $5 AND session_date >= $6 AND booked + walk_ins <= $1")
                    .bind(i64::from(details.capacity))
                    .bind(i64::from(details.walk_in_places))
                    .bind(now)
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(iso_date(today))
                    .execute(tx.conn())
                    .await?;
                tx.log_org(&g, None, audit).await?;
                Ok(())
            })
        })
        .await
    }

    /// A group of the organisation (listings name no one, so reads are not audited).
    pub async fn group(&self, org: OrgId, id: GroupId) -> Result<GroupRow> {
        let mut c = self.reader().acquire().await?;
        load_group(&mut c, org, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Every group of the organisation, by name.
    pub async fn groups(&self, org: OrgId) -> Result<Vec<GroupRow>> {
        sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM peer_groups WHERE org_id = $1 ORDER BY name, id"
        ))
        .bind(org.as_text())
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(group_from_row)
        .collect()
    }
}
