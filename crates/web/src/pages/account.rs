//! Changing one's own password.

use super::{invalid, ok};
use crate::auth::{self, ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::extract::CsrfForm;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::validation::ValidationErrors;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

fn page(user: &CurrentUser, e: &ValidationErrors, done: bool) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Change your password", e),
        html! {
            (layout::error_summary(e))
            @if done { (layout::success_banner("Your password has been changed. Other devices have been signed out.")) }
            h1 { "Change your password" }
            form method="post" action="/account/password" novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("current_password", "Current password", "", e, Input { kind: "password", autocomplete: Some("current-password"), width: Some("input--width-20"), ..Default::default() }))
                (layout::text_input("new_password", "New password", "", e, Input { kind: "password", hint: Some("At least 10 characters. A few unrelated words make a strong password."), autocomplete: Some("new-password"), width: Some("input--width-20"), ..Default::default() }))
                (layout::text_input("confirm_password", "Type the new password again", "", e, Input { kind: "password", autocomplete: Some("new-password"), width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Change password" }
            }
        },
    )
}

pub async fn show(user: CurrentUser) -> AppResult<Response> {
    Ok(ok(page(&user, &ValidationErrors::default(), false)))
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let (current, new, confirm) = (
        f.get("current_password"),
        f.get("new_password"),
        f.get("confirm_password"),
    );
    let mut e = ValidationErrors::default();
    let hash = state
        .store
        .password_hash(user.actor.org_id, user.actor.user_id)
        .await?;
    if current.is_empty() {
        e.add("current_password", "Enter your current password");
    } else if !auth::verify_password(current, Some(hash)).await {
        e.add("current_password", "Your current password is not correct");
    }
    if let Some(p) = auth::password_problem(&new, &user.user.username) {
        e.add("new_password", p);
    } else if new != confirm {
        e.add("confirm_password", "The passwords do not match");
    }
    if !e.is_empty() {
        return Ok(invalid(page(&user, &e, false)));
    }
    let new_hash = auth::hash_password(new).await?;
    state
        .store
        .change_own_password(&user.actor, new_hash, user.token_hash.clone(), source)
        .await?;
    Ok(ok(page(&user, &ValidationErrors::default(), true)))
}
