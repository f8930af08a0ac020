//! The phone-friendly door page: finding someone expected, signing them in (or someone who
//! just turns up), with the session's activities beside it.

use crate::auth::ClientSource;
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Require};
use crate::pages::peer_common::{
    door_page, door_section, parse_date, parse_group_id, session_path,
};
use crate::pages::{html as respond, invalid, ok, see_other};
use crate::AppState;
use alongside_core::validation::{clean_name, clean_text, ValidationErrors};
use alongside_core::PersonId;
use alongside_store::groups::{DoorEntry, SignInOutcome};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct DoorParams {
    q: Option<String>,
    admitted: Option<String>,
    already: Option<String>,
    /// "activity:attendance" of an activity sign-up just made (pages/activities.rs).
    signed_up: Option<String>,
}

pub async fn door(
    State(state): State<AppState>,
    user: Require<may::SignInAtDoor>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    Query(p): Query<DoorParams>,
) -> AppResult<Response> {
    let gid = parse_group_id(&id)?;
    let d = parse_date(&date)?;
    let q: String = p.q.unwrap_or_default().chars().take(50).collect();
    let view = state
        .store
        .door_view(&user.actor, gid, d, &q, source.clone())
        .await?;
    let activities =
        door_section(&state, &user, gid, d, &view, p.signed_up.as_deref(), source).await?;
    let banner = match &p.admitted {
        Some(aid) => view
            .attendees
            .iter()
            .find(|(id, _, _)| id == aid)
            .map(|(_, first, _)| format!("{first} is signed in")),
        None => None,
    };
    let notice = p.already.is_some().then_some("They are already signed in.");
    Ok(ok(door_page(
        &user,
        gid,
        &view,
        &q,
        banner,
        notice,
        &ValidationErrors::default(),
        ("", ""),
        activities,
    )))
}

pub async fn door_sign_in(
    State(state): State<AppState>,
    user: Require<may::SignInAtDoor>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let gid = parse_group_id(&id)?;
    let d = parse_date(&date)?;
    let path = format!("{}/door", session_path(gid, d));
    let mut e = data.repeated_errors(&["person", "first_name", "contact"]);
    let entry = if e.is_empty() && data.has("person") {
        match data.get("person").parse::<PersonId>() {
            Ok(p) => Some(DoorEntry::Person(p)),
            Err(_) => return Err(AppError::NotFound),
        }
    } else if e.is_empty() {
        let first = clean_name(
            &mut e,
            "first_name",
            "their first name",
            &data.get("first_name"),
            50,
        );
        let contact = clean_text(
            &mut e,
            "contact",
            "the phone or email",
            &data.get("contact"),
            200,
            false,
        );
        first.map(|first_name| DoorEntry::WalkIn {
            first_name,
            contact,
        })
    } else {
        None
    };
    let Some(entry) = entry.filter(|_| e.is_empty()) else {
        let view = state
            .store
            .door_view(&user.actor, gid, d, "", source.clone())
            .await?;
        let activities = door_section(&state, &user, gid, d, &view, None, source).await?;
        let (f, c) = (data.get("first_name"), data.get("contact"));
        return Ok(invalid(door_page(
            &user,
            gid,
            &view,
            "",
            None,
            None,
            &e,
            (&f, &c),
            activities,
        )));
    };
    match state
        .store
        .door_sign_in(&user.actor, gid, d, entry, source.clone())
        .await?
    {
        SignInOutcome::Admitted { attendance_id, .. } => {
            Ok(see_other(&format!("{path}?admitted={attendance_id}")))
        }
        SignInOutcome::AlreadySignedIn { .. } => Ok(see_other(&format!("{path}?already=1"))),
        SignInOutcome::Full { capacity } => {
            let view = state
                .store
                .door_view(&user.actor, gid, d, "", source.clone())
                .await?;
            let activities = door_section(&state, &user, gid, d, &view, None, source).await?;
            Ok(respond(
                StatusCode::CONFLICT,
                door_page(
                    &user,
                    gid,
                    &view,
                    "",
                    None,
                    Some(&format!("The session is full: all {capacity} places are taken. Nobody else can be signed in.")),
                    &ValidationErrors::default(),
                    ("", ""),
                    activities,
                ),
            ))
        }
        SignInOutcome::Cancelled => Err(AppError::BadRequest(
            "This session is cancelled, so nobody can be signed in.".into(),
        )),
    }
}
