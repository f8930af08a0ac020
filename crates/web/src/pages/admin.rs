//! User administration: list, add, change role, deactivate, set a new password.

use super::{invalid, ok, see_other};
use crate::auth::{self, ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Require};
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::validation::ValidationErrors;
use alongside_core::{PersonId, Role, UserId};
use alongside_store::users::{normalise_username, NewUser, User};
use alongside_store::StoreError;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};

fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.code(), r.label())).collect()
}

pub async fn list(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageUsers)?;
    let users = state.store.users(user.actor.org_id).await?;
    Ok(ok(layout::page(
        Some(&user),
        "Users",
        html! {
            h1 { "Users" }
            p { a.button href="/admin/users/new" { "Add a user" } }
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Users" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "User name" } th scope="col" { "Role" } th scope="col" { "Status" } } }
                    tbody {
                        @for u in &users {
                            tr {
                                td data-label="Name" { a href={ "/admin/users/" (u.id) } { (u.display_name) } }
                                td data-label="User name" { (u.username) }
                                td data-label="Role" { (u.role.label()) }
                                td data-label="Status" { @if u.active { strong.tag.tag--green { "Active" } } @else { strong.tag.tag--grey { "Deactivated" } } }
                            }
                        }
                    }
                }
            }
        },
    )))
}

struct UserForm {
    username: String,
    display_name: String,
    role: String,
    person_id: String,
}

fn new_page(user: &CurrentUser, f: &UserForm, e: &ValidationErrors) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Add a user", e),
        html! {
            (layout::error_summary(e))
            h1 { "Add a user" }
            form method="post" action="/admin/users" novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("display_name", "Full name", &f.display_name, e, Input { width: Some("input--width-20"), ..Default::default() }))
                (layout::text_input("username", "User name", &f.username, e, Input { hint: Some("What they type to sign in: letters, numbers, dots, hyphens and underscores"), width: Some("input--width-20"), spellcheck_off: true, autocomplete: Some("off"), ..Default::default() }))
                (layout::radios("role", "Role", &role_options(), &f.role, e))
                (layout::text_input("person_id", "Linked record (for a person's own account only)", &f.person_id, e, Input { hint: Some("The record's reference from the address of their record page, like 0190f6c2-…"), width: Some("input--width-20"), spellcheck_off: true, ..Default::default() }))
                (layout::text_input("password", "First password", "", e, Input { kind: "password", hint: Some("At least 10 characters. Give it to them safely; they can change it after signing in."), autocomplete: Some("new-password"), width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Add user" }
            }
        },
    )
}

pub async fn new_form(user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageUsers)?;
    let f = UserForm {
        username: String::new(),
        display_name: String::new(),
        role: String::new(),
        person_id: String::new(),
    };
    Ok(ok(new_page(&user, &f, &ValidationErrors::default())))
}

fn valid_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
}

