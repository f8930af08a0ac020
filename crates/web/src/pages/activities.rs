//! Activities within a peer-support session: the group's list of activities (staff add and
//! retire them), and signing someone already signed in up to an activity from the door page's
//! activities section (drawn by `peer_common`, with its live count and "Full").
//!
//! The door shows first names only, as the door list does; this module must never show more
//! of a person, nor sign up anyone who is not signed in to the session (the store refuses it).

use super::peer_common::{
    door_page, door_section, load_group, parse_date, parse_group_id, session_path,
};
use super::{invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Id, Require};
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_core::GroupId;
use alongside_store::activities::{Activity, ActivitySignUp, NewActivity};
use alongside_store::groups::GroupRow;
use alongside_store::StoreError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

/// The fields of the "add an activity" form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityForm {
    pub name: String,
    pub capacity: String,
    pub facilitator: String,
}

/// Checks a new activity against the session's places: a name, at least one place and no more
/// than the session has, an optional facilitator. Every problem names its field.
pub fn parse_activity(
    f: &ActivityForm,
    session_places: u32,
) -> Result<NewActivity, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let name = clean_text(
        &mut e,
        "name",
        "the name of the activity",
        &f.name,
        100,
        true,
    );
    let capacity = match f.capacity.trim().parse::<i64>() {
        _ if f.capacity.trim().is_empty() => {
            e.add("capacity", "Enter the number of places, for example 8");
            None
        }
        Err(_) => {
            e.add("capacity", "Places must be a whole number, for example 8");
            None
        }
        Ok(n) if n < 1 => {
            e.add("capacity", "Places must be 1 or more");
            None
        }
        Ok(n) if n > i64::from(session_places) => {
            e.add(
                "capacity",
                format!("Places cannot be more than the session's {session_places} places"),
            );
            None
        }
        Ok(n) => Some(n as u32),
    };
    let facilitator = clean_text(
        &mut e,
        "facilitator",
        "the facilitator's name",
        &f.facilitator,
        60,
        false,
    );
    match (name, capacity) {
        (Some(name), Some(capacity)) if e.is_empty() => Ok(NewActivity {
            name,
            capacity,
            facilitator,
        }),
        _ => Err(e),
    }
}

