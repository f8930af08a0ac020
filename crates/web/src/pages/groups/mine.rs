//! A person's own view (what they have coming up: group sessions, and courses from education)
//! and a person's attendance history, for them and for staff who may read it.

use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::Id;
use crate::layout;
use crate::pages::ok;
use crate::AppState;
use alongside_core::time::display_date;
use alongside_core::{Action, PersonId};
use alongside_store::groups::Upcoming;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

/// What the person has coming up. Courses (education) add their own section here: see
/// [`upcoming_sections`].
pub async fn my_upcoming(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    // A person's own account only: the one the access rules let book for itself.
    let pid = match user.actor.person_id {
        Some(pid)
            if state
                .store
                .may(&user.actor, Action::BookGroups, pid)
                .await? =>
        {
            pid
        }
        _ => {
            return Err(AppError::Forbidden(
                "only a person's own account has a list of what is coming up",
            ))
        }
    };
    let source_for_courses = source.clone();
    let items = state
        .store
        .upcoming_groups(&user.actor, pid, state.store.clock().today(), 14, source)
        .await?;
    let mut sections = upcoming_sections(&state, &user, &items).await?;
    // Self-management education: the person's course sessions in the same two weeks.
    sections.push(
        crate::pages::education::mine::upcoming_section(&state, &user, source_for_courses, 14)
            .await?,
    );
    Ok(ok(layout::page(
        Some(&user),
        "Coming up",
        html! {
            h1 { "Coming up" }
            @for s in sections { (s) }
            p { a href="/groups" { "Find a group" } }
        },
    )))
}

/// The sections of the "Coming up" page, in order. Another area (courses) appends its own
/// section here.
async fn upcoming_sections(
    _state: &AppState,
    _user: &CurrentUser,
    groups: &[Upcoming],
) -> AppResult<Vec<Markup>> {
    let group_section = html! {
        h2 { "Group sessions" }
        @if groups.is_empty() {
            p { "Nothing in the next two weeks. When you join a group or book a session, it appears here." }
        } @else {
            ul.upcoming {
                @for u in groups {
                    li {
                        a href=(u.link) { (u.title) }
                        ": " (u.date.weekday()) " " (display_date(u.date)) ", " (u.start.text()) " to " (u.end.text())
                        @if !u.where_.is_empty() { " · " (u.where_) }
                        @if u.booked { " · " strong { "booked" } }
                    }
                }
            }
        }
    };
    Ok(vec![group_section])
}

pub async fn person_attendance(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
) -> AppResult<Response> {
    let items = state
        .store
        .attendance_history(&user.actor, pid, source)
        .await?;
    let own = user.actor.person_id == Some(pid);
    let title = if own {
        "Groups you have been to"
    } else {
        "Group attendance"
    };
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            span.caption { a href={ "/people/" (pid) } { "Back to the record" } }
            h1 { (title) }
            @if items.is_empty() {
                p { "No group sessions attended yet." }
            } @else {
                p { (items.len()) @if items.len() == 1 { " session" } @else { " sessions" } }
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { (title) }
                        thead { tr { th scope="col" { "Date" } th scope="col" { "Group" } th scope="col" { "Booked ahead" } } }
                        tbody {
                            @for i in &items {
                                tr {
                                    td data-label="Date" { (display_date(i.date)) }
                                    td data-label="Group" { a href={ "/groups/" (i.group_id) } { (i.group_name) } }
                                    td data-label="Booked ahead" { @if i.had_booking { "Yes" } @else { "No" } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )))
}
