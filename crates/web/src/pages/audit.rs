//! Access history: who has viewed or changed a person's record, and the organisation's log.

use super::ok;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::layout;
use crate::AppState;
use alongside_core::access::{decide, Action, PersonRelation, Target};
use alongside_core::audit::{AuditAction, AuditEntry, AuditEvent, Outcome};
use alongside_core::PersonId;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::HashMap;

fn when(e: &AuditEntry) -> String {
    let t = e.at.to_datetime();
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        alongside_core::time::display_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn table(entries: &[AuditEntry], names: &HashMap<String, String>, show_record: bool) -> Markup {
    html! {
        div.table-wrapper {
            table.responsive {
                caption.visually-hidden { "Audit entries" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" }
                    @if show_record { th scope="col" { "Record" } }
                    th scope="col" { "Outcome" } th scope="col" { "From" }
                } }
                tbody {
                    @for e in entries {
                        tr {
                            td data-label="When" { (when(e)) }
                            td data-label="Who" {
                                (e.actor_user_id.as_ref().and_then(|u| names.get(u)).cloned().unwrap_or_else(|| "System".into()))
                                @if let Some(r) = e.actor_role.as_ref().and_then(|r| r.parse::<alongside_core::Role>().ok()) { br; span.secondary-text { (r.label()) } }
                            }
                            td data-label="What" {
                                (AuditAction::from_code(&e.action).map(|a| a.label()).unwrap_or(&e.action))
                                @if let Some(d) = &e.detail { br; span.secondary-text { (d) } }
                            }
                            @if show_record { td data-label="Record" { @if let Some(p) = &e.person_id { a href={ "/people/" (p) } { "Open record" } } } }
                            td data-label="Outcome" { @if e.outcome == "allowed" { strong.tag.tag--green { "Allowed" } } @else { strong.tag.tag--red { "Refused" } } }
                            td data-label="From" { (e.source.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

async fn user_names(state: &AppState, user: &CurrentUser) -> AppResult<HashMap<String, String>> {
    Ok(state
        .store
        .users(user.actor.org_id)
        .await?
        .into_iter()
        .map(|u| (u.id.as_text(), u.display_name))
        .collect())
}

pub async fn person_history(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    let rel = PersonRelation {
        org_id: user.actor.org_id,
        person_id: id,
        on_caseload: false,
        shares_session: false,
    };
    // A record outside the actor's organisation is simply not found (a refused person.read is
    // recorded by the store when the record itself is asked for).
    if !state.store.person_exists(user.actor.org_id, id).await? {
        return Err(AppError::NotFound);
    }
    let d = decide(&user.actor, Action::ReadPersonAudit, Target::Person(rel));
    let ev = AuditEvent {
        org_id: user.actor.org_id,
        actor_user_id: Some(user.actor.user_id),
        actor_role: Some(user.actor.role),
        action: AuditAction::PersonAuditRead,
        outcome: if d.allowed {
            Outcome::Allowed
        } else {
            Outcome::Refused
        },
        resource_type: "person",
        resource_id: Some(id.as_text()),
        person_id: Some(id),
        source: source.0.clone(),
        detail: (!d.allowed).then(|| d.reason.to_string()),
    };
    if !d.allowed {
        state.store.audit(ev).await?;
        return Err(AppError::Forbidden(d.reason));
    }
    // Reading the record first checks it exists in this organisation (and is itself audited).
    let view = state.store.read_person(&user.actor, id, source).await?;
    state.store.audit(ev).await?;
    let entries = state
        .store
        .audit_for_person(user.actor.org_id, id, 500)
        .await?;
    let names = user_names(&state, &user).await?;
    let name = view.record.details.full_name();
    Ok(ok(layout::page(
        Some(&user),
        "Access history",
        html! {
            span.caption { (name) }
            h1 { "Who has viewed or changed this record" }
            p { "Every view, change and refused attempt is recorded, newest first. The record cannot be altered without breaking its chain of hashes." }
            (table(&entries, &names, false))
            p { a href={ "/people/" (id) } { "Back to " (name) } }
        },
    )))
}

#[derive(Deserialize, Default)]
pub struct LogParams {
    before: Option<i64>,
}

pub async fn org_log(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<LogParams>,
) -> AppResult<Response> {
    let d = decide(
        &user.actor,
        Action::ReadOrgAudit,
        Target::Org(user.actor.org_id),
    );
    let ev = AuditEvent {
        org_id: user.actor.org_id,
        actor_user_id: Some(user.actor.user_id),
        actor_role: Some(user.actor.role),
        action: AuditAction::OrgAuditRead,
        outcome: if d.allowed {
            Outcome::Allowed
        } else {
            Outcome::Refused
        },
        resource_type: "organisation",
        resource_id: Some(user.actor.org_id.as_text()),
        person_id: None,
        source: source.0,
        detail: (!d.allowed).then(|| d.reason.to_string()),
    };
    state.store.audit(ev).await?;
    if !d.allowed {
        return Err(AppError::Forbidden(d.reason));
    }
    let entries = state
        .store
        .audit_page(user.actor.org_id, p.before, 100)
        .await?;
    let names = user_names(&state, &user).await?;
    let older = entries.last().map(|e| e.seq).filter(|s| *s > 1);
    Ok(ok(layout::page(
        Some(&user),
        "Audit log",
        html! {
            h1 { "Audit log" }
            p { "Every sign-in, every view and change of a person's record, and every refused attempt in " (user.org_name) ", newest first. Run " code { "alongside audit verify" } " to check that nothing has been altered." }
            (table(&entries, &names, true))
            @if let Some(s) = older { nav.pagination aria-label="Pages" { span {} a href={ "/audit?before=" (s) } { "Older entries" } } }
        },
    )))
}
