//! Self-management education: the programme catalogue, course runs with capacity and a
//! waiting list, enrolment, attendance, feedback, online content and progress, and the
//! education report.
//!
//! Capacity is kept by a counter on the run row (`edu_runs.enrolled`, checked `<= capacity` by
//! the schema). Every change of who holds a place starts by updating the run row, which on
//! PostgreSQL locks it until commit (on SQLite the one writer already serialises writes), so
//! two cancellations can never promote the same waiting person, and a promotion is a
//! conditional update (`... AND status = 'waiting'`) that must change exactly one row.
//!
//! Every use case goes through the door (`door.rs`): a person's enrolments, progress and
//! feedback under a grant for that person (the facilitator fact is loaded by the door), the
//! catalogue, runs and registers under an organisation-wide grant. Refusals are audited there.
//!
//! The use cases live in submodules named after the parts of the service: `catalogue` (the
//! programmes), `runs` (course runs with their sessions and facilitators), `enrolment`
//! (enrolment, withdrawal, the waiting list and promotion from it, registers and attendance),
//! `courses` (a person's own courses, feedback and upcoming sessions), `online` (online content
//! and progress) and `report` (the education report and the level and decile breakdowns it
//! shares with the peer-support report and reach).

mod catalogue;
mod courses;
mod enrolment;
mod online;
mod report;
mod runs;

pub use self::catalogue::Programme;
pub use self::courses::{Enrolment, FeedbackSummary, Notice, PersonCourses};
pub(crate) use self::enrolment::{fill_places, insert_notice, lock_run};
pub use self::enrolment::{EnrolOutcome, Participant, Roster, Withdrawal};
pub use self::online::{OnlineLearner, OnlineProgress, Page};
pub(crate) use self::report::{levels_and_deciles, levels_and_deciles_before, slot};
pub use self::report::{EducationReport, ProgrammeFigures};
pub use self::runs::Run;
