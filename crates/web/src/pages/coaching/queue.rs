//! The coordinator's queue (the waiting list in priority order, coaches' capacity) and each
//! coach's caseload limit and working hours.

use super::{level_text, repeated, store_outcome};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::layout::{self, Input};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{WorkingHours, WEEKDAYS};
use alongside_core::validation::ValidationErrors;
use alongside_core::UserId;
use alongside_store::door::{AuditAs, Source};
use alongside_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct QueueParams {
    page: Option<String>,
    allocated: Option<String>,
}

pub const QUEUE_PAGE_SIZE: u32 = 50;

pub async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<QueueParams>,
) -> AppResult<Response> {
    let page = p
        .page
        .as_deref()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let q = state
        .store
        .coaching_queue(&user.actor, page, QUEUE_PAGE_SIZE, source)
        .await?;
    let pages = ((q.waiting_total as u32).div_ceil(QUEUE_PAGE_SIZE)).max(1);
    let now = state.config.clock.now();
    let days = |t: i64| (now.0 - t) / 86_400_000_000;
    Ok(ok(layout::page(
        Some(&user),
        "Coaching referrals",
        html! {
            @if p.allocated.is_some() { (layout::success_banner("Referral allocated")) }
            h1 { "Coaching referrals" }
            p { (q.new_this_week) " new in the last 7 days. " (q.waiting_total) " waiting. " (q.allocated.len()) " allocated and waiting for the coach to accept." }
            h2 { "Coaches' capacity" }
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Coaches' capacity" }
                    thead { tr { th scope="col" { "Coach" } th scope="col" { "Places in use" } th scope="col" { "Limit" } th scope="col" { "Room" } } }
                    tbody {
                        @for c in &q.coaches {
                            tr {
                                td data-label="Coach" { a href={ "/coaching/coaches/" (c.user_id) } { (c.name) } }
                                td data-label="Places in use" { (c.in_use) }
                                td data-label="Limit" { (c.caseload_limit) }
                                td data-label="Room" { @if c.has_room() { (c.caseload_limit - c.in_use) } @else { strong.tag.tag--red { "Full" } } }
                            }
                        }
                    }
                }
            }
            h2 { "Waiting list" }
            p.hint { "In order of priority: most urgent first, then lowest activation, then longest waiting." }
            @if q.waiting.is_empty() { p { "Nobody is waiting." } }
            @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "Waiting list, page " (page) " of " (pages) }
                        thead { tr { th scope="col" { "Person" } th scope="col" { "Urgency" } th scope="col" { "Activation" } th scope="col" { "Waiting" } th scope="col" { "Declined before" } } }
                        tbody {
                            @for r in &q.waiting {
                                tr {
                                    td data-label="Person" { a href={ "/coaching/referrals/" (r.id) } { (r.person_name) } }
                                    td data-label="Urgency" { (r.urgency.label()) }
                                    td data-label="Activation" { (level_text(r.activation_level)) }
                                    td data-label="Waiting" { (days(r.received_at)) " days" }
                                    td data-label="Declined before" { @if r.last_decline_reason.is_some() { "Yes" } @else { "No" } }
                                }
                            }
                        }
                    }
                }
                nav.pagination aria-label="Waiting list pages" {
                    p { "Page " (page) " of " (pages) }
                    ul.list {
                        @if page > 1 { li { a href={ "/coaching/queue?page=" (page - 1) } { "Previous page" } } }
                        @if page < pages { li { a href={ "/coaching/queue?page=" (page + 1) } { "Next page" } } }
                    }
                }
            }
            h2 { "Allocated, waiting for the coach" }
            @if q.allocated.is_empty() { p { "None." } }
            @else {
                ul.list { @for r in &q.allocated { li { a href={ "/coaching/referrals/" (r.id) } { (r.person_name) } " – " (r.coach_name.as_deref().unwrap_or("")) } } }
            }
        },
    )))
}

