//! Peer support: finding groups (`find`), creating and changing them (`edit`), their sessions
//! (`session`: cancel, move, booking ahead), the phone-friendly door sign-in page (`door`),
//! and what a person has coming up and their attendance history (`mine`). What these share
//! with the rota and activities lives in `pages::peer_common`; this module holds only what the
//! group pages share among themselves.

mod door;
mod edit;
mod find;
mod mine;
mod session;

pub use door::{door, door_sign_in, DoorParams};
pub use edit::{create, edit_form, new_form, update};
pub use find::{join, list, show, FindParams};
pub use mine::{my_upcoming, person_attendance};
pub use session::{booking, change, session, SessionParams};

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::AppState;
use alongside_core::conditions;
use alongside_core::groups::ANY_CONDITION;
use alongside_core::{Action, GroupId};
use alongside_store::groups::OwnPlace;
use alongside_store::people::Source;
use time::Date;

/// The account's own place in the group (and, for `session`, whether they hold a booking
/// there) when it is a person's own account that may book for itself — `None` for everyone
/// else. Both decided by the store.
async fn own_place(
    state: &AppState,
    user: &CurrentUser,
    group: GroupId,
    session: Option<Date>,
    source: Source,
) -> AppResult<Option<OwnPlace>> {
    let Some(pid) = user.actor.person_id else {
        return Ok(None);
    };
    if !state
        .store
        .may(&user.actor, Action::BookGroups, pid)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(
        state
            .store
            .own_place(&user.actor, group, session, source)
            .await?,
    ))
}

fn focus_label(focus: &str) -> &str {
    if focus == ANY_CONDITION {
        "Any long-term condition"
    } else {
        conditions::by_key(focus).map(|c| c.label).unwrap_or(focus)
    }
}
