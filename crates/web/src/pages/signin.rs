//! Sign in and sign out.

use super::{html, invalid, see_other};
use crate::auth::{self, ClientSource, CurrentUser, CSRF_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::validation::ValidationErrors;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct NextParam {
    next: Option<String>,
}

/// Only local paths are followed after sign-in, never another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

fn form_page(
    csrf: &str,
    username: &str,
    next: &str,
    errors: &ValidationErrors,
    notice: Option<&str>,
) -> maud::Markup {
    layout::bare(
        &layout::title_with_errors("Sign in", errors),
        html! {
            (layout::error_summary(errors))
            h1 { "Sign in to Alongside" }
            @if let Some(n) = notice { div.inset { p { (n) } } }
            form method="post" action="/sign-in" novalidate {
                (layout::csrf(csrf))
                input type="hidden" name="next" value=(next);
                (layout::text_input("username", "User name", username, errors, Input { autocomplete: Some("username"), width: Some("input--width-20"), spellcheck_off: true, ..Default::default() }))
                (layout::text_input("password", "Password", "", errors, Input { kind: "password", autocomplete: Some("current-password"), width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Sign in" }
            }
            p.secondary-text { "Forgotten your password? Ask your organisation's administrator to set a new one." }
        },
    )
}

fn with_csrf_cookie(resp: Response, token: &str, fresh: bool, secure: bool) -> Response {
    let mut resp = resp;
    if fresh {
        if let Ok(v) = auth::set_cookie(CSRF_COOKIE, token, 3600 * 12, secure, "Strict").parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextParam>,
) -> Response {
    let existing = auth::cookie_value(&headers, CSRF_COOKIE).filter(|t| t.len() >= 32);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(auth::random_token);
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    let page = form_page(&token, "", next, &ValidationErrors::default(), None);
    with_csrf_cookie(
        html(StatusCode::OK, page),
        &token,
        fresh,
        state.config.secure_cookies,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ClientSource(source): ClientSource,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let form = FormData::parse(&body);
    let cookie = auth::cookie_value(&headers, CSRF_COOKIE).unwrap_or_default();
    if cookie.len() < 32 || !auth::constant_time_eq(&cookie, &form.get("csrf_token")) {
        return Err(AppError::Csrf);
    }
    let username = form
        .get("username")
        .trim()
        .chars()
        .take(200)
        .collect::<String>();
    let password = form.get("password");
    let next = safe_next(&form.get("next")).to_string();
    let address = source.0.clone().unwrap_or_default();
    let mut errors = ValidationErrors::default();
    if username.is_empty() {
        errors.add("username", "Enter your user name");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return Ok(invalid(form_page(&cookie, &username, &next, &errors, None)));
    }
    let key = alongside_store::users::normalise_username(&username);
    if state.throttle.blocked(&key, &address) {
        errors.add(
            "username",
            "Too many failed attempts to sign in. Wait 15 minutes, then try again",
        );
        return Ok(html(
            StatusCode::TOO_MANY_REQUESTS,
            form_page(&cookie, &username, &next, &errors, None),
        ));
    }
    let login = state.store.find_login(&username).await?;
    let ok = auth::verify_password(password, login.as_ref().map(|l| l.password_hash.clone())).await;
    let Some(login) = login.filter(|l| ok && l.user.active) else {
        state.throttle.record_failure(&key, &address);
        // A failed attempt on a real account is audited in that account's organisation.
        if let Some(l) = state.store.find_login(&username).await? {
            let ev = AuditEvent {
                org_id: l.user.org_id,
                actor_user_id: Some(l.user.id),
                actor_role: Some(l.user.role),
                action: AuditAction::SignInFailed,
                outcome: Outcome::Refused,
                resource_type: "session",
                resource_id: None,
                person_id: None,
                source: source.0.clone(),
                detail: Some(if l.user.active {
                    "wrong password".into()
                } else {
                    "account deactivated".into()
                }),
            };
            state.store.audit(ev).await?;
        }
        errors.add("username", "Enter a correct user name and password");
        return Ok(invalid(form_page(&cookie, &username, &next, &errors, None)));
    };
    state.throttle.record_success(&key);
    let token = auth::random_token();
    let csrf = auth::random_token();
    let expires = alongside_store::clock::wall_micros() + state.config.session_seconds * 1_000_000;
    let u = &login.user;
    let ev = AuditEvent {
        org_id: u.org_id,
        actor_user_id: Some(u.id),
        actor_role: Some(u.role),
        action: AuditAction::SignIn,
        outcome: Outcome::Allowed,
        resource_type: "session",
        resource_id: None,
        person_id: None,
        source: source.0.clone(),
        detail: None,
    };
    state
        .store
        .create_session(u.org_id, u.id, auth::token_hash(&token), csrf, expires, ev)
        .await?;
    let mut resp = see_other(&next);
    let cookie = auth::set_cookie(
        SESSION_COOKIE,
        &format!("{}.{token}", u.org_id),
        state.config.session_seconds,
        state.config.secure_cookies,
        "Lax",
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie
            .parse()
            .map_err(|_| AppError::Internal("cookie".into()))?,
    );
    Ok(resp)
}

pub async fn sign_out(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    body: Bytes,
) -> AppResult<Response> {
    user.check_csrf(&FormData::parse(&body).get("csrf_token"))?;
    let ev = AuditEvent {
        org_id: user.actor.org_id,
        actor_user_id: Some(user.actor.user_id),
        actor_role: Some(user.actor.role),
        action: AuditAction::SignOut,
        outcome: Outcome::Allowed,
        resource_type: "session",
        resource_id: None,
        person_id: None,
        source: source.0,
        detail: None,
    };
    state
        .store
        .delete_session(user.actor.org_id, user.token_hash.clone(), ev)
        .await?;
    let mut resp = see_other("/sign-in");
    let cookie = auth::set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies, "Lax");
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie
            .parse()
            .map_err(|_| AppError::Internal("cookie".into()))?,
    );
    Ok(resp.into_response())
}