fn list_page(
    user: &CurrentUser,
    g: &GroupRow,
    activities: &[Activity],
    f: &ActivityForm,
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    let path = format!("/groups/{}/activities", g.id);
    let title = format!("Activities at {}", g.details.name);
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { a href={ "/groups/" (g.id) } { (g.details.name) } }
            h1 { "Activities" }
            p.lede { "Things people can do during a session, such as one-to-one chats or workshops, each with its own places." }
            @if activities.is_empty() {
                p { "This group has no activities yet." }
            } @else {
                div.table-wrapper { table.responsive {
                    caption.visually-hidden { "Activities" }
                    thead { tr { th scope="col" { "Activity" } th scope="col" { "Places" } th scope="col" { "Facilitator" } th scope="col" { "Offered" } } }
                    tbody { @for a in activities { tr {
                        td data-label="Activity" { (a.name) }
                        td data-label="Places" { (a.capacity) }
                        td data-label="Facilitator" { (a.facilitator.clone().unwrap_or_else(|| "Not named".into())) }
                        td data-label="Offered" {
                            form.inline-form method="post" action=(path) {
                                (layout::csrf(&user.csrf))
                                input type="hidden" name="activity" value=(a.id);
                                @if a.active {
                                    "Yes "
                                    input type="hidden" name="action" value="retire";
                                    button.button.button--secondary.button--small type="submit" { "Stop offering " span.visually-hidden { (a.name) } }
                                } @else {
                                    "No "
                                    input type="hidden" name="action" value="offer";
                                    button.button.button--secondary.button--small type="submit" { "Offer again " span.visually-hidden { (a.name) } }
                                }
                            }
                        }
                    } } }
                } }
            }
            h2 { "Add an activity" }
            form method="post" action=(path) novalidate {
                (layout::csrf(&user.csrf))
                input type="hidden" name="action" value="add";
                (layout::text_input("name", "Name of the activity", &f.name, e, Input { hint: Some("For example, Creative workshop"), width: Some("input--width-30"), ..Default::default() }))
                (layout::text_input("capacity", "Places at each session", &f.capacity, e, Input { hint: Some(&format!("No more than the session's {} places", g.details.capacity)), width: Some("input--width-5"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::text_input("facilitator", "Facilitator (optional)", &f.facilitator, e, Input { hint: Some("The first name of who runs it"), width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Add activity" }
            }
        },
    )
}

/// GET /groups/{id}/activities
pub async fn list(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    Id(id): Id<GroupId>,
) -> AppResult<Response> {
    let g = load_group(&state, &user, id).await?;
    let activities = state.store.group_activities(g.org_id, g.id).await?;
    Ok(ok(list_page(
        &user,
        &g,
        &activities,
        &ActivityForm::default(),
        &ValidationErrors::default(),
        None,
    )))
}

/// POST /groups/{id}/activities: add one, or stop (or start again) offering one.
pub async fn change(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    Id(id): Id<GroupId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let g = load_group(&state, &user, id).await?;
    let path = format!("/groups/{}/activities", g.id);
    match data.get("action").as_str() {
        "retire" | "offer" => {
            let active = data.get("action") == "offer";
            match state
                .store
                .set_activity_active(&user.actor, g.id, &data.get("activity"), active, source)
                .await
            {
                Ok(()) => Ok(see_other(&path)),
                Err(StoreError::NotFound) => Err(AppError::NotFound),
                Err(other) => Err(other.into()),
            }
        }
        "add" | "" => {
            let f = ActivityForm {
                name: data.get("name"),
                capacity: data.get("capacity"),
                facilitator: data.get("facilitator"),
            };
            let parsed = data
                .repeated_errors(&["name", "capacity", "facilitator", "action"])
                .into_result(())
                .and_then(|_| parse_activity(&f, g.details.capacity));
            let result = match parsed {
                Ok(new) => state
                    .store
                    .create_activity(&user.actor, g.id, new, source)
                    .await
                    .map(|_| ()),
                Err(e) => Err(StoreError::Invalid(e)),
            };
            match result {
                Ok(()) => Ok(see_other(&path)),
                Err(StoreError::Invalid(e)) => {
                    let activities = state.store.group_activities(g.org_id, g.id).await?;
                    Ok(invalid(list_page(&user, &g, &activities, &f, &e, None)))
                }
                Err(other) => Err(other.into()),
            }
        }
        _ => Err(AppError::BadRequest(
            "Choose whether to add an activity or change one.".into(),
        )),
    }
}

/// POST /groups/{id}/sessions/{date}/activities: sign someone who is in up to an activity.
pub async fn sign_up(
    State(state): State<AppState>,
    user: Require<may::SignInAtDoor>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let gid = load_group(&state, &user, parse_group_id(&id)?).await?.id;
    let d = parse_date(&date)?;
    let door = format!("{}/door", session_path(gid, d));
    let activity = data.get("activity");
    let attendance = data.get("attendance");
    let mut e = data.repeated_errors(&["activity", "attendance"]);
    if e.is_empty() && attendance.trim().is_empty() {
        e.add(
            &format!("attendance-{activity}"),
            "Choose who to sign up for the activity",
        );
    }
    let (status, notice) = if !e.is_empty() {
        (StatusCode::UNPROCESSABLE_ENTITY, None)
    } else {
        match state
            .store
            .activity_sign_up(&user.actor, gid, d, &activity, &attendance, source.clone())
            .await?
        {
            ActivitySignUp::SignedUp { .. } | ActivitySignUp::AlreadySignedUp { .. } => {
                return Ok(see_other(&format!(
                    "{door}?signed_up={activity}:{attendance}"
                )))
            }
            ActivitySignUp::Full { capacity } => (
                StatusCode::CONFLICT,
                Some(format!("The activity is full: all {capacity} places are taken. Nobody else can be signed up.")),
            ),
            ActivitySignUp::Retired => (
                StatusCode::CONFLICT,
                Some("This activity is no longer offered.".to_string()),
            ),
            ActivitySignUp::Cancelled => (
                StatusCode::CONFLICT,
                Some("This session is cancelled, so nobody can be signed up.".to_string()),
            ),
        }
    };
    let view = state
        .store
        .door_view(&user.actor, gid, d, "", source.clone())
        .await?;
    let acts = door_section(&state, &user, gid, d, &view, None, source).await?;
    Ok(super::html(
        status,
        door_page(
            &user,
            gid,
            &view,
            "",
            None,
            notice.as_deref(),
            &e,
            ("", ""),
            acts,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, capacity: &str) -> ActivityForm {
        ActivityForm {
            name: name.into(),
            capacity: capacity.into(),
            facilitator: String::new(),
        }
    }

    fn message(r: Result<NewActivity, ValidationErrors>, field: &str) -> String {
        r.expect_err("refused")
            .for_field(field)
            .expect("field error")
            .to_string()
    }

    #[test]
    fn places_must_be_between_one_and_the_sessions() {
        assert_eq!(
            parse_activity(&form("Creative workshop", "8"), 60),
            Ok(NewActivity {
                name: "Creative workshop".into(),
                capacity: 8,
                facilitator: None
            })
        );
        assert_eq!(
            parse_activity(&form("Talk", "60"), 60).map(|a| a.capacity),
            Ok(60)
        );
        assert_eq!(
            message(parse_activity(&form("Talk", "0"), 60), "capacity"),
            "Places must be 1 or more"
        );
        assert_eq!(
            message(parse_activity(&form("Talk", "-3"), 60), "capacity"),
            "Places must be 1 or more"
        );
        assert_eq!(
            message(parse_activity(&form("Talk", "61"), 60), "capacity"),
            "Places cannot be more than the session's 60 places"
        );
        assert_eq!(
            message(parse_activity(&form("Talk", "eight"), 60), "capacity"),
            "Places must be a whole number, for example 8"
        );
        assert_eq!(
            message(parse_activity(&form("  ", "8"), 60), "name"),
            "Enter the name of the activity"
        );
    }
}
