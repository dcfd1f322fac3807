//! Telling someone when routedesk cannot do its job: intake that cannot log in or fetch, a mailbox
//! that has gone quiet in working hours (a mail rule or forwarding changed), mail that does not go
//! out, and a database running out of room. Each condition is evaluated from plain facts
//! ([`evaluate`], pure); [`watch`] gathers the facts, records when a condition starts and ends, and
//! sends one mail each time — never a storm.

mod schedule;
pub mod watch;

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::config::AlertsConfig;
use crate::text::lang::Lang;
pub use schedule::Schedule;

/// What can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// The intake has not logged in or fetched for a while.
    IntakeDown,
    /// No mail has reached the mailbox for a while in working hours.
    NoMail,
    /// Mail has waited in the outbox too long.
    OutboxStuck,
    /// A mail failed for good recently.
    OutboxFailed,
    /// The database is near its size limit, or its disk near full.
    DatabaseFull,
    /// The mailbox was renumbered (a new UIDVALIDITY) in the last day: restored from a backup?
    MailboxRenumbered,
    /// Mail was set aside as unreadable or too large in the last day.
    Quarantined,
    /// Automatic replies were held by the limits, our own mail came back, or a robot answered
    /// our automatic reply, in the last day.
    LoopSuspected,
}

impl Condition {
    pub const ALL: [Condition; 8] = [
        Condition::IntakeDown,
        Condition::NoMail,
        Condition::OutboxStuck,
        Condition::OutboxFailed,
        Condition::DatabaseFull,
        Condition::MailboxRenumbered,
        Condition::Quarantined,
        Condition::LoopSuspected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::IntakeDown => "intake-down",
            Condition::NoMail => "no-mail",
            Condition::OutboxStuck => "outbox-stuck",
            Condition::OutboxFailed => "outbox-failed",
            Condition::DatabaseFull => "database-full",
            Condition::MailboxRenumbered => "mailbox-renumbered",
            Condition::Quarantined => "quarantined",
            Condition::LoopSuspected => "loop-suspected",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Condition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| format!("unknown alert {s:?}"))
    }
}

/// What is known about the service at one moment.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The intake's last successful IMAP step (any instance).
    pub intake_ok_at: Option<OffsetDateTime>,
    /// Since when the intake has failed without success in between, and the last error.
    pub intake_failing_since: Option<OffsetDateTime>,
    pub intake_error: String,
    /// When routedesk started watching (so a fresh start is not "down" or "quiet").
    pub started_at: Option<OffsetDateTime>,
    /// The newest mail that reached the mailbox.
    pub last_mail_at: Option<OffsetDateTime>,
    /// The oldest mail still queued.
    pub oldest_queued_at: Option<OffsetDateTime>,
    pub queued: i64,
    /// Mail failed for good in the last day, and the newest failure's reason.
    pub failed_recently: i64,
    pub last_failure: String,
    /// The database's size, and the free share of its disk (SQLite) when known.
    pub database_bytes: Option<u64>,
    pub disk_free_percent: Option<f64>,
    /// When the mailbox was last renumbered (UIDVALIDITY changed).
    pub renumbered_at: Option<OffsetDateTime>,
    /// Mail quarantined in the last day, and the newest one's reason.
    pub quarantined_recently: i64,
    pub last_quarantine: String,
    /// Automatic replies held by the limits, our own mail coming back, and automatic replies to
    /// our automatic replies, in the last day.
    pub loops_recently: i64,
}

/// A condition that holds, with the figures people need to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub condition: Condition,
    /// How long, in minutes (for "no mail": working minutes).
    pub minutes: i64,
    /// How many mails, or the database's size in MB.
    pub count: i64,
    /// The free share of the database's disk.
    pub free_percent: Option<f64>,
    /// The server's or the relay's own words (the last error), as they said them.
    pub said: String,
}

impl Finding {
    pub fn new(condition: Condition) -> Finding {
        Finding { condition, minutes: 0, count: 0, free_percent: None, said: String::new() }
    }

    /// The last error in `lang`: why the last mail was set aside (kept as data), or a server's
    /// own words as they said them.
    fn said(&self, lang: Lang) -> String {
        crate::pipeline::set_aside::stored_text(&self.said, lang)
    }

    /// For people, in bokmål.
    pub fn text_nb(&self) -> String {
        let said = if self.said.is_empty() { String::new() } else { format!(" Siste feil: {}", self.said(Lang::Nb)) };
        match self.condition {
            Condition::IntakeDown => {
                format!(
                    "E-postmottaket har ikke fått logget inn eller hentet e-post på {} minutter.{said}",
                    self.minutes
                )
            }
            Condition::NoMail => format!(
                "Ingen e-post har kommet til helpdesk-postkassen på {:.1} arbeidstimer. Sjekk regler og videresending i postkassen.",
                self.minutes as f64 / 60.0
            ),
            Condition::OutboxStuck => format!(
                "{} e-poster venter på å bli sendt; den eldste har ventet i {} minutter.",
                self.count, self.minutes
            ),
            Condition::OutboxFailed => {
                format!("{} e-poster kunne ikke sendes det siste døgnet.{said}", self.count)
            }
            Condition::DatabaseFull => match self.free_percent {
                Some(p) => format!("Databasen er {} MB, og {p:.1} % av disken er ledig.", self.count),
                None => format!("Databasen er {} MB.", self.count),
            },
            Condition::MailboxRenumbered => format!(
                "Helpdesk-mappen fikk nye UID-er (ny UIDVALIDITY) for {} minutter siden. All e-post i den ble sett på igjen, og ingenting ble registrert to ganger; men er postkassen gjenopprettet fra en sikkerhetskopi, kan e-post som kom etter kopien mangle.",
                self.minutes
            ),
            Condition::Quarantined => format!(
                "{} e-poster er lagt til side det siste døgnet fordi de ikke kunne leses eller var for store. Se «Lagt til side».{said}",
                self.count
            ),
            Condition::LoopSuspected => format!(
                "{} ganger det siste døgnet er automatiske svar holdt tilbake, har vår egen e-post kommet tilbake, eller har en robot svart på vårt automatiske svar: en robot eller en videresending kan gå i ring. Sløyfen er stoppet.",
                self.count
            ),
        }
    }

