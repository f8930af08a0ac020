//! The audit trail: what happened to whose record, by whom, and whether it was allowed.
//!
//! Entries form a hash chain per organisation: each entry's hash covers its own fields and the
//! previous entry's hash, so altering, removing or reordering any entry breaks every later hash.
//! This module computes and checks the chain; storing it is the store's job. Entries must never
//! hold health data beyond the identifiers needed to say whose record was touched.

use crate::ids::{OrgId, PersonId, UserId};
use crate::role::Role;
use crate::time::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes an organisation's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done. Stored as its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    PersonRead,
    PersonCreated,
    PersonUpdated,
    PeopleListed,
    PeopleSearched,
    PersonAuditRead,
    OrgAuditRead,
    SignIn,
    SignInFailed,
    SignOut,
    PasswordChanged,
    UserCreated,
    UserUpdated,
    AggregatesRead,
    AssessmentStarted,
    AssessmentAnswered,
    AssessmentCompleted,
    AssessmentRead,
    OutreachListed,
    InstrumentImported,
    AssessmentsRescored,
    SettingChanged,
    UtilisationImported,
    OutcomesEvaluated,
    GroupCreated,
    GroupUpdated,
    GroupSessionChanged,
    DoorSignIn,
    DoorListRead,
    GroupJoined,
    GroupSessionBooked,
    BookingCancelled,
    AttendanceRead,
    RotaChanged,
    TrainingRecorded,
    ActivitySignUp,
    PeerSupportReportRead,
    CourseChanged,
    CourseEnrolled,
    CourseWithdrawn,
    CoursePromoted,
    EnrolmentsRead,
    AttendanceRecorded,
    CourseFeedbackGiven,
    CourseProgressSaved,
    ReferralCreated,
    ReferralChanged,
    CoachingRead,
    CoachingQueueRead,
    SessionBooked,
    SessionRecorded,
    GoalChanged,
    EpisodeDischarged,
    EpisodeReopened,
    CoachProfileChanged,
    CalendarFeedChanged,
    CalendarFeedRead,
    CaseloadRead,
    ServiceCreated,
    ServiceUpdated,
    ServiceReferralCreated,
    ServiceReferralUpdated,
    ServiceReferralsRead,
    OverdueReferralsListed,
    CarePlanRead,
    CarePlanSaved,
    CarePlanDownloaded,
    /// A page refused a signed-in user before any record was touched (role or relationship).
    PageRefused,
}

