//! Who may do what to which record: the one place access is decided.
//!
//! Every route asks [`decide`] (or [`people_scope`] for lists) before it reads or changes
//! anything. Decisions use the actor's role *and* their relationship to the record: a coach
//! sees the people on their caseload, a volunteer sees only first names for the sessions they
//! help at, an analyst sees no identities, a person sees only their own record. Anything not
//! explicitly allowed here is refused (default deny). This module must never look anything up:
//! the caller supplies the relationship facts.

use crate::ids::{OrgId, PersonId, UserId};
use crate::role::Role;
use serde::Serialize;

/// The signed-in user as the access rules see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    /// For a person's own account: the record it is linked to.
    pub person_id: Option<PersonId>,
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See the people list or search it (what the list shows is narrowed by [`people_scope`]).
    ListPeople,
    RegisterPerson,
    ReadPerson,
    EditPerson,
    /// See who has read or changed a person's record.
    ReadPersonAudit,
    /// See the organisation's whole audit log.
    ReadOrgAudit,
    ManageUsers,
    /// Aggregate, de-identified statistics.
    ReadAggregates,
    /// First names of the people signed in to a session the actor helps at.
    ReadSessionFirstNames,
    /// Record or take an activation questionnaire for a person (and read its results).
    RecordAssessment,
    /// Record answers a person gave elsewhere (in person, by telephone, on paper): staff only.
    RecordAssessmentOnBehalf,
    /// Lists of people to contact: due for re-measurement, outreach by activation.
    ReadOutreach,
    /// Load, replace and re-score instrument definitions; change organisation settings.
    ManageInstruments,
    /// See the peer-support groups and their sessions (no one's identity).
    FindGroups,
    /// Create and change peer-support groups, cancel or move sessions, keep rotas and training.
    ManageGroups,
    /// Sign people in at a session's door: first names and what the session needs, nothing more.
    SignInAtDoor,
    /// Join a group, book or cancel a session place (for one's own record).
    BookGroups,
    /// A person's attendance history (groups joined, sessions booked and attended).
    ReadAttendance,
    /// Peer-support reach and attendance, de-identified.
    ReadPeerSupportReport,
    /// Browse the self-management education catalogue and its course runs (no names).
    BrowseCourses,
    /// Add and change programmes, course runs and online content.
    ManageCourses,
    /// Enrol a person on a course run (or put them on its waiting list), or withdraw them.
    EnrolOnCourse,
    /// See a person's course enrolments, attendance and online progress.
    ReadEnrolments,
    /// See who is enrolled on or waiting for a run, take its register, read its feedback.
    ReadCourseRoster,
    /// Give feedback on a course, or save progress through an online programme.
    TakePartInCourse,
    /// Refer a person into health coaching (a person may refer themselves).
    ReferToCoaching,
    /// Run the coaching waiting list: allocate, set coaches' limits and hours, add sessions
    /// beyond the maximum, reopen episodes.
    ManageCoachingQueue,
    /// See a person's coaching: episodes, sessions, notes, goals (a person sees their own,
    /// with only the notes their coach shared).
    ReadCoaching,
    /// Book and record sessions, set goals, discharge: the coaching team's work.
    ManageCoaching,
    /// Change goals and their steps (the coaching team, or the person between sessions).
    UpdateGoals,
    /// A coach's own caseload view and calendar feed.
    OwnCaseload,
    /// Search and read the directory of services (not personal data).
    SearchDirectory,
    /// Add and change entries in the directory of services.
    ManageDirectory,
    /// Read a person's care and support plan (and its versions) and their referrals to other
    /// services.
    ReadCarePlan,
    /// Save a new version of a person's care and support plan.
    EditCarePlan,
    /// Create referrals to other services for a person and record their steps.
    ManageServiceReferrals,
    /// The organisation-wide list of overdue referrals to other services (names people).
    ReadOverdueReferrals,
    /// Book (or cancel) a place at a group session for a registered person, on their behalf.
    BookGroupsOnBehalf,
    /// Accept or decline a coaching referral allocated to oneself.
    DecideCoachingReferral,
    /// Withdraw a coaching referral that is waiting or allocated.
    WithdrawCoachingReferral,
    /// Read the coaching team's session notes that were not shared with the person (the
    /// person sees only the notes their coach shared).
    ReadPrivateCoachingNotes,
}

