//! Roles a user account can hold. A role says what kind of work someone does; what they may
//! see is decided by [`crate::access::decide`] from the role *and* their relationship to a record.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Coordinator,
    HealthCoach,
    Educator,
    PeerSupportLead,
    Volunteer,
    Analyst,
    /// The person themselves, signed in to an account linked to their own record.
    Person,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Administrator,
        Role::Coordinator,
        Role::HealthCoach,
        Role::Educator,
        Role::PeerSupportLead,
        Role::Volunteer,
        Role::Analyst,
        Role::Person,
    ];

    /// Stable code used in the database, the CLI and URLs.
    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Coordinator => "coordinator",
            Role::HealthCoach => "health_coach",
            Role::Educator => "educator",
            Role::PeerSupportLead => "peer_support_lead",
            Role::Volunteer => "volunteer",
            Role::Analyst => "analyst",
            Role::Person => "person",
        }
    }

    /// Plain-English name for pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Coordinator => "Care coordinator",
            Role::HealthCoach => "Health and wellbeing coach",
            Role::Educator => "Educator",
            Role::PeerSupportLead => "Peer support lead",
            Role::Volunteer => "Volunteer",
            Role::Analyst => "Analyst",
            Role::Person => "Person with a long-term condition",
        }
    }

    /// Staff roles are every role except the person's own account.
    pub fn is_staff(self) -> bool {
        self != Role::Person
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected one of administrator, coordinator, health_coach, educator, peer_support_lead, volunteer, analyst, person")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
