//! Reading tickets and their mail back.

use anyhow::{Context as _, Result};
use sqlx::Row as _;
use time::OffsetDateTime;

use super::Store;
use super::outbox::OutboxRow;

/// A plain row struct plus `FromRow` for both backends' rows, read by column name.
macro_rules! row {
    ($(#[$m:meta])* pub struct $name:ident { $(pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name { $(pub $field: $ty,)* }
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(r: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                Ok(Self { $($field: r.try_get(stringify!($field))?,)* })
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(r: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                Ok(Self { $($field: r.try_get(stringify!($field))?,)* })
            }
        }
    };
}

/// Runs a `query_as` on whichever pool the store has.
macro_rules! fetch {
    ($store:expr, $sql:expr, $method:ident $(, $bind:expr)*) => {
        match &$store.db {
            $crate::store::Db::Sqlite(p) => sqlx::query_as($sql)$(.bind($bind))*.$method(p).await,
            $crate::store::Db::Postgres(p) => sqlx::query_as($sql)$(.bind($bind))*.$method(p).await,
        }
    };
}

row! {
    pub struct TicketRow {
        pub id: i64,
        pub number: String,
        pub status: String,
        pub class: String,
        pub confidence: f64,
        pub municipality: Option<String>,
        pub urgent: bool,
        pub privacy: bool,
        pub missing: String,
        pub subject: String,
        pub reporter: Option<String>,
        pub reporter_name: Option<String>,
        pub route_to: String,
        pub route_cc: String,
        pub reasons: String,
        pub auth_result: Option<String>,
        pub created_at: OffsetDateTime,
        pub updated_at: OffsetDateTime,
    }
}

row! {
    pub struct MessageRow {
        pub id: i64,
        pub ticket_id: Option<i64>,
        pub direction: String,
        pub message_id: Option<String>,
        pub verdict: String,
        pub reason: Option<String>,
        pub from_addr: Option<String>,
        pub subject: String,
        pub size: i64,
        pub received_at: OffsetDateTime,
    }
}

row! {
    pub struct AttachmentRow {
        pub id: i64,
        pub message_id: i64,
        pub filename: Option<String>,
        pub content_type: String,
        pub size: i64,
        pub width: Option<i64>,
        pub height: Option<i64>,
        pub screenshot: bool,
        pub inline: bool,
    }
}

row! {
    pub struct EventRow {
        pub id: i64,
        pub at: OffsetDateTime,
        pub actor: String,
        pub kind: String,
        pub detail: String,
    }
}

pub(super) const OUTBOX_COLUMNS: &str = "id, ticket_id, kind, message_id, envelope_from, in_reply_to, \
     report_message, subject, body, status, attempts, last_error, created_at";

pub(super) const TICKET_COLUMNS: &str = "id, number, status, class, confidence, municipality, urgent, privacy, missing, subject, \
     reporter, reporter_name, route_to, route_cc, reasons, auth_result, created_at, updated_at";

impl Store {
    pub async fn ticket_by_number(&self, number: &str) -> Result<Option<TicketRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", TICKET_COLUMNS, " FROM tickets WHERE number = $1");
        fetch!(self, SQL, fetch_optional, number).context("reading a ticket")
    }

    /// Tickets, newest first.
    pub async fn tickets(&self, limit: i64) -> Result<Vec<TicketRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", TICKET_COLUMNS, " FROM tickets ORDER BY id DESC LIMIT $1");
        fetch!(self, SQL, fetch_all, limit).context("listing tickets")
    }

    pub async fn count(&self, what: Counted) -> Result<i64> {
        let sql = match what {
            Counted::Tickets => "SELECT COUNT(*) FROM tickets",
            Counted::Inbound => "SELECT COUNT(*) FROM messages WHERE direction = 'in'",
            Counted::Outbox => "SELECT COUNT(*) FROM outbox",
        };
        let (n,): (i64,) = fetch!(self, sql, fetch_one).context("counting")?;
        Ok(n)
    }

    pub async fn messages_of(&self, ticket_id: i64) -> Result<Vec<MessageRow>> {
        const SQL: &str = "SELECT id, ticket_id, direction, message_id, verdict, reason, from_addr, subject, size, received_at \
             FROM messages WHERE ticket_id = $1 ORDER BY id";
        fetch!(self, SQL, fetch_all, ticket_id).context("reading a ticket's messages")
    }

    /// Mails that did not become tickets (ignored, quarantined), newest first.
    pub async fn untracked_messages(&self, limit: i64) -> Result<Vec<MessageRow>> {
        const SQL: &str = "SELECT id, ticket_id, direction, message_id, verdict, reason, from_addr, subject, size, received_at \
             FROM messages WHERE ticket_id IS NULL ORDER BY id DESC LIMIT $1";
        fetch!(self, SQL, fetch_all, limit).context("reading ignored and quarantined mail")
    }

    pub async fn attachments_of(&self, ticket_id: i64) -> Result<Vec<AttachmentRow>> {
        const SQL: &str = "SELECT id, message_id, filename, content_type, size, width, height, screenshot, inline \
             FROM attachments WHERE ticket_id = $1 ORDER BY id";
        fetch!(self, SQL, fetch_all, ticket_id).context("reading a ticket's attachments")
    }

    pub async fn events_of(&self, ticket_id: i64) -> Result<Vec<EventRow>> {
        const SQL: &str = "SELECT id, at, actor, kind, detail FROM ticket_events WHERE ticket_id = $1 ORDER BY id";
        fetch!(self, SQL, fetch_all, ticket_id).context("reading a ticket's audit trail")
    }

    pub async fn outbox_of(&self, ticket_id: i64) -> Result<Vec<OutboxRow>> {
        const SQL: &str =
            const_format::concatcp!("SELECT ", OUTBOX_COLUMNS, " FROM outbox WHERE ticket_id = $1 ORDER BY id");
        let mut rows: Vec<OutboxRow> =
            fetch!(self, SQL, fetch_all, ticket_id).context("reading a ticket's outgoing mail")?;
        for row in &mut rows {
            self.fill_recipients(row).await?;
        }
        Ok(rows)
    }

    /// Every outgoing mail of one kind (e.g. `alert`), oldest first.
    pub async fn outbox_of_kind(&self, kind: &str) -> Result<Vec<OutboxRow>> {
        const SQL: &str =
            const_format::concatcp!("SELECT ", OUTBOX_COLUMNS, " FROM outbox WHERE kind = $1 ORDER BY id");
        let mut rows: Vec<OutboxRow> = fetch!(self, SQL, fetch_all, kind).context("reading outgoing mail")?;
        for row in &mut rows {
            self.fill_recipients(row).await?;
        }
        Ok(rows)
    }

    /// The last processed UID of a mailbox and the UIDVALIDITY it belongs to.
    pub async fn mailbox_state(&self, mailbox: &str) -> Result<Option<(u32, u32)>> {
        const SQL: &str = "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = $1";
        let row: Option<(i64, i64)> = fetch!(self, SQL, fetch_optional, mailbox).context("reading mailbox state")?;
        Ok(row.map(|(v, u)| (u32::try_from(v).unwrap_or(0), u32::try_from(u).unwrap_or(0))))
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Counted {
    Tickets,
    /// Mail that reached the mailbox.
    Inbound,
    Outbox,
}

/// A stored file of a ticket, with its bytes.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub filename: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Store {
    /// One file of one ticket (the ticket id is part of the key, so ids cannot be guessed across tickets).
    pub async fn ticket_file(&self, ticket_id: i64, id: i64) -> Result<Option<FileRow>> {
        const SQL: &str = "SELECT filename, content_type, data FROM attachments WHERE ticket_id = $1 AND id = $2";
        let row: Option<(Option<String>, String, Vec<u8>)> =
            fetch!(self, SQL, fetch_optional, ticket_id, id).context("reading a file")?;
        Ok(row.map(|(filename, content_type, data)| FileRow { filename, content_type, data }))
    }

    /// Tickets linked to this one as the same fault: `(number, subject, status)`.
    pub async fn links_of(&self, ticket_id: i64) -> Result<Vec<(String, String, String)>> {
        const SQL: &str = "SELECT t.number, t.subject, t.status FROM ticket_links l JOIN tickets t ON t.id = l.other_id \
             WHERE l.ticket_id = $1 ORDER BY t.id";
        fetch!(self, SQL, fetch_all, ticket_id).context("reading linked tickets")
    }

    /// `(created_at, class, municipality, status, urgent)` of tickets since `since`, for the dashboard.
    pub async fn ticket_stats_since(
        &self,
        since: OffsetDateTime,
        scope: Option<&str>,
    ) -> Result<Vec<(OffsetDateTime, String, Option<String>, String, bool)>> {
        const SQL: &str = "SELECT created_at, class, municipality, status, urgent FROM tickets WHERE created_at >= $1 \
             AND ($2 IS NULL OR municipality = $2) ORDER BY id";
        fetch!(self, SQL, fetch_all, since, scope).context("reading ticket statistics")
    }

    /// The raw report that opened a ticket.
    pub async fn report_raw(&self, ticket_id: i64) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT raw FROM messages WHERE ticket_id = $1 AND direction = 'in' ORDER BY id LIMIT 1";
        let row: Option<(Vec<u8>,)> = fetch!(self, SQL, fetch_optional, ticket_id).context("reading the report")?;
        Ok(row.map(|r| r.0))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        let _: (i64,) = fetch!(self, "SELECT CAST(1 AS BIGINT)", fetch_one).context("the database does not answer")?;
        Ok(())
    }
}
