//! Tickets linked to a ticket, with what decides who may see them.

use anyhow::{Context as _, Result};
use sqlx::Row as _;

use super::Store;

row! {
    /// A ticket linked to another as the same fault.
    pub struct LinkedTicket {
        pub number: String,
        pub subject: String,
        pub status: String,
        pub municipality: Option<String>,
    }
}

impl Store {
    /// The tickets linked to this one, oldest first, with their municipality.
    pub async fn linked_tickets(&self, ticket_id: i64) -> Result<Vec<LinkedTicket>> {
        const SQL: &str = "SELECT t.number, t.subject, t.status, t.municipality FROM ticket_links l \
             JOIN tickets t ON t.id = l.other_id WHERE l.ticket_id = $1 ORDER BY t.id";
        fetch!(self, SQL, fetch_all, ticket_id).context("reading linked tickets")
    }

    /// The municipality of the ticket with this number: `None` when there is no such ticket,
    /// `Some(None)` when it belongs to none.
    pub async fn municipality_of(&self, number: &str) -> Result<Option<Option<String>>> {
        const SQL: &str = "SELECT municipality FROM tickets WHERE number = $1";
        let row: Option<(Option<String>,)> =
            fetch!(self, SQL, fetch_optional, number).context("reading a ticket's municipality")?;
        Ok(row.map(|r| r.0))
    }
}