pub async fn create(
    State(state): State<AppState>,
    user: Require<may::ManageUsers>,
    ClientSource(source): ClientSource,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let f = UserForm {
        username: d.get("username").trim().to_string(),
        display_name: d.get("display_name").trim().to_string(),
        role: d.get("role"),
        person_id: d.get("person_id").trim().to_string(),
    };
    let password = d.get("password");
    let mut e = ValidationErrors::default();
    let display_name = alongside_core::validation::clean_name(
        &mut e,
        "display_name",
        "their full name",
        &f.display_name,
        100,
    );
    if !valid_username(&normalise_username(&f.username)) {
        e.add(
            "username",
            "User name must be 3 to 64 letters, numbers, dots, hyphens, underscores or @",
        );
    }
    let role = f.role.parse::<Role>().ok();
    if role.is_none() {
        e.add("role", "Select a role");
    }
    let mut person_id: Option<PersonId> = None;
    if role == Some(Role::Person) {
        match f.person_id.parse::<PersonId>() {
            Ok(pid) => match state
                .store
                .read_person(&user.actor, pid, source.clone())
                .await
            {
                Ok(_) => person_id = Some(pid),
                Err(StoreError::NotFound) => e.add(
                    "person_id",
                    "There is no record with that reference in your organisation",
                ),
                Err(other) => return Err(other.into()),
            },
            Err(_) => e.add(
                "person_id",
                "Enter the reference of the person's record, for a person's own account",
            ),
        }
    } else if !f.person_id.is_empty() {
        e.add("person_id", "Only a person's own account can be linked to a record: clear this box or choose that role");
    }
    if let Some(p) = auth::password_problem(&password, &f.username) {
        e.add("password", p);
    }
    if !e.is_empty() {
        return Ok(invalid(new_page(&user, &f, &e)));
    }
    let role = role.expect("checked");
    let hash = auth::hash_password(password).await?;
    let new = NewUser {
        org_id: user.actor.org_id,
        username: f.username.clone(),
        display_name: display_name.unwrap_or_default(),
        role,
        person_id,
        password_hash: hash,
    };
    match state.store.create_user_as(&user.actor, new, source).await {
        Ok(_) => Ok(see_other("/admin/users")),
        Err(StoreError::Conflict(_)) => {
            e.add(
                "username",
                "That user name is already taken: choose another",
            );
            Ok(invalid(new_page(&user, &f, &e)))
        }
        Err(other) => Err(other.into()),
    }
}

fn edit_page(
    user: &CurrentUser,
    target: &User,
    e: &ValidationErrors,
    role: &str,
    active: bool,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Change user", e),
        html! {
            (layout::error_summary(e))
            span.caption { (target.username) }
            h1 { (target.display_name) }
            form method="post" action={ "/admin/users/" (target.id) } novalidate {
                (layout::csrf(&user.csrf))
                (layout::radios("role", "Role", &role_options(), role, e))
                div.form-group { div.checkboxes { (layout::checkbox("active", "They can sign in", active)) } }
                (layout::text_input("password", "Set a new password (optional)", "", e, Input { kind: "password", hint: Some("Leave blank to keep their password. Setting one signs them out everywhere."), autocomplete: Some("new-password"), width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Save changes" }
                a.button.button--secondary href="/admin/users" { "Cancel" }
            }
        },
    )
}

async fn target_user(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<User> {
    let id: UserId = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(state.store.user(user.actor.org_id, id).await?)
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: Require<may::ManageUsers>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let target = target_user(&state, &user, &id).await?;
    Ok(ok(edit_page(
        &user,
        &target,
        &ValidationErrors::default(),
        target.role.code(),
        target.active,
    )))
}

pub async fn update(
    State(state): State<AppState>,
    user: Require<may::ManageUsers>,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let target = target_user(&state, &user, &id).await?;
    let mut e = ValidationErrors::default();
    let role_text = d.get("role");
    let role = role_text.parse::<Role>().ok();
    let active = d.has("active");
    let password = d.get("password");
    match role {
        None => e.add("role", "Select a role"),
        Some(Role::Person) if target.person_id.is_none() => e.add("role", "Only an account linked to a person's record can have the person role: add a new user instead"),
        Some(r) if r != Role::Person && target.person_id.is_some() => e.add("role", "This account belongs to a person and is linked to their record: it cannot become a staff account"),
        _ => {}
    }
    if target.id == user.actor.user_id && (!active || role != Some(Role::Administrator)) {
        e.add("role", "You cannot remove your own administrator access or deactivate yourself: ask another administrator");
    }
    if !password.is_empty() {
        if let Some(p) = auth::password_problem(&password, &target.username) {
            e.add("password", p);
        }
    }
    if !e.is_empty() {
        return Ok(invalid(edit_page(&user, &target, &e, &role_text, active)));
    }
    let role = role.expect("checked");
    state
        .store
        .update_user_as(&user.actor, target.id, role, active, source.clone())
        .await?;
    if !password.is_empty() {
        let hash = auth::hash_password(password).await?;
        state
            .store
            .set_password_as(&user.actor, target.id, hash, source)
            .await?;
    }
    Ok(see_other("/admin/users"))
}