/// Facts about a person's record relevant to access, looked up by the store from the data
/// (never built by a page): which facts an action needs is said by [`facts_needed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonRelation {
    pub org_id: OrgId,
    pub person_id: PersonId,
    /// The actor is a coach with this person on their caseload.
    pub on_caseload: bool,
    /// The actor is on the rota of a peer-support session this person booked or attended.
    pub helps_at_session: bool,
    /// The actor facilitates a course run this person is enrolled on or waiting for.
    pub facilitates_course: bool,
}

impl PersonRelation {
    /// A relation with no facts true: the record is in `org_id` and that is all.
    pub const fn none(org_id: OrgId, person_id: PersonId) -> PersonRelation {
        PersonRelation {
            org_id,
            person_id,
            on_caseload: false,
            helps_at_session: false,
            facilitates_course: false,
        }
    }
}

/// Facts about a coaching referral relevant to access, looked up by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralRelation {
    pub org_id: OrgId,
    /// The person the referral is about.
    pub person_id: PersonId,
    /// The referral names the actor as the coach it was allocated to (whether it still waits
    /// for their decision is for the use case to check, and to say).
    pub allocated_to_actor: bool,
}

/// Which relationship facts a decision for `role` doing `action` reads, so the store loads
/// only those (each is a query).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactsNeeded {
    pub caseload: bool,
    pub session: bool,
    pub course: bool,
}

/// The facts [`decide`] reads for this role and action (anything else it ignores).
pub fn facts_needed(role: Role, action: Action) -> FactsNeeded {
    match (role, action) {
        (Role::HealthCoach, _) => FactsNeeded {
            caseload: true,
            ..FactsNeeded::default()
        },
        (
            Role::Volunteer | Role::PeerSupportLead | Role::Educator,
            Action::ReadSessionFirstNames,
        ) => FactsNeeded {
            session: true,
            ..FactsNeeded::default()
        },
        (Role::Educator, Action::ReadEnrolments) => FactsNeeded {
            course: true,
            ..FactsNeeded::default()
        },
        _ => FactsNeeded::default(),
    }
}

/// Facts about one peer-support session relevant to access, looked up by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRelation {
    pub org_id: OrgId,
    /// The actor has an entry on this session's rota.
    pub on_rota: bool,
}

/// What the action is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Something organisation-wide (lists, user administration, aggregates).
    Org(OrgId),
    Person(PersonRelation),
    /// One session of a peer-support group (the door).
    Session(SessionRelation),
    /// One coaching referral.
    Referral(ReferralRelation),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Why, in a few words, for the audit log.
    pub reason: &'static str,
}

const fn allow(reason: &'static str) -> Decision {
    Decision {
        allowed: true,
        reason,
    }
}
const fn deny(reason: &'static str) -> Decision {
    Decision {
        allowed: false,
        reason,
    }
}