    /// For people, in English.
    pub fn text_en(&self) -> String {
        let said = if self.said.is_empty() { String::new() } else { format!(" Last error: {}", self.said(Lang::En)) };
        match self.condition {
            Condition::IntakeDown => {
                format!("The intake has not logged in or fetched mail for {} minutes.{said}", self.minutes)
            }
            Condition::NoMail => format!(
                "No mail has reached the helpdesk mailbox for {:.1} working hours. Check the mailbox's rules and forwarding.",
                self.minutes as f64 / 60.0
            ),
            Condition::OutboxStuck => {
                format!("{} mails are waiting to be sent; the oldest for {} minutes.", self.count, self.minutes)
            }
            Condition::OutboxFailed => format!("{} mails could not be sent in the last day.{said}", self.count),
            Condition::DatabaseFull => match self.free_percent {
                Some(p) => format!("The database is {} MB, and {p:.1} % of its disk is free.", self.count),
                None => format!("The database is {} MB.", self.count),
            },
            Condition::MailboxRenumbered => format!(
                "The helpdesk folder was renumbered (a new UIDVALIDITY) {} minutes ago. Every mail in it was looked at again and nothing was recorded twice; but if the mailbox was restored from a backup, mail that came after the backup may be missing.",
                self.minutes
            ),
            Condition::Quarantined => format!(
                "{} mails were set aside in the last day as unreadable or too large. See \"Set aside\".{said}",
                self.count
            ),
            Condition::LoopSuspected => format!(
                "{} times in the last day automatic replies were held back, our own mail came back, or a robot answered our automatic reply: a robot or a forward may be looping. The loop was stopped.",
                self.count
            ),
        }
    }
}

/// The conditions that hold at `now`.
pub fn evaluate(f: &Facts, cfg: &AlertsConfig, schedule: &Schedule, now: OffsetDateTime) -> Vec<Finding> {
    let mut out = Vec::new();
    let minutes = |since: OffsetDateTime| (now - since).whole_minutes();

    // Down: failing for the whole limit, or no success for the whole limit (nobody could even try).
    if cfg.intake_down_minutes > 0 {
        let limit = i64::from(cfg.intake_down_minutes);
        let up_since = f.intake_ok_at.or(f.started_at);
        let down_for = match (f.intake_failing_since, up_since) {
            (Some(since), _) if minutes(since) >= limit => Some(minutes(since)),
            (_, Some(ok)) if minutes(ok) >= limit => Some(minutes(ok)),
            _ => None,
        };
        if let Some(m) = down_for {
            out.push(Finding { minutes: m, said: f.intake_error.clone(), ..Finding::new(Condition::IntakeDown) });
        }
    }
    if cfg.no_mail_hours > 0 {
        let since = match (f.last_mail_at, f.started_at) {
            (Some(m), Some(s)) => Some(m.max(s)),
            (m, s) => m.or(s),
        };
        if let Some(since) = since
            && schedule.is_working(now)
        {
            let quiet = schedule.working_hours_between(since, now);
            if quiet >= f64::from(cfg.no_mail_hours) {
                out.push(Finding { minutes: (quiet * 60.0) as i64, ..Finding::new(Condition::NoMail) });
            }
        }
    }
    if let Some(oldest) = f.oldest_queued_at
        && cfg.outbox_stuck_minutes > 0
        && minutes(oldest) >= i64::from(cfg.outbox_stuck_minutes)
    {
        out.push(Finding { minutes: minutes(oldest), count: f.queued, ..Finding::new(Condition::OutboxStuck) });
    }
    if f.failed_recently > 0 {
        out.push(Finding {
            count: f.failed_recently,
            said: f.last_failure.clone(),
            ..Finding::new(Condition::OutboxFailed)
        });
    }
    if let Some(at) = f.renumbered_at
        && minutes(at) < 24 * 60
    {
        out.push(Finding { minutes: minutes(at), ..Finding::new(Condition::MailboxRenumbered) });
    }
    if f.quarantined_recently > 0 {
        out.push(Finding {
            count: f.quarantined_recently,
            said: f.last_quarantine.clone(),
            ..Finding::new(Condition::Quarantined)
        });
    }
    if f.loops_recently > 0 {
        out.push(Finding { count: f.loops_recently, ..Finding::new(Condition::LoopSuspected) });
    }
    let mb = f.database_bytes.map(|b| i64::try_from(b / (1024 * 1024)).unwrap_or(i64::MAX));
    let too_big = cfg.database_max_mb > 0 && mb.is_some_and(|m| m >= i64::from(cfg.database_max_mb));
    let disk_full = f.disk_free_percent.is_some_and(|p| p < f64::from(cfg.disk_min_free_percent));
    if too_big || disk_full {
        out.push(Finding {
            count: mb.unwrap_or(0),
            free_percent: f.disk_free_percent,
            ..Finding::new(Condition::DatabaseFull)
        });
    }
    out
}

#[cfg(test)]
mod tests;
