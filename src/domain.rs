//! The shared vocabulary of routedesk: what kind of fault a report is, and which details it must carry.

use serde::{Deserialize, Serialize};
use std::fmt;

pub mod event;
mod states;
pub mod ticket_number;

pub use states::{
    Direction, IncidentState, IncidentStatus, IncidentStep, OutboxKind, OutboxStatus, PrivacyStage, Role, TicketStatus,
    UnknownValue, Verdict,
};

/// What kind of fault a report describes, which decides where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A fault of the program or of the subject matter: goes to the municipality's system administrator.
    Application,
    /// Operations or other IT-technical fault: goes to local IT or the central helpdesk.
    Operations,
    /// Passwords and access rights: handled locally.
    Access,
    /// Not enough evidence: the helpdesk triages it by hand.
    Unclassified,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Application, Class::Operations, Class::Access, Class::Unclassified];
    /// The classes a classifier can decide on (everything but `Unclassified`).
    pub const DECIDABLE: [Class; 3] = [Class::Application, Class::Operations, Class::Access];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Application => "application",
            Class::Operations => "operations",
            Class::Access => "access",
            Class::Unclassified => "unclassified",
        }
    }

    /// The Norwegian label shown to people.
    pub fn label_nb(self) -> &'static str {
        match self {
            Class::Application => "programfeil / faglig feil",
            Class::Operations => "drift / IT-teknisk feil",
            Class::Access => "passord og tilganger",
            Class::Unclassified => "ikke klassifisert",
        }
    }
}

impl std::str::FromStr for Class {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Class, UnknownValue> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue { kind: "fault class", value: s.into() })
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detail the support routine requires in every fault report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    Screenshot,
    Phone,
    Mobile,
    Email,
}

impl Detail {
    pub const ALL: [Detail; 4] = [Detail::Screenshot, Detail::Phone, Detail::Mobile, Detail::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Screenshot => "screenshot",
            Detail::Phone => "phone",
            Detail::Mobile => "mobile",
            Detail::Email => "email",
        }
    }

    /// How the detail is named to a Norwegian reporter.
    pub fn label_nb(self) -> &'static str {
        match self {
            Detail::Screenshot => "skjermdump (skjermbilde) av feilen",
            Detail::Phone => "telefonnummer (fasttelefon / direktenummer)",
            Detail::Mobile => "mobilnummer",
            Detail::Email => "din egen e-postadresse",
        }
    }

    pub fn parse(s: &str) -> Option<Detail> {
        Detail::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
