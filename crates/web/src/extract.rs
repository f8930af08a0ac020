//! Extractors that put what a handler needs — and what it has been allowed — in its signature:
//!
//! * [`CsrfForm`]: a form body whose CSRF token matched the signed-in user's session; a handler
//!   that takes one cannot read a form that lacks it (403 "The form has expired").
//! * [`Require<G>`]: the signed-in user, allowed the organisation-wide action of gate `G`
//!   (e.g. `Require<may::ManageGroups>`); a refusal is the 403 page, audited by the refusal
//!   layer like every refusal decided in the web layer.
//! * [`Id<T>`]: a typed id from the route's `{id}`; a malformed id is 404, never a 400 or 500.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::form::FormData;
use crate::AppState;
use alongside_core::Action;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use std::marker::PhantomData;
use std::ops::Deref;
use std::str::FromStr;

/// A submitted form whose `csrf_token` matched the signed-in user's session.
#[derive(Debug)]
pub struct CsrfForm(pub FormData);

impl FromRequest<AppState> for CsrfForm {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        let form = FormData::parse(&bytes);
        user.check_csrf(&form.get("csrf_token"))?;
        Ok(CsrfForm(form))
    }
}

/// An organisation-wide action a route requires before its handler runs.
pub trait Gate: Send + Sync + 'static {
    const ACTION: Action;
}

/// The signed-in user, allowed `G::ACTION` organisation-wide by `alongside_core::access`.
#[derive(Debug)]
pub struct Require<G> {
    pub user: CurrentUser,
    gate: PhantomData<G>,
}

impl<G> Deref for Require<G> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.user
    }
}

impl<G: Gate> FromRequestParts<AppState> for Require<G> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require(G::ACTION)?;
        Ok(Require {
            user,
            gate: PhantomData,
        })
    }
}

/// The gates: one type per organisation-wide action a route may require.
pub mod may {
    use super::Gate;
    use alongside_core::Action;

    macro_rules! gates {
        ($($name:ident),* $(,)?) => {
            $(
                #[doc = concat!("Gate for `Action::", stringify!($name), "`.")]
                #[derive(Debug)]
                pub struct $name;
                impl Gate for $name {
                    const ACTION: Action = Action::$name;
                }
            )*
        };
    }

    gates!(
        ListPeople,
        RegisterPerson,
        ReadOrgAudit,
        ManageUsers,
        ReadAggregates,
        ReadOutreach,
        ManageInstruments,
        FindGroups,
        ManageGroups,
        SignInAtDoor,
        ReadPeerSupportReport,
        BrowseCourses,
        ManageCourses,
        ReadCourseRoster,
        ManageCoachingQueue,
        OwnCaseload,
        SearchDirectory,
        ManageDirectory,
        ReadOverdueReferrals,
        BookGroupsOnBehalf,
    );
}

/// A typed id from the route's single `{id}` parameter; malformed → 404.
#[derive(Debug, Clone, Copy)]
pub struct Id<T>(pub T);

impl<T> FromRequestParts<AppState> for Id<T>
where
    T: FromStr + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        raw.parse::<T>().map(Id).map_err(|_| AppError::NotFound)
    }
}