/// Decides whether `actor` may perform `action` on `target`. Default deny.
pub fn decide(actor: &Actor, action: Action, target: Target) -> Decision {
    let target_org = match target {
        Target::Org(o) => o,
        Target::Person(p) => p.org_id,
        Target::Session(s) => s.org_id,
        Target::Referral(r) => r.org_id,
    };
    if target_org != actor.org_id {
        return deny("record belongs to another organisation");
    }
    use Action::*;
    use Role::*;
    match (action, actor.role, target) {
        (ListPeople, Administrator | Coordinator | HealthCoach, Target::Org(_)) => {
            allow("staff role with a people list")
        }
        (RegisterPerson, Coordinator | HealthCoach, Target::Org(_)) => allow("may register people"),
        (ReadPerson, Administrator | Coordinator, Target::Person(_)) => {
            allow("organisation-wide role")
        }
        (ReadPerson | EditPerson, HealthCoach, Target::Person(p)) => {
            if p.on_caseload {
                allow("person is on the coach's caseload")
            } else {
                deny("person is not on the coach's caseload")
            }
        }
        (EditPerson, Coordinator, Target::Person(_)) => allow("coordinator"),
        (ReadPerson, Person, Target::Person(p)) => {
            if actor.person_id == Some(p.person_id) {
                allow("the person's own record")
            } else {
                deny("not the person's own record")
            }
        }
        (ReadSessionFirstNames, Volunteer | PeerSupportLead | Educator, Target::Person(p)) => {
            if p.helps_at_session {
                allow("helps at a session the person attends")
            } else {
                deny("does not help at a session the person attends")
            }
        }
        (RecordAssessment | RecordAssessmentOnBehalf, Coordinator, Target::Person(_)) => {
            allow("coordinator")
        }
        (RecordAssessment | RecordAssessmentOnBehalf, HealthCoach, Target::Person(p)) => {
            if p.on_caseload {
                allow("person is on the coach's caseload")
            } else {
                deny("person is not on the coach's caseload")
            }
        }
        (RecordAssessment, Person, Target::Person(p)) => {
            if actor.person_id == Some(p.person_id) {
                allow("the person's own questionnaire")
            } else {
                deny("not the person's own record")
            }
        }
        (
            ReferToCoaching | ReadCoaching | ManageCoaching | UpdateGoals,
            Coordinator,
            Target::Person(_),
        ) => allow("coordinator"),
        (
            ReferToCoaching | ReadCoaching | ManageCoaching | UpdateGoals,
            HealthCoach,
            Target::Person(p),
        ) => {
            if p.on_caseload {
                allow("person is on the coach's caseload")
            } else {
                deny("person is not on the coach's caseload")
            }
        }
        (ReferToCoaching | ReadCoaching | UpdateGoals, Person, Target::Person(p)) => {
            if actor.person_id == Some(p.person_id) {
                allow("the person's own coaching")
            } else {
                deny("not the person's own record")
            }
        }
        (ManageCoachingQueue, Coordinator, Target::Org(_)) => allow("coordinator"),
        (OwnCaseload, HealthCoach, Target::Org(_)) => allow("health coach"),
        (ReadOutreach, Coordinator | Administrator, Target::Org(_)) => allow("coordination role"),
        (ManageInstruments, Administrator, Target::Org(_)) => allow("administrator"),
        (ReadPersonAudit, Administrator | Coordinator, Target::Person(_)) => {
            allow("information governance role")
        }
        (ReadOrgAudit, Administrator, Target::Org(_)) => allow("administrator"),
        (SearchDirectory, _, Target::Org(_)) => {
            allow("the directory is open to everyone in the organisation")
        }
        (ManageDirectory, Administrator | Coordinator, Target::Org(_)) => {
            allow("keeps the directory of services")
        }
        (ReadCarePlan, Administrator | Coordinator, Target::Person(_)) => {
            allow("organisation-wide role")
        }
        (ReadCarePlan, Person, Target::Person(p)) => {
            if actor.person_id == Some(p.person_id) {
                allow("the person's own plan")
            } else {
                deny("not the person's own record")
            }
        }
        (EditCarePlan | ManageServiceReferrals, Coordinator, Target::Person(_)) => {
            allow("coordinator")
        }
        (ReadCarePlan | EditCarePlan | ManageServiceReferrals, HealthCoach, Target::Person(p)) => {
            if p.on_caseload {
                allow("person is on the coach's caseload")
            } else {
                deny("person is not on the coach's caseload")
            }
        }
        (ReadOverdueReferrals, Coordinator | Administrator, Target::Org(_)) => {
            allow("coordination role")
        }
        (ManageUsers, Administrator, Target::Org(_)) => allow("administrator"),
        (ReadAggregates, Administrator | Coordinator | Analyst, Target::Org(_)) => {
            allow("aggregate statistics")
        }
        (FindGroups, _, Target::Org(_)) => allow("group listings name no one"),
        (ManageGroups, Administrator | Coordinator | PeerSupportLead, Target::Org(_)) => {
            allow("runs peer support")
        }
        (
            SignInAtDoor,
            Administrator | Coordinator | PeerSupportLead,
            Target::Org(_) | Target::Session(_),
        ) => allow("helps run sessions"),
        // A volunteer may use the door in general (to be offered it), but at a given session
        // only if they are on its rota.
        (SignInAtDoor, Volunteer, Target::Org(_)) => allow("volunteers at sessions"),
        (SignInAtDoor, Volunteer, Target::Session(s)) => {
            if s.on_rota {
                allow("on the rota for this session")
            } else {
                deny("not on the rota for this session")
            }
        }
        (BookGroupsOnBehalf, Coordinator | PeerSupportLead, Target::Org(_) | Target::Person(_)) => {
            allow("books places for people")
        }
        (BookGroups, Person, Target::Person(p)) => {
            if actor.person_id == Some(p.person_id) {
                allow("the person's own bookings")
            } else {
                deny("not the person's own record")
            }
        }
        (BrowseCourses, _, Target::Org(_)) => allow("course catalogue"),
        (
            ManageCourses | ReadCourseRoster,
            Administrator | Coordinator | Educator,
            Target::Org(_),
        ) => allow("runs or coordinates education"),
        (EnrolOnCourse | ReadEnrolments, Coordinator, Target::Person(_)) => allow("coordinator"),
        (ReadEnrolments, Administrator, Target::Person(_)) => allow("organisation-wide role"),
        (EnrolOnCourse | ReadEnrolments, HealthCoach, Target::Person(p)) => {
            if p.on_caseload {
                allow("person is on the coach's caseload")
            } else {
                deny("person is not on the coach's caseload")
            }
        }
        (ReadEnrolments, Educator, Target::Person(p)) => {
            if p.facilitates_course {
                allow("facilitates a course the person is on")
            } else {
                deny("does not facilitate a course the person is on")
            }
        }
        (EnrolOnCourse | ReadEnrolments | TakePartInCourse, Person, Target::Person(p)) => {
            if actor.person_id == Some(p.person_id) {
                allow("the person's own courses")
            } else {
                deny("not the person's own record")
            }
        }
        (ReadAttendance, _, Target::Person(p)) => decide(actor, ReadPerson, Target::Person(p)),
        (
            ReadPeerSupportReport,
            Administrator | Coordinator | PeerSupportLead | Analyst,
            Target::Org(_),
        ) => allow("aggregate statistics"),
        (DecideCoachingReferral, HealthCoach, Target::Referral(r)) => {
            if r.allocated_to_actor {
                allow("the referral is allocated to this coach")
            } else {
                deny("only the allocated coach may accept or decline")
            }
        }
        (DecideCoachingReferral, _, Target::Referral(_)) => {
            deny("only the allocated coach may accept or decline")
        }
        (WithdrawCoachingReferral, Coordinator, Target::Referral(_)) => allow("coordinator"),
        (WithdrawCoachingReferral, Person, Target::Referral(r)) => {
            if actor.person_id == Some(r.person_id) {
                allow("the person's own referral")
            } else {
                deny("only a coordinator or the person may withdraw")
            }
        }
        (WithdrawCoachingReferral, _, Target::Referral(_)) => {
            deny("only a coordinator or the person may withdraw")
        }
        (ReadPrivateCoachingNotes, Coordinator, Target::Person(_)) => allow("coordinator"),
        (ReadPrivateCoachingNotes, HealthCoach, Target::Person(p)) => {
            if p.on_caseload {
                allow("person is on the coach's caseload")
            } else {
                deny("person is not on the coach's caseload")
            }
        }
        (ManageDirectory, _, Target::Org(_)) => deny("role may not change the directory"),
        _ => deny("role does not permit this"),
    }
}

