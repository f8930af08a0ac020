//! Coaches' calendar feeds: whether a coach has a live feed address, replacing or revoking it,
//! and the sessions behind an address, read through the door as the coach it belongs to.

use super::corrupt;
use super::sessions::{session_from_row, SessionRow, SESSION_COLUMNS, SESSION_FROM};
use crate::door::AuditAs;
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::time::Timestamp;
use alongside_core::{OrgId, UserId};
use sqlx::Row;

/// What a calendar feed needs: the coach and their sessions.
#[derive(Debug, Clone)]
pub struct CalendarData {
    pub coach_name: String,
    pub sessions: Vec<SessionRow>,
}

impl Store {
    /// Whether the signed-in coach has a live calendar feed, and since when.
    pub async fn calendar_feed(&self, org: OrgId, user: UserId) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT created_at FROM calendar_feeds WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1")
            .bind(org.as_text())
            .bind(user.as_text())
            .fetch_optional(self.reader())
            .await?
            .map(|r| r.try_get("created_at"))
            .transpose()?)
    }

    /// Replaces the coach's feed address with a new one (the old stops working), or, with
    /// `token_hash` `None`, revokes it.
    pub async fn set_calendar_feed(
        &self,
        actor: &Actor,
        token_hash: Option<String>,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let token_hash = token_hash.clone();
            Box::pin(async move {
                let audit_as =
                    AuditAs::new(AuditAction::CalendarFeedChanged).on("calendar_feed", None);
                let g = tx.org_action(Action::OwnCaseload, audit_as.clone())?;
                let (now, me) = (tx.now(), tx.actor().user_id);
                sqlx::query("UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                    .bind(g.org().as_text())
                    .bind(me.as_text())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                if let Some(h) = &token_hash {
                    sqlx::query("INSERT INTO calendar_feeds (org_id, id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(g.org().as_text())
                        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                        .bind(me.as_text())
                        .bind(h.clone())
                        .bind(now)
                        .execute(tx.conn())
                        .await?;
                }
                let detail = if token_hash.is_some() { "new address" } else { "revoked" };
                tx.log_org(&g, None, audit_as.detail(detail)).await?;
                Ok(())
            })
        })
        .await
    }

    /// The sessions behind a live feed address (from 30 days ago on). The address stands in
    /// for signing in: the read runs through the door as the coach the feed belongs to, and is
    /// audited as theirs. `None` for an unknown or revoked address, or one whose owner may no
    /// longer keep a caseload (that refusal audited).
    pub async fn calendar_by_token(
        &self,
        org: OrgId,
        token_hash: &str,
        now: Timestamp,
        source: Source,
    ) -> Result<Option<CalendarData>> {
        let Some(r) = sqlx::query("SELECT f.user_id, u.display_name, u.role, u.active FROM calendar_feeds f JOIN users u ON u.org_id = f.org_id AND u.id = f.user_id WHERE f.org_id = $1 AND f.token_hash = $2 AND f.revoked_at IS NULL")
            .bind(org.as_text())
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        if r.try_get::<i64, _>("active")? == 0 {
            return Ok(None);
        }
        let user: UserId = parse_uuid(&r.try_get::<String, _>("user_id")?)?;
        let role: String = r.try_get("role")?;
        let coach_name: String = r.try_get("display_name")?;
        let coach = Actor {
            user_id: user,
            org_id: org,
            role: role.parse().map_err(|_| corrupt("role", &role))?,
            person_id: None,
        };
        let sessions = self
            .read_as(&coach, &source, move |tx| {
                Box::pin(async move {
                    let audit_as = AuditAs::new(AuditAction::CalendarFeedRead)
                        .on("calendar_feed", Some(user.as_text()));
                    let g = tx.org_action(Action::OwnCaseload, audit_as.clone())?;
                    tx.log_org(&g, None, audit_as).await?;
                    sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.coach_id = $2 AND s.starts_at >= $3 ORDER BY s.starts_at, s.id LIMIT 2000"))
                        .bind(g.org().as_text())
                        .bind(user.as_text())
                        .bind(now.0 - 30 * 86_400 * 1_000_000)
                        .fetch_all(tx.conn())
                        .await?
                        .iter()
                        .map(|r| session_from_row(r, false))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .await;
        match sessions {
            Ok(sessions) => Ok(Some(CalendarData {
                coach_name,
                sessions,
            })),
            Err(StoreError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
