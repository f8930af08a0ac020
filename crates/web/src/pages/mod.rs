//! The HTML pages, one module per area. Each handler: check the CSRF token (POST), parse,
//! ask the store (which asks the access rules and audits), render.

pub mod account;
pub mod activation;
pub mod activities;
pub mod admin;
pub mod audit;
pub mod careplan;
pub mod coaching;
pub mod date_entry;
pub mod directory;
pub mod education;
pub mod groups;
pub mod home;
pub mod outcomes;
pub mod peer_common;
pub mod peer_report;
pub mod people;
pub mod rota;
pub mod signin;
pub mod stats;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::Markup;

/// An HTML response with a status.
pub fn html(status: axum::http::StatusCode, page: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

pub fn ok(page: Markup) -> Response {
    html(axum::http::StatusCode::OK, page)
}

/// 303 See Other to `to`, the answer to every successful form POST.
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// A page that re-renders a form with errors: 422 Unprocessable Content.
pub fn invalid(page: Markup) -> Response {
    html(axum::http::StatusCode::UNPROCESSABLE_ENTITY, page)
}
