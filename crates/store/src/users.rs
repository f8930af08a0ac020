//! Organisations, user accounts, sign-in names, sessions and caseloads.

use crate::door::{AuditAs, Source};
use crate::{audit, Result, Store, StoreError};
use alongside_core::access::Action;
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::{OrgId, PersonId, Role, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub org_id: OrgId,
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub person_id: Option<PersonId>,
    pub active: bool,
    pub created_at: i64,
}

/// What sign-in needs to check a password.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: OrgId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub person_id: Option<PersonId>,
    pub password_hash: String,
}

/// A live session joined to its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
}

pub(crate) fn parse_uuid<T: std::str::FromStr>(s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad id {s:?}")))
}

const USER_COLUMNS: &str =
    "u.org_id, u.id, u.username, u.display_name, u.role, u.person_id, u.active, u.created_at";

fn user_from_row(r: &AnyRow) -> Result<User> {
    let person: Option<String> = r.try_get("person_id")?;
    let role: String = r.try_get("role")?;
    Ok(User {
        org_id: parse_uuid(&r.try_get::<String, _>("org_id")?)?,
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("bad role {role:?}")))?,
        person_id: person.as_deref().map(parse_uuid).transpose()?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

/// Sign-in names are compared case-insensitively and stored lower-case.
pub fn normalise_username(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Store {
    pub async fn create_organisation(&self, name: &str, kind: &str) -> Result<OrgId> {
        let id = OrgId::new();
        let (name, kind) = (name.to_string(), kind.to_string());
        self.write(move |c| {
            let (name, kind) = (name.clone(), kind.clone());
            Box::pin(async move {
                sqlx::query("INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(id.as_text())
                    .bind(name)
                    .bind(kind)
                    .bind(crate::clock::wall_micros())
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await?;
        Ok(id)
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT id, name, kind FROM organisations ORDER BY created_at, id")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                })
            })
            .collect()
    }

    pub async fn organisation(&self, id: OrgId) -> Result<Organisation> {
        let r = sqlx::query("SELECT id, name, kind FROM organisations WHERE id = $1")
            .bind(id.as_text())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Organisation {
            id,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
        })
    }

    /// An administrator creates an account (decided by `access::decide` as `ManageUsers`,
    /// audited with the new account, or the refusal, in the same transaction). A taken
    /// sign-in name is a [`StoreError::Conflict`].
    pub async fn create_user_as(
        &self,
        actor: &alongside_core::Actor,
        new: NewUser,
        source: Source,
    ) -> Result<UserId> {
        self.write_as(actor, &source, move |tx| {
            let new = new.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::UserCreated).on("user", None);
                let g = tx.org_action(Action::ManageUsers, audit_as.clone())?;
                if new.org_id != g.org() {
                    return Err(StoreError::Refused(
                        "accounts are created in one's own organisation",
                    ));
                }
                let id = UserId::new();
                let now = tx.now();
                insert_user(tx.conn(), &new, id, now).await?;
                tx.log_org(
                    &g,
                    new.person_id,
                    audit_as
                        .on("user", Some(id.as_text()))
                        .detail(format!("role {}", new.role.code())),
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// Creates an account with no signed-in actor (the command line, the demo), audited as
    /// the system from `source` (e.g. `cli`).
    pub async fn create_user_by_system(&self, new: NewUser, source: &str) -> Result<UserId> {
        let id = UserId::new();
        let now = self.now();
        let source = source.to_string();
        self.write(move |c| {
            let (new, source) = (new.clone(), source.clone());
            Box::pin(async move {
                insert_user(c, &new, id, now).await?;
                let ev = system_event(
                    new.org_id,
                    AuditAction::UserCreated,
                    Some(id),
                    new.person_id,
                    &source,
                    format!("role {}", new.role.code()),
                );
                audit::append(c, &ev).await?;
                Ok(id)
            })
        })
        .await
    }

    pub async fn find_login(&self, username: &str) -> Result<Option<LoginRecord>> {
        let username = normalise_username(username);
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM login_names l JOIN users u ON u.org_id = l.org_id AND u.id = l.user_id WHERE l.username = $1"
        ))
        .bind(username)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(LoginRecord {
                user: user_from_row(&r)?,
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn user(&self, org: OrgId, id: UserId) -> Result<User> {
        let r = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2"
        ))
        .bind(org.as_text())
        .bind(id.as_text())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&r)
    }

    pub async fn password_hash(&self, org: OrgId, id: UserId) -> Result<String> {
        let r = sqlx::query("SELECT password_hash FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.as_text())
            .bind(id.as_text())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(r.try_get("password_hash")?)
    }

    pub async fn users(&self, org: OrgId) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.username"
        ))
        .bind(org.as_text())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Every account in every organisation (for the CLI).
    pub async fn all_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// A signed-in user changes their own password: their other sessions end; audited.
    pub async fn change_own_password(
        &self,
        actor: &alongside_core::Actor,
        hash: String,
        keep_session: String,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let (hash, keep) = (hash.clone(), keep_session.clone());
            Box::pin(async move {
                let (org, me, now) = (tx.org(), tx.actor().user_id, tx.now());
                write_password(tx.conn(), org, me, &hash, Some(&keep), now).await?;
                let e = tx.event(
                    Outcome::Allowed,
                    None,
                    AuditAs::new(AuditAction::PasswordChanged).on("user", Some(me.as_text())),
                );
                audit::append(tx.conn(), &e).await?;
                Ok(())
            })
        })
        .await
    }

    /// An administrator sets another account's password (`ManageUsers`): its sessions end;
    /// audited, allowed or refused.
    pub async fn set_password_as(
        &self,
        actor: &alongside_core::Actor,
        id: UserId,
        hash: String,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let hash = hash.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::UserUpdated)
                    .on("user", Some(id.as_text()))
                    .detail("password set by administrator");
                let g = tx.org_action(Action::ManageUsers, audit_as.clone())?;
                let now = tx.now();
                write_password(tx.conn(), g.org(), id, &hash, None, now).await?;
                tx.log_org(&g, None, audit_as).await?;
                Ok(())
            })
        })
        .await
    }

    /// Sets an account's password from the command line (audited as the system): its
    /// sessions end.
    pub async fn set_password_by_system(
        &self,
        org: OrgId,
        id: UserId,
        hash: String,
        source: &str,
    ) -> Result<()> {
        let now = self.now();
        let source = source.to_string();
        self.write(move |c| {
            let (hash, source) = (hash.clone(), source.clone());
            Box::pin(async move {
                write_password(c, org, id, &hash, None, now).await?;
                let ev = system_event(
                    org,
                    AuditAction::PasswordChanged,
                    Some(id),
                    None,
                    &source,
                    "password set from the command line".into(),
                );
                audit::append(c, &ev).await?;
                Ok(())
            })
        })
        .await
    }

    /// An administrator changes an account's role and whether it may sign in
    /// (`ManageUsers`); deactivating ends its sessions. Audited, allowed or refused.
    pub async fn update_user_as(
        &self,
        actor: &alongside_core::Actor,
        id: UserId,
        role: Role,
        active: bool,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::UserUpdated)
                    .on("user", Some(id.as_text()))
                    .detail(format!(
                        "role {}; {}",
                        role.code(),
                        if active { "active" } else { "deactivated" }
                    ));
                let g = tx.org_action(Action::ManageUsers, audit_as.clone())?;
                let (org, now) = (g.org(), tx.now());
                let n = sqlx::query("UPDATE users SET role = $1, active = $2, updated_at = $3 WHERE org_id = $4 AND id = $5")
                    .bind(role.code())
                    .bind(i64::from(active))
                    .bind(now)
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .execute(tx.conn())
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                if !active {
                    sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2")
                        .bind(org.as_text())
                        .bind(id.as_text())
                        .execute(tx.conn())
                        .await?;
                }
                tx.log_org(&g, None, audit_as).await?;
                Ok(())
            })
        })
        .await
    }

    /// Stores a new session (keyed by the hash of its token) and audits the sign-in.
    pub async fn create_session(
        &self,
        org: OrgId,
        user: UserId,
        token_hash: String,
        csrf: String,
        expires_at: i64,
        audit_event: AuditEvent,
    ) -> Result<()> {
        self.write(move |c| {
            let (token_hash, csrf, ev) = (token_hash.clone(), csrf.clone(), audit_event.clone());
            Box::pin(async move {
                // Sessions follow the wall clock (see `clock::wall_micros`).
                let now = crate::clock::wall_micros();
                // Expired sessions of this user are tidied as a new one starts.
                sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND expires_at < $3")
                    .bind(org.as_text())
                    .bind(user.as_text())
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("INSERT INTO sessions (org_id, id, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(org.as_text())
                    .bind(token_hash)
                    .bind(user.as_text())
                    .bind(csrf)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *c)
                    .await?;
                audit::append(c, &ev).await?;
                Ok(())
            })
        })
        .await
    }

    /// A live (unexpired) session of an active user.
    pub async fn session(&self, org: OrgId, token_hash: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id \
             WHERE s.org_id = $1 AND s.id = $2 AND s.expires_at > $3 AND u.active = $4"
        ))
        .bind(org.as_text())
        .bind(token_hash)
        .bind(crate::clock::wall_micros())
        .bind(1i64)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(SessionRecord {
                user: user_from_row(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(
        &self,
        org: OrgId,
        token_hash: String,
        audit_event: AuditEvent,
    ) -> Result<()> {
        self.write(move |c| {
            let (token_hash, ev) = (token_hash.clone(), audit_event.clone());
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(token_hash)
                    .execute(&mut *c)
                    .await?;
                audit::append(c, &ev).await?;
                Ok(())
            })
        })
        .await
    }

    /// Puts a person on a coach's caseload (idempotent).
    pub async fn add_to_caseload(&self, org: OrgId, coach: UserId, person: PersonId) -> Result<()> {
        let now = self.now();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("INSERT INTO caseload (org_id, coach_id, person_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, coach_id, person_id) DO NOTHING")
                    .bind(org.as_text())
                    .bind(coach.as_text())
                    .bind(person.as_text())
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// Inserts an account and its sign-in name (a taken name is a conflict).
pub(crate) async fn insert_user(
    c: &mut sqlx::AnyConnection,
    new: &NewUser,
    id: UserId,
    now: i64,
) -> Result<()> {
    let username = normalise_username(&new.username);
    let taken = sqlx::query("INSERT INTO login_names (username, org_id, user_id) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING username")
        .bind(&username)
        .bind(new.org_id.as_text())
        .bind(id.as_text())
        .fetch_optional(&mut *c)
        .await?
        .is_none();
    if taken {
        return Err(StoreError::Conflict(format!(
            "the user name {username:?} is already taken"
        )));
    }
    sqlx::query("INSERT INTO users (org_id, id, username, display_name, role, person_id, password_hash, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)")
        .bind(new.org_id.as_text())
        .bind(id.as_text())
        .bind(&username)
        .bind(&new.display_name)
        .bind(new.role.code())
        .bind(new.person_id.map(|p| p.as_text()))
        .bind(&new.password_hash)
        .bind(1i64)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Sets a password hash and ends the account's sessions (but `keep`, the current one).
async fn write_password(
    c: &mut sqlx::AnyConnection,
    org: OrgId,
    id: UserId,
    hash: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
    )
    .bind(hash)
    .bind(now)
    .bind(org.as_text())
    .bind(id.as_text())
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND id <> $3")
        .bind(org.as_text())
        .bind(id.as_text())
        .bind(keep.unwrap_or_default())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// An audit event of the system (no signed-in actor) about an account.
fn system_event(
    org: OrgId,
    action: AuditAction,
    user: Option<UserId>,
    person: Option<PersonId>,
    source: &str,
    detail: String,
) -> AuditEvent {
    AuditEvent {
        org_id: org,
        actor_user_id: None,
        actor_role: None,
        action,
        outcome: Outcome::Allowed,
        resource_type: "user",
        resource_id: user.map(|u| u.as_text()),
        person_id: person,
        source: Some(source.to_string()),
        detail: Some(detail),
    }
}
