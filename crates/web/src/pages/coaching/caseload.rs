//! A coach's caseload: referrals offered to them, this week's sessions and the people they
//! coach with what needs doing.

use super::{level_text, local_when};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::layout;
use crate::pages::ok;
use crate::AppState;
use alongside_core::coaching::{london_instant, london_local};
use alongside_core::time::Timestamp;
use alongside_store::coaching::SessionRow;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct CaseloadParams {
    declined: Option<String>,
}

/// The end of the current week (Sunday midnight, Europe/London).
fn week_end(now: Timestamp) -> Timestamp {
    let (d, _) = london_local(now);
    let days_left = 7 - d.weekday().number_days_from_monday() as i64;
    london_instant(d + time::Duration::days(days_left), 0)
}

pub async fn caseload(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<CaseloadParams>,
) -> AppResult<Response> {
    let now = state.config.clock.now();
    let cl = state
        .store
        .caseload(&user.actor, now, week_end(now), source)
        .await?;
    let (today, _) = london_local(now);
    let todays: Vec<&SessionRow> = cl
        .week
        .iter()
        .filter(|s| london_local(s.starts_at).0 == today)
        .collect();
    let later: Vec<&SessionRow> = cl
        .week
        .iter()
        .filter(|s| london_local(s.starts_at).0 != today)
        .collect();
    Ok(ok(layout::page(
        Some(&user),
        "Your coaching caseload",
        html! {
            @if p.declined.is_some() { (layout::success_banner("Referral declined: it is back on the waiting list")) }
            h1 { "Your coaching caseload" }
            p { (cl.coach.in_use) " of " (cl.coach.caseload_limit) " places in use." }
            @if !cl.offered.is_empty() {
                h2 { "Referrals offered to you" }
                ul.list { @for r in &cl.offered { li { a href={ "/coaching/referrals/" (r.id) } { (r.person_name) } " – " (r.urgency.label()) ", " (level_text(r.activation_level)) } } }
            }
            h2 { "Today" }
            (session_list(&todays))
            h2 { "Later this week" }
            (session_list(&later))
            h2 { "People" }
            @if cl.people.is_empty() { p { "Nobody on your caseload yet." } }
            @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "People on your caseload" }
                        thead { tr { th scope="col" { "Person" } th scope="col" { "Next session" } th scope="col" { "Sessions" } th scope="col" { "Activation" } th scope="col" { "Goals" } th scope="col" { "To do" } } }
                        tbody {
                            @for r in &cl.people {
                                tr {
                                    td data-label="Person" { a href={ "/coaching/episodes/" (r.episode_id) } { (r.person_name) } }
                                    td data-label="Next session" { @if let Some(n) = r.next_session { (local_when(n)) } @else { "None booked" } }
                                    td data-label="Sessions" { (r.sessions_used) " of " (r.max_sessions) }
                                    td data-label="Activation" {
                                        (level_text(r.level))
                                        @if let Some(c) = r.score_change { " (" @if c >= 0.0 { "+" } (format!("{c:.1}")) ")" }
                                    }
                                    td data-label="Goals" {
                                        (r.goals)
                                        @if let Some(a) = r.mean_attainment { " – progress " (format!("{a:+.1}")) }
                                    }
                                    td data-label="To do" {
                                        @if r.unrecorded_sessions > 0 { strong.tag.tag--red { (r.unrecorded_sessions) " to record" } " " }
                                        @if r.overdue_reviews > 0 { strong.tag.tag--orange { (r.overdue_reviews) " review overdue" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href="/coaching/calendar" { "Add your sessions to your calendar" } }
        },
    )))
}

fn session_list(list: &[&SessionRow]) -> Markup {
    html! {
        @if list.is_empty() { p { "No sessions." } }
        @else {
            ul.list {
                @for s in list {
                    li { a href={ "/coaching/sessions/" (s.id) } { (local_when(s.starts_at)) } " – " (s.person_name) ", " (s.mode.label()) @if let Some(p) = &s.place { ", " (p) } }
                }
            }
        }
    }
}