impl AuditAction {
    pub const ALL: &'static [AuditAction] = &[
        AuditAction::PersonRead,
        AuditAction::PersonCreated,
        AuditAction::PersonUpdated,
        AuditAction::PeopleListed,
        AuditAction::PeopleSearched,
        AuditAction::PersonAuditRead,
        AuditAction::OrgAuditRead,
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignOut,
        AuditAction::PasswordChanged,
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::AggregatesRead,
        AuditAction::AssessmentStarted,
        AuditAction::AssessmentAnswered,
        AuditAction::AssessmentCompleted,
        AuditAction::AssessmentRead,
        AuditAction::OutreachListed,
        AuditAction::InstrumentImported,
        AuditAction::AssessmentsRescored,
        AuditAction::SettingChanged,
        AuditAction::UtilisationImported,
        AuditAction::OutcomesEvaluated,
        AuditAction::GroupCreated,
        AuditAction::GroupUpdated,
        AuditAction::GroupSessionChanged,
        AuditAction::DoorSignIn,
        AuditAction::DoorListRead,
        AuditAction::GroupJoined,
        AuditAction::GroupSessionBooked,
        AuditAction::BookingCancelled,
        AuditAction::AttendanceRead,
        AuditAction::RotaChanged,
        AuditAction::TrainingRecorded,
        AuditAction::ActivitySignUp,
        AuditAction::PeerSupportReportRead,
        AuditAction::CourseChanged,
        AuditAction::CourseEnrolled,
        AuditAction::CourseWithdrawn,
        AuditAction::CoursePromoted,
        AuditAction::EnrolmentsRead,
        AuditAction::AttendanceRecorded,
        AuditAction::CourseFeedbackGiven,
        AuditAction::CourseProgressSaved,
        AuditAction::ReferralCreated,
        AuditAction::ReferralChanged,
        AuditAction::CoachingRead,
        AuditAction::CoachingQueueRead,
        AuditAction::SessionBooked,
        AuditAction::SessionRecorded,
        AuditAction::GoalChanged,
        AuditAction::EpisodeDischarged,
        AuditAction::EpisodeReopened,
        AuditAction::CoachProfileChanged,
        AuditAction::CalendarFeedChanged,
        AuditAction::CalendarFeedRead,
        AuditAction::CaseloadRead,
        AuditAction::ServiceCreated,
        AuditAction::ServiceUpdated,
        AuditAction::ServiceReferralCreated,
        AuditAction::ServiceReferralUpdated,
        AuditAction::ServiceReferralsRead,
        AuditAction::OverdueReferralsListed,
        AuditAction::CarePlanRead,
        AuditAction::CarePlanSaved,
        AuditAction::CarePlanDownloaded,
        AuditAction::PageRefused,
    ];
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::PersonRead => "person.read",
            AuditAction::PersonCreated => "person.create",
            AuditAction::PersonUpdated => "person.update",
            AuditAction::PeopleListed => "people.list",
            AuditAction::PeopleSearched => "people.search",
            AuditAction::PersonAuditRead => "person.audit.read",
            AuditAction::OrgAuditRead => "audit.read",
            AuditAction::SignIn => "session.sign_in",
            AuditAction::SignInFailed => "session.sign_in_failed",
            AuditAction::SignOut => "session.sign_out",
            AuditAction::PasswordChanged => "user.password_change",
            AuditAction::UserCreated => "user.create",
            AuditAction::UserUpdated => "user.update",
            AuditAction::AggregatesRead => "aggregates.read",
            AuditAction::AssessmentStarted => "assessment.start",
            AuditAction::AssessmentAnswered => "assessment.answer",
            AuditAction::AssessmentCompleted => "assessment.complete",
            AuditAction::AssessmentRead => "assessment.read",
            AuditAction::OutreachListed => "outreach.list",
            AuditAction::InstrumentImported => "instrument.import",
            AuditAction::AssessmentsRescored => "assessment.rescore",
            AuditAction::SettingChanged => "setting.change",
            AuditAction::UtilisationImported => "utilisation.import",
            AuditAction::OutcomesEvaluated => "outcomes.evaluate",
            AuditAction::GroupCreated => "group.create",
            AuditAction::GroupUpdated => "group.update",
            AuditAction::GroupSessionChanged => "group_session.change",
            AuditAction::DoorSignIn => "group_session.sign_in",
            AuditAction::DoorListRead => "group_session.door_read",
            AuditAction::GroupJoined => "group.join",
            AuditAction::GroupSessionBooked => "group_session.book",
            AuditAction::BookingCancelled => "group_session.cancel_booking",
            AuditAction::AttendanceRead => "attendance.read",
            AuditAction::RotaChanged => "rota.change",
            AuditAction::TrainingRecorded => "training.record",
            AuditAction::ActivitySignUp => "group_activity.sign_up",
            AuditAction::PeerSupportReportRead => "peer_support_report.read",
            AuditAction::CourseChanged => "course.change",
            AuditAction::CourseEnrolled => "course.enrol",
            AuditAction::CourseWithdrawn => "course.withdraw",
            AuditAction::CoursePromoted => "course.promote",
            AuditAction::EnrolmentsRead => "course.enrolments.read",
            AuditAction::AttendanceRecorded => "course.attendance",
            AuditAction::CourseFeedbackGiven => "course.feedback",
            AuditAction::CourseProgressSaved => "course.progress",
            AuditAction::ReferralCreated => "coaching.referral.create",
            AuditAction::ReferralChanged => "coaching.referral.update",
            AuditAction::CoachingRead => "coaching.read",
            AuditAction::CoachingQueueRead => "coaching.queue.read",
            AuditAction::SessionBooked => "coaching.session.book",
            AuditAction::SessionRecorded => "coaching.session.record",
            AuditAction::GoalChanged => "coaching.goal.update",
            AuditAction::EpisodeDischarged => "coaching.episode.discharge",
            AuditAction::EpisodeReopened => "coaching.episode.reopen",
            AuditAction::CoachProfileChanged => "coaching.coach.update",
            AuditAction::CalendarFeedChanged => "coaching.calendar.update",
            AuditAction::CalendarFeedRead => "coaching.calendar.read",
            AuditAction::CaseloadRead => "coaching.caseload.read",
            AuditAction::ServiceCreated => "service.create",
            AuditAction::ServiceUpdated => "service.update",
            AuditAction::ServiceReferralCreated => "service_referral.create",
            AuditAction::ServiceReferralUpdated => "service_referral.update",
            AuditAction::ServiceReferralsRead => "service_referral.read",
            AuditAction::OverdueReferralsListed => "service_referral.overdue",
            AuditAction::CarePlanRead => "care_plan.read",
            AuditAction::CarePlanSaved => "care_plan.save",
            AuditAction::CarePlanDownloaded => "care_plan.download",
            AuditAction::PageRefused => "page.refused",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.code() == s)
    }
    /// Plain-English description for the access history page.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::PersonRead => "Viewed record",
            AuditAction::PersonCreated => "Registered person",
            AuditAction::PersonUpdated => "Changed record",
            AuditAction::PeopleListed => "Viewed people list",
            AuditAction::PeopleSearched => "Searched people",
            AuditAction::PersonAuditRead => "Viewed access history",
            AuditAction::OrgAuditRead => "Viewed audit log",
            AuditAction::SignIn => "Signed in",
            AuditAction::SignInFailed => "Failed sign-in",
            AuditAction::SignOut => "Signed out",
            AuditAction::PasswordChanged => "Changed password",
            AuditAction::UserCreated => "Created user",
            AuditAction::UserUpdated => "Changed user",
            AuditAction::AggregatesRead => "Viewed statistics",
            AuditAction::AssessmentStarted => "Started a questionnaire",
            AuditAction::AssessmentAnswered => "Saved a questionnaire answer",
            AuditAction::AssessmentCompleted => "Completed a questionnaire",
            AuditAction::AssessmentRead => "Viewed a questionnaire result",
            AuditAction::OutreachListed => "Viewed an outreach list",
            AuditAction::InstrumentImported => "Loaded an instrument",
            AuditAction::AssessmentsRescored => "Re-scored questionnaires",
            AuditAction::SettingChanged => "Changed a setting",
            AuditAction::UtilisationImported => "Imported utilisation data",
            AuditAction::OutcomesEvaluated => "Ran an outcome evaluation",
            AuditAction::GroupCreated => "Created a peer-support group",
            AuditAction::GroupUpdated => "Changed a peer-support group",
            AuditAction::GroupSessionChanged => "Cancelled or moved a group session",
            AuditAction::DoorSignIn => "Signed in at a group session",
            AuditAction::DoorListRead => "Viewed a session's door list",
            AuditAction::GroupJoined => "Joined a peer-support group",
            AuditAction::GroupSessionBooked => "Booked a group session",
            AuditAction::BookingCancelled => "Cancelled a group session booking",
            AuditAction::AttendanceRead => "Viewed attendance history",
            AuditAction::RotaChanged => "Changed a session rota",
            AuditAction::TrainingRecorded => "Recorded training",
            AuditAction::ActivitySignUp => "Signed up for a session activity",
            AuditAction::PeerSupportReportRead => "Viewed the peer-support report",
            AuditAction::CourseChanged => "Changed a course",
            AuditAction::CourseEnrolled => "Enrolled on a course",
            AuditAction::CourseWithdrawn => "Withdrew from a course",
            AuditAction::CoursePromoted => "Offered a place from a waiting list",
            AuditAction::EnrolmentsRead => "Viewed course enrolments",
            AuditAction::AttendanceRecorded => "Recorded course attendance",
            AuditAction::CourseFeedbackGiven => "Gave course feedback",
            AuditAction::CourseProgressSaved => "Saved online course progress",
            AuditAction::ReferralCreated => "Made a referral into coaching",
            AuditAction::ReferralChanged => {
                "Allocated, accepted, declined or withdrew a coaching referral"
            }
            AuditAction::CoachingRead => "Viewed coaching record",
            AuditAction::CoachingQueueRead => "Viewed coaching waiting list",
            AuditAction::SessionBooked => "Booked a coaching session",
            AuditAction::SessionRecorded => "Recorded or cancelled a coaching session",
            AuditAction::GoalChanged => "Changed a goal or its steps",
            AuditAction::EpisodeDischarged => "Ended a coaching episode",
            AuditAction::EpisodeReopened => "Reopened a coaching episode",
            AuditAction::CoachProfileChanged => "Changed a coach's caseload limit or hours",
            AuditAction::CalendarFeedChanged => "Created or revoked a calendar feed address",
            AuditAction::CalendarFeedRead => "Calendar feed read",
            AuditAction::CaseloadRead => "Viewed coaching caseload",
            AuditAction::ServiceCreated => "Added a directory service",
            AuditAction::ServiceUpdated => "Changed a directory service",
            AuditAction::ServiceReferralCreated => "Referred to another service",
            AuditAction::ServiceReferralUpdated => "Recorded a referral step",
            AuditAction::ServiceReferralsRead => "Viewed referrals to other services",
            AuditAction::OverdueReferralsListed => "Viewed overdue referrals",
            AuditAction::CarePlanRead => "Viewed care and support plan",
            AuditAction::CarePlanSaved => "Saved a care and support plan version",
            AuditAction::CarePlanDownloaded => "Downloaded a care and support plan",
            AuditAction::PageRefused => "Refused a page",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Refused,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Refused => "refused",
        }
    }
}

