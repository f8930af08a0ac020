//! A coach's private calendar feed: making and revoking its secret address, and the RFC 5545
//! feed itself (first names only).

use crate::auth::{self, ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::layout;
use crate::pages::{ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::time::{display_date, Timestamp};
use alongside_core::OrgId;
use alongside_store::door::{AuditAs, Source};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

/// Refuses (403, audited) unless the actor keeps a caseload (and so a calendar feed).
async fn feed_allowed(state: &AppState, user: &CurrentUser, source: &Source) -> AppResult<()> {
    let audit = AuditAs::new(AuditAction::CalendarFeedChanged).on("calendar_feed", None);
    Ok(state
        .store
        .authorise_org(&user.actor, Action::OwnCaseload, audit, source)
        .await?)
}

pub async fn calendar_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    feed_allowed(&state, &user, &source).await?;
    let since = state
        .store
        .calendar_feed(user.actor.org_id, user.actor.user_id)
        .await?;
    Ok(ok(calendar_markup(&user, since, None)))
}

fn calendar_markup(user: &CurrentUser, since: Option<i64>, new_url: Option<&str>) -> Markup {
    layout::page(
        Some(user),
        "Your calendar feed",
        html! {
            h1 { "Your calendar feed" }
            p { "Subscribe to this private address in your calendar application to see your coaching sessions. It shows first names only. Anyone with the address can see your sessions: keep it private, and make a new one if it may have been shared." }
            @if let Some(u) = new_url {
                (layout::success_banner("New address made. Copy it now: it is not shown again."))
                div.form-group {
                    label.label for="feed-url" { "Your private calendar address" }
                    input.input id="feed-url" name="feed_url" type="text" readonly value=(u);
                }
            } @else if let Some(s) = since {
                p { "You have a live address, made on " (display_date(Timestamp(s).date())) "." }
            } @else {
                p { "You do not have an address yet." }
            }
            form method="post" action="/coaching/calendar" {
                (layout::csrf(&user.csrf))
                input type="hidden" name="action" value="new";
                button.button type="submit" { @if since.is_some() || new_url.is_some() { "Make a new address (the old one stops working)" } @else { "Make an address" } }
            }
            @if since.is_some() || new_url.is_some() {
                form method="post" action="/coaching/calendar" {
                    (layout::csrf(&user.csrf))
                    input type="hidden" name="action" value="revoke";
                    button.button.button--warning type="submit" { "Turn off the feed" }
                }
            }
        },
    )
}

pub async fn calendar_change(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    headers: axum::http::HeaderMap,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    feed_allowed(&state, &user, &source).await?;
    match data.get("action").as_str() {
        "new" => {
            let token = auth::random_token();
            state
                .store
                .set_calendar_feed(&user.actor, Some(auth::token_hash(&token)), source)
                .await?;
            let base = match &state.config.public_url {
                Some(u) => u.trim_end_matches('/').to_string(),
                None => {
                    let host = headers
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .filter(|h| {
                            h.chars()
                                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
                        })
                        .unwrap_or("localhost");
                    let scheme = if state.config.secure_cookies {
                        "https"
                    } else {
                        "http"
                    };
                    format!("{scheme}://{host}")
                }
            };
            let url = format!("{base}/calendar/{}/{}.ics", user.actor.org_id, token);
            Ok(ok(calendar_markup(&user, None, Some(&url))))
        }
        "revoke" => {
            state
                .store
                .set_calendar_feed(&user.actor, None, source)
                .await?;
            Ok(see_other("/coaching/calendar"))
        }
        _ => Err(AppError::BadRequest(
            "Choose to make a new address or turn the feed off".into(),
        )),
    }
}

/// The feed itself: RFC 5545, events in UTC, first names only.
pub async fn calendar_feed(
    State(state): State<AppState>,
    ClientSource(source): ClientSource,
    Path((org, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let org: OrgId = org.parse().map_err(|_| AppError::NotFound)?;
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::NotFound);
    }
    let Some(data) = state
        .store
        .calendar_by_token(
            org,
            &auth::token_hash(token),
            state.config.clock.now(),
            source,
        )
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let body = calendar_text(&data, state.config.clock.now());
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}

fn calendar_text(data: &alongside_store::coaching::CalendarData, stamp: Timestamp) -> String {
    use alongside_core::ical::{Calendar, Event, EventStatus};
    let events: Vec<Event> = data
        .sessions
        .iter()
        .map(|s| {
            let first = s
                .person_name
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            Event {
                uid: format!("{}@alongside", s.id),
                dtstamp: stamp.to_datetime(),
                start: s.starts_at.to_datetime(),
                end: s.ends_at.to_datetime(),
                summary: format!("Coaching: {first} ({})", s.mode.label().to_lowercase()),
                location: s.place.clone(),
                description: None,
                url: None,
                status: if s.status.occupies() {
                    EventStatus::Confirmed
                } else {
                    EventStatus::Cancelled
                },
                sequence: 0,
            }
        })
        .collect();
    let mut cal = Calendar::new(format!("Coaching sessions – {}", data.coach_name));
    cal.events = events;
    cal.to_ics()
}
