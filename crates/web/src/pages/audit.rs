//! Access history: who has viewed or changed a person's record, and the organisation's log.

use super::ok;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::extract::Id;
use crate::layout;
use crate::AppState;
use alongside_core::audit::{AuditAction, AuditEntry};
use alongside_core::PersonId;
use axum::extract::{Query, State};
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
    Id(id): Id<PersonId>,
) -> AppResult<Response> {
    // Decided and audited by the store (a record outside the actor's organisation is not
    // found; a refusal is recorded).
    let (record, entries) = state
        .store
        .person_audit_trail(&user.actor, id, 500, source)
        .await?;
    let names = user_names(&state, &user).await?;
    let name = record.details.full_name();
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
    let entries = state
        .store
        .org_audit_log(&user.actor, p.before, 100, source)
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