/// An event to append, before the store gives it a sequence number and hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub org_id: OrgId,
    pub actor_user_id: Option<UserId>,
    pub actor_role: Option<Role>,
    pub action: AuditAction,
    pub outcome: Outcome,
    /// Kind of resource touched, e.g. `person`, `user`, `organisation`.
    pub resource_type: &'static str,
    pub resource_id: Option<String>,
    /// Whose record, when the event concerns a person.
    pub person_id: Option<PersonId>,
    /// Where from: the client address as the server saw it.
    pub source: Option<String>,
    /// A short non-clinical note (e.g. the refusal reason, the fields changed).
    pub detail: Option<String>,
}

/// A stored entry: an event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub org_id: String,
    pub seq: i64,
    pub at: Timestamp,
    pub actor_user_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub outcome: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub person_id: Option<String>,
    pub source: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Builds the entry that follows `prev_hash` at position `seq`, hashing it.
    pub fn chain(event: &AuditEvent, seq: i64, at: Timestamp, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            org_id: event.org_id.as_text(),
            seq,
            at,
            actor_user_id: event.actor_user_id.map(|u| u.as_text()),
            actor_role: event.actor_role.map(|r| r.code().to_string()),
            action: event.action.code().to_string(),
            outcome: event.outcome.code().to_string(),
            resource_type: event.resource_type.to_string(),
            resource_id: event.resource_id.clone(),
            person_id: event.person_id.map(|p| p.as_text()),
            source: event.source.clone(),
            detail: event.detail.clone(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// SHA-256 over the previous hash and every field, each length-prefixed so that no two
    /// different entries serialise to the same bytes.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |s: Option<&str>| match s {
            None => h.update(b"\xff"),
            Some(v) => {
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
        };
        field(Some(&self.prev_hash));
        field(Some(&self.org_id));
        field(Some(&self.seq.to_string()));
        field(Some(&self.at.0.to_string()));
        field(self.actor_user_id.as_deref());
        field(self.actor_role.as_deref());
        field(Some(&self.action));
        field(Some(&self.outcome));
        field(Some(&self.resource_type));
        field(self.resource_id.as_deref());
        field(self.person_id.as_deref());
        field(self.source.as_deref());
        field(self.detail.as_deref());
        hex::encode(h.finalize())
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("entry {seq}: its hash does not match its contents (the entry was altered)")]
    HashMismatch { seq: i64 },
    #[error("entry {seq}: it does not follow the previous entry's hash (an entry before it was removed, altered or reordered)")]
    BrokenLink { seq: i64 },
    #[error("entry {seq}: expected sequence number {expected} (an entry is missing)")]
    Gap { seq: i64, expected: i64 },
    #[error("entry {first_missing}: missing — the chain ends at entry {last} but its head records {head} entries (the tail was removed)")]
    Truncated {
        last: i64,
        head: i64,
        first_missing: i64,
    },
}

