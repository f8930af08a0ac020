//! One application error type: explicit 4xx variants and an opaque, logged 500. Rendered as an
//! error page (HTML routes) or a JSON problem (`/health` and other JSON routes).

use crate::layout;
use alongside_store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("sign in required")]
    SignInRequired { next: String },
    #[error("form expired")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Refused(r) => AppError::Forbidden(r),
            StoreError::Conflict(m) => AppError::BadRequest(m),
            StoreError::StaleVersion => AppError::BadRequest(e.to_string()),
            StoreError::Invalid(v) => AppError::BadRequest(v.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, body) = match &self {
            AppError::SignInRequired { next } => {
                let target = if next.is_empty() || next == "/" {
                    "/sign-in".to_string()
                } else {
                    format!(
                        "/sign-in?next={}",
                        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    )
                };
                return Redirect::to(&target).into_response();
            }
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                html! {
                    p { "If you typed the web address, check it is correct." }
                    p { "If you followed a link to a person's record, the record may not exist or may belong to another organisation." }
                    p { a href="/" { "Go to your home page" } }
                },
            ),
            AppError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "You do not have access to this page",
                html! {
                    p { "Your role does not give you access to this page or record. The attempt has been recorded." }
                    p { "If you need access, ask your organisation's administrator." }
                    p { a href="/" { "Go to your home page" } }
                },
            ),
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "The form has expired",
                html! {
                    p { "For your security, forms stop working after a while or when you sign in again. Nothing was saved." }
                    p { "Go back, reload the page and try again." }
                    p { a href="/" { "Go to your home page" } }
                },
            ),
            AppError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "There is a problem",
                html! {
                    p { (m) }
                    p { a href="/" { "Go to your home page" } }
                },
            ),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, there is a problem with the service",
                    html! {
                        p { "Try again later. Nothing you entered has been half-saved: a change is either saved in full or not at all." }
                    },
                )
            }
        };
        let page = layout::bare(title, html! { h1 { (title) } (body) });
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page.into_string(),
        )
            .into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;
