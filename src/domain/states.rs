//! States and kinds that records move through, each a closed set of values with one text form:
//! what is stored, shown in URLs and forms, and written to JSON.

use std::fmt;

/// A text that names none of a type's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// An enum whose values each have one text form, with `as_str`, `ALL`, `Display`, `FromStr` and
/// serde in that form.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident ($what:literal) { $($(#[$vm:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with the stored text (tests and tools read rows and compare them with it).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(UnknownValue { kind: $what, value: s.to_string() }),
                }
            }
        }
    };
}

text_enum! {
    /// Where a ticket stands.
    TicketStatus("ticket status") {
        /// Held until the reporter sends the missing details.
        AwaitingInfo = "awaiting-info",
        /// Sent to the helpdesk for manual triage.
        Triage = "triage",
        Routed = "routed",
        Resolved = "resolved",
    }
}

text_enum! {
    /// Whether a recorded mail came in or went out.
    Direction("mail direction") {
        In = "in",
        Out = "out",
    }
}

text_enum! {
    /// How far a group of reports of the same fault has come.
    IncidentState("incident state") {
        /// Reports grouped as the same fault, not (yet) enough to suspect an incident.
        Group = "group",
        Suspected = "suspected",
        /// Staff confirmed it: shown on the status page.
        Confirmed = "confirmed",
        /// Staff found the reports are not one fault; they are not grouped again.
        Dismissed = "dismissed",
    }
}

text_enum! {
    /// What a staff account may do.
    Role("staff role") {
        Admin = "admin",
        Helpdesk = "helpdesk",
        /// Sees only its own municipality's tickets.
        Municipal = "municipal",
        Privacy = "privacy",
    }
}

text_enum! {
    /// What became of a recorded mail.
    Verdict("message verdict") {
        /// Taken in, not yet a ticket or a reply (kept so if handling it failed).
        Pending = "pending",
        Ignored = "ignored",
        /// Could not be read or fetched; kept for the helpdesk to look at.
        Quarantined = "quarantined",
        /// Opened a ticket.
        Ticket = "ticket",
        /// Joined an existing ticket.
        Reply = "reply",
        /// A copy of mail we sent.
        Outbound = "outbound",
    }
}