/// Checks entries of one organisation in sequence order, starting from the genesis hash.
/// Returns the number of entries checked, or the first broken entry.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<u64, ChainError> {
    let mut verifier = ChainVerifier::default();
    for e in entries {
        verifier.push(e)?;
    }
    Ok(verifier.checked)
}

/// Incremental chain checking, for streaming a long log without holding it in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    expected_seq: i64,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS_HASH.to_string(),
            expected_seq: 1,
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainError> {
        if e.seq != self.expected_seq {
            return Err(ChainError::Gap {
                seq: e.seq,
                expected: self.expected_seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainError::BrokenLink { seq: e.seq });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainError::HashMismatch { seq: e.seq });
        }
        self.prev_hash = e.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let org = OrgId::new();
        let mut prev = GENESIS_HASH.to_string();
        (1..=n as i64)
            .map(|seq| {
                let ev = AuditEvent {
                    org_id: org,
                    actor_user_id: Some(UserId::new()),
                    actor_role: Some(Role::Coordinator),
                    action: AuditAction::PersonRead,
                    outcome: Outcome::Allowed,
                    resource_type: "person",
                    resource_id: Some(PersonId::new().as_text()),
                    person_id: None,
                    source: Some("127.0.0.1".into()),
                    detail: None,
                };
                let e = AuditEntry::chain(&ev, seq, Timestamp(seq * 1000), &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(5)), Ok(5));
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn altered_entry_is_named() {
        let mut c = chain(5);
        c[2].detail = Some("edited".into());
        assert_eq!(verify_chain(&c), Err(ChainError::HashMismatch { seq: 3 }));
    }

    #[test]
    fn rehashed_alteration_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].outcome = "refused".into();
        c[2].hash = c[2].compute_hash();
        assert_eq!(verify_chain(&c), Err(ChainError::BrokenLink { seq: 4 }));
    }

    #[test]
    fn removed_entry_is_a_gap() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify_chain(&c),
            Err(ChainError::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn action_codes_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_code(a.code()), Some(*a));
        }
    }
}
