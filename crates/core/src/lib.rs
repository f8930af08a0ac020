//! The domain core of Alongside: types and rules, nothing else.
//!
//! This crate must never perform I/O, never be async, and never know about SQL or HTTP.
//! Everything here is plain data and pure functions, so every rule can be unit- and
//! property-tested in isolation and reused unchanged by the store, the web layer and the CLI.

pub mod access;
pub mod audit;
pub mod careplan;
pub mod coaching;
pub mod conditions;
pub mod dates;
pub mod directory;
pub mod education;
pub mod groups;
pub mod ical;
pub mod ids;
pub mod london;
pub mod nhs_number;
pub mod person;
pub mod recommend;
pub mod recurrence;
pub mod role;
pub mod rota;
pub mod time;
pub mod validation;

pub use access::{decide, Action, Actor, Decision, PersonRelation};
pub use ids::GroupId;
pub use ids::{
    AssessmentId, EpisodeId, GoalId, InstrumentId, OrgId, PersonId, ReferralId, SessionId, StepId,
    UserId,
};
pub use nhs_number::NhsNumber;
pub use role::Role;
pub use validation::{FieldError, ValidationErrors};
