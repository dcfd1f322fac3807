//! Files of tickets: stored with the mail they came in, read for display and for routing mail.

use anyhow::{Context as _, Result};

use super::Store;
use super::Tx;

pub struct NewAttachment<'a> {
    pub message_id: i64,
    pub ticket_id: Option<i64>,
    pub filename: Option<&'a str>,
    pub content_type: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub screenshot: bool,
    pub inline: bool,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, sqlx::FromRow)]
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

/// A stored file of a ticket, with its bytes: shown to staff, attached to its routing mail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub filename: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Store {
    pub async fn attachments_of(&self, ticket_id: i64) -> Result<Vec<AttachmentRow>> {
        const SQL: &str = "SELECT id, message_id, filename, content_type, size, width, height, screenshot, inline \
             FROM attachments WHERE ticket_id = $1 ORDER BY id";
        db!(self, fetch_all, SQL, ticket_id).context("reading a ticket's attachments")
    }

    /// One file of one ticket (the ticket id is part of the key, so ids cannot be guessed across tickets).
    pub async fn ticket_file(&self, ticket_id: i64, id: i64) -> Result<Option<FileRow>> {
        const SQL: &str = "SELECT filename, content_type, data FROM attachments WHERE ticket_id = $1 AND id = $2";
        db!(self, fetch_optional, SQL, ticket_id, id).context("reading a file")
    }

    /// Every file of a ticket (report and replies), in order.
    pub async fn ticket_files(&self, ticket_id: i64) -> Result<Vec<FileRow>> {
        const SQL: &str = "SELECT filename, content_type, data FROM attachments WHERE ticket_id = $1 ORDER BY id";
        db!(self, p => sqlx::query_as(SQL).bind(ticket_id).fetch_all(p).await).context("reading a ticket's files")
    }
}

impl Tx {
    pub async fn insert_attachment(&mut self, a: &NewAttachment<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO attachments (message_id, ticket_id, filename, content_type, size, width, height, \
             screenshot, inline, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
        let (id,): (i64,) = db!(self, c => sqlx::query_as(SQL)
            .bind(a.message_id)
            .bind(a.ticket_id)
            .bind(a.filename)
            .bind(a.content_type)
            .bind(a.data.len() as i64)
            .bind(a.width)
            .bind(a.height)
            .bind(a.screenshot)
            .bind(a.inline)
            .bind(a.data)
            .fetch_one(c)
            .await)
        .context("storing an attachment")?;
        Ok(id)
    }
}
