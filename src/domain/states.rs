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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
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

text_enum! {
    /// What an outgoing mail is for.
    OutboxKind("outgoing mail kind") {
        /// A report sent on to whoever handles it, with its copies.
        Routing = "routing",
        /// An answer to the reporter that the report was received.
        Acknowledgement = "acknowledgement",
        /// An answer asking the reporter for missing details.
        RequestInfo = "request-info",
        /// A suspected incident, to the helpdesk.
        Incident = "incident",
        /// An operational alert, to the operators.
        Alert = "alert",
        /// A privacy incident, to the data-protection contacts.
        Privacy = "privacy",
        /// A privacy incident's notification deadline is near.
        PrivacyDeadline = "privacy-deadline",
        /// The one reminder to send the vendor's case number.
        VendorReminder = "vendor-reminder",
        /// To the reporter: the fault is resolved.
        Resolved = "resolved",
        /// A contact's question, to the reporter.
        Question = "question",
        /// The reporter's answer to a question, to the contacts.
        Answer = "answer",
        /// A privacy incident, to the vendor as data processor.
        PrivacyVendorAlert = "privacy-vendor-alert",
    }
}

impl OutboxKind {
    /// An automatic answer to a reporter (marked so, and counted by the reply caps).
    pub fn is_auto_reply(self) -> bool {
        matches!(self, OutboxKind::Acknowledgement | OutboxKind::RequestInfo)
    }
}

text_enum! {
    /// Where an outgoing mail stands.
    OutboxStatus("outgoing mail status") {
        /// Waiting to be sent (or for its next attempt).
        Queued = "queued",
        Sent = "sent",
        /// Given up after the last attempt, or refused for good.
        Failed = "failed",
        /// Removed by retention or erasure before it was sent.
        Withdrawn = "withdrawn",
        /// Recorded by an instance started with `--dry-run`: never sent.
        DryRun = "dry-run",
    }
}

text_enum! {
    /// A privacy incident's stage, in the vendor's process order.
    PrivacyStage("privacy stage") {
        AlertReceived = "alert-received",
        Assessing = "assessing",
        Review = "review",
        Closed = "closed",
    }
}

impl PrivacyStage {
    /// The stage after this one, if any.
    pub fn next(self) -> Option<PrivacyStage> {
        let i = PrivacyStage::ALL.iter().position(|s| *s == self)?;
        PrivacyStage::ALL.get(i + 1).copied()
    }
}

text_enum! {
    /// A confirmed incident's public status, as the status page shows it.
    IncidentStatus("incident status") {
        Investigating = "investigating",
        Identified = "identified",
        Monitoring = "monitoring",
        Resolved = "resolved",
    }
}

/// What an incident moved to, as one line of its timeline records it: its public status once it
/// has one, its state before that (the two sets share no text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentStep {
    State(IncidentState),
    Status(IncidentStatus),
}

impl IncidentStep {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStep::State(s) => s.as_str(),
            IncidentStep::Status(s) => s.as_str(),
        }
    }
}

impl fmt::Display for IncidentStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IncidentStep {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        s.parse()
            .map(IncidentStep::Status)
            .or_else(|_| s.parse().map(IncidentStep::State))
            .map_err(|_| UnknownValue { kind: "incident step", value: s.to_string() })
    }
}