/// Refuses (403, audited) unless the actor may set coaches' limits and hours; then the coach
/// named by the path (a malformed id is not found).
async fn coach_allowed(
    state: &AppState,
    user: &CurrentUser,
    cid: &str,
    source: &Source,
) -> AppResult<UserId> {
    let cid = cid.parse::<UserId>().ok();
    let audit =
        AuditAs::new(AuditAction::CoachProfileChanged).on("user", cid.map(|c| c.to_string()));
    state
        .store
        .authorise_org(&user.actor, Action::ManageCoachingQueue, audit, source)
        .await?;
    cid.ok_or(AppError::NotFound)
}

pub async fn coach_edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(cid): Path<String>,
) -> AppResult<Response> {
    let cid = coach_allowed(&state, &user, &cid, &source).await?;
    let c = match state.store.coach(user.actor.org_id, cid).await {
        Ok(c) => c,
        Err(StoreError::Invalid(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let days: Vec<String> = (0..7).map(|i| c.hours.day_text(i)).collect();
    Ok(ok(coach_page(
        &user,
        cid,
        &c.name,
        &c.caseload_limit.to_string(),
        &days,
        &ValidationErrors::default(),
    )))
}

fn coach_page(
    user: &CurrentUser,
    cid: UserId,
    name: &str,
    limit: &str,
    days: &[String],
    e: &ValidationErrors,
) -> Markup {
    let title = format!("{name}: caseload and hours");
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href="/coaching/queue" { "Back to coaching referrals" } }
            h1 { (title) }
            form method="post" action={ "/coaching/coaches/" (cid) } novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("caseload_limit", "Caseload limit", limit, e, Input { hint: Some("How many people they can coach at once (0 to 200)"), width: Some("input--width-3"), inputmode: Some("numeric"), ..Default::default() }))
                h2 { "Working hours" }
                p.hint { "24-hour times like 09:00-17:00. Leave a day empty if they do not work that day. Sessions can only be booked inside these hours." }
                @for (i, (code, label)) in WEEKDAYS.iter().enumerate() {
                    (layout::text_input(&format!("hours_{code}"), label, &days[i], e, Input { width: Some("input--width-10"), ..Default::default() }))
                }
                button.button type="submit" { "Save" }
            }
        },
    )
}

pub async fn coach_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(cid): Path<String>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let cid = coach_allowed(&state, &user, &cid, &source).await?;
    let c = match state.store.coach(user.actor.org_id, cid).await {
        Ok(c) => c,
        Err(StoreError::Invalid(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let mut keys: Vec<String> = WEEKDAYS.iter().map(|(c, _)| format!("hours_{c}")).collect();
    keys.push("caseload_limit".into());
    let key_refs: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
    let limit = data.get("caseload_limit");
    let days: Vec<String> = WEEKDAYS
        .iter()
        .map(|(c, _)| data.get(&format!("hours_{c}")))
        .collect();
    let mut e = repeated(&data, &key_refs).unwrap_or_default();
    let lim = match limit.trim().parse::<u32>() {
        Ok(v) if v <= 200 => Some(v),
        _ => {
            e.add(
                "caseload_limit",
                "Enter the caseload limit as a whole number from 0 to 200",
            );
            None
        }
    };
    let mut hours = WorkingHours::default();
    for (i, (code, label)) in WEEKDAYS.iter().enumerate() {
        match WorkingHours::parse_day(&days[i]) {
            Ok(h) => hours.days[i] = h,
            Err(m) => e.add(&format!("hours_{code}"), format!("{label}: {m}")),
        }
    }
    if let (Some(lim), true) = (lim, e.is_empty()) {
        match store_outcome(
            state
                .store
                .set_coach_profile(&user.actor, cid, lim, hours, source)
                .await,
        )? {
            Ok(()) => return Ok(see_other("/coaching/queue")),
            Err(x) => e = x,
        }
    }
    Ok(invalid(coach_page(&user, cid, &c.name, &limit, &days, &e)))
}
