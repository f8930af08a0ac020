//! Identifier newtypes. Every key is a UUID so that rows can be created anywhere and the
//! schema can be distributed by organisation; ids are never sequences.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random (time-ordered v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// The canonical hyphenated lower-case text form used in URLs and the database.
            pub fn as_text(&self) -> String {
                self.0.hyphenated().to_string()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    OrgId,
    "An organisation (tenant): a Primary Care Network, a charity, a trust."
);
id_type!(PersonId, "A person with one or more long-term conditions.");
id_type!(
    UserId,
    "A user account (staff, volunteer, analyst or the person themselves)."
);
id_type!(
    InstrumentId,
    "One stored version of an instrument definition in an organisation."
);
id_type!(
    AssessmentId,
    "One completion (or attempt) of a questionnaire by or for a person."
);
id_type!(
    GroupId,
    "A peer-support group (its sessions follow from its recurrence rule)."
);
id_type!(
    ServiceId,
    "An entry in an organisation's directory of services."
);
id_type!(
    ServiceReferralId,
    "A referral of a person to a service in the directory."
);
id_type!(
    ProgrammeId,
    "A self-management education programme in an organisation's catalogue."
);
id_type!(RunId, "One cohort (course run) of an education programme.");
id_type!(
    PageId,
    "One content page of an online self-paced programme."
);
id_type!(ReferralId, "A referral into health coaching.");
id_type!(
    EpisodeId,
    "A coaching episode: from acceptance to discharge."
);
id_type!(SessionId, "One booked coaching session.");
id_type!(GoalId, "A goal in the person's own words.");
id_type!(StepId, "One small step of a goal's action plan.");