/// Which people a list or search may show to the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeopleScope {
    /// Everyone in the actor's organisation.
    Organisation,
    /// Only the people on this coach's caseload.
    Caseload(UserId),
}

/// The scope of the people list for `actor`, or `None` when they may not see it at all.
pub fn people_scope(actor: &Actor) -> Option<PeopleScope> {
    if !decide(actor, Action::ListPeople, Target::Org(actor.org_id)).allowed {
        return None;
    }
    match actor.role {
        Role::HealthCoach => Some(PeopleScope::Caseload(actor.user_id)),
        _ => Some(PeopleScope::Organisation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: OrgId, person: Option<PersonId>) -> Actor {
        Actor {
            user_id: UserId::new(),
            org_id: org,
            role,
            person_id: person,
        }
    }

    #[test]
    fn matrix_for_reading_a_person() {
        let org = OrgId::new();
        let other = OrgId::new();
        let pid = PersonId::new();
        let rel = |on_caseload| PersonRelation {
            org_id: org,
            person_id: pid,
            on_caseload,
            helps_at_session: false,
            facilitates_course: false,
        };
        // (role, own record?, on caseload?, expected)
        let cases = [
            (Role::Administrator, None, false, true),
            (Role::Coordinator, None, false, true),
            (Role::HealthCoach, None, true, true),
            (Role::HealthCoach, None, false, false),
            (Role::Educator, None, true, false),
            (Role::PeerSupportLead, None, false, false),
            (Role::Volunteer, None, false, false),
            (Role::Analyst, None, false, false),
            (Role::Person, Some(pid), false, true),
            (Role::Person, Some(PersonId::new()), false, false),
        ];
        for (role, own, on, expected) in cases {
            let a = actor(role, org, own);
            assert_eq!(
                decide(&a, Action::ReadPerson, Target::Person(rel(on))).allowed,
                expected,
                "{role:?} on={on}"
            );
            // Nobody reads across organisations, whatever their role or relationship.
            let b = actor(role, other, own);
            assert!(!decide(&b, Action::ReadPerson, Target::Person(rel(true))).allowed);
        }
    }

    #[test]
    fn analysts_never_see_identities_but_see_aggregates() {
        let org = OrgId::new();
        let a = actor(Role::Analyst, org, None);
        assert!(people_scope(&a).is_none());
        assert!(decide(&a, Action::ReadAggregates, Target::Org(org)).allowed);
        assert!(!decide(&a, Action::RegisterPerson, Target::Org(org)).allowed);
    }

    #[test]
    fn coach_lists_only_their_caseload() {
        let org = OrgId::new();
        let c = actor(Role::HealthCoach, org, None);
        assert_eq!(people_scope(&c), Some(PeopleScope::Caseload(c.user_id)));
        let co = actor(Role::Coordinator, org, None);
        assert_eq!(people_scope(&co), Some(PeopleScope::Organisation));
        assert_eq!(people_scope(&actor(Role::Volunteer, org, None)), None);
        assert_eq!(people_scope(&actor(Role::Person, org, None)), None);
    }

    #[test]
    fn assessments_follow_the_relationship() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let rel = |on_caseload| {
            Target::Person(PersonRelation {
                org_id: org,
                person_id: pid,
                on_caseload,
                helps_at_session: false,
                facilitates_course: false,
            })
        };
        assert!(
            decide(
                &actor(Role::Person, org, Some(pid)),
                Action::RecordAssessment,
                rel(false)
            )
            .allowed
        );
        assert!(
            !decide(
                &actor(Role::Person, org, Some(PersonId::new())),
                Action::RecordAssessment,
                rel(false)
            )
            .allowed
        );
        assert!(
            decide(
                &actor(Role::HealthCoach, org, None),
                Action::RecordAssessment,
                rel(true)
            )
            .allowed
        );
        assert!(
            !decide(
                &actor(Role::HealthCoach, org, None),
                Action::RecordAssessment,
                rel(false)
            )
            .allowed
        );
        assert!(
            decide(
                &actor(Role::Coordinator, org, None),
                Action::RecordAssessment,
                rel(false)
            )
            .allowed
        );
        for r in [
            Role::Analyst,
            Role::Volunteer,
            Role::Educator,
            Role::PeerSupportLead,
            Role::Administrator,
        ] {
            assert!(
                !decide(&actor(r, org, None), Action::RecordAssessment, rel(true)).allowed,
                "{r:?}"
            );
        }
    }

    #[test]
    fn peer_support_actions() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let own = Target::Person(PersonRelation {
            org_id: org,
            person_id: pid,
            on_caseload: false,
            helps_at_session: true,
            facilitates_course: true,
        });
        for r in Role::ALL {
            let a = actor(r, org, (r == Role::Person).then_some(pid));
            assert!(decide(&a, Action::FindGroups, Target::Org(org)).allowed);
            assert_eq!(
                decide(&a, Action::ManageGroups, Target::Org(org)).allowed,
                matches!(
                    r,
                    Role::Administrator | Role::Coordinator | Role::PeerSupportLead
                ),
                "{r:?}"
            );
            assert_eq!(
                decide(&a, Action::SignInAtDoor, Target::Org(org)).allowed,
                matches!(
                    r,
                    Role::Administrator
                        | Role::Coordinator
                        | Role::PeerSupportLead
                        | Role::Volunteer
                ),
                "{r:?}"
            );
            assert_eq!(
                decide(&a, Action::BookGroups, own).allowed,
                r == Role::Person
            );
            // A volunteer who signs someone in at the door still may not open their record.
            if r == Role::Volunteer {
                assert!(!decide(&a, Action::ReadPerson, own).allowed);
                assert!(!decide(&a, Action::ReadAttendance, own).allowed);
            }
            // Nothing across organisations.
            assert!(!decide(&a, Action::FindGroups, Target::Org(OrgId::new())).allowed);
        }
        let other = actor(Role::Person, org, Some(PersonId::new()));
        assert!(!decide(&other, Action::BookGroups, own).allowed);
    }

    #[test]
    fn volunteers_use_the_door_only_at_sessions_they_are_on_the_rota_for() {
        let org = OrgId::new();
        let session = |on_rota| {
            Target::Session(SessionRelation {
                org_id: org,
                on_rota,
            })
        };
        let v = actor(Role::Volunteer, org, None);
        assert!(decide(&v, Action::SignInAtDoor, session(true)).allowed);
        assert!(!decide(&v, Action::SignInAtDoor, session(false)).allowed);
        for r in [
            Role::Administrator,
            Role::Coordinator,
            Role::PeerSupportLead,
        ] {
            let a = actor(r, org, None);
            assert!(
                decide(&a, Action::SignInAtDoor, session(false)).allowed,
                "{r:?}"
            );
        }
        for r in [
            Role::HealthCoach,
            Role::Educator,
            Role::Analyst,
            Role::Person,
        ] {
            let a = actor(r, org, None);
            assert!(
                !decide(&a, Action::SignInAtDoor, session(true)).allowed,
                "{r:?}"
            );
        }
        // Another organisation's session: never, rota or not.
        let other = Target::Session(SessionRelation {
            org_id: OrgId::new(),
            on_rota: true,
        });
        assert!(!decide(&v, Action::SignInAtDoor, other).allowed);
        // No other action is granted on a session target.
        assert!(!decide(&v, Action::ManageGroups, session(true)).allowed);
    }

    #[test]
    fn staff_book_group_places_on_someones_behalf() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let person = Target::Person(PersonRelation {
            org_id: org,
            person_id: pid,
            on_caseload: false,
            helps_at_session: false,
            facilitates_course: false,
        });
        for r in Role::ALL {
            let a = actor(r, org, (r == Role::Person).then_some(pid));
            let expected = matches!(r, Role::Coordinator | Role::PeerSupportLead);
            assert_eq!(
                decide(&a, Action::BookGroupsOnBehalf, person).allowed,
                expected,
                "{r:?}"
            );
            assert_eq!(
                decide(&a, Action::BookGroupsOnBehalf, Target::Org(org)).allowed,
                expected,
                "{r:?}"
            );
            let elsewhere = actor(r, OrgId::new(), None);
            assert!(!decide(&elsewhere, Action::BookGroupsOnBehalf, person).allowed);
        }
    }

    #[test]
    fn education_follows_role_and_relationship() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let rel = |on_caseload, shares_session| {
            Target::Person(PersonRelation {
                org_id: org,
                person_id: pid,
                on_caseload,
                helps_at_session: shares_session,
                facilitates_course: shares_session,
            })
        };
        for r in Role::ALL {
            let a = actor(r, org, None);
            assert!(decide(&a, Action::BrowseCourses, Target::Org(org)).allowed);
            assert!(!decide(&a, Action::BrowseCourses, Target::Org(OrgId::new())).allowed);
            let manages = matches!(r, Role::Administrator | Role::Coordinator | Role::Educator);
            assert_eq!(
                decide(&a, Action::ManageCourses, Target::Org(org)).allowed,
                manages,
                "{r:?}"
            );
            assert_eq!(
                decide(&a, Action::ReadCourseRoster, Target::Org(org)).allowed,
                manages,
                "{r:?}"
            );
        }
        let own = actor(Role::Person, org, Some(pid));
        let other = actor(Role::Person, org, Some(PersonId::new()));
        for act in [
            Action::EnrolOnCourse,
            Action::ReadEnrolments,
            Action::TakePartInCourse,
        ] {
            assert!(decide(&own, act, rel(false, false)).allowed);
            assert!(!decide(&other, act, rel(false, false)).allowed);
        }
        let coach = actor(Role::HealthCoach, org, None);
        assert!(decide(&coach, Action::EnrolOnCourse, rel(true, false)).allowed);
        assert!(!decide(&coach, Action::EnrolOnCourse, rel(false, false)).allowed);
        let educator = actor(Role::Educator, org, None);
        assert!(decide(&educator, Action::ReadEnrolments, rel(false, true)).allowed);
        assert!(!decide(&educator, Action::ReadEnrolments, rel(false, false)).allowed);
        assert!(!decide(&educator, Action::EnrolOnCourse, rel(false, true)).allowed);
        for r in [Role::Volunteer, Role::Analyst, Role::PeerSupportLead] {
            let a = actor(r, org, None);
            assert!(
                !decide(&a, Action::ReadEnrolments, rel(true, true)).allowed,
                "{r:?}"
            );
            assert!(
                !decide(&a, Action::EnrolOnCourse, rel(true, true)).allowed,
                "{r:?}"
            );
        }
        assert!(
            !decide(
                &actor(Role::Coordinator, org, None),
                Action::TakePartInCourse,
                rel(true, true)
            )
            .allowed
        );
    }

    #[test]
    fn coaching_follows_the_caseload_and_the_person() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let rel = |on_caseload| {
            Target::Person(PersonRelation {
                org_id: org,
                person_id: pid,
                on_caseload,
                helps_at_session: false,
                facilitates_course: false,
            })
        };
        for action in [
            Action::ReadCoaching,
            Action::ManageCoaching,
            Action::UpdateGoals,
        ] {
            let coach = actor(Role::HealthCoach, org, None);
            assert!(decide(&coach, action, rel(true)).allowed);
            assert!(!decide(&coach, action, rel(false)).allowed);
            assert!(decide(&actor(Role::Coordinator, org, None), action, rel(false)).allowed);
            for r in [
                Role::Analyst,
                Role::Volunteer,
                Role::Educator,
                Role::PeerSupportLead,
                Role::Administrator,
            ] {
                assert!(
                    !decide(&actor(r, org, None), action, rel(true)).allowed,
                    "{r:?} {action:?}"
                );
            }
        }
        let me = actor(Role::Person, org, Some(pid));
        assert!(decide(&me, Action::ReadCoaching, rel(false)).allowed);
        assert!(decide(&me, Action::UpdateGoals, rel(false)).allowed);
        assert!(decide(&me, Action::ReferToCoaching, rel(false)).allowed);
        assert!(!decide(&me, Action::ManageCoaching, rel(false)).allowed);
        let other = actor(Role::Person, org, Some(PersonId::new()));
        assert!(!decide(&other, Action::ReadCoaching, rel(false)).allowed);
        for r in Role::ALL {
            assert_eq!(
                decide(
                    &actor(r, org, None),
                    Action::ManageCoachingQueue,
                    Target::Org(org)
                )
                .allowed,
                r == Role::Coordinator,
                "{r:?}"
            );
        }
    }

    #[test]
    fn care_plans_and_service_referrals_follow_the_relationship() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let rel = |on_caseload| {
            Target::Person(PersonRelation {
                org_id: org,
                person_id: pid,
                on_caseload,
                helps_at_session: false,
                facilitates_course: false,
            })
        };
        let may = |role, person: Option<PersonId>, action, on| {
            decide(&actor(role, org, person), action, rel(on)).allowed
        };
        use Action::*;
        // (role, own person id?, on caseload?, read, edit/manage)
        let cases = [
            (Role::Administrator, None, false, true, false),
            (Role::Coordinator, None, false, true, true),
            (Role::HealthCoach, None, true, true, true),
            (Role::HealthCoach, None, false, false, false),
            (Role::Person, Some(pid), false, true, false),
            (Role::Person, Some(PersonId::new()), false, false, false),
            (Role::Analyst, None, false, false, false),
            (Role::Volunteer, None, true, false, false),
            (Role::Educator, None, false, false, false),
            (Role::PeerSupportLead, None, false, false, false),
        ];
        for (role, person, on, read, edit) in cases {
            assert_eq!(may(role, person, ReadCarePlan, on), read, "{role:?} read");
            assert_eq!(may(role, person, EditCarePlan, on), edit, "{role:?} edit");
            assert_eq!(
                may(role, person, ManageServiceReferrals, on),
                edit,
                "{role:?} referrals"
            );
            // Another organisation's plan: never.
            let other = actor(role, OrgId::new(), person);
            assert!(!decide(&other, ReadCarePlan, rel(true)).allowed);
        }
        for r in Role::ALL {
            let a = actor(r, org, None);
            assert!(decide(&a, SearchDirectory, Target::Org(org)).allowed);
            assert_eq!(
                decide(&a, ManageDirectory, Target::Org(org)).allowed,
                matches!(r, Role::Administrator | Role::Coordinator),
                "{r:?}"
            );
            assert_eq!(
                decide(&a, ReadOverdueReferrals, Target::Org(org)).allowed,
                matches!(r, Role::Administrator | Role::Coordinator),
                "{r:?}"
            );
            assert!(!decide(&a, SearchDirectory, Target::Org(OrgId::new())).allowed);
        }
    }

    #[test]
    fn a_refused_directory_change_says_why() {
        let org = OrgId::new();
        for r in [
            Role::HealthCoach,
            Role::Person,
            Role::Analyst,
            Role::Volunteer,
        ] {
            let d = decide(
                &actor(r, org, None),
                Action::ManageDirectory,
                Target::Org(org),
            );
            assert!(!d.allowed, "{r:?}");
            assert_eq!(d.reason, "role may not change the directory", "{r:?}");
        }
    }

    #[test]
    fn only_administrators_manage_users() {
        let org = OrgId::new();
        for r in Role::ALL {
            let expected = r == Role::Administrator;
            assert_eq!(
                decide(&actor(r, org, None), Action::ManageUsers, Target::Org(org)).allowed,
                expected,
                "{r:?}"
            );
        }
    }

    #[test]
    fn only_the_coaching_team_reads_private_session_notes() {
        let org = OrgId::new();
        let pid = PersonId::new();
        let rel = |on_caseload| {
            Target::Person(PersonRelation {
                on_caseload,
                ..PersonRelation::none(org, pid)
            })
        };
        let may = |role, person, on| {
            decide(
                &actor(role, org, person),
                Action::ReadPrivateCoachingNotes,
                rel(on),
            )
            .allowed
        };
        assert!(may(Role::Coordinator, None, false));
        assert!(may(Role::HealthCoach, None, true));
        assert!(!may(Role::HealthCoach, None, false));
        // The person reads their own coaching, but only the notes their coach shared.
        assert!(!may(Role::Person, Some(pid), false));
        for r in [
            Role::Administrator,
            Role::Analyst,
            Role::Volunteer,
            Role::Educator,
            Role::PeerSupportLead,
        ] {
            assert!(!may(r, None, true), "{r:?}");
        }
        let elsewhere = actor(Role::Coordinator, OrgId::new(), None);
        assert!(!decide(&elsewhere, Action::ReadPrivateCoachingNotes, rel(true)).allowed);
    }
}
