//! The ticket log as staff see it: filters, keyset pagination (newest first; `id < cursor`, never
//! OFFSET, so page 500 costs what page 1 does), search, and counts per filter value.

use anyhow::{Context as _, Result};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use super::Store;
use super::read::{TICKET_COLUMNS, TicketRow};

/// What the log shows. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<String>,
    pub class: Option<String>,
    pub municipality: Option<String>,
    pub urgent: bool,
    pub privacy: bool,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Words searched in subject, report text and reporter.
    pub search: Option<String>,
    /// A municipal user's own municipality: everything else is invisible to them.
    pub scope: Option<String>,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Bool(bool),
    Time(OffsetDateTime),
    Int(i64),
}

/// `WHERE …` and its binds; placeholders are numbered from 1.
struct Where {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Where {
    fn new() -> Self {
        Where { clauses: vec![], binds: vec![] }
    }

    /// Adds a clause whose `?`s take `binds` in order.
    fn push(&mut self, clause: &str, binds: impl IntoIterator<Item = Bind>) {
        let mut binds = binds.into_iter();
        let mut out = String::with_capacity(clause.len() + 8);
        for ch in clause.chars() {
            if ch == '?'
                && let Some(b) = binds.next()
            {
                self.binds.push(b);
                out.push_str(&format!("${}", self.binds.len()));
            } else {
                out.push(ch);
            }
        }
        self.clauses.push(out);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }
}

fn scoped(f: &TicketFilter, with_facets: bool) -> Where {
    let mut w = Where::new();
    if let Some(m) = &f.scope {
        w.push("municipality = ?", [Bind::Text(m.clone())]);
    }
    if let Some(q) = f.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        for word in q.split_whitespace().take(8) {
            let pattern =
                format!("%{}%", word.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            w.push(
                "(LOWER(subject) LIKE ? ESCAPE '\\' OR LOWER(body) LIKE ? ESCAPE '\\' \
                 OR LOWER(COALESCE(reporter, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(reporter_name, '')) LIKE ? ESCAPE '\\' \
                 OR number = ?)",
                [0, 1, 2, 3].map(|_| Bind::Text(pattern.clone())).into_iter().chain([Bind::Text(word.to_uppercase())]),
            );
        }
    }
    if let Some(t) = f.from {
        w.push("created_at >= ?", [Bind::Time(t)]);
    }
    if let Some(t) = f.until {
        w.push("created_at < ?", [Bind::Time(t)]);
    }
    if with_facets {
        if let Some(s) = &f.status {
            w.push("status = ?", [Bind::Text(s.clone())]);
        }
        if let Some(c) = &f.class {
            w.push("class = ?", [Bind::Text(c.clone())]);
        }
        if let Some(m) = &f.municipality {
            w.push("COALESCE(municipality, '') = ?", [Bind::Text(m.clone())]);
        }
        if f.urgent {
            w.push("urgent = ?", [Bind::Bool(true)]);
        }
        if f.privacy {
            w.push("privacy = ?", [Bind::Bool(true)]);
        }
    }
    w
}

/// Runs a dynamic `query_as` with binds on whichever backend the store has.
macro_rules! dynamic {
    ($store:expr, $sql:expr, $binds:expr, $method:ident) => {{
        let sql = AssertSqlSafe($sql);
        match $store {
            Store::Sqlite(p) => {
                let mut q = sqlx::query_as(sql);
                for b in $binds {
                    q = match b {
                        Bind::Text(s) => q.bind(s),
                        Bind::Bool(v) => q.bind(v),
                        Bind::Time(t) => q.bind(t),
                        Bind::Int(i) => q.bind(i),
                    };
                }
                q.$method(p).await
            }
            Store::Postgres(p) => {
                let mut q = sqlx::query_as(sql);
                for b in $binds {
                    q = match b {
                        Bind::Text(s) => q.bind(s),
                        Bind::Bool(v) => q.bind(v),
                        Bind::Time(t) => q.bind(t),
                        Bind::Int(i) => q.bind(i),
                    };
                }
                q.$method(p).await
            }
        }
    }};
}

/// Counts of the log per facet value, within scope, search and dates.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub total: i64,
    pub status: Vec<(String, i64)>,
    pub class: Vec<(String, i64)>,
    pub municipality: Vec<(String, i64)>,
    pub urgent: i64,
    pub privacy: i64,
}

impl Store {
    /// One page of the log: up to `limit` tickets older than `before` (a ticket id), newest first.
    pub async fn ticket_page(&self, f: &TicketFilter, before: Option<i64>, limit: i64) -> Result<Vec<TicketRow>> {
        let mut w = scoped(f, true);
        if let Some(b) = before {
            w.push("id < ?", [Bind::Int(b)]);
        }
        w.binds.push(Bind::Int(limit));
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets{} ORDER BY id DESC LIMIT ${}", w.sql(), w.binds.len());
        dynamic!(self, sql, w.binds, fetch_all).context("listing tickets")
    }

    pub async fn facets(&self, f: &TicketFilter) -> Result<Facets> {
        let w = scoped(f, false);
        let base = w.sql();
        let mut out = Facets::default();
        for (column, into) in [("status", 0), ("class", 1), ("COALESCE(municipality, '')", 2)] {
            let sql = format!("SELECT {column}, COUNT(*) FROM tickets{base} GROUP BY {column} ORDER BY 2 DESC");
            let rows: Vec<(String, i64)> =
                dynamic!(self, sql, w.binds.clone(), fetch_all).context("counting tickets")?;
            match into {
                0 => out.status = rows,
                1 => out.class = rows,
                _ => out.municipality = rows,
            }
        }
        let sql = format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN urgent THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN privacy THEN 1 ELSE 0 END), 0) FROM tickets{base}"
        );
        let (total, urgent, privacy): (i64, i64, i64) =
            dynamic!(self, sql, w.binds, fetch_one).context("counting tickets")?;
        out.total = total;
        out.urgent = urgent;
        out.privacy = privacy;
        Ok(out)
    }
}
