//! One application error type: explicit 4xx variants and an opaque, logged 500. Rendered as an
//! error page for pages; on API routes (see `routes::is_api`) the same error becomes RFC 9457
//! problem details (`application/problem+json`), by the `routes::problem_details` layer from
//! the [`ErrorInfo`] every error response carries.

use crate::layout;
use alongside_store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    /// Refused by a decision made in the web layer (e.g. `CurrentUser::require`): the
    /// response carries a [`WebRefusal`] and the refusal layer (`routes::audit_refusals`)
    /// audits it.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Refused by the store's door, which has already audited it.
    #[error("refused: {0}")]
    Refused(&'static str),
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
            StoreError::Refused(r) => AppError::Refused(r),
            StoreError::Conflict(m) => AppError::BadRequest(m),
            StoreError::StaleVersion => AppError::BadRequest(e.to_string()),
            StoreError::Invalid(v) => AppError::BadRequest(v.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// What an error response says, for the problem-details layer to render on API routes.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub title: &'static str,
    /// A sentence for the caller (never internal detail).
    pub detail: Option<String>,
}

/// Marks a 403 decided in the web layer, for the refusal layer to audit.
#[derive(Debug, Clone, Copy)]
pub struct WebRefusal(pub &'static str);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let refusal = match &self {
            AppError::Forbidden(reason) => Some(WebRefusal(reason)),
            _ => None,
        };
        let mut response = self.render();
        if let Some(r) = refusal {
            response.extensions_mut().insert(r);
        }
        response
    }
}

impl AppError {
    fn render(self) -> Response {
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
            AppError::Forbidden(_) | AppError::Refused(_) => (
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
        let detail = match &self {
            AppError::BadRequest(m) => Some(m.clone()),
            AppError::Forbidden(r) | AppError::Refused(r) => Some(r.to_string()),
            _ => None,
        };
        let page = layout::bare(title, html! { h1 { (title) } (body) });
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page.into_string(),
        )
            .into_response();
        response.extensions_mut().insert(ErrorInfo {
            status,
            title,
            detail,
        });
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The page shown when a handler panics: nothing of the panic reaches the user; it is logged.
pub fn panic_page(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    AppError::Internal(format!("a request handler panicked: {what}")).into_response()
}
